package client_test

import (
	"context"
	"fmt"
	"log"
	"net/http/httptest"
	"time"

	"github.com/trtcd/trtcd/client"
	"github.com/trtcd/trtcd/internal/rooms"
	"github.com/trtcd/trtcd/internal/signal"
	"github.com/trtcd/trtcd/usersig"
)

// A room server for the example: what `trtcd serve` runs, minus the API.
func startServer() (*httptest.Server, func()) {
	hub := rooms.NewHub(rooms.NewMemory(nil), "example", nil)
	sig := signal.NewServer(hub, func(app uint64) (signal.App, bool) { return signal.App{Key: "example-key"}, app == 1400000001 }, signal.Config{})
	srv := httptest.NewServer(sig)
	return srv, func() { sig.Shutdown(context.Background()); srv.Close() }
}

func Example() {
	srv, stop := startServer()
	defer stop()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	sig := func(user string) string {
		return usersig.Generate(1400000001, "example-key", user, time.Hour, time.Now(), nil)
	}
	alice, err := client.Join(ctx, srv.URL, client.JoinParams{SdkAppID: 1400000001, UserID: "alice", UserSig: sig("alice"), RoomID: 1234}, client.Options{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("alice joined; members:", alice.Joined().Members)

	bob, err := client.Join(ctx, srv.URL, client.JoinParams{SdkAppID: 1400000001, UserID: "bob", UserSig: sig("bob"), RoomID: 1234}, client.Options{})
	if err != nil {
		log.Fatal(err)
	}
	e := <-alice.Events()
	fmt.Println(e.Type, e.UserID, e.Role)

	bob.Leave(ctx)
	e = <-alice.Events()
	fmt.Println(e.Type, e.UserID, e.Reason)
	alice.Leave(ctx)
	// Output:
	// alice joined; members: [{alice anchor}]
	// user_entered bob anchor
	// user_left bob left
}

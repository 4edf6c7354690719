package client_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/trtcd/trtcd/client"
	"github.com/trtcd/trtcd/protocol"
	"github.com/trtcd/trtcd/usersig"
)

// Two users join room 1234 with UserSigs minted by the app server (package
// usersig); alice sees bob enter and leave. A join that is refused answers
// a *client.Error with the protocol's code and, for a credential, why.
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

	// A UserSig made for someone else is refused.
	_, err = client.Join(ctx, srv.URL, client.JoinParams{SdkAppID: 1400000001, UserID: "carol", UserSig: sig("bob"), RoomID: 1234}, client.Options{})
	var refused *client.Error
	if errors.As(err, &refused) && refused.Code == protocol.CodeUserSig {
		fmt.Println("carol refused:", refused.Reason)
	}
	alice.Leave(ctx)
	// Output:
	// alice joined; members: [{alice anchor}]
	// user_entered bob anchor
	// user_left bob left
	// carol refused: identifier not match
}

package signal_test

import (
	"context"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/trtcd/trtcd/client"
	"github.com/trtcd/trtcd/internal/joinauth"
	"github.com/trtcd/trtcd/internal/rooms"
	"github.com/trtcd/trtcd/internal/signal"
	"github.com/trtcd/trtcd/internal/testkit/await"
	"github.com/trtcd/trtcd/usersig"
)

// Every test must leave no goroutine behind: not a client's, not a
// connection's, not the server's.
// Fuzz workers are left alone: goleak's end-of-run wait would outlast the
// fuzzing coordinator's deadline.
func TestMain(m *testing.M) {
	for _, a := range os.Args {
		if strings.HasPrefix(a, "-test.fuzzworker") || strings.HasPrefix(a, "-test.fuzz=") {
			os.Exit(m.Run())
		}
	}
	goleak.VerifyTestMain(m)
}

const (
	app    = 1400000001
	appKey = "test-app-key"
	// pmkApp requires a PrivateMapKey on every join.
	pmkApp = 1400000002
)

func testApps(a uint64) (joinauth.App, bool) {
	switch a {
	case app:
		return joinauth.App{Key: appKey}, true
	case pmkApp:
		return joinauth.App{Key: appKey, RequirePrivateMapKey: true}, true
	}
	return joinauth.App{}, false
}

type env struct {
	t    *testing.T
	hub  *rooms.Hub
	svc  *rooms.Service
	sig  *signal.Server
	srv  *httptest.Server
	ctx  context.Context
	room rooms.Key
}

func newEnv(t *testing.T, cfg signal.Config) *env {
	t.Helper()
	reg := rooms.NewMemory(nil)
	hub := rooms.NewHub(reg, "test-node", nil)
	sig := signal.NewServer(hub, testApps, cfg)
	srv := httptest.NewServer(sig)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	e := &env{t: t, hub: hub, svc: rooms.NewService(reg), sig: sig, srv: srv, ctx: ctx, room: rooms.NumRoom(app, 1234)}
	t.Cleanup(func() {
		sig.Shutdown(context.Background())
		srv.Close()
		cancel()
	})
	return e
}

func userSig(user string) string {
	return usersig.Generate(app, appKey, user, time.Hour, time.Now(), nil)
}

func (e *env) params(user string) client.JoinParams {
	return client.JoinParams{SdkAppID: app, UserID: user, UserSig: userSig(user), RoomID: 1234}
}

func (e *env) join(p client.JoinParams) *client.Conn {
	e.t.Helper()
	c, err := client.Join(e.ctx, e.srv.URL, p, client.Options{})
	if err != nil {
		e.t.Fatalf("join %s: %v", p.UserID, err)
	}
	e.t.Cleanup(func() { c.Close() })
	return c
}

var (
	next  = await.Next
	ended = await.Ended
	quiet = await.Quiet
)

func (e *env) members(room rooms.Key) []string {
	ms, err := e.svc.Members(context.Background(), room)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, m := range ms {
		out = append(out, m.UserID+"/"+m.Role.String())
	}
	return sorted(out)
}

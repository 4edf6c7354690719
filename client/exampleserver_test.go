package client_test

import (
	"context"
	"net/http/httptest"

	"github.com/trtcd/trtcd/internal/joinauth"
	"github.com/trtcd/trtcd/internal/rooms"
	"github.com/trtcd/trtcd/internal/signal"
)

// startServer runs a room server for the examples: what `trtcd serve` runs,
// minus the API, with one app (1400000001, key "example-key"). It lives
// apart from the examples, which use public packages only.
func startServer() (*httptest.Server, func()) {
	hub := rooms.NewHub(rooms.NewMemory(nil), "example", nil)
	apps := func(app uint64) (joinauth.App, bool) { return joinauth.App{Key: "example-key"}, app == 1400000001 }
	sig := signal.NewServer(hub, apps, signal.Config{})
	srv := httptest.NewServer(sig)
	return srv, func() { sig.Shutdown(context.Background()); srv.Close() }
}

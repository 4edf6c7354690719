// Package await waits for what a client.Conn receives, failing the test
// with a clear message when it does not come. It imports only the client,
// so the signalling tests can use it too.
package await

import (
	"testing"
	"time"

	"github.com/trtcd/trtcd/client"
)

// Next waits up to 5 s for the next event.
func Next(t testing.TB, c *client.Conn) client.Event {
	t.Helper()
	select {
	case ev, ok := <-c.Events():
		if !ok {
			t.Fatalf("connection ended: %v", c.Err())
		}
		return ev
	case <-time.After(5 * time.Second):
		t.Fatal("no event within 5 s")
	}
	return client.Event{}
}

// Ended waits up to 5 s for the server to close c, failing on any event.
func Ended(t testing.TB, c *client.Conn) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case ev, ok := <-c.Events():
			if !ok {
				return
			}
			t.Fatalf("unexpected event before close: %+v", ev)
		case <-deadline:
			t.Fatal("still connected after 5 s")
		}
	}
}

// Quiet asserts that no event arrives for 100 ms.
func Quiet(t testing.TB, c *client.Conn) {
	t.Helper()
	select {
	case ev := <-c.Events():
		t.Fatalf("unexpected event %+v", ev)
	case <-time.After(100 * time.Millisecond):
	}
}

// Expect checks an event's type, user and reason.
func Expect(t testing.TB, ev client.Event, typ, user, reason string) {
	t.Helper()
	if ev.Type != typ || ev.UserID != user || ev.Reason != reason {
		t.Fatalf("got %+v, want %s user=%q reason=%q", ev, typ, user, reason)
	}
}

// Skipping returns the next event that is not of the skipped type (for
// example the user_entered events that precede a dismissal's kicked).
func Skipping(t testing.TB, c *client.Conn, skip string) client.Event {
	t.Helper()
	for {
		if ev := Next(t, c); ev.Type != skip {
			return ev
		}
	}
}

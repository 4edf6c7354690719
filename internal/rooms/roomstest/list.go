package roomstest

import (
	"fmt"
	"testing"

	"github.com/trtcd/trtcd/internal/rooms"
)

// RunListSuite checks a registry's room listing (rooms.Lister): an app's
// live rooms with their member and anchor counts, other apps' rooms left
// out, emptied rooms gone, and the cap.
func RunListSuite(t *testing.T, f Factory) {
	e := setup(t, f)
	l, ok := e.reg.(rooms.Lister)
	if !ok {
		t.Fatal("the registry is not a rooms.Lister")
	}
	list := func(app uint64, max int) (string, bool) {
		t.Helper()
		got, trunc, err := l.Rooms(e.ctx, app, max)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]string{}
		for _, r := range got {
			m[r.Key.String()] = fmt.Sprintf("%d/%d", r.Members, r.Anchors)
		}
		return fmt.Sprint(m), trunc
	}
	if got, _ := list(roomA.App, 10); got != "map[]" {
		t.Fatalf("empty registry lists %s", got)
	}
	e.enter(roomA, member("a1", rooms.Anchor, "s1"))
	e.enter(roomA, member("a2", rooms.Audience, "s2"))
	e.enter(roomS, member("b1", rooms.Anchor, "s3"))
	e.enter(roomB, member("c1", rooms.Anchor, "s4"))
	if got, trunc := list(roomA.App, 10); got != "map[1400000001:n:1234:2/1 1400000001:s:1234:1/1]" || trunc {
		t.Fatalf("app 1400000001 lists %s (truncated %v)", got, trunc)
	}
	if got, _ := list(roomB.App, 10); got != "map[1400000002:n:1234:1/1]" {
		t.Fatalf("app 1400000002 lists %s", got)
	}
	if _, trunc := list(roomA.App, 1); !trunc {
		t.Fatal("a listing cut at 1 of 2 rooms is not marked truncated")
	}
	if err := e.reg.Dismiss(e.ctx, roomS); err != nil {
		t.Fatal(err)
	}
	if got, _ := list(roomA.App, 10); got != "map[1400000001:n:1234:2/1]" {
		t.Fatalf("after dismissing the string room: %s", got)
	}
}

// Package roomstest is the contract every rooms.Registry must meet. The
// in-memory and the Redis registries both run it.
package roomstest

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/trtcd/trtcd/internal/rooms"
)

// wait is the generous deadline for anything to arrive (loaded machines).
const wait = 30 * time.Second

// Factory returns a fresh, empty registry; the suite closes it.
type Factory func(t *testing.T) rooms.Registry

// collector records the events the registry publishes, in arrival order.
type collector struct {
	mu     sync.Mutex
	events []rooms.Event
	signal chan struct{}
}

func newCollector() *collector { return &collector{signal: make(chan struct{}, 1)} }

func (c *collector) sink(e rooms.Event) {
	c.mu.Lock()
	c.events = append(c.events, e)
	c.mu.Unlock()
	select {
	case c.signal <- struct{}{}:
	default:
	}
}

// waitFor waits until n events of room have arrived and returns them.
func (c *collector) waitFor(t *testing.T, room rooms.Key, n int) []rooms.Event {
	t.Helper()
	deadline := time.After(wait)
	for {
		c.mu.Lock()
		var got []rooms.Event
		for _, e := range c.events {
			if e.Room == room {
				got = append(got, e)
			}
		}
		c.mu.Unlock()
		if len(got) >= n {
			return got
		}
		select {
		case <-c.signal:
		case <-time.After(20 * time.Millisecond):
		case <-deadline:
			t.Fatalf("waited for %d events of %v, have %d: %+v", n, room, len(got), got)
		}
	}
}

func member(user string, role rooms.Role, session string) rooms.Member {
	return rooms.Member{UserID: user, Role: role, SessionID: session, NodeID: "node-a", JoinedAt: time.Unix(1700000000, 0)}
}

func userIDs(ms []rooms.Member) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.UserID)
	}
	sort.Strings(out)
	return out
}

type env struct {
	t   *testing.T
	reg rooms.Registry
	c   *collector
	ctx context.Context
}

func setup(t *testing.T, f Factory, watch ...rooms.Key) *env {
	reg := f(t)
	t.Cleanup(func() { reg.Close() })
	c := newCollector()
	reg.SetSink(c.sink)
	e := &env{t: t, reg: reg, c: c, ctx: context.Background()}
	for _, k := range watch {
		if err := reg.Watch(e.ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

func (e *env) enter(room rooms.Key, m rooms.Member) rooms.Snapshot {
	e.t.Helper()
	s, err := e.reg.Enter(e.ctx, room, m)
	if err != nil {
		e.t.Fatalf("enter %s: %v", m.UserID, err)
	}
	return s
}

func (e *env) members(room rooms.Key) []string {
	e.t.Helper()
	ms, err := e.reg.Members(e.ctx, room)
	if err != nil {
		e.t.Fatal(err)
	}
	return userIDs(ms)
}

var (
	roomA = rooms.NumRoom(1400000001, 1234)
	roomS = rooms.StrRoom(1400000001, "1234")
	roomB = rooms.NumRoom(1400000002, 1234)
)

// RunRegistrySuite runs the registry contract against f.
func RunRegistrySuite(t *testing.T, f Factory) {
	t.Run("EnterCreatesRoomAndSnapshotListsAnchors", func(t *testing.T) {
		e := setup(t, f, roomA)
		s1 := e.enter(roomA, member("alice", rooms.Anchor, "s1"))
		e.enter(roomA, member("carol", rooms.Audience, "s3"))
		s2 := e.enter(roomA, member("bob", rooms.Anchor, "s2"))
		if s2.Seq <= s1.Seq {
			t.Fatalf("sequence did not grow: %d then %d", s1.Seq, s2.Seq)
		}
		if got := userIDs(s2.Anchors); fmt.Sprint(got) != "[alice bob]" {
			t.Fatalf("snapshot anchors %v", got)
		}
		if got := e.members(roomA); fmt.Sprint(got) != "[alice bob carol]" {
			t.Fatalf("members %v", got)
		}
		evs := e.c.waitFor(t, roomA, 3)
		for i, want := range []string{"alice", "carol", "bob"} {
			if evs[i].Kind != rooms.Entered || evs[i].Member.UserID != want {
				t.Fatalf("event %d: %+v", i, evs[i])
			}
		}
		if evs[0].Seq != s1.Seq || evs[2].Seq != s2.Seq {
			t.Fatalf("event seqs %d,%d; snapshots %d,%d", evs[0].Seq, evs[2].Seq, s1.Seq, s2.Seq)
		}
		if evs[1].Member.Role != rooms.Audience || evs[1].Member.SessionID != "s3" || evs[1].Member.NodeID != "node-a" {
			t.Fatalf("event member lost fields: %+v", evs[1].Member)
		}
	})

	t.Run("NumericAndStringRoomsAreDistinct", func(t *testing.T) {
		e := setup(t, f, roomA, roomS, roomB)
		e.enter(roomA, member("alice", rooms.Anchor, "s1"))
		e.enter(roomS, member("bob", rooms.Anchor, "s2"))
		e.enter(roomB, member("carol", rooms.Anchor, "s3"))
		if err := e.reg.Remove(e.ctx, roomA, []string{"alice", "bob", "carol"}); err != nil {
			t.Fatal(err)
		}
		if got := e.members(roomS); fmt.Sprint(got) != "[bob]" {
			t.Fatalf("string room %v", got)
		}
		if got := e.members(roomB); fmt.Sprint(got) != "[carol]" {
			t.Fatalf("other app's room %v", got)
		}
		if err := e.reg.Dismiss(e.ctx, roomA); !errors.Is(err, rooms.ErrRoomNotFound) {
			t.Fatalf("dismiss of the emptied numeric room: %v", err)
		}
	})

	t.Run("DuplicateEnterReplacesSession", func(t *testing.T) {
		e := setup(t, f, roomA)
		e.enter(roomA, member("alice", rooms.Anchor, "s1"))
		e.enter(roomA, member("alice", rooms.Anchor, "s2"))
		ms, _ := e.reg.Members(e.ctx, roomA)
		if len(ms) != 1 || ms[0].SessionID != "s2" {
			t.Fatalf("members %+v", ms)
		}
		evs := e.c.waitFor(t, roomA, 2)
		if evs[1].Kind != rooms.Replaced || evs[1].Old == nil || evs[1].Old.SessionID != "s1" || evs[1].Member.SessionID != "s2" {
			t.Fatalf("replace event %+v", evs[1])
		}
		// the replaced session's leave changes nothing
		if err := e.reg.Leave(e.ctx, roomA, "alice", "s1", rooms.ReasonLeft); err != nil {
			t.Fatal(err)
		}
		if got := e.members(roomA); fmt.Sprint(got) != "[alice]" {
			t.Fatalf("stale leave removed the new session: %v", got)
		}
	})

	t.Run("LastLeaveDestroysRoom", func(t *testing.T) {
		e := setup(t, f, roomA)
		e.enter(roomA, member("alice", rooms.Anchor, "s1"))
		if err := e.reg.Leave(e.ctx, roomA, "alice", "s1", rooms.ReasonTimeout); err != nil {
			t.Fatal(err)
		}
		if got := e.members(roomA); len(got) != 0 {
			t.Fatalf("members %v", got)
		}
		if err := e.reg.Remove(e.ctx, roomA, []string{"alice"}); !errors.Is(err, rooms.ErrRoomNotFound) {
			t.Fatalf("remove in a destroyed room: %v", err)
		}
		evs := e.c.waitFor(t, roomA, 2)
		if evs[1].Kind != rooms.Exited || evs[1].Reason != rooms.ReasonTimeout {
			t.Fatalf("leave event %+v", evs[1])
		}
	})

	t.Run("RemoveIsCommittedAndIdempotent", func(t *testing.T) {
		e := setup(t, f, roomA)
		e.enter(roomA, member("alice", rooms.Anchor, "s1"))
		e.enter(roomA, member("bob", rooms.Anchor, "s2"))
		e.enter(roomA, member("carol", rooms.Audience, "s3"))
		if err := e.reg.Remove(e.ctx, roomA, []string{"alice", "alice", "nobody", "carol"}); err != nil {
			t.Fatal(err)
		}
		if got := e.members(roomA); fmt.Sprint(got) != "[bob]" {
			t.Fatalf("right after remove: %v", got)
		}
		if err := e.reg.Remove(e.ctx, roomA, []string{"alice"}); err != nil {
			t.Fatalf("second remove of the same user: %v", err)
		}
		evs := e.c.waitFor(t, roomA, 5)
		if len(evs) != 5 {
			t.Fatalf("events %+v", evs)
		}
		for _, ev := range evs[3:] {
			if ev.Kind != rooms.Exited || ev.Reason != rooms.ReasonRemoved {
				t.Fatalf("remove event %+v", ev)
			}
		}
		if evs[3].Member.UserID != "alice" || evs[4].Member.UserID != "carol" {
			t.Fatalf("removed %s then %s", evs[3].Member.UserID, evs[4].Member.UserID)
		}
	})

	t.Run("RemoveLastMembersDestroysRoom", func(t *testing.T) {
		e := setup(t, f, roomA)
		e.enter(roomA, member("alice", rooms.Anchor, "s1"))
		if err := e.reg.Remove(e.ctx, roomA, []string{"alice"}); err != nil {
			t.Fatal(err)
		}
		if err := e.reg.Remove(e.ctx, roomA, []string{"alice"}); !errors.Is(err, rooms.ErrRoomNotFound) {
			t.Fatalf("room should be gone: %v", err)
		}
	})

	t.Run("DismissRemovesEveryone", func(t *testing.T) {
		e := setup(t, f, roomA)
		e.enter(roomA, member("alice", rooms.Anchor, "s1"))
		e.enter(roomA, member("bob", rooms.Audience, "s2"))
		if err := e.reg.Dismiss(e.ctx, roomA); err != nil {
			t.Fatal(err)
		}
		if got := e.members(roomA); len(got) != 0 {
			t.Fatalf("members after dismiss %v", got)
		}
		evs := e.c.waitFor(t, roomA, 3)
		d := evs[2]
		if d.Kind != rooms.Dismissed || d.Reason != rooms.ReasonDismissed || fmt.Sprint(userIDs(d.Members)) != "[alice bob]" {
			t.Fatalf("dismiss event %+v", d)
		}
		if err := e.reg.Dismiss(e.ctx, roomA); !errors.Is(err, rooms.ErrRoomNotFound) {
			t.Fatalf("second dismiss: %v", err)
		}
		// a removed user may enter again at once
		e.enter(roomA, member("alice", rooms.Anchor, "s4"))
		if got := e.members(roomA); fmt.Sprint(got) != "[alice]" {
			t.Fatalf("re-entry %v", got)
		}
	})

	t.Run("SwitchRole", func(t *testing.T) { testSwitchRole(t, f) })

	t.Run("ConcurrentChangesHaveOneOrder", func(t *testing.T) {
		e := setup(t, f, roomA)
		const workers, each = 8, 25
		var wg sync.WaitGroup
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				for i := 0; i < each; i++ {
					u := fmt.Sprintf("u%d", w)
					sid := fmt.Sprintf("s%d-%d", w, i)
					if _, err := e.reg.Enter(e.ctx, roomA, member(u, rooms.Anchor, sid)); err != nil {
						t.Error(err)
						return
					}
					if err := e.reg.Leave(e.ctx, roomA, u, sid, rooms.ReasonLeft); err != nil {
						t.Error(err)
						return
					}
				}
			}(w)
		}
		wg.Wait()
		evs := e.c.waitFor(t, roomA, workers*each*2)
		for i := 1; i < len(evs); i++ {
			if evs[i].Seq <= evs[i-1].Seq {
				t.Fatalf("event %d has seq %d after %d", i, evs[i].Seq, evs[i-1].Seq)
			}
		}
		if got := e.members(roomA); len(got) != 0 {
			t.Fatalf("members left over %v", got)
		}
	})
}

func testSwitchRole(t *testing.T, f Factory) {
	e := setup(t, f, roomA)
	ctx := e.ctx
	if _, err := e.reg.SwitchRole(ctx, roomA, "alice", "s1", rooms.Audience); !errors.Is(err, rooms.ErrRoomNotFound) {
		t.Fatalf("switch in an empty room: %v", err)
	}
	e.enter(roomA, member("alice", rooms.Anchor, "s1"))
	e.enter(roomA, member("carol", rooms.Audience, "s3"))
	for _, bad := range []struct {
		user, session string
		role          rooms.Role
		want          error
	}{
		{"carol", "s9", rooms.Anchor, rooms.ErrNotMember},  // not the current session
		{"nobody", "s3", rooms.Anchor, rooms.ErrNotMember}, // not a member
		{"carol", "s3", rooms.Audience, rooms.ErrSameRole}, // no change
	} {
		if _, err := e.reg.SwitchRole(ctx, roomA, bad.user, bad.session, bad.role); !errors.Is(err, bad.want) {
			t.Fatalf("switch %+v: %v, want %v", bad, err, bad.want)
		}
	}
	seq, err := e.reg.SwitchRole(ctx, roomA, "carol", "s3", rooms.Anchor)
	if err != nil {
		t.Fatal(err)
	}
	evs := e.c.waitFor(t, roomA, 3)
	sw := evs[2]
	if len(evs) != 3 || sw.Kind != rooms.RoleChanged || sw.Seq != seq || sw.Seq <= evs[1].Seq ||
		sw.Member.UserID != "carol" || sw.Member.Role != rooms.Anchor || sw.Member.SessionID != "s3" ||
		sw.Old == nil || sw.Old.Role != rooms.Audience {
		t.Fatalf("refused switches must publish nothing; the switch's event %+v (seq %d), all %+v", sw, seq, evs)
	}
	if _, err := e.reg.SwitchRole(ctx, roomA, "alice", "s1", rooms.Audience); err != nil {
		t.Fatal(err)
	}
	snap := e.enter(roomA, member("bob", rooms.Anchor, "s2"))
	if got := userIDs(snap.Anchors); fmt.Sprint(got) != "[bob carol]" {
		t.Fatalf("anchors after the switches %v", got)
	}
	ms, _ := e.reg.Members(ctx, roomA)
	roles := map[string]rooms.Role{}
	for _, m := range ms {
		roles[m.UserID] = m.Role
	}
	if len(ms) != 3 || roles["alice"] != rooms.Audience || roles["carol"] != rooms.Anchor {
		t.Fatalf("members %+v", ms)
	}
	// The switched member leaves with its new role, and may be removed.
	if err := e.reg.Remove(ctx, roomA, []string{"carol"}); err != nil {
		t.Fatal(err)
	}
	evs = e.c.waitFor(t, roomA, 6)
	if l := evs[5]; l.Kind != rooms.Exited || l.Member.UserID != "carol" || l.Member.Role != rooms.Anchor {
		t.Fatalf("removal of the switched member %+v", l)
	}
}

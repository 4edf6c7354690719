package rooms_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/trtcd/trtcd/internal/rooms"
)

// session records the notices it is given.
type session struct {
	id string
	mu sync.Mutex
	ns []*rooms.Notice
}

func (s *session) ID() string { return s.id }

func (s *session) Deliver(n *rooms.Notice) {
	s.mu.Lock()
	s.ns = append(s.ns, n)
	s.mu.Unlock()
}

// got describes the notices so far: "joined[alice bob]", "entered carol",
// "left carol/removed", "kicked/removed", "switched anchor".
func (s *session) got() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, n := range s.ns {
		switch n.Type {
		case rooms.Joined:
			var ids []string
			for _, m := range n.Members {
				ids = append(ids, m.UserID)
			}
			sortStrings(ids)
			out = append(out, fmt.Sprintf("joined%v", ids))
		case rooms.UserEntered:
			out = append(out, "entered "+n.UserID)
		case rooms.UserLeft:
			out = append(out, "left "+n.UserID+"/"+string(n.Reason))
		case rooms.Kicked:
			out = append(out, "kicked/"+string(n.Reason))
		case rooms.RoleSwitched:
			out = append(out, "switched "+n.Role.String())
		}
	}
	return strings.Join(out, ", ")
}

func (s *session) last() *rooms.Notice {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ns[len(s.ns)-1]
}

func sortStrings(a []string) {
	for i := 1; i < len(a); i++ {
		for j := i; j > 0 && a[j] < a[j-1]; j-- {
			a[j], a[j-1] = a[j-1], a[j]
		}
	}
}

var room = rooms.NumRoom(1400000001, 42)

type hubEnv struct {
	t   *testing.T
	reg *rooms.Memory
	hub *rooms.Hub
	svc *rooms.Service
	ctx context.Context
}

func newHubEnv(t *testing.T, reg rooms.Registry) *hubEnv {
	mem, _ := reg.(*rooms.Memory)
	return &hubEnv{t: t, reg: mem, hub: rooms.NewHub(reg, "node-a", nil), svc: rooms.NewService(reg), ctx: context.Background()}
}

func (e *hubEnv) join(user string, role rooms.Role) *session {
	e.t.Helper()
	s := &session{id: fmt.Sprintf("%s-%p", user, &user)}
	if err := e.hub.Join(e.ctx, room, user, role, s); err != nil {
		e.t.Fatalf("join %s: %v", user, err)
	}
	return s
}

func expect(t *testing.T, who string, s *session, want string) {
	t.Helper()
	if got := s.got(); got != want {
		t.Fatalf("%s got %q, want %q", who, got, want)
	}
}

// interleaving is a registry whose Enter lets other changes commit just
// before and just after the joiner's own, while the joiner's session is
// attached and waiting for its snapshot.
type interleaving struct {
	*rooms.Memory
	before, after func()
}

func (r *interleaving) Enter(ctx context.Context, k rooms.Key, m rooms.Member) (rooms.Snapshot, error) {
	if f := r.before; f != nil {
		r.before = nil
		f()
	}
	snap, err := r.Memory.Enter(ctx, k, m)
	if f := r.after; f != nil {
		r.after = nil
		f()
	}
	return snap, err
}

// TestHubJoinOrderedAgainstSnapshot: events of the room that arrive while
// a join waits for its snapshot are buffered; those the snapshot covers
// (an anchor that entered before) are not repeated, and those after it
// follow the joined notice, in order.
func TestHubJoinOrderedAgainstSnapshot(t *testing.T) {
	reg := &interleaving{Memory: rooms.NewMemory(nil)}
	e := newHubEnv(t, reg)
	w := e.join("watcher", rooms.Anchor)
	other := func(user string) func() {
		return func() {
			if _, err := reg.Memory.Enter(e.ctx, room, rooms.Member{UserID: user, SessionID: "remote-" + user, NodeID: "node-b"}); err != nil {
				t.Error(err)
			}
		}
	}
	reg.before, reg.after = other("early"), func() {
		other("late")()
		if err := reg.Memory.Leave(e.ctx, room, "early", "remote-early", rooms.ReasonLeft); err != nil {
			t.Error(err)
		}
	}
	s := e.join("alice", rooms.Anchor)
	expect(t, "alice", s, "joined[alice early watcher], entered late, left early/left")
	expect(t, "watcher", w, "joined[watcher], entered early, entered alice, entered late, left early/left")
	// Seqs grow across the joined notice and what follows.
	s.mu.Lock()
	for i := 1; i < len(s.ns); i++ {
		if s.ns[i].Seq <= s.ns[i-1].Seq {
			t.Fatalf("notice %d has seq %d after %d", i, s.ns[i].Seq, s.ns[i-1].Seq)
		}
	}
	s.mu.Unlock()
}

// TestHubDuplicateLoginKicksTheEarlierSession: the earlier session of a
// user who enters again is kicked (duplicate) and gets nothing more; the
// others see nothing (the user stays an anchor); the stale session's leave
// does not remove the new one.
func TestHubDuplicateLoginKicksTheEarlierSession(t *testing.T) {
	e := newHubEnv(t, rooms.NewMemory(nil))
	w := e.join("watcher", rooms.Anchor)
	first := e.join("alice", rooms.Anchor)
	second := e.join("alice", rooms.Anchor)
	expect(t, "first", first, "joined[alice watcher], kicked/duplicate")
	expect(t, "second", second, "joined[alice watcher]")
	e.join("bob", rooms.Anchor)
	expect(t, "first", first, "joined[alice watcher], kicked/duplicate")
	expect(t, "watcher", w, "joined[watcher], entered alice, entered bob")
	if err := e.hub.Leave(e.ctx, room, first, rooms.ReasonLeft); err != nil {
		t.Fatal(err)
	}
	ms, _ := e.svc.Members(e.ctx, room)
	if len(ms) != 3 {
		t.Fatalf("the kicked session's leave changed the room: %+v", ms)
	}
	if n := e.hub.Sessions(); n != 3 {
		t.Fatalf("%d sessions attached", n)
	}
}

// TestHubAudienceIsInvisible: audience members are neither announced nor
// listed to others; they see the anchors and themselves.
func TestHubAudienceIsInvisible(t *testing.T) {
	e := newHubEnv(t, rooms.NewMemory(nil))
	w := e.join("watcher", rooms.Anchor)
	v := e.join("viewer", rooms.Audience)
	v2 := e.join("viewer2", rooms.Audience)
	e.join("bob", rooms.Anchor)
	if err := e.hub.Leave(e.ctx, room, v2, rooms.ReasonLeft); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Remove(e.ctx, room, []string{"viewer"}); err != nil {
		t.Fatal(err)
	}
	expect(t, "watcher", w, "joined[watcher], entered bob")
	expect(t, "viewer", v, "joined[viewer watcher], entered bob, kicked/removed")
	expect(t, "viewer2", v2, "joined[viewer2 watcher], entered bob")
}

// TestHubRoleSwitchNotices: an audience member who becomes an anchor is
// announced as entered, the reverse as left (role_switch); the switching
// session gets the acknowledgement with the change's seq, in room order.
func TestHubRoleSwitchNotices(t *testing.T) {
	e := newHubEnv(t, rooms.NewMemory(nil))
	w := e.join("watcher", rooms.Anchor)
	c := e.join("carol", rooms.Audience)
	seq, err := e.hub.SwitchRole(e.ctx, room, c, rooms.Anchor)
	if err != nil {
		t.Fatal(err)
	}
	if n := c.last(); n.Type != rooms.RoleSwitched || n.Seq != seq || n.Role != rooms.Anchor {
		t.Fatalf("carol's acknowledgement %+v, the switch's seq %d", n, seq)
	}
	late := e.join("late", rooms.Anchor)
	if _, err := e.hub.SwitchRole(e.ctx, room, c, rooms.Audience); err != nil {
		t.Fatal(err)
	}
	expect(t, "watcher", w, "joined[watcher], entered carol, entered late, left carol/role_switch")
	expect(t, "carol", c, "joined[carol watcher], switched anchor, entered late, switched audience")
	expect(t, "late", late, "joined[carol late watcher], left carol/role_switch")
	if _, err := e.hub.SwitchRole(e.ctx, room, c, rooms.Audience); !errors.Is(err, rooms.ErrSameRole) {
		t.Fatalf("switch to the same role: %v", err)
	}
	if _, err := e.hub.SwitchRole(e.ctx, room, &session{id: "stranger"}, rooms.Anchor); !errors.Is(err, rooms.ErrNotMember) {
		t.Fatalf("switch of a session that is not here: %v", err)
	}
	for _, m := range e.hub.LocalMembers()[room] {
		if m.UserID == "carol" && m.Role != rooms.Audience {
			t.Fatalf("the hub's record of carol has role %v", m.Role)
		}
	}
}

// TestHubKickedSessionsGetNothingMore: after its kick (removal, dismissal)
// a session receives nothing, though it stays attached until its Leave.
func TestHubKickedSessionsGetNothingMore(t *testing.T) {
	e := newHubEnv(t, rooms.NewMemory(nil))
	a := e.join("alice", rooms.Anchor)
	b := e.join("bob", rooms.Anchor)
	if err := e.svc.Remove(e.ctx, room, []string{"alice"}); err != nil {
		t.Fatal(err)
	}
	e.join("carol", rooms.Anchor)
	if err := e.svc.Dismiss(e.ctx, room); err != nil {
		t.Fatal(err)
	}
	e.join("dave", rooms.Anchor) // the room again, with a session still attached from before
	expect(t, "alice", a, "joined[alice], entered bob, kicked/removed")
	expect(t, "bob", b, "joined[alice bob], left alice/removed, entered carol, kicked/dismissed")
	for _, s := range []*session{a, b} {
		if err := e.hub.Leave(e.ctx, room, s, rooms.ReasonLeft); err != nil {
			t.Fatal(err)
		}
	}
	ms, _ := e.svc.Members(e.ctx, room)
	if len(ms) != 1 || ms[0].UserID != "dave" {
		t.Fatalf("members %+v", ms)
	}
}

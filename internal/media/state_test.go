package media_test

import (
	"testing"

	"github.com/trtcd/trtcd/client/media/wire"
	"github.com/trtcd/trtcd/internal/media"
	"github.com/trtcd/trtcd/internal/rooms"
)

// TestStates: the read-only snapshot shows who publishes what and what is
// blocked, for joined users and for users blocked before joining; it never
// creates a room.
func TestStates(t *testing.T) {
	e := newEnv(t, media.Config{})
	if st := e.srv.States("1400000001:999"); st != nil {
		t.Fatalf("a room that does not exist: %+v", st)
	}
	if st := e.srv.States("1400000001:999"); st != nil {
		t.Fatal("States created the room")
	}
	e.room.SetBlocked("carol", true, false) // not joined
	a := e.join("alice", rooms.Anchor)
	b := e.join("bob", rooms.Audience)
	e.publish(a, av...)
	until(t, "bob to be offered alice's video", func() bool { return b.c.Announced("alice", wire.Video) })
	e.room.SetBlocked("alice", false, true)
	st := e.srv.States(e.room.Key())
	want := map[string]media.UserState{
		"alice": {Joined: true, Audio: true, Video: true, BlockedVideo: true},
		"bob":   {Joined: true},
		"carol": {BlockedAudio: true},
	}
	if len(st) != len(want) {
		t.Fatalf("states %+v", st)
	}
	for u, w := range want {
		if st[u] != w {
			t.Errorf("%s: %+v, want %+v", u, st[u], w)
		}
	}
	e.room.SetBlocked("alice", false, false)
	if st := e.srv.States(e.room.Key()); st["alice"].BlockedVideo || !st["alice"].Video {
		t.Fatalf("after unblocking %+v", st["alice"])
	}
}

// Existing finds a room without making one.
func TestExistingMakesNoRoom(t *testing.T) {
	s := newEnv(t, media.Config{}).srv
	if r := s.Existing("1:n:404"); r != nil {
		t.Fatalf("Existing made or found %v", r)
	}
	r := s.Room("1:n:405")
	if got := s.Existing("1:n:405"); got != r {
		t.Fatalf("Existing = %v, want the room Room made", got)
	}
	if got := s.Existing("1:n:404"); got != nil {
		t.Fatal("a room appeared")
	}
}

package media_test

import (
	"testing"

	"github.com/trtcd/trtcd/client/media/wire"
	"github.com/trtcd/trtcd/internal/media"
	"github.com/trtcd/trtcd/internal/rooms"
)

// TestRemovePeerLeavesItsReplacement: the session that a duplicate login
// replaced removes only its own peer, not the new one.
func TestRemovePeerLeavesItsReplacement(t *testing.T) {
	e := newEnv(t, media.Config{})
	old := e.join("alice", rooms.Anchor)
	cur := e.join("alice", rooms.Anchor)
	if !old.p.Closed() {
		t.Fatal("the replaced peer is open")
	}
	if e.room.RemovePeer(old.p, "duplicate") || !e.room.Joined("alice") || cur.p.Closed() {
		t.Fatal("removing the replaced peer removed its replacement")
	}
	if !e.room.RemovePeer(cur.p, "left") || e.room.Joined("alice") || !cur.p.Closed() {
		t.Fatal("the current peer was not removed")
	}
}

// TestCloseIfIdle: a room with a peer or a blocked user stays; without
// either it closes, and a later Join fails with ErrClosed.
func TestCloseIfIdle(t *testing.T) {
	e := newEnv(t, media.Config{})
	m := e.join("alice", rooms.Anchor)
	if e.room.CloseIfIdle() || e.room.Closed() {
		t.Fatal("closed with a peer")
	}
	e.room.RemovePeer(m.p, "left")
	e.room.SetBlocked("bob", true, false)
	if e.room.CloseIfIdle() {
		t.Fatal("closed while bob is blocked")
	}
	e.room.SetBlocked("bob", false, false)
	if !e.room.CloseIfIdle() || !e.room.Closed() {
		t.Fatal("an idle room stayed open")
	}
	if _, err := e.room.Join("carol", rooms.Anchor, func(wire.Message) error { return nil }); err == nil {
		t.Fatal("joined a closed room")
	}
	if e.srv.Room(e.room.Key()) == e.room {
		t.Fatal("the server still hands out the closed room")
	}
}

package media

import (
	"testing"

	"github.com/trtcd/trtcd/client/media/wire"
)

// A track ends on the server's media_track_unpublished, before the offer
// that takes it off the connection: Ended closes, the track is no longer
// active, and the other tracks are untouched.
func TestTrackEndsOnUnpublished(t *testing.T) {
	c, err := New(func(wire.Message) error { return nil }, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	receiving := func(user string, kind wire.Kind) {
		e := &trackEnd{ch: make(chan struct{})}
		c.recv[recvKey{user, kind}] = &recvTrack{cur: e, endedCh: e.ch, stats: TrackStats{Active: true, Tracks: 1}}
		c.announced[recvKey{user, kind}] = true
	}
	receiving("alice", wire.Video)
	receiving("alice", wire.Audio)
	receiving("bob", wire.Video)

	if err := c.Handle(wire.Message{Type: wire.TypeTrackUnpublished, UserID: "alice", Kind: wire.Video}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.Ended("alice", wire.Video):
	default:
		t.Fatal("alice's video did not end on media_track_unpublished")
	}
	if c.Received("alice", wire.Video).Active || c.Announced("alice", wire.Video) {
		t.Error("alice's video still active or announced")
	}
	for _, k := range []recvKey{{"alice", wire.Audio}, {"bob", wire.Video}} {
		select {
		case <-c.Ended(k.user, k.kind):
			t.Errorf("%s's %s ended too", k.user, k.kind)
		default:
		}
		if !c.Received(k.user, k.kind).Active {
			t.Errorf("%s's %s no longer active", k.user, k.kind)
		}
	}
	if c.Received("alice", wire.Video).Removed {
		t.Error("alice's video counted as off the connection before its packets ended")
	}
}

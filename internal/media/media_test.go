package media_test

import (
	"fmt"
	"testing"

	"github.com/trtcd/trtcd/client/media/wire"
	"github.com/trtcd/trtcd/internal/media"
	"github.com/trtcd/trtcd/internal/rooms"
)

func TestPublishReachesAnchorsAndAudience(t *testing.T) {
	e := newEnv(t, media.Config{})
	a := e.join("alice", rooms.Anchor)
	b := e.join("bob", rooms.Anchor)
	c := e.join("carol", rooms.Audience)
	e.publish(a, av...)
	for _, m := range []*member{b, c} {
		grows(t, "audio from alice", packets(m.c, "alice", wire.Audio), 10)
		grows(t, "video from alice", packets(m.c, "alice", wire.Video), 10)
	}
	if got := a.c.Received("alice", wire.Audio).Packets; got != 0 {
		t.Fatalf("alice received her own audio: %d packets", got)
	}
	if st := b.c.Received("alice", wire.Video); st.Codec != "video/VP8" || st.Bytes == 0 {
		t.Fatalf("bob's video from alice: %+v", st)
	}
}

// TestRemoveEndsTracksBeforeReturning: one subscriber, and five (the
// subscribers' new offers are then made several at a time).
func TestRemoveEndsTracksBeforeReturning(t *testing.T) {
	for _, n := range []int{1, 5} {
		t.Run(fmt.Sprintf("subscribers=%d", n), func(t *testing.T) { removeEndsTracks(t, n) })
	}
}

func removeEndsTracks(t *testing.T, subscribers int) {
	e := newEnv(t, media.Config{})
	a := e.join("alice", rooms.Anchor)
	var subs []*member
	for i := range subscribers {
		subs = append(subs, e.join(fmt.Sprintf("sub%d", i), rooms.Anchor))
	}
	e.publish(a, av...)
	var ended []<-chan struct{}
	for _, b := range subs {
		grows(t, "audio from alice", packets(b.c, "alice", wire.Audio), 10)
		grows(t, "video from alice", packets(b.c, "alice", wire.Video), 10)
		ended = append(ended, b.c.Ended("alice", wire.Audio), b.c.Ended("alice", wire.Video))
	}

	if !e.room.Remove("alice", "removed") {
		t.Fatal("Remove says alice was not there")
	}
	// Synchronous: when Remove returns, alice's connections are closed and
	// every subscriber has been sent the end of both tracks.
	if !a.p.Closed() {
		t.Fatal("alice's peer is still open after Remove returned")
	}
	for _, b := range subs {
		for _, k := range []wire.Kind{wire.Audio, wire.Video} {
			if !b.sent.has(wire.TypeTrackUnpublished, "alice", k) {
				t.Fatalf("%s was not sent the end of alice's %s before Remove returned", b.p.User(), k)
			}
		}
	}
	for _, ch := range ended {
		select {
		case <-ch:
		case <-e.ctx.Done():
			t.Fatal("a subscriber's track from alice did not end")
		}
	}
	// The new offers then take the senders off every subscriber's connection.
	until(t, "alice's tracks to leave every subscriber's connection", func() bool {
		for _, b := range subs {
			if !b.c.Received("alice", wire.Audio).Removed || !b.c.Received("alice", wire.Video).Removed {
				return false
			}
		}
		return true
	})
	until(t, "alice's client to see its connection closed", func() bool {
		s := a.c.State(wire.PCPub)
		return s == "closed" || s == "failed" || s == "disconnected"
	})
	if got := e.events.list(); len(got) != 2 {
		t.Fatalf("removal emitted media events: %+v", got)
	}
	if e.room.Remove("alice", "removed") {
		t.Fatal("a second Remove found alice")
	}
}

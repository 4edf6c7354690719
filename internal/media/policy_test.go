package media_test

import (
	"errors"
	"slices"
	"testing"

	mc "github.com/trtcd/trtcd/client/media"
	"github.com/trtcd/trtcd/client/media/wire"
	"github.com/trtcd/trtcd/internal/media"
	"github.com/trtcd/trtcd/internal/rooms"
)

func TestSetBlockedVideoKeepsAudio(t *testing.T) {
	e := newEnv(t, media.Config{})
	a := e.join("alice", rooms.Anchor)
	b := e.join("bob", rooms.Anchor)
	e.publish(a, av...)
	grows(t, "video from alice", packets(b.c, "alice", wire.Video), 10)

	// IsMute 3: video only.
	st := e.room.SetBlocked("alice", false, true)
	if st != (media.BlockState{Audio: false, Video: true, Joined: true}) {
		t.Fatalf("SetBlocked reported %+v", st)
	}
	blocked := e.srv.Metrics().PacketsBlocked
	stopped(t, "alice's video while blocked", a.c, packets(b.c, "alice", wire.Video))
	grows(t, "alice's audio while her video is blocked", packets(b.c, "alice", wire.Audio), 10)
	if e.srv.Metrics().PacketsBlocked <= blocked {
		t.Fatal("PacketsBlocked did not count the withheld video")
	}
	select {
	case <-b.c.Ended("alice", wire.Video):
		t.Fatal("blocking ended bob's video track instead of pausing it")
	default:
	}

	// IsMute 0: both again.
	if st := e.room.SetBlocked("alice", false, false); st.Audio || st.Video {
		t.Fatalf("SetBlocked(0) reported %+v", st)
	}
	grows(t, "alice's video after unblocking", packets(b.c, "alice", wire.Video), 10)

	// IsMute 2: audio only.
	e.room.SetBlocked("alice", true, false)
	stopped(t, "alice's audio while blocked", a.c, packets(b.c, "alice", wire.Audio))
	grows(t, "alice's video while her audio is blocked", packets(b.c, "alice", wire.Video), 10)
}

func TestBlockedStateAppliesToLaterTracks(t *testing.T) {
	e := newEnv(t, media.Config{})
	if st := e.room.SetBlocked("alice", true, true); st.Joined || !st.Audio || !st.Video {
		t.Fatalf("SetBlocked before joining reported %+v", st)
	}
	a := e.join("alice", rooms.Anchor)
	b := e.join("bob", rooms.Anchor)
	e.publish(a, av...)
	until(t, "bob to be offered alice's tracks", func() bool { return b.c.Announced("alice", wire.Video) })
	stopped(t, "alice's video, blocked before publishing", a.c, packets(b.c, "alice", wire.Video))
	e.room.SetBlocked("alice", false, false)
	grows(t, "alice's video once released", packets(b.c, "alice", wire.Video), 10)
}

func TestAudienceCannotPublishUntilAnchor(t *testing.T) {
	e := newEnv(t, media.Config{})
	a := e.join("alice", rooms.Anchor)
	b := e.join("bob", rooms.Anchor)
	c := e.join("carol", rooms.Audience)
	e.publish(a, av...)

	err := c.c.Publish(e.ctx, av...)
	var we *wire.Error
	if !errors.As(err, &we) || we.Code != wire.CodePublishNotAllowed {
		t.Fatalf("audience publish: got %v, want %s", err, wire.CodePublishNotAllowed)
	}
	if e.srv.Metrics().PublishRefused == 0 {
		t.Fatal("PublishRefused did not count the refusal")
	}
	// The room is unharmed.
	grows(t, "bob still receiving alice", packets(b.c, "alice", wire.Video), 10)

	if err := e.room.SetRole("carol", rooms.Anchor); err != nil {
		t.Fatal(err)
	}
	e.publish(c, av...)
	grows(t, "bob receiving carol's audio", packets(b.c, "carol", wire.Audio), 10)
	grows(t, "alice receiving carol's video", packets(a.c, "carol", wire.Video), 10)

	if err := e.room.SetRole("nobody", rooms.Anchor); !errors.Is(err, media.ErrNotJoined) {
		t.Fatalf("SetRole of a stranger: %v", err)
	}
}

func TestSwitchToAudienceStopsPublishing(t *testing.T) {
	e := newEnv(t, media.Config{})
	a := e.join("alice", rooms.Anchor)
	b := e.join("bob", rooms.Anchor)
	e.publish(a, mc.TrackSpec{Kind: wire.Audio})
	grows(t, "audio from alice", packets(b.c, "alice", wire.Audio), 10)
	if err := e.room.SetRole("alice", rooms.Audience); err != nil {
		t.Fatal(err)
	}
	select {
	case <-b.c.Ended("alice", wire.Audio):
	case <-e.ctx.Done():
		t.Fatal("bob's audio from alice did not end")
	}
	want := []media.EventType{media.EventStartAudio, media.EventStopAudio}
	if got := types(e.events.list()); !slices.Equal(got, want) {
		t.Fatalf("events %v, want %v", got, want)
	}
}

func TestNewSubscriberGetsKeyframe(t *testing.T) {
	e := newEnv(t, media.Config{})
	a := e.join("alice", rooms.Anchor)
	e.publish(a, av...)
	mediaSecond(t, a.c)
	before := a.c.KeyframeRequests(wire.Video)

	b := e.join("bob", rooms.Anchor)
	grows(t, "a keyframe request for bob reaching alice", func() uint64 { return a.c.KeyframeRequests(wire.Video) }, 0)
	grows(t, "video from alice", packets(b.c, "alice", wire.Video), 10)

	// A subscriber's own PLI reaches the publisher too (merged by the
	// keyframe rate limit, never lost).
	n := a.c.KeyframeRequests(wire.Video)
	if err := b.c.RequestKeyframe("alice", wire.Video); err != nil {
		t.Fatal(err)
	}
	until(t, "bob's PLI reaching alice", func() bool { return a.c.KeyframeRequests(wire.Video) > n })
	if a.c.KeyframeRequests(wire.Audio) != 0 {
		t.Fatal("audio got keyframe requests")
	}
	if before > n {
		t.Fatal("counter went backwards")
	}
}

func TestMediaEventsInOrder(t *testing.T) {
	e := newEnv(t, media.Config{})
	a := e.join("alice", rooms.Anchor)
	b := e.join("bob", rooms.Anchor)
	e.publish(a, av...)
	until(t, "two start events", func() bool { return len(e.events.list()) == 2 })
	start := types(e.events.list())
	slices.Sort(start)
	if !slices.Equal(start, []media.EventType{media.EventStartVideo, media.EventStartAudio}) {
		t.Fatalf("start events %v", start)
	}
	if err := a.c.Unpublish(e.ctx, wire.Video); err != nil {
		t.Fatal(err)
	}
	until(t, "the stop-video event", func() bool { return len(e.events.list()) == 3 })
	e.publish(a, mc.TrackSpec{Kind: wire.SubVideo})
	until(t, "the start-substream event", func() bool { return len(e.events.list()) == 4 })
	grows(t, "bob receiving alice's screen", packets(b.c, "alice", wire.SubVideo), 10)
	if err := a.c.Unpublish(e.ctx, wire.SubVideo); err != nil {
		t.Fatal(err)
	}
	until(t, "the stop-substream event", func() bool { return len(e.events.list()) == 5 })
	e.room.Remove("alice", "left")
	e.publish(b, mc.TrackSpec{Kind: wire.Audio}) // a clock, and events of another user
	mediaSecond(t, b.c)                          // nothing more comes for alice: leaving stops nothing
	var evs []media.MediaEvent
	for _, ev := range e.events.list() {
		if ev.User == "alice" {
			evs = append(evs, ev)
		}
	}
	if len(evs) != 5 {
		t.Fatalf("alice's events: %v", types(evs))
	}
	want := []media.EventType{media.EventStopVideo, media.EventStartSubVideo, media.EventStopSubVideo}
	if got := types(evs[2:]); !slices.Equal(got, want) {
		t.Fatalf("events %v, want %v after the starts", got, want)
	}
	for _, ev := range evs {
		if ev.Room != e.room.Key() || ev.Time.IsZero() {
			t.Fatalf("event %+v", ev)
		}
	}
}

func types(evs []media.MediaEvent) []media.EventType {
	var out []media.EventType
	for _, ev := range evs {
		out = append(out, ev.Type)
	}
	return out
}

func TestUnsubscribeAndSubscribeAgain(t *testing.T) {
	e := newEnv(t, media.Config{})
	a := e.join("alice", rooms.Anchor)
	b := e.join("bob", rooms.Anchor)
	e.publish(a, av...)
	grows(t, "video from alice", packets(b.c, "alice", wire.Video), 10)
	ended := b.c.Ended("alice", wire.Video)
	if err := b.c.Unsubscribe("alice", wire.Video); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ended:
	case <-e.ctx.Done():
		t.Fatal("bob's video from alice did not end after unsubscribing")
	}
	until(t, "alice's video to leave bob's connection", func() bool { return b.c.Received("alice", wire.Video).Removed })
	grows(t, "audio from alice after unsubscribing video", packets(b.c, "alice", wire.Audio), 10)
	if err := b.c.Subscribe("alice", wire.Video); err != nil {
		t.Fatal(err)
	}
	until(t, "alice's video a second time", func() bool { return b.c.Received("alice", wire.Video).Tracks == 2 })
	grows(t, "video from alice again", packets(b.c, "alice", wire.Video), 10)
}

func TestRoomClose(t *testing.T) {
	e := newEnv(t, media.Config{})
	a := e.join("alice", rooms.Anchor)
	b := e.join("bob", rooms.Anchor)
	e.publish(a, av...)
	grows(t, "video from alice", packets(b.c, "alice", wire.Video), 10)
	e.room.Close()
	if !a.p.Closed() || !b.p.Closed() {
		t.Fatal("Close left a peer open")
	}
	if _, err := e.room.Join("dave", rooms.Anchor, func(wire.Message) error { return nil }); !errors.Is(err, media.ErrClosed) {
		t.Fatalf("Join after Close: %v", err)
	}
	if len(e.events.list()) != 2 {
		t.Fatalf("dismissal emitted events: %v", types(e.events.list()))
	}
	if r := e.srv.Room(e.room.Key()); r == e.room {
		t.Fatal("the server still hands out the closed room")
	}
}

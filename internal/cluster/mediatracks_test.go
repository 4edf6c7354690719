package cluster_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/trtcd/trtcd/internal/cluster"
	"github.com/trtcd/trtcd/internal/eventlog"
	"github.com/trtcd/trtcd/internal/rooms"
	tk "github.com/trtcd/trtcd/internal/testkit"
)

// TestMediaLiveTracks: the media script keeps the room's live tracks and
// refuses the events of a node that no longer holds the claim and the
// stops of tracks that are not live. The stops of a dead media node's
// tracks are written once, whoever asks and however often: for members
// still in the room with the same session only (not for one who left, nor
// for one who left and came back), audio before video; and the node that
// takes the claim over writes those not written yet, in the claim's script.
func TestMediaLiveTracks(t *testing.T) {
	srv := tk.StartRedis(t)
	a := newRegistry(t, srv, cluster.Options{NodeID: "a", Heartbeat: time.Hour}) // its liveness key is not refreshed
	b := newRegistry(t, srv, cluster.Options{NodeID: "b"})
	c := newRegistry(t, srv, cluster.Options{NodeID: "c"})
	ctx := context.Background()
	room := rooms.NumRoom(1, 7)
	enter := func(user, session string) {
		t.Helper()
		if _, err := a.Enter(ctx, room, rooms.Member{UserID: user, SessionID: session, NodeID: "n"}); err != nil {
			t.Fatal(err)
		}
	}
	logMedia := func(reg *cluster.Registry, user string, typ eventlog.Type, want error) {
		t.Helper()
		if _, err := reg.LogMedia(ctx, room, user, typ); !errors.Is(err, want) {
			t.Fatalf("LogMedia(%s, %s) by %s: %v, want %v", user, typ, reg.Incarnation(), err, want)
		}
	}
	stops := func(reg *cluster.Registry, dead string, want int) {
		t.Helper()
		if n, err := reg.MediaStopTracks(ctx, room, dead); err != nil || n != want {
			t.Fatalf("MediaStopTracks by %s: %d %v, want %d", reg.Incarnation(), n, err, want)
		}
	}
	enter("alice", "s1")
	enter("bob", "s2")
	enter("carl", "s3")
	enter("keep", "s4") // keeps the room open
	if o, _, err := a.MediaClaim(ctx, room); err != nil || o != a.Incarnation() {
		t.Fatalf("claim: %q %v", o, err)
	}
	logMedia(a, "alice", eventlog.TypeVideoStart, nil)
	logMedia(a, "alice", eventlog.TypeAudioStart, nil)
	logMedia(a, "bob", eventlog.TypeAudioStart, nil)
	logMedia(a, "carl", eventlog.TypeSubStart, nil)
	logMedia(a, "carl", eventlog.TypeSubStop, nil)
	logMedia(a, "carl", eventlog.TypeSubStop, cluster.ErrNotStarted)      // stopped already
	logMedia(a, "alice", eventlog.TypeSubStop, cluster.ErrNotStarted)     // never started
	logMedia(b, "alice", eventlog.TypeAudioStop, cluster.ErrNotMediaNode) // a holds the claim
	if err := a.Leave(ctx, room, "bob", "s2", rooms.ReasonLeft); err != nil {
		t.Fatal(err)
	}
	enter("bob", "s5") // bob again, with nothing published
	before := len(logOf(t, srv, room))

	stops(b, "someone#else", 0)
	stops(b, a.Incarnation(), 2)
	stops(c, a.Incarnation(), 0)
	stops(b, a.Incarnation(), 0)
	logMedia(a, "alice", eventlog.TypeAudioStop, cluster.ErrNotStarted) // written after the reset
	got := logOf(t, srv, room)[before:]
	if strings.Join(got, ",") != "audio_stop alice,video_stop alice" {
		t.Fatalf("stops in the log %q, want alice's audio then video stop only", got)
	}
	if b.MediaStops() != 2 || c.MediaStops() != 0 {
		t.Fatalf("MediaStops b %d c %d, want 2 and 0", b.MediaStops(), c.MediaStops())
	}

	// a runs alice's video again, then dies: b takes the claim over, and
	// writes the stop in the claim's script; a's late events are refused.
	logMedia(a, "alice", eventlog.TypeVideoStart, nil)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer rdb.Close()
	keys, _ := rdb.Keys(ctx, "trtcd:node:{"+a.Incarnation()+"}:alive").Result()
	if len(keys) != 1 {
		t.Fatalf("a's liveness key not found: %v", keys)
	}
	rdb.Del(ctx, keys[0])
	before = len(logOf(t, srv, room))
	if o, took, err := b.MediaClaim(ctx, room); err != nil || o != b.Incarnation() || !took {
		t.Fatalf("take-over: %q %v %v", o, took, err)
	}
	if got := logOf(t, srv, room)[before:]; strings.Join(got, ",") != "video_stop alice" {
		t.Fatalf("the take-over wrote %q, want alice's video stop", got)
	}
	if b.MediaStops() != 3 {
		t.Fatalf("MediaStops b %d, want 3", b.MediaStops())
	}
	logMedia(a, "alice", eventlog.TypeVideoStop, cluster.ErrNotMediaNode)
	stops(c, a.Incarnation(), 0)

	// Released after its media closed, the room keeps no live track.
	logMedia(b, "alice", eventlog.TypeAudioStart, nil)
	if err := b.MediaRelease(ctx, room); err != nil {
		t.Fatal(err)
	}
	if o, _, err := c.MediaClaim(ctx, room); err != nil || o != c.Incarnation() || c.MediaStops() != 0 {
		t.Fatalf("claim after a release: %q %v, %d stops, want c's and none", o, err, c.MediaStops())
	}
}

package node_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/trtcd/trtcd/client/media/wire"
	"github.com/trtcd/trtcd/internal/cluster"
	"github.com/trtcd/trtcd/internal/config"
	"github.com/trtcd/trtcd/internal/media"
	"github.com/trtcd/trtcd/internal/node"
	"github.com/trtcd/trtcd/internal/rooms"
	tk "github.com/trtcd/trtcd/internal/testkit"
)

// TestClusterMediaStopsAfterShutdown: the room's media node (node 0) shuts
// down while alice (node 1) publishes audio and video; the callbacks then
// carry her 204 and 202 once, after her first 201/203 and before (in room
// order) the 201/203 of her tracks published again on a live node. dave,
// who published too but left before, gets no stop (his 104 says it).
func TestClusterMediaStopsAfterShutdown(t *testing.T) {
	stopsAfterMediaGoes(t, 7107, func(t *testing.T, nodes []*node.Node, _ *tk.Redis, _ rooms.Key) {
		if err := nodes[0].Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
	}, nil)
}

// TestClusterMediaStopsWhenTheRoomIsTakenOver: node 0 loses the room's
// media claim to an incarnation that is not alive (as when node 0 stalled
// past its claim and its liveness); node 0 resets the room, the clients
// publish again, and the live node that takes the claim over from the dead
// holder writes alice's stops, once, before her new starts; node 0, which
// no longer runs the room's media, records nothing more of it.
func TestClusterMediaStopsWhenTheRoomIsTakenOver(t *testing.T) {
	stopsAfterMediaGoes(t, 7108, func(t *testing.T, nodes []*node.Node, srv *tk.Redis, room rooms.Key) {
		rdb := redis.NewClient(&redis.Options{Addr: srv.Addr})
		defer rdb.Close()
		if err := rdb.Set(context.Background(), cluster.MediaKey(room), "ghost#0", time.Minute).Err(); err != nil {
			t.Fatal(err)
		}
	}, func(nodes []*node.Node) []*node.Node { return nodes })
}

// stopsAfterMediaGoes runs the scenario of the two tests above; goAway
// takes the room's media away from node 0; the stops written count in
// trtcd_media_stops_after_reset_total on the nodes wroteStops names (nil:
// not checked, the writer is gone).
func stopsAfterMediaGoes(t *testing.T, roomID uint64, goAway func(*testing.T, []*node.Node, *tk.Redis, rooms.Key), wroteStops func([]*node.Node) []*node.Node) {
	recv := tk.NewSeqCallbacks(t)
	srv := tk.StartRedis(t)
	nodes, _, _, alice, bob := startMediaClusterWith(t, srv, roomID, func(cfg *config.Config) {
		cfg.Accounts[0].Apps[0].Callback = &config.Callback{URL: recv.URL(), Key: "mediaStopsCallbackKey"}
	})
	dave := joinMedia(t, nodes[2], "dave", roomID, "")
	publishAV(t, alice)
	publishAV(t, dave)
	receiving(t, bob, "alice")
	receiving(t, bob, "dave")
	until(t, "alice's and dave's starts called back", func() bool {
		return tk.CountOf(recv.List(), "201/dave", "203/dave", "201/alice", "203/alice") == 4
	})
	ctx, cancel := context.WithTimeout(context.Background(), mediaWait)
	defer cancel()
	if err := dave.conn.Leave(ctx); err != nil {
		t.Fatal(err)
	}
	until(t, "dave's leave called back", func() bool { return tk.CountOf(recv.List(), "104/dave") == 1 })

	if got, a := recv.List(), tk.MediaOf(recv.List(), "alice"); len(a) != 2 || strings.Join(sortedPair(a[0], a[1]), " ") != "201/alice 203/alice" {
		t.Fatalf("alice's media callbacks before the media went: %v, want her two starts (all: %v)", tk.MediaOf(got, "alice"), got)
	}
	before := recv.Last()

	goAway(t, nodes, srv, rooms.NumRoom(tk.App, roomID))
	until(t, "alice and bob to follow a media_reset", func() bool { return alice.media.Resets() >= 1 && bob.media.Resets() >= 1 })
	// (in the take-over test node 0 may take the room back: any node will do)
	until(t, "bob to receive alice's tracks again", func() bool {
		return bob.media.Received("alice", wire.Audio).Tracks >= 2 && bob.media.Received("alice", wire.Video).Tracks >= 2
	})
	receiving(t, bob, "alice")
	// A room's callbacks may come out of room order while node 0's shards
	// move to the other nodes: wait for alice's four, then check them in
	// room order (by sequence number).
	until(t, "alice's stops and new starts called back", func() bool { return len(tk.MediaOf(recv.Since(before), "alice")) >= 4 })
	got := recv.Since(before)
	if a := tk.MediaOf(got, "alice"); len(a) != 4 || strings.Join(sortedPair(a[0], a[1]), " ") != "202/alice 204/alice" ||
		strings.Join(sortedPair(a[2], a[3]), " ") != "201/alice 203/alice" {
		t.Fatalf("alice's media callbacks after the media went, in room order: %v, want her two stops once, then her two new starts (all after: %v)", a, got)
	}
	if n := tk.CountOf(recv.List(), "202/dave", "204/dave", "206/dave"); n != 0 {
		t.Fatalf("dave, who left before the media went, got %d stops: %v", n, recv.List())
	}
	// A stop the room's log cannot take (alice's substream never started,
	// or node 1 is not the room's media node) is counted as stale.
	stale := func() float64 { return scrape(t, nodes[1].Addr())[`trtcd_media_events_unlogged_total{reason="stale"}`] }
	staleBefore := stale()
	node.OnMediaEvent(nodes[1], media.MediaEvent{Type: media.EventStopSubVideo, Room: rooms.NumRoom(tk.App, roomID).String(), User: "alice", Time: time.Now()})
	if after := stale(); after != staleBefore+1 {
		t.Fatalf("stale media events on node 1: %v -> %v, want one more", staleBefore, after)
	}
	if wroteStops != nil {
		var stops float64
		for _, n := range wroteStops(nodes) {
			stops += scrape(t, n.Addr())["trtcd_media_stops_after_reset_total"]
		}
		if stops != 2 {
			t.Fatalf("trtcd_media_stops_after_reset_total %v on the nodes, want 2", stops)
		}
	}
}

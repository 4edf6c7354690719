package node_test

import (
	"context"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/trtcd/trtcd/client/media/wire"
	"github.com/trtcd/trtcd/internal/cluster"
	"github.com/trtcd/trtcd/internal/rooms"
	tk "github.com/trtcd/trtcd/internal/testkit"
)

// TestClusterMediaBlocksSurviveRedisRestartEmpty: alice's video is blocked
// and bob's audio blocked then released, on the media node (node 0), before
// Redis restarts empty. Once the nodes re-registered, the media node has
// written alice's block back to Redis (without an expiry, as the original
// record) and not bob's released one; when the media node then goes, the
// room's new media node keeps alice's video withheld from bob while her
// audio flows, and does not block bob, until alice is released.
func TestClusterMediaBlocksSurviveRedisRestartEmpty(t *testing.T) {
	const roomID = 7107
	srv := tk.StartRedis(t)
	nodes, _, _, alice, bob := startMediaClusterOn(t, srv, roomID)
	room := rooms.NumRoom(tk.App, roomID)
	key := room.String()
	publishAV(t, alice)
	receiving(t, bob, "alice")

	setUserBlocked(t, nodes[1], roomID, "alice", 3)
	stoppedFor(t, "alice's blocked video", alice.media, packets(bob.media, "alice", wire.Video))
	setUserBlocked(t, nodes[2], roomID, "bob", 2)
	setUserBlocked(t, nodes[1], roomID, "bob", 0)

	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer rdb.Close()
	ctx := context.Background()
	blk := cluster.MediaBlockedKey(room)
	record := func() map[string]string {
		h, err := rdb.HGetAll(ctx, blk).Result()
		if err != nil {
			return nil
		}
		return h
	}
	if got := record(); len(got) != 1 || got["alice"] != "v" {
		t.Fatalf("blocks recorded before the restart %v, want alice: v", got)
	}
	ttlBefore := rdb.PTTL(ctx, blk).Val()

	srv.Stop()
	srv.Start(t) // empty
	until(t, "the nodes to re-register their members", func() bool {
		return memberIDs(t, nodes[2], room) == "[alice bob carol]"
	})
	until(t, "the media node to write alice's block back", func() bool { return record()["alice"] == "v" })
	if got := record(); len(got) != 1 {
		t.Fatalf("blocks written back %v, want alice's only (bob was released before the restart)", got)
	}
	if ttl := rdb.PTTL(ctx, blk).Val(); ttl != ttlBefore {
		t.Fatalf("the written-back record's expiry is %v, want %v as before the restart (blocks do not expire)", ttl, ttlBefore)
	}
	documentedFamilies(t, nodes[0].Addr(), "trtcd_media_")
	if n := scrape(t, nodes[0].Addr())["trtcd_media_blocks_restored_total"]; n < 1 {
		t.Fatalf("node 0 counted %v blocks written back, want alice's", n)
	}
	until(t, "node 0 to hold the room's media claim again", func() bool {
		o, _ := rdb.Get(ctx, cluster.MediaKey(room)).Result()
		return o == nodes[0].Registry.(*cluster.Registry).Incarnation()
	})

	if err := nodes[0].Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	until(t, "alice and bob to follow a media_reset", func() bool { return alice.media.Resets() >= 1 && bob.media.Resets() >= 1 })
	until(t, "a live node to run the room's media", func() bool {
		return nodes[1].Media.Existing(key) != nil || nodes[2].Media.Existing(key) != nil
	})
	// (a track is received with its first packet: alice's blocked video
	// comes only once released)
	until(t, "bob to receive alice's audio track again", func() bool { return bob.media.Received("alice", wire.Audio).Tracks >= 2 })
	grows(t, "alice's audio to flow again", packets(bob.media, "alice", wire.Audio), 10)
	stoppedFor(t, "alice's video, still blocked on the new media node", alice.media, packets(bob.media, "alice", wire.Video))
	for _, n := range nodes[1:] {
		if st := n.Media.States(key); st != nil && (st["bob"].BlockedAudio || !st["alice"].BlockedVideo || st["alice"].BlockedAudio) {
			t.Fatalf("the new media node's states %+v, want alice's video blocked only", st)
		}
	}
	setUserBlocked(t, nodes[2], roomID, "alice", 0)
	grows(t, "alice's video to flow again once released", packets(bob.media, "alice", wire.Video), 10)
}

package node_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/trtcd/trtcd/client/media/wire"
	"github.com/trtcd/trtcd/internal/cluster"
	"github.com/trtcd/trtcd/internal/node"
	"github.com/trtcd/trtcd/internal/rooms"
	tk "github.com/trtcd/trtcd/internal/testkit"
)

// TestClusterMediaBlocksSurviveRedisRestartEmpty: alice's video is blocked
// and bob's audio blocked then released, on the media node (node 0), before
// Redis restarts empty. Once the nodes re-registered, the media node has
// written alice's block back to Redis (without an expiry, as the original
// record) and not bob's released one; when the media node then goes, the
// room's new media node keeps alice's video withheld from bob while her
// audio flows, and does not block bob, until alice is released. (If another
// node took the room's media first, node 0 handed the block over to it and
// that node withholds her video.)
func TestClusterMediaBlocksSurviveRedisRestartEmpty(t *testing.T) {
	const roomID = 7107
	srv, nodes, room, alice, bob := startBlockedVideo(t, roomID)
	key := room.String()
	setUserBlocked(t, nodes[2], roomID, "bob", 2)
	setUserBlocked(t, nodes[1], roomID, "bob", 0)

	rec := newMediaRecords(t, srv, room)
	ctx := context.Background()
	if got := rec.blocks(); len(got) != 1 || got["alice"] != "v" {
		t.Fatalf("blocks recorded before the restart %v, want alice: v", got)
	}
	ttlBefore := rec.blocksTTL()

	srv.Stop()
	srv.Start(t) // empty
	until(t, "the nodes to re-register their members", func() bool {
		return memberIDs(t, nodes[2], room) == "[alice bob carol]"
	})
	until(t, "the media node to write alice's block back", func() bool { return rec.blocks()["alice"] == "v" })
	if got := rec.blocks(); len(got) != 1 {
		t.Fatalf("blocks written back %v, want alice's only (bob was released before the restart)", got)
	}
	if ttl := rec.blocksTTL(); ttl != ttlBefore {
		t.Fatalf("the written-back record's expiry is %v, want %v as before the restart (blocks do not expire)", ttl, ttlBefore)
	}
	documentedFamilies(t, nodes[0].Addr(), "trtcd_media_")
	// The room's media node is node 0 again, unless another node claimed
	// the room before node 0 came back to its claims (a session whose
	// media was reset while node 0 re-registered renegotiated): node 0 then
	// handed its blocks over to it
	// (TestClusterMediaBlocksHandedOverWhenAnotherNodeClaimsFirst).
	media := -1
	until(t, "the room's media node to withhold alice's video", func() bool {
		media = mediaNode(nodes, rec.owner())
		return media >= 0 && nodes[media].Media.States(key)["alice"].BlockedVideo
	})
	// (node 0 counts the entries it wrote, with its claim or merged into
	// the record of a room taken meanwhile, once all its rooms' are written)
	until(t, "alice's block to be counted as written back", func() bool {
		return scrape(t, nodes[0].Addr())["trtcd_media_blocks_restored_total"] >= 1
	})

	if media == 0 {
		if err := nodes[0].Shutdown(ctx); err != nil {
			t.Fatal(err)
		}
	} else {
		t.Logf("node %d took the room's media before node 0 wrote its blocks back", media)
		until(t, "node 0 to close its copy of the room's media", func() bool { return nodes[0].Media.Existing(key) == nil })
	}
	until(t, "alice and bob to follow a media_reset", func() bool { return alice.media.Resets() >= 1 && bob.media.Resets() >= 1 })
	until(t, "a live node to run the room's media", func() bool {
		return nodes[1].Media.Existing(key) != nil || nodes[2].Media.Existing(key) != nil
	})
	videoStillWithheld(t, alice, bob)
	for _, n := range nodes[1:] {
		if st := n.Media.States(key); st != nil && (st["bob"].BlockedAudio || !st["alice"].BlockedVideo || st["alice"].BlockedAudio) {
			t.Fatalf("the new media node's states %+v, want alice's video blocked only", st)
		}
	}
	releasedFlows(t, nodes[2], roomID, alice, bob)
}

// TestClusterMediaBlocksHandedOverWhenAnotherNodeClaimsFirst: the race of
// an empty Redis restart made deterministic. alice's video and bob's audio
// are blocked on the media node (node 0); Redis restarts empty while node 0
// is held from its claims, so node 1 claims the room's media first (a
// SetUserBlocked of carol's audio) from the empty records, and releases
// bob. Once node 0 comes back to its claims it finds the room taken: it
// hands its blocks over and closes its copy. Node 1 then withholds alice's
// video (handed over), keeps carol's audio blocked and bob released (a
// decision of its own since it took the room, which the hand-over does not
// undo); the record says the same, and bob, whose media moved to node 1,
// receives alice's audio but not her video until she is released.
func TestClusterMediaBlocksHandedOverWhenAnotherNodeClaimsFirst(t *testing.T) {
	const roomID = 7108
	srv, nodes, room, alice, bob := startBlockedVideo(t, roomID)
	key := room.String()
	setUserBlocked(t, nodes[2], roomID, "bob", 2)

	rec := newMediaRecords(t, srv, room)

	release := node.HoldMediaClaims(nodes[0])
	defer release()
	srv.Stop()
	srv.Start(t) // empty
	until(t, "the nodes to re-register their members", func() bool {
		return memberIDs(t, nodes[2], room) == "[alice bob carol]"
	})
	setUserBlocked(t, nodes[1], roomID, "carol", 2)
	if o := rec.owner(); o != incarnation(nodes[1]) {
		t.Fatalf("room's media claimed by %q, want node 1 (node 0 is held from its claims)", o)
	}
	setUserBlocked(t, nodes[1], roomID, "bob", 0)
	release()

	until(t, "node 0 to close its copy of the room's media", func() bool { return nodes[0].Media.Existing(key) == nil })
	until(t, "node 1 to withhold alice's video again", func() bool {
		st := nodes[1].Media.States(key)
		return st != nil && st["alice"].BlockedVideo
	})
	if st := nodes[1].Media.States(key); st["alice"].BlockedAudio || !st["carol"].BlockedAudio || st["carol"].BlockedVideo || st["bob"].BlockedAudio || st["bob"].BlockedVideo {
		t.Fatalf("node 1's states %+v, want alice's video and carol's audio blocked, bob released", st)
	}
	until(t, "the record to follow node 1's state", func() bool {
		h := rec.blocks()
		return len(h) == 2 && h["alice"] == "v" && h["carol"] == "a"
	})
	if o := rec.owner(); o != incarnation(nodes[1]) {
		t.Fatalf("room's media claimed by %q, want node 1 still", o)
	}
	if n := scrape(t, nodes[1].Addr())["trtcd_media_blocks_merged_total"]; n < 1 {
		t.Fatalf("node 1 counted %v blocks handed over, want alice's", n)
	}
	until(t, "node 0 to count alice's block as written back (merged into the record)", func() bool {
		return scrape(t, nodes[0].Addr())["trtcd_media_blocks_restored_total"] >= 1
	})

	until(t, "alice and bob to follow a media_reset", func() bool { return alice.media.Resets() >= 1 && bob.media.Resets() >= 1 })
	videoStillWithheld(t, alice, bob)
	if nodes[0].Media.Existing(key) != nil || nodes[2].Media.Existing(key) != nil {
		t.Fatal("a node other than node 1 runs a copy of the room's media")
	}
	releasedFlows(t, nodes[2], roomID, alice, bob)
}

// TestClusterMediaBlocksHoldAfterARedisOutage: the race as it happens.
// Redis is away for 3 s and comes back empty; the nodes' pub/sub
// connections come back after their reconnect backoff, at different
// times, so the session nodes may find the media node's liveness key gone
// while it re-registers, send their sessions media_reset, and the
// renegotiation claim the room's media on another node from the empty
// records (before the hand-over this lost alice's block in four runs out
// of four). Whichever node runs the room's media afterwards withholds
// alice's video, the record holds her block, and no other node keeps a
// copy. (The media's flow after such an outage is not checked here: a
// relayed message published while its receiver's pub/sub connection is
// still away is lost, and can leave a session without its sub offer.)
func TestClusterMediaBlocksHoldAfterARedisOutage(t *testing.T) {
	const roomID = 7109
	srv, nodes, room, alice, bob := startBlockedVideo(t, roomID)
	key := room.String()

	srv.Stop()
	time.Sleep(3 * time.Second) // the outage: the reconnect backoffs grow apart
	srv.Start(t)                // empty
	until(t, "the nodes to re-register their members", func() bool {
		return memberIDs(t, nodes[2], room) == "[alice bob carol]"
	})
	rec := newMediaRecords(t, srv, room)
	media := -1
	until(t, "the room's media node to withhold alice's video, and the record to hold her block", func() bool {
		media = mediaNode(nodes, rec.owner())
		return media >= 0 && nodes[media].Media.States(key)["alice"].BlockedVideo && rec.blocks()["alice"] == "v"
	})
	t.Logf("node %d runs the room's media after the outage; resets: alice %d, bob %d", media, alice.media.Resets(), bob.media.Resets())
	until(t, "the other nodes to close their copies of the room's media", func() bool {
		for i, n := range nodes {
			if i != media && n.Media.Existing(key) != nil {
				return false
			}
		}
		return true
	})
	if st := nodes[media].Media.States(key); st == nil || st["alice"].BlockedAudio || st["bob"].BlockedAudio || st["bob"].BlockedVideo {
		t.Fatalf("the media node's states %+v, want alice's video blocked only", st)
	}
	if h := rec.blocks(); len(h) != 1 {
		t.Fatalf("blocks recorded %v, want alice's only", h)
	}
}

// startBlockedVideo starts a three-node media cluster (startMediaClusterOn)
// on a Redis of its own, with alice publishing audio and video to bob and
// her video blocked (SetUserBlocked through node 1) and withheld from him.
func startBlockedVideo(t *testing.T, roomID uint64) (srv *tk.Redis, nodes []*node.Node, room rooms.Key, alice, bob mediaMember) {
	t.Helper()
	srv = tk.StartRedis(t)
	nodes, _, _, alice, bob = startMediaClusterOn(t, srv, roomID)
	publishAV(t, alice)
	receiving(t, bob, "alice")
	setUserBlocked(t, nodes[1], roomID, "alice", 3)
	stoppedFor(t, "alice's blocked video", alice.media, packets(bob.media, "alice", wire.Video))
	return srv, nodes, rooms.NumRoom(tk.App, roomID), alice, bob
}

// videoStillWithheld: once bob followed the room's media to another node,
// alice's audio reaches him again and her video, still blocked, does not.
// (A track is received with its first packet: her blocked video comes only
// once released.)
func videoStillWithheld(t *testing.T, alice, bob mediaMember) {
	t.Helper()
	until(t, "bob to receive alice's audio track again", func() bool { return bob.media.Received("alice", wire.Audio).Tracks >= 2 })
	grows(t, "alice's audio to flow again", packets(bob.media, "alice", wire.Audio), 10)
	stoppedFor(t, "alice's video, still blocked on the room's new media node", alice.media, packets(bob.media, "alice", wire.Video))
}

// releasedFlows releases alice through via and waits for her video to reach bob.
func releasedFlows(t *testing.T, via *node.Node, roomID uint64, alice, bob mediaMember) {
	t.Helper()
	setUserBlocked(t, via, roomID, "alice", 0)
	grows(t, "alice's video to flow again once released", packets(bob.media, "alice", wire.Video), 10)
}

// TestClusterMediaBlocksNotHandedOverWhenRedisKeptThem: the room's media
// node (node 0) loses its claim while Redis keeps its data (as after a
// stall: held from its claims, its claim gone), alice leaves meanwhile
// (nobody holds the room's media, so only her record's entry goes), and
// node 1 takes the room. When node 0 comes back and finds the room taken,
// Redis's epoch is the one it took the room in: the record is newer than
// its copy, which still blocks alice, so the copy is dropped, not handed
// over; alice's block does not come back to the record or to node 1.
func TestClusterMediaBlocksNotHandedOverWhenRedisKeptThem(t *testing.T) {
	const roomID = 7110
	srv, nodes, room, alice, _ := startBlockedVideo(t, roomID)
	key := room.String()
	rec := newMediaRecords(t, srv, room)
	ctx := context.Background()

	release := node.HoldMediaClaims(nodes[0])
	defer release()
	if err := rec.rdb.Del(ctx, cluster.MediaKey(room)).Err(); err != nil {
		t.Fatal(err)
	}
	if err := alice.conn.Leave(ctx); err != nil {
		t.Fatal(err)
	}
	until(t, "alice's record to go with her leave", func() bool { _, ok := rec.blocks()["alice"]; return !ok })
	if !nodes[0].Media.States(key)["alice"].BlockedVideo {
		t.Fatal("node 0's copy no longer blocks alice: the test would not show a hand-over")
	}
	setUserBlocked(t, nodes[1], roomID, "carol", 2)
	if o := rec.owner(); o != incarnation(nodes[1]) {
		t.Fatalf("room's media claimed by %q, want node 1", o)
	}
	release()

	// (node 0 hands over, or not, before it closes its copy)
	until(t, "node 0 to close its copy of the room's media", func() bool { return nodes[0].Media.Existing(key) == nil })
	if got := rec.blocks(); len(got) != 1 || got["carol"] != "a" {
		t.Fatalf("blocks recorded %v, want carol's only (alice left; node 0's copy is older than the record)", got)
	}
	if st := nodes[1].Media.States(key); st == nil || st["alice"].BlockedVideo || !st["carol"].BlockedAudio {
		t.Fatalf("node 1's states %+v, want carol's audio blocked, alice not", st)
	}
}

// mediaRecords reads a room's media records straight from Redis: the
// holder of its media claim and its blocks (user → "a", "v" or "av"),
// empty when Redis does not answer.
type mediaRecords struct {
	rdb  *redis.Client
	room rooms.Key
}

func newMediaRecords(t *testing.T, srv *tk.Redis, room rooms.Key) mediaRecords {
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr})
	t.Cleanup(func() { rdb.Close() })
	return mediaRecords{rdb: rdb, room: room}
}

func (m mediaRecords) owner() string {
	o, _ := m.rdb.Get(context.Background(), cluster.MediaKey(m.room)).Result()
	return o
}

func (m mediaRecords) blocks() map[string]string {
	h, _ := m.rdb.HGetAll(context.Background(), cluster.MediaBlockedKey(m.room)).Result()
	return h
}

// blocksTTL is the blocks record's expiry (-1: none).
func (m mediaRecords) blocksTTL() time.Duration {
	return m.rdb.PTTL(context.Background(), cluster.MediaBlockedKey(m.room)).Val()
}

// incarnation is n's cluster incarnation, as media claims name it.
func incarnation(n *node.Node) string { return n.Registry.(*cluster.Registry).Incarnation() }

// mediaNode is the index of the node whose incarnation is owner, -1 if none.
func mediaNode(nodes []*node.Node, owner string) int {
	for i, n := range nodes {
		if incarnation(n) == owner {
			return i
		}
	}
	return -1
}

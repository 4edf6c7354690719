package node_test

import (
	"context"
	"fmt"
	"github.com/redis/go-redis/v9"
	"github.com/trtcd/trtcd/internal/cluster"
	"testing"

	"github.com/trtcd/trtcd/client"
	"github.com/trtcd/trtcd/client/media/wire"
	"github.com/trtcd/trtcd/internal/config"
	"github.com/trtcd/trtcd/internal/media"
	"github.com/trtcd/trtcd/internal/node"
	"github.com/trtcd/trtcd/internal/rooms"
	tk "github.com/trtcd/trtcd/internal/testkit"
	"github.com/trtcd/trtcd/internal/testkit/await"
)

// startMediaCluster runs three in-process nodes with media on, sharing one
// Redis, and makes nodes[0] the media node of roomID: carol joins its media
// there first. alice (node 1) and bob (node 2) join the room's media from
// the other nodes.
func startMediaCluster(t *testing.T, roomID uint64) (nodes []*node.Node, room *media.Room, carol, alice, bob mediaMember) {
	t.Helper()
	return startMediaClusterOn(t, tk.StartRedis(t), roomID)
}

func startMediaClusterOn(t *testing.T, srv *tk.Redis, roomID uint64) (nodes []*node.Node, room *media.Room, carol, alice, bob mediaMember) {
	t.Helper()
	return startMediaClusterWith(t, srv, roomID, func(*config.Config) {})
}

// startMediaClusterWith is startMediaClusterOn with each node's config
// changed by edit first.
func startMediaClusterWith(t *testing.T, srv *tk.Redis, roomID uint64, edit func(*config.Config)) (nodes []*node.Node, room *media.Room, carol, alice, bob mediaMember) {
	t.Helper()
	on := true
	for i := 0; i < 3; i++ {
		cfg := tk.Config()
		cfg.Redis = srv.URL()
		cfg.NodeID = fmt.Sprintf("%s-node%d", t.Name(), i)
		cfg.Media.Enabled = &on
		edit(&cfg)
		nodes = append(nodes, tk.Start(t, cfg))
	}
	key := rooms.NumRoom(tk.App, roomID).String()
	carol = joinMedia(t, nodes[0], "carol", roomID, "")
	until(t, "carol to join the room's media on node 0", func() bool {
		r := nodes[0].Media.Existing(key)
		return r != nil && r.Joined("carol")
	})
	room = nodes[0].Media.Existing(key)
	alice = joinMedia(t, nodes[1], "alice", roomID, "")
	bob = joinMedia(t, nodes[2], "bob", roomID, "")
	until(t, "alice's and bob's media peers on node 0", func() bool { return room.Joined("alice") && room.Joined("bob") })
	return nodes, room, carol, alice, bob
}

// TestClusterMediaAcrossNodes: the room's media is on node 0 only; alice,
// whose WebSocket is on node 1, publishes through it and bob (node 2) and
// carol (node 0) receive her audio and video.
func TestClusterMediaAcrossNodes(t *testing.T) {
	const roomID = 7101
	nodes, _, carol, alice, bob := startMediaCluster(t, roomID)
	publishAV(t, alice)
	receiving(t, bob, "alice")
	receiving(t, carol, "alice")
	for _, n := range nodes[1:] {
		if n.Media.Existing(rooms.NumRoom(tk.App, roomID).String()) != nil {
			t.Fatalf("node %s runs the room's media too", n.Config.NodeID)
		}
	}
	if documentedFamilies(t, nodes[1].Addr(), "trtcd_media_") == 0 {
		t.Fatal("no media metric served")
	}
	m := scrape(t, nodes[0].Addr())
	if m["trtcd_media_rooms_claimed"] != 1 || m["trtcd_media_peers_hosted"] != 2 {
		t.Fatalf("node 0 claims %v rooms and hosts %v peers, want 1 and 2 (alice's and bob's)", m["trtcd_media_rooms_claimed"], m["trtcd_media_peers_hosted"])
	}
	if sent := scrape(t, nodes[1].Addr())[`trtcd_media_relay_messages_total{direction="sent"}`]; sent == 0 {
		t.Fatal("node 1 relayed no message for alice")
	}
}

// TestClusterMediaRemoveUserCuts: RemoveUser answered by node 2 (neither
// alice's node nor the media node) returns once alice's peer is gone from
// the media node; bob is told her tracks are unpublished, her packets stop,
// and she is kicked.
func TestClusterMediaRemoveUserCuts(t *testing.T) {
	const roomID = 7102
	nodes, room, _, alice, bob := startMediaCluster(t, roomID)
	publishAV(t, alice)
	receiving(t, bob, "alice")

	if _, err := tk.SDK(t, nodes[2].Addr(), tk.AcmeID, tk.AcmeKey, tk.Modes[0]).RemoveUser(removeReq(roomID, "alice")); err != nil {
		t.Fatal(err)
	}
	if room.Joined("alice") {
		t.Fatal("RemoveUser answered while alice's media peer was still joined on the media node")
	}
	until(t, "bob to be told alice's video is unpublished", func() bool { return !bob.media.Announced("alice", wire.Video) })
	await.Expect(t, nextOf(t, alice.conn, "kicked"), "kicked", "", "removed")
	stoppedFor(t, "alice's audio after RemoveUser", alice.media, packets(bob.media, "alice", wire.Audio))
}

// TestClusterMediaSetUserBlocked: SetUserBlocked answered by node 1 blocks
// on the media node (node 0): IsMute 3 stops alice's video for bob while
// her audio goes on; IsMute 0 lets it through again.
func TestClusterMediaSetUserBlocked(t *testing.T) {
	const roomID = 7103
	nodes, _, _, alice, bob := startMediaCluster(t, roomID)
	publishAV(t, alice)
	receiving(t, bob, "alice")

	setUserBlocked(t, nodes[1], roomID, "alice", 3)
	ev := nextOf(t, bob.conn, "user_blocked")
	if ev.UserID != "alice" || ev.Video == nil || !*ev.Video {
		t.Fatalf("user_blocked %+v, want alice video=true", ev)
	}
	st := nodes[0].Media.States(rooms.NumRoom(tk.App, roomID).String())["alice"]
	if !st.BlockedVideo || st.BlockedAudio {
		t.Fatalf("SetUserBlocked answered with alice's state on the media node %+v, want video blocked only", st)
	}
	stoppedFor(t, "alice's blocked video", alice.media, packets(bob.media, "alice", wire.Video))
	grows(t, "alice's audio to go on", packets(bob.media, "alice", wire.Audio), 20)

	setUserBlocked(t, nodes[1], roomID, "alice", 0)
	grows(t, "alice's video to resume", packets(bob.media, "alice", wire.Video), 10)
}

// TestClusterMediaDismissRoom: DismissRoom answered by node 2 returns once
// the room's media on node 0 is closed; everyone is kicked and alice's
// packets stop reaching bob.
func TestClusterMediaDismissRoom(t *testing.T) {
	const roomID = 7104
	nodes, room, carol, alice, bob := startMediaCluster(t, roomID)
	publishAV(t, alice)
	receiving(t, bob, "alice")

	if code, msg := tk.Call(t, nodes[2].Addr(), "DismissRoom", fmt.Sprintf(`{"SdkAppId":%d,"RoomId":%d}`, tk.App, roomID)); code != "" {
		t.Fatalf("DismissRoom: %s %s", code, msg)
	}
	if !room.Closed() {
		t.Fatal("DismissRoom answered while the room's media on node 0 was open")
	}
	for _, c := range []*client.Conn{carol.conn, alice.conn, bob.conn} {
		await.Expect(t, nextOf(t, c, "kicked"), "kicked", "", "dismissed")
	}
	stoppedFor(t, "alice's audio after DismissRoom", alice.media, packets(bob.media, "alice", wire.Audio))
}

// TestClusterMediaNodeShutdown: the media node shut down gracefully sends
// media_reset to the sessions it hosted and releases its claim at once;
// alice's and bob's clients renegotiate by themselves with a live node and
// bob receives alice's tracks again.
func TestClusterMediaNodeShutdown(t *testing.T) {
	const roomID = 7105
	nodes, _, _, alice, bob := startMediaCluster(t, roomID)
	publishAV(t, alice)
	receiving(t, bob, "alice")

	if err := nodes[0].Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	until(t, "alice and bob to follow a media_reset", func() bool { return alice.media.Resets() >= 1 && bob.media.Resets() >= 1 })
	receivingAgain(t, nodes, roomID, bob)
	if m := scrape(t, nodes[2].Addr()); m["trtcd_media_resets_total"] < 1 {
		t.Fatalf("node 2 counted %v media resets, want at least 1", m["trtcd_media_resets_total"])
	}
}

// TestClusterMediaResetRetriesWhileClosed: after the media node goes, the
// room's media cannot be claimed for a while (its record in Redis is made
// unusable, as a Redis fault would): every media message is refused with
// FailedOperation.Closed. The Go clients keep asking (alice publishing
// again, bob, who publishes nothing, asking for the room's tracks again), so
// once the record is usable bob receives alice again without any call from
// the application.
func TestClusterMediaResetRetriesWhileClosed(t *testing.T) {
	const roomID = 7106
	srv := tk.StartRedis(t)
	nodes, _, _, alice, bob := startMediaClusterOn(t, srv, roomID)
	publishAV(t, alice)
	receiving(t, bob, "alice")

	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer rdb.Close()
	ctx := context.Background()
	claim := cluster.MediaKey(rooms.NumRoom(tk.App, roomID))
	// An unusable value in the claim's place before node 0 goes, so that no
	// node can claim the room after the reset however fast the clients are
	// (node 0 cannot release it either).
	if _, err := rdb.TxPipelined(ctx, func(pipe redis.Pipeliner) error {
		pipe.Del(ctx, claim)
		pipe.HSet(ctx, claim, "held", "by the test")
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := nodes[0].Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	until(t, "alice and bob to follow a media_reset", func() bool { return alice.media.Resets() >= 1 && bob.media.Resets() >= 1 })
	closedSeen := func(m mediaMember) bool {
		for {
			select {
			case e := <-m.media.Errors():
				if e.Code == wire.CodeClosed {
					return true
				}
			default:
				return false
			}
		}
	}
	until(t, "bob's request for the room's tracks to be refused as Closed", func() bool { return closedSeen(bob) })
	if err := rdb.Del(ctx, claim).Err(); err != nil {
		t.Fatal(err)
	}
	receivingAgain(t, nodes, roomID, bob)
}

// receivingAgain waits for node 1 or 2 to run the room's media after node
// 0's went, and for bob to receive alice's audio and video on new tracks.
func receivingAgain(t *testing.T, nodes []*node.Node, roomID uint64, bob mediaMember) {
	t.Helper()
	key := rooms.NumRoom(tk.App, roomID).String()
	until(t, "a live node to run the room's media", func() bool {
		return nodes[1].Media.Existing(key) != nil || nodes[2].Media.Existing(key) != nil
	})
	until(t, "bob to receive alice's tracks again", func() bool {
		return bob.media.Received("alice", wire.Audio).Tracks >= 2 && bob.media.Received("alice", wire.Video).Tracks >= 2
	})
	receiving(t, bob, "alice")
}

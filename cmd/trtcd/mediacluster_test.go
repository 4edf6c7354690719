package main

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/trtcd/trtcd/client"
	mc "github.com/trtcd/trtcd/client/media"
	"github.com/trtcd/trtcd/client/media/wire"
	"github.com/trtcd/trtcd/internal/cluster"
	"github.com/trtcd/trtcd/internal/rooms"
	tk "github.com/trtcd/trtcd/internal/testkit"
	"github.com/trtcd/trtcd/usersig"
)

// clusterMediaConfig is a cluster node's config with media on, on loopback.
func clusterMediaConfig(t *testing.T, redisURL string) string {
	p := filepath.Join(t.TempDir(), "trtcd.yaml")
	body := fmt.Sprintf(`
redis: %q
media:
  enabled: true
  networks: [127.0.0.0/8]
accounts:
  - name: acme
    secret_id: %s
    secret_key: %s
    apps:
      - sdkappid: %d
        key: %s
`, redisURL, tk.AcmeID, tk.AcmeKey, tk.App, tk.AppKey)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// joinMediaAt joins user to room on the node at addr and starts its media
// (which joins the room's media with a media_renegotiate).
func joinMediaAt(t *testing.T, addr, user string, room uint64) (*client.Conn, *mc.Client) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := client.Join(ctx, "http://"+addr, client.JoinParams{SdkAppID: tk.App, UserID: user, RoomID: room,
		UserSig: usersig.Generate(tk.App, tk.AppKey, user, time.Hour, time.Now(), nil)}, client.Options{})
	if err != nil {
		t.Fatalf("join %s: %v", user, err)
	}
	t.Cleanup(func() { c.Close() })
	m, err := c.Media(client.MediaOptions{Networks: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
	if err != nil {
		t.Fatal(err)
	}
	return c, m
}

// TestClusterMediaSurvivesKill9OfTheMediaNode: three `trtcd serve` nodes;
// the room's media is on n0 (carol joined it there first); alice publishes
// from n1 and bob receives on n2. After kill -9 of n0, a live node claims
// the room's media, alice and bob are sent media_reset, and their Go
// clients renegotiate by themselves: bob receives alice's audio again,
// through the new media node, which also keeps alice's video blocked
// (SetUserBlocked IsMute 3 before the kill) until IsMute 0.
func TestClusterMediaSurvivesKill9OfTheMediaNode(t *testing.T) {
	rds := tk.StartRedis(t)
	rdb := redis.NewClient(&redis.Options{Addr: rds.Addr})
	defer rdb.Close()
	cfg := clusterMediaConfig(t, rds.URL())
	victim, addr0 := serveNode(t, cfg, "n0")
	_, addr1 := serveNode(t, cfg, "n1")
	_, addr2 := serveNode(t, cfg, "n2")
	const roomID = 7201
	claim := cluster.MediaKey(rooms.NumRoom(tk.App, roomID))
	owner := func() string { v, _ := rdb.Get(context.Background(), claim).Result(); return v }

	joinMediaAt(t, addr0, "carol", roomID)
	waitFor(t, "n0 to claim the room's media", func() bool { return strings.HasPrefix(owner(), "n0#") })
	_, alice := joinMediaAt(t, addr1, "alice", roomID)
	_, bob := joinMediaAt(t, addr2, "bob", roomID)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := alice.Publish(ctx, mc.TrackSpec{Kind: wire.Audio}, mc.TrackSpec{Kind: wire.Video}); err != nil {
		t.Fatalf("publish: %v", err)
	}
	grew := func(what string, k wire.Kind) {
		t.Helper()
		start := bob.Received("alice", k).Packets
		waitFor(t, what, func() bool { return bob.Received("alice", k).Packets > start+10 })
	}
	grew("bob to receive alice's audio through n0", wire.Audio)
	grew("bob to receive alice's video through n0", wire.Video)
	block := func(mute int) {
		t.Helper()
		body := fmt.Sprintf(`{"SdkAppId":%d,"RoomId":%d,"UserId":"alice","IsMute":%d}`, tk.App, roomID, mute)
		if code, msg := tk.Call(t, addr1, "SetUserBlocked", body); code != "" {
			t.Fatalf("SetUserBlocked: %s %s", code, msg)
		}
	}
	// stopped: at most the packets in flight arrive while alice sends 2 s of audio.
	stopped := func(what string, k wire.Kind) {
		t.Helper()
		before, sent := bob.Received("alice", k).Packets, alice.Sent(wire.Audio)
		waitFor(t, "alice to send 2 s of audio", func() bool { return alice.Sent(wire.Audio) > sent+100 })
		if after := bob.Received("alice", k).Packets; after > before+20 {
			t.Fatalf("%s: still arriving: %d -> %d packets", what, before, after)
		}
	}
	block(3) // video blocked, on n0
	stopped("alice's blocked video", wire.Video)

	if err := victim.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	victim.Wait()
	waitFor(t, "alice and bob to be told media_reset", func() bool { return alice.Resets() >= 1 && bob.Resets() >= 1 })
	waitFor(t, "a live node to claim the room's media", func() bool {
		o := owner()
		return strings.HasPrefix(o, "n1#") || strings.HasPrefix(o, "n2#")
	})
	// (a track is received with its first packet: alice's blocked video
	// comes only once released)
	waitFor(t, "bob to receive alice's audio track again", func() bool { return bob.Received("alice", wire.Audio).Tracks >= 2 })
	grew("alice's audio to flow again", wire.Audio)
	stopped("alice's video, still blocked on the new media node", wire.Video)
	block(0)
	grew("alice's video to flow again once released", wire.Video)
	if n := bob.Received("alice", wire.Video).Tracks; n < 2 {
		t.Fatalf("bob received alice's video as %d track(s), want a second one from the new media node", n)
	}
}

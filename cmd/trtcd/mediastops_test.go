package main

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	mc "github.com/trtcd/trtcd/client/media"
	"github.com/trtcd/trtcd/client/media/wire"
	tk "github.com/trtcd/trtcd/internal/testkit"
)

// mediaMetric reads one counter of the node at addr (0 if absent).
func mediaMetric(t *testing.T, addr, name string) float64 {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) == 2 && f[0] == name {
			v, _ := strconv.ParseFloat(f[1], 64)
			return v
		}
	}
	return 0
}

// TestClusterMediaStopsAfterKill9: three `trtcd serve` nodes with a
// callback receiver; the room's media is on n0 (carol joined it there
// first); alice publishes audio and video from n1, dave from n2 and leaves;
// bob receives on n2. After kill -9 of n0 the receiver gets alice's 204
// and 202, after her 203/201 and before (in room order) the 203/201 of the
// tracks her client published again by itself; dave, who had left, gets
// none; the live nodes count two stops written, so no other was.
func TestClusterMediaStopsAfterKill9(t *testing.T) {
	rds := tk.StartRedis(t)
	recv := tk.NewSeqCallbacks(t)
	cfg := filepath.Join(t.TempDir(), "trtcd.yaml")
	body := fmt.Sprintf(`
redis: %q
media:
  enabled: true
  networks: [127.0.0.0/8]
callbacks:
  retry_interval: 20ms
  retry_max_interval: 200ms
accounts:
  - name: acme
    secret_id: %s
    secret_key: %s
    apps:
      - sdkappid: %d
        key: %s
        callback:
          url: %q
          key: cbKey1
`, rds.URL(), tk.AcmeID, tk.AcmeKey, tk.App, tk.AppKey, recv.URL())
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	victim, addr0 := serveNode(t, cfg, "n0")
	_, addr1 := serveNode(t, cfg, "n1")
	_, addr2 := serveNode(t, cfg, "n2")
	const roomID = 7202

	joinMediaAt(t, addr0, "carol", roomID)
	waitFor(t, "n0 to claim the room's media", func() bool { return mediaMetric(t, addr0, "trtcd_media_rooms_claimed") == 1 })
	_, alice := joinMediaAt(t, addr1, "alice", roomID)
	_, bob := joinMediaAt(t, addr2, "bob", roomID)
	daveConn, dave := joinMediaAt(t, addr2, "dave", roomID)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, p := range []*mc.Client{alice, dave} {
		if err := p.Publish(ctx, mc.TrackSpec{Kind: wire.Audio}, mc.TrackSpec{Kind: wire.Video}); err != nil {
			t.Fatalf("publish: %v", err)
		}
	}
	for _, u := range []string{"alice", "dave"} {
		waitFor(t, "bob to receive "+u+"'s audio and video", func() bool {
			return bob.Received(u, wire.Audio).Packets > 10 && bob.Received(u, wire.Video).Packets > 10
		})
	}
	waitFor(t, "alice's and dave's starts called back", func() bool {
		return tk.CountOf(recv.List(), "201/alice", "203/alice", "201/dave", "203/dave") == 4
	})
	if err := daveConn.Leave(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "dave's leave called back", func() bool { return tk.CountOf(recv.List(), "104/dave") == 1 })

	if got := tk.Pairs(tk.MediaOf(recv.List(), "alice")); got != "201/alice 203/alice" {
		t.Fatalf("alice's media callbacks before the kill: %s, want her two starts", got)
	}
	before := recv.Last()

	if err := victim.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	victim.Wait()
	waitFor(t, "alice and bob to be told media_reset", func() bool { return alice.Resets() >= 1 && bob.Resets() >= 1 })
	waitFor(t, "bob to receive alice's tracks again", func() bool {
		return bob.Received("alice", wire.Audio).Tracks >= 2 && bob.Received("alice", wire.Video).Tracks >= 2
	})
	// Callbacks of one room normally come in room order, but not always
	// while n0's shards move to the live nodes: wait for alice's four
	// callbacks after the kill and check them in room order (by sequence
	// number).
	waitFor(t, "alice's stops and new starts called back", func() bool { return len(tk.MediaOf(recv.Since(before), "alice")) >= 4 })
	got := recv.Since(before)
	if s := tk.Pairs(tk.MediaOf(got, "alice")); s != "202/alice 204/alice, 201/alice 203/alice" {
		t.Fatalf("alice's media callbacks after the kill, in room order: %s, want her two stops once, then her two new starts (all after the kill: %v)", s, got)
	}
	if n := tk.CountOf(recv.List(), "202/dave", "204/dave", "206/dave"); n != 0 {
		t.Fatalf("dave, who left before the kill, got %d stops: %v", n, recv.List())
	}
	if n := mediaMetric(t, addr1, "trtcd_media_stops_after_reset_total") + mediaMetric(t, addr2, "trtcd_media_stops_after_reset_total"); n != 2 {
		t.Fatalf("trtcd_media_stops_after_reset_total on n1 and n2: %v, want 2", n)
	}
}

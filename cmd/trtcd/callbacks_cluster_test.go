package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/trtcd/trtcd/internal/callbacks"
	"github.com/trtcd/trtcd/internal/eventlog"
	tk "github.com/trtcd/trtcd/internal/testkit"
)

// clusterCallbackConfig is a cluster node's config: the test app with a
// callback to url, fast retries.
func clusterCallbackConfig(t *testing.T, redisURL, url string) string {
	p := filepath.Join(t.TempDir(), "trtcd.yaml")
	body := fmt.Sprintf(`
redis: %q
callbacks:
  retry_interval: 20ms
  retry_max_interval: 200ms
accounts:
  - name: acme
    secret_id: AKIDacme
    secret_key: acme-secret
    apps:
      - sdkappid: %d
        key: %s
        callback:
          url: %q
          key: cbKey1
`, redisURL, tk.App, tk.AppKey, url)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// serveNode starts `trtcd serve` as cluster node id; the returned command
// may be killed by the test.
func serveNode(t *testing.T, cfg, id string) (*exec.Cmd, string) {
	addr := tk.FreeAddr(t)
	cmd := exec.Command(bin, "serve", "--config", cfg)
	cmd.Env = append(os.Environ(), "TRTCD_LISTEN="+addr, "TRTCD_NODE_ID="+id, "TRTCD_DATA_DIR="+t.TempDir())
	out := &tk.SyncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
		if t.Failed() {
			t.Logf("node %s output:\n%s", id, out.String())
		}
	})
	waitFor(t, "node "+id+" ready", func() bool {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	return cmd, addr
}

// leaseOwners reads which node holds the callbacks group's lease of each shard.
func leaseOwners(t *testing.T, rdb *redis.Client) [eventlog.Shards]string {
	var out [eventlog.Shards]string
	for s := range out {
		v, _ := rdb.Get(context.Background(), eventlog.LeaseKey(s, "callbacks")).Result()
		out[s], _, _ = strings.Cut(v, "/")
	}
	return out
}

// TestClusterCallbacksSurviveKill9OfTheSender: two `trtcd serve` nodes on one
// redis-server; the receiver refuses everything while rooms whose shards n2
// delivers get their events; n2 is killed with kill -9; the receiver comes
// back; n1 delivers every event of every room, each room in order.
func TestClusterCallbacksSurviveKill9OfTheSender(t *testing.T) {
	rds := tk.StartRedis(t)
	rdb := redis.NewClient(&redis.Options{Addr: rds.Addr})
	defer rdb.Close()
	rv := newTestReceiver(t, "cbKey1")
	rv.setOK(func(string) bool { return false }) // down
	cfg := clusterCallbackConfig(t, rds.URL(), rv.srv.URL)
	_, addr1 := serveNode(t, cfg, "n1")
	victim, _ := serveNode(t, cfg, "n2")

	// Wait for the two nodes to share the 64 shards (32 each), so that the
	// shards do not move while the test picks rooms.
	var owners [eventlog.Shards]string
	waitFor(t, "the shards shared by n1 and n2", func() bool {
		owners = leaseOwners(t, rdb)
		n1, n2 := 0, 0
		for _, o := range owners {
			n1 += b2i(o == "n1")
			n2 += b2i(o == "n2")
		}
		return n1 == eventlog.Shards/2 && n2 == eventlog.Shards/2
	})
	var nums []uint64
	for num := uint64(1000); len(nums) < 6; num++ {
		if owners[eventlog.Shard(callbacks.RoomKey(tk.App, num, ""))] == "n2" {
			nums = append(nums, num)
		}
	}
	// Clients on n1, events delivered (or not) by n2.
	for _, num := range nums {
		alice := tk.Join(t, addr1, tk.App, tk.AppKey, "alice", num, "")
		defer alice.Close()
		bob := tk.Join(t, addr1, tk.App, tk.AppKey, "bob", num, "")
		bob.Leave(context.Background())
	}
	want := len(nums) * 4 // 101 alice, 103 alice, 103 bob, 104 bob
	waitFor(t, "every event in the shared outbox", func() bool {
		n := 0
		for s := 0; s < eventlog.Shards; s++ {
			n += int(rdb.HLen(context.Background(), "trtcd:"+eventlog.HashTag(s)+":cb:rows").Val())
		}
		return n == want
	})
	if err := victim.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	victim.Wait()
	rv.setOK(nil) // the receiver is back

	byRoom := func() map[string][]string { // first arrivals per room: "seq/type"
		out := map[string][]string{}
		seen := map[string]bool{}
		for _, id := range rv.accepted() {
			if seen[id] {
				continue
			}
			seen[id] = true
			f := strings.Split(id, "/")
			out[f[0]] = append(out[f[0]], f[1]+"/"+f[2])
		}
		return out
	}
	waitFor(t, "n1 delivering every event", func() bool {
		n := 0
		for _, evs := range byRoom() {
			n += len(evs)
		}
		return n == want
	})
	for _, num := range nums {
		room := callbacks.RoomKey(tk.App, num, "")
		got := byRoom()[room]
		var types []string
		lastSeq := 0
		for _, e := range got {
			seq, _ := strconv.Atoi(strings.Split(e, "/")[0])
			if seq <= lastSeq {
				t.Fatalf("room %s out of order: %v", room, got)
			}
			lastSeq = seq
			types = append(types, strings.Split(e, "/")[1])
		}
		if !slices.Equal(types, []string{"101", "103", "103", "104"}) {
			t.Fatalf("room %s: callbacks %v, want 101 103 103 104", room, got)
		}
	}
	// Delivered rows leave the outbox (the survivor recorded them).
	waitFor(t, "an empty outbox", func() bool {
		for s := 0; s < eventlog.Shards; s++ {
			if rdb.HLen(context.Background(), "trtcd:"+eventlog.HashTag(s)+":cb:rows").Val() != 0 {
				return false
			}
		}
		return true
	})
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestClusterDeadletterCommands: in cluster mode the dead letters are in
// Redis; `deadletter list|replay --config` reach them through the config's
// redis, and the node delivering the room's shard sends the replayed events
// in order.
func TestClusterDeadletterCommands(t *testing.T) {
	rds := tk.StartRedis(t)
	rv := newTestReceiver(t, "cbKey1")
	rv.setOK(func(string) bool { return false })
	cfg := clusterCallbackConfig(t, rds.URL(), rv.srv.URL)
	addr := tk.FreeAddr(t)
	cmd := exec.Command(bin, "serve", "--config", cfg)
	cmd.Env = append(os.Environ(), "TRTCD_LISTEN="+addr, "TRTCD_NODE_ID=n1", "TRTCD_DATA_DIR="+t.TempDir(),
		"TRTCD_CALLBACKS_RETRY_HORIZON=100ms")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() })
	waitFor(t, "the node", func() bool {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil
	})
	c := tk.Join(t, addr, tk.App, tk.AppKey, "alice", 4242, "")
	c.Leave(context.Background()) // 101, 103, 104, 102
	var lines []string
	waitFor(t, "4 dead letters", func() bool {
		out, _ := exec.Command(bin, "callbacks", "deadletter", "list", "--config", cfg).Output()
		lines = strings.Split(strings.TrimSpace(string(out)), "\n")
		return len(lines) == 4 && lines[0] != ""
	})
	var d callbacks.DeadLetter
	if err := json.Unmarshal([]byte(lines[0]), &d); err != nil || d.Room != "1400000001:n:4242" ||
		d.LastError != "HTTP 500" || d.Attempts < 1 || d.ID == 0 {
		t.Fatalf("list line %s: %+v %v", lines[0], d, err)
	}
	rv.setOK(nil)
	out, err := exec.Command(bin, "callbacks", "deadletter", "replay", "--config", cfg, "--all").Output()
	if err != nil || string(out) != "replayed 4\n" {
		t.Fatalf("replay: %q %v", out, err)
	}
	waitFor(t, "the replayed events", func() bool { return len(rv.accepted()) == 4 })
	var got []string
	for _, id := range rv.accepted() {
		got = append(got, strings.Split(id, "/")[2])
	}
	if !slices.Equal(got, []string{"101", "103", "104", "102"}) {
		t.Fatalf("replayed %v", got)
	}
	if out, _ := exec.Command(bin, "callbacks", "deadletter", "list", "--config", cfg).Output(); len(out) != 0 {
		t.Fatalf("still listed: %s", out)
	}
}

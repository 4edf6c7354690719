package node_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trtcd/trtcd/client"
	"github.com/trtcd/trtcd/internal/cluster"
	"github.com/trtcd/trtcd/internal/node"
	"github.com/trtcd/trtcd/internal/rooms"
	tk "github.com/trtcd/trtcd/internal/testkit"
	"github.com/trtcd/trtcd/internal/testkit/await"
	"github.com/trtcd/trtcd/usersig"
)

// view is what a client believes a room holds: its joined snapshot, then
// every user_entered and user_left.
type view map[string]bool

func newView(c *client.Conn) view {
	v := view{}
	for _, m := range c.Joined().Members {
		v[m.UserID] = true
	}
	return v
}

func (v view) apply(ev client.Event) {
	switch ev.Type {
	case "user_entered":
		v[ev.UserID] = true
	case "user_left":
		delete(v, ev.UserID)
	}
}

func (v view) String() string {
	var ids []string
	for u := range v {
		ids = append(ids, u)
	}
	sort.Strings(ids)
	return fmt.Sprint(ids)
}

// until applies c's events to v until the user_entered of marker, which
// the test causes after the fault so that every earlier event has arrived.
func (v view) until(t *testing.T, c *client.Conn, marker string) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		select {
		case ev, ok := <-c.Events():
			if !ok {
				t.Fatalf("connection ended: %v", c.Err())
			}
			v.apply(ev)
			if ev.Type == "user_entered" && ev.UserID == marker {
				return
			}
		case <-deadline:
			t.Fatalf("no user_entered %s within 30 s; view %s", marker, v)
		}
	}
}

// eventually polls cond every 50 ms for up to 30 s.
func eventually(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 30 s (%s)", what, state)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func tryJoin(addr, user string, room uint64) (*client.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return client.Join(ctx, "http://"+addr, client.JoinParams{SdkAppID: tk.App, UserID: user,
		UserSig: usersig.Generate(tk.App, tk.AppKey, user, time.Hour, time.Now(), nil), RoomID: room}, client.Options{})
}

// sessionEntries lists every per-process session-index entry in Redis.
func sessionEntries(t *testing.T, srv *tk.Redis) []string {
	rdb, err := cluster.NewClient(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer rdb.Close()
	keys, _ := rdb.Keys(context.Background(), "trtcd:node:*:sess").Result()
	var out []string
	for _, k := range keys {
		m, _ := rdb.SMembers(context.Background(), k).Result()
		out = append(out, m...)
	}
	return out
}

// TestClusterRefusedJoinLeavesNoGhost: Redis stalls right after a join's
// session-index entry, with the join's enter script in flight, for longer
// than the operation timeout, so the join is refused. The stall is
// deterministic: node b, where the join arrives, reaches Redis through a
// tk.RedisGate that forwards the session-index entry and holds every later
// command of b until the join has been refused; the enter script is sent only
// after the entry's answer, so it is always held. Then the registry and the
// other member's view agree, without the refused user, and no session-index
// entry of it is left.
func TestClusterRefusedJoinLeavesNoGhost(t *testing.T) {
	srv := tk.StartRedis(t)
	gate := tk.StartRedisGate(t, srv) // before the nodes: closed after they shut down
	a := startClusterNode(t, srv.URL(), 0)
	b := startClusterNode(t, gate.URL(), 1)
	const room = 700
	w := tk.Join(t, a.Addr(), tk.App, tk.AppKey, "watcher", room, "")
	// The room is watched on b (no SUBSCRIBE precedes the join's entry) and
	// b's scripts are loaded (they go by sha, as EVALSHA).
	tk.Join(t, b.Addr(), tk.App, tk.AppKey, "keeper", room, "")
	v := newView(w)
	const refused = "ghost"
	// The join's first command is its session-index entry (sessAddScript):
	// its argument "<room tag>\n<user>\n<session>" has the user between two
	// line feeds, which no other command has (RESP ends its lines with \r\n).
	held := gate.HoldAfter("evalsha", "\n"+refused+"\n")
	c, err := tryJoin(b.Addr(), refused, room)
	gate.Release()
	select {
	case <-held:
	default:
		t.Fatal("the gate never saw the join's session-index entry")
	}
	if err == nil {
		c.Close()
		t.Fatal("the join succeeded though its enter script was held past the operation timeout")
	}
	var ce *client.Error
	if !errors.As(err, &ce) || ce.Code != "InternalError" {
		t.Fatalf("join refused with %v", err)
	}
	eventually(t, "registry without the refused user", func() (bool, string) {
		got := memberIDs(t, a, rooms.NumRoom(tk.App, room))
		return got == "[keeper watcher]", got
	})
	eventually(t, "no session-index entry of the refused join", func() (bool, string) {
		entries := sessionEntries(t, srv)
		for _, e := range entries {
			if strings.Contains(e, refused) {
				return false, fmt.Sprint(entries)
			}
		}
		return true, ""
	})
	tk.Join(t, b.Addr(), tk.App, tk.AppKey, "marker", room, "")
	v.until(t, w, "marker")
	if v.String() != "[keeper marker watcher]" {
		t.Fatalf("the watcher's view %s disagrees with the registry", v)
	}
	eventually(t, "the cleanup counted", func() (bool, string) { // counted after its leave is written
		got := metric(t, b.Addr(), "trtcd_cluster_refused_join_cleanups_total")
		return got > 0, fmt.Sprintf("trtcd_cluster_refused_join_cleanups_total = %d", got)
	})
	m := scrape(t, b.Addr())
	if got := m[`trtcd_cluster_outcome_resolutions_total{outcome="applied"}`] + m[`trtcd_cluster_outcome_resolutions_total{outcome="not_applied"}`] +
		m[`trtcd_cluster_outcome_resolutions_total{outcome="unknown"}`]; got < 1 {
		t.Fatalf("no outcome resolution counted for a join whose answer was lost")
	}
	if m[`trtcd_redis_errors_total{kind="timeout"}`] < 1 {
		t.Fatalf("the held Redis call's timeout was not counted: %v", m[`trtcd_redis_errors_total{kind="timeout"}`])
	}
}

// TestClusterRefusedJoinLeavesNoSessionEntry: Redis stopped before a join:
// the join's session-index entry, sent before the timeout, runs when Redis
// resumes; it must not stay.
func TestClusterRefusedJoinLeavesNoSessionEntry(t *testing.T) {
	srv := tk.StartRedis(t)
	n := startCluster(t, srv, 1)[0]
	const room = 710
	tk.Join(t, n.Addr(), tk.App, tk.AppKey, "keeper", room, "")
	srv.Pause(t)
	_, err := tryJoin(n.Addr(), "late", room)
	srv.Resume(t)
	if err == nil {
		t.Fatal("join with Redis stopped succeeded")
	}
	eventually(t, "no session-index entry of the refused join", func() (bool, string) {
		entries := sessionEntries(t, srv)
		for _, e := range entries {
			if strings.Contains(e, "late") {
				return false, fmt.Sprint(entries)
			}
		}
		return true, ""
	})
	if got := memberIDs(t, n, rooms.NumRoom(tk.App, room)); got != "[keeper]" {
		t.Fatalf("members %s", got)
	}
}

// TestClusterErrorAnswerChangedNothing: with Redis stopped (SIGSTOP) for the
// whole call, RemoveUser answers InternalError; when Redis resumes, nobody
// is removed: an error answer means nothing happened.
func TestClusterErrorAnswerChangedNothing(t *testing.T) {
	srv := tk.StartRedis(t)
	nodes := startCluster(t, srv, 2)
	const room = 800
	w := tk.Join(t, nodes[0].Addr(), tk.App, tk.AppKey, "watcher", room, "")
	victim := tk.Join(t, nodes[1].Addr(), tk.App, tk.AppKey, "victim", room, "")
	await.Expect(t, await.Next(t, w), "user_entered", "victim", "")
	sdk := tk.SDK(t, nodes[0].Addr(), tk.AcmeID, tk.AcmeKey, tk.Modes[0])
	// Redis now has the script, and the node's pool several idle
	// connections, so that the call's script is sent before the timeout.
	var wg sync.WaitGroup
	for i := 0; i < 6; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := sdk.RemoveUser(removeReq(room, "nobody")); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	srv.Pause(t)
	_, err := sdk.RemoveUser(removeReq(room, "victim"))
	srv.Resume(t)
	if code := tk.Code(err); code != "InternalError.GetRoomFromCacheError" {
		t.Fatalf("RemoveUser with Redis stopped: %v", err)
	}
	tk.Join(t, nodes[0].Addr(), tk.App, tk.AppKey, "marker", room, "")
	await.Expect(t, await.Next(t, w), "user_entered", "marker", "")
	await.Expect(t, await.Next(t, victim), "user_entered", "marker", "")
	if got := memberIDs(t, nodes[0], rooms.NumRoom(tk.App, room)); got != "[marker victim watcher]" {
		t.Fatalf("members %s", got)
	}
}

// TestClusterLeavesDuringEmptyRestartAnnounced: two nodes, members on both;
// Redis dies, one member on each node leaves, and a fresh empty Redis starts
// on the same port. Every remaining member is told that both left.
func TestClusterLeavesDuringEmptyRestartAnnounced(t *testing.T) {
	srv := tk.StartRedis(t)
	nodes := startCluster(t, srv, 2)
	const room = 900
	a0 := tk.Join(t, nodes[0].Addr(), tk.App, tk.AppKey, "a0", room, "")
	a1 := tk.Join(t, nodes[0].Addr(), tk.App, tk.AppKey, "a1", room, "")
	b0 := tk.Join(t, nodes[1].Addr(), tk.App, tk.AppKey, "b0", room, "")
	b1 := tk.Join(t, nodes[1].Addr(), tk.App, tk.AppKey, "b1", room, "")
	views := []view{newView(a0), newView(b0)}
	stay := []*client.Conn{a0, b0}
	srv.Stop()
	for _, c := range []*client.Conn{a1, b1} {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		c.Leave(ctx)
		cancel()
	}
	eventually(t, "both leaves attempted", func() (bool, string) {
		return nodes[0].Hub.Sessions() == 1 && nodes[1].Hub.Sessions() == 1, ""
	})
	srv.Start(t) // empty
	eventually(t, "re-registered", func() (bool, string) {
		got := memberIDs(t, nodes[0], rooms.NumRoom(tk.App, room))
		return got == "[a0 b0]", got
	})
	tk.Join(t, nodes[1].Addr(), tk.App, tk.AppKey, "marker", room, "")
	for i, c := range stay {
		views[i].until(t, c, "marker")
		if views[i].String() != "[a0 b0 marker]" {
			t.Fatalf("%s's view after the restart: %s", []string{"a0", "b0"}[i], views[i])
		}
	}
}

// TestClusterRestartSameNodeID: a process killed with SIGKILL and started
// again with the same node_id: the dead process's members are still swept
// (reason timeout), though the new one refreshes its own liveness.
func TestClusterRestartSameNodeID(t *testing.T) {
	srv := tk.StartRedis(t)
	n := startCluster(t, srv, 1)[0]
	bin := tk.BuildTrtcd(t)
	addr := tk.FreeAddr(t)
	p1 := tk.StartProcess(t, bin, addr, tk.ClusterYAML(addr, srv.URL(), "phoenix"))
	p1.WaitHealthy(t)
	w := tk.Join(t, n.Addr(), tk.App, tk.AppKey, "watcher", 950, "")
	v := tk.Join(t, addr, tk.App, tk.AppKey, "v1", 950, "")
	await.Expect(t, await.Next(t, w), "user_entered", "v1", "")
	p1.Kill9()
	v.Close()
	addr2 := tk.FreeAddr(t)
	p2 := tk.StartProcess(t, bin, addr2, tk.ClusterYAML(addr2, srv.URL(), "phoenix"))
	p2.WaitHealthy(t)
	select {
	case ev := <-w.Events():
		await.Expect(t, ev, "user_left", "v1", "timeout")
	case <-time.After(30 * time.Second):
		t.Fatalf("the dead process's member is still in the room: %s", memberIDs(t, n, rooms.NumRoom(tk.App, 950)))
	}
	if got := memberIDs(t, n, rooms.NumRoom(tk.App, 950)); got != "[watcher]" {
		t.Fatalf("members %s", got)
	}
	// One of the two live processes swept the dead incarnation (it counts
	// the sweep once its leaves are written, so the watcher may hear of the
	// leave first).
	eventually(t, "a live node to count the swept incarnation", func() (bool, string) {
		swept := metric(t, n.Addr(), "trtcd_cluster_swept_incarnations_total") + metric(t, addr2, "trtcd_cluster_swept_incarnations_total")
		return swept >= 1, fmt.Sprintf("trtcd_cluster_swept_incarnations_total = %d on the live nodes", swept)
	})
}

// TestRedisStartupWait: a node started before its Redis waits for it
// (not healthy meanwhile) and serves once it answers; with no Redis within
// redis_startup_timeout it exits with status 2 and says why.
func TestRedisStartupWait(t *testing.T) {
	bin := tk.BuildTrtcd(t)
	srv := tk.UnstartedRedis(t)
	addr := tk.FreeAddr(t)
	p := tk.StartProcess(t, bin, addr, tk.ClusterYAML(addr, srv.URL(), "early", "redis_startup_timeout: 60s"))
	if resp, err := http.Get("http://" + addr + "/healthz"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == 200 {
			t.Fatal("healthy without Redis")
		}
	}
	until(t, "the node to find Redis away", func() bool { return strings.Contains(p.Stderr(), "redis does not answer yet") })
	srv.Start(t)
	p.WaitHealthy(t)
	if got := metric(t, addr, "trtcd_cluster_startup_retries_total"); got < 1 {
		t.Fatalf("trtcd_cluster_startup_retries_total = %d after a wait for Redis", got)
	}

	addr2 := tk.FreeAddr(t)
	never := tk.UnstartedRedis(t)
	q := tk.StartProcess(t, bin, addr2, tk.ClusterYAML(addr2, never.URL(), "doomed", "redis_startup_timeout: 1s"))
	if code := q.Exited(30 * time.Second); code != 2 {
		t.Fatalf("exit status %d: %s", code, q.Stderr())
	}
	if !strings.Contains(q.Stderr(), "redis_startup_timeout") {
		t.Fatalf("stderr %q does not name redis_startup_timeout", q.Stderr())
	}
}

// TestRedisURLPasswordRedacted: a malformed redis URL's error does not show
// its password.
func TestRedisURLPasswordRedacted(t *testing.T) {
	for _, url := range []string{
		"redis://user:s3cretPW@127.0.0.1:notaport/0",
		"redis://:s3cretPW@[::1/0",
		"redis://user:s3cretPW@127.0.0.1:6379/zero",
		"redis://127.0.0.1:1/0?master_name=m&sentinel_password=s3cretPW&dial_timeout=x",
	} {
		cfg := tk.Config()
		cfg.Redis = url
		_, err := node.New(cfg, nil)
		if err == nil {
			t.Fatalf("%s: no error", url)
		}
		if strings.Contains(err.Error(), "s3cretPW") {
			t.Fatalf("the error shows the password: %v", err)
		}
	}
}

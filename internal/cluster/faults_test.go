package cluster_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trtcd/trtcd/internal/cluster"
	"github.com/trtcd/trtcd/internal/rooms"
	tk "github.com/trtcd/trtcd/internal/testkit"
)

func newRegistry(t *testing.T, srv *tk.Redis, opt cluster.Options) *cluster.Registry {
	t.Helper()
	rdb, err := cluster.NewClient(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	if opt.NodeID == "" {
		opt.NodeID = t.Name()
	}
	reg, err := cluster.New(context.Background(), rdb, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { reg.Close() })
	return reg
}

// TestLateAnswerApplied: Redis runs RemoveUser's script before the change's
// deadline but answers only after the operation timeout (it is stopped in
// between): the node finds the change applied and answers success.
func TestLateAnswerApplied(t *testing.T) {
	srv := tk.StartRedis(t)
	reg := newRegistry(t, srv, cluster.Options{Heartbeat: time.Hour, ResolveTimeout: 20 * time.Second})
	room := rooms.NumRoom(1, 1)
	if _, err := reg.Enter(context.Background(), room, rooms.Member{UserID: "v", SessionID: "s1", NodeID: "n"}); err != nil {
		t.Fatal(err)
	}
	// Deadlines 3 s later than usual: the script, run after a 1.2 s stop,
	// still applies, but its answer comes after the 800 ms timeout; the
	// node asks for the outcome once the deadline has passed.
	reg.SkewClock(3 * time.Second)
	reg.Remove(context.Background(), rooms.NumRoom(1, 2), []string{"x"}) // loads the script (else EVALSHA answers NOSCRIPT)
	srv.Pause(t)
	go func() {
		time.Sleep(1200 * time.Millisecond)
		srv.Resume(t)
	}()
	if err := reg.Remove(context.Background(), room, []string{"v"}); err != nil {
		t.Fatalf("Remove whose answer was late: %v", err)
	}
	ms, err := reg.Members(context.Background(), room)
	if err != nil || len(ms) != 0 {
		t.Fatalf("members %v %v", ms, err)
	}
	if s := reg.Stats(); s.OutcomeApplied != 1 {
		t.Fatalf("stats %+v", s)
	}
}

// TestNoKeyOutlivesItsRoom: once a room empties (leave, removal,
// dismissal), none of its keys stays in Redis but outcome records, which
// expire. (The event log's shard streams and counters are not room keys:
// retention bounds them.)
func TestNoKeyOutlivesItsRoom(t *testing.T) {
	srv := tk.StartRedis(t)
	reg := newRegistry(t, srv, cluster.Options{})
	ctx := context.Background()
	for i, empty := range []func(rooms.Key) error{
		func(k rooms.Key) error { return reg.Leave(ctx, k, "u", "s", rooms.ReasonLeft) },
		func(k rooms.Key) error { return reg.Remove(ctx, k, []string{"u"}) },
		func(k rooms.Key) error { return reg.Dismiss(ctx, k) },
	} {
		room := rooms.NumRoom(1, uint64(100+i))
		if _, err := reg.Enter(ctx, room, rooms.Member{UserID: "u", SessionID: "s"}); err != nil {
			t.Fatal(err)
		}
		if err := empty(room); err != nil {
			t.Fatal(err)
		}
	}
	rdb, _ := cluster.NewClient(srv.URL())
	defer rdb.Close()
	keys, _ := rdb.Keys(ctx, "trtcd:{*").Result()
	for _, k := range keys {
		if !strings.Contains(k, ":room:") {
			continue
		}
		if !strings.Contains(k, ":op:") {
			t.Fatalf("key %s outlives its room (all: %v)", k, keys)
		}
		if ttl, _ := rdb.PTTL(ctx, k).Result(); ttl <= 0 {
			t.Fatalf("outcome record %s has no expiry", k)
		}
	}
}

// TestReconnectBackoff: the pause sequence doubles from 50 ms to a 1 s cap,
// each pause within [cur/2, cur].
func TestReconnectBackoff(t *testing.T) {
	hi := cluster.Pauses(8, func(n int64) int64 { return n })
	lo := cluster.Pauses(8, func(n int64) int64 { return 0 })
	want := []time.Duration{50, 100, 200, 400, 800, 1000, 1000, 1000}
	for i, w := range want {
		w *= time.Millisecond
		if hi[i] != w || lo[i] != w/2 {
			t.Fatalf("pause %d: %v..%v, want %v..%v", i, lo[i], hi[i], w/2, w)
		}
	}
}

type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuf) count(s string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Count(l.b.String(), s)
}

// TestWatcherReconnectsWithBackoff: with Redis down, the pub/sub watcher
// pauses before every attempt (the pauses follow the backoff), counts each
// attempt, and logs the outage once and the recovery once.
func TestWatcherReconnectsWithBackoff(t *testing.T) {
	srv := tk.StartRedis(t)
	var mu sync.Mutex
	var pauses []time.Duration
	restart := make(chan struct{})
	enough := make(chan struct{})
	sleep := func(d time.Duration, stop <-chan struct{}) bool {
		mu.Lock()
		pauses = append(pauses, d)
		n := len(pauses)
		mu.Unlock()
		if n == 8 {
			close(enough)
			select {
			case <-restart:
			case <-stop:
				return false
			}
		}
		select {
		case <-stop:
			return false
		default:
			return true
		}
	}
	logs := &logBuf{}
	reg := newRegistry(t, srv, cluster.WithSleep(cluster.Options{Log: slog.New(slog.NewJSONHandler(logs, nil))}, sleep))
	srv.Stop()
	select {
	case <-enough:
	case <-time.After(30 * time.Second):
		t.Fatal("no reconnect attempts within 30 s")
	}
	srv.Start(t)
	close(restart)
	deadline := time.Now().Add(30 * time.Second)
	for logs.count("connection restored") == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the recovery was not logged within 30 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	mu.Lock()
	got := append([]time.Duration(nil), pauses...)
	mu.Unlock()
	cur := cluster.ReconnectMin
	for i, d := range got {
		if d < cur/2 || d > cur {
			t.Fatalf("pause %d is %v, want within [%v, %v] (all %v)", i, d, cur/2, cur, got)
		}
		cur = min(2*cur, cluster.ReconnectMax)
	}
	if s := reg.Stats(); s.ReconnectAttempts != uint64(len(got)) || s.WatchOutages != 1 {
		t.Fatalf("stats %+v after %d pauses", s, len(got))
	}
	if n := logs.count("pub/sub connection lost"); n != 1 {
		t.Fatalf("outage logged %d times", n)
	}
	if n := logs.count("connection restored"); n != 1 {
		t.Fatalf("recovery logged %d times", n)
	}
}

// TestGoRedisLogsAreStructured: go-redis's own log lines (here: a Sentinel
// lookup that fails) come out as structured records, without the password.
func TestGoRedisLogsAreStructured(t *testing.T) {
	srv := tk.StartRedis(t)
	logs := &logBuf{}
	url := "redis://:s3cretPW@" + srv.Addr + "/0?master_name=nosuch"
	cluster.SetRedisLogger(slog.New(slog.NewJSONHandler(logs, nil)), url)
	defer cluster.SetRedisLogger(slog.New(slog.DiscardHandler), "")
	rdb, err := cluster.NewClient(url)
	if err != nil {
		t.Fatal(err)
	}
	rdb.Ping(context.Background())
	rdb.Close()
	if logs.count(`"msg":"go-redis"`) == 0 || logs.count("sentinel") == 0 {
		t.Fatalf("no structured go-redis record: %s", logs.b.String())
	}
	if logs.count("s3cretPW") != 0 {
		t.Fatalf("the password is logged: %s", logs.b.String())
	}
}

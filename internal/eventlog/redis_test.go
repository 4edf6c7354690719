package eventlog_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/trtcd/trtcd/internal/eventlog"
	"github.com/trtcd/trtcd/internal/eventlog/eventlogtest"
	tk "github.com/trtcd/trtcd/internal/testkit"
)

// client is a fail-fast client like cluster.NewClient's, with a pool big
// enough for one blocking read per shard and group.
func client(addr string) *redis.Client {
	const t = 500 * time.Millisecond
	return redis.NewClient(&redis.Options{Addr: addr, DialTimeout: t, ReadTimeout: t, WriteTimeout: t,
		PoolTimeout: 2 * time.Second, MaxRetries: -1, ContextTimeoutEnabled: true, DialerRetries: 1,
		PoolSize: 2*eventlog.Shards + 16}) // two groups
}

func newRedisLog(t testing.TB, srv *tk.Redis, opt eventlog.Options) *eventlog.Redis {
	rdb := client(srv.Addr)
	t.Cleanup(func() { rdb.Close() })
	return eventlog.NewRedis(rdb, opt)
}

// redisAppend appends with the test append script, retrying while Redis is
// away (the registries' calls would fail; the test wants the event in).
func redisAppend(l *eventlog.Redis) func(t *testing.T, ev eventlog.Event) eventlog.Event {
	return func(t *testing.T, ev eventlog.Event) eventlog.Event {
		deadline := time.Now().Add(eventlogtest.Wait)
		for {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			out, err := l.Append(ctx, ev)
			cancel()
			if err == nil {
				return out
			}
			if time.Now().After(deadline) {
				t.Fatalf("append: %v", err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

func TestRedisContract(t *testing.T) {
	srv := tk.StartRedis(t)
	eventlogtest.Run(t, func(t *testing.T) eventlogtest.Target {
		rdb := client(srv.Addr)
		rdb.FlushAll(context.Background())
		rdb.Close()
		l := newRedisLog(t, srv, eventlog.Options{})
		return eventlogtest.Target{
			Node: func(t *testing.T) eventlogtest.Node {
				return newRedisLog(t, srv, eventlog.Options{NodeID: t.Name()})
			},
			Append:  redisAppend(l),
			Restart: func(t *testing.T) { srv.Stop(); srv.Start(t) },
		}
	})
}

// The stream entry the append script writes decodes to the event given,
// and lands on the room's shard.
func TestRedisAppendLayout(t *testing.T) {
	srv := tk.StartRedis(t)
	l := newRedisLog(t, srv, eventlog.Options{})
	ev := eventlogtest.Event(1234, eventlog.TypeLeave, "alice")
	ev.Reason = eventlog.ReasonRemoved
	ev.Ext = map[string]string{"stream": "sub"}
	stored := redisAppend(l)(t, ev)
	rdb := client(srv.Addr)
	defer rdb.Close()
	msgs, err := rdb.XRange(context.Background(), eventlog.StreamKey(eventlog.Shard(ev.Room)), "-", "+").Result()
	if err != nil || len(msgs) != 1 {
		t.Fatalf("stream of shard %d: %v %v", eventlog.Shard(ev.Room), msgs, err)
	}
	var kv []string
	for k, v := range msgs[0].Values {
		kv = append(kv, k, v.(string))
	}
	got, err := eventlog.DecodeFields(kv)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != fmt.Sprint(stored) || stored.Seq != 1 || stored.TimeMs == 0 || msgs[0].Values["n"] != "1" {
		t.Fatalf("stored %+v, decoded %+v, fields %v", stored, got, msgs[0].Values)
	}
}

// Past MAXLEN ~ a group that has not read loses the trimmed events: they
// are counted as lost, and the rest arrive in order.
func TestRedisRetentionCountsLost(t *testing.T) {
	srv := tk.StartRedis(t)
	l := newRedisLog(t, srv, eventlog.Options{MaxLen: 10})
	app := redisAppend(l)
	const n = 500
	for i := 0; i < n; i++ {
		app(t, eventlogtest.Event(1, eventlog.TypeEnter, "u"))
	}
	c := eventlogtest.NewCollector()
	g, err := l.Group("history", c.Handle)
	if err != nil {
		t.Fatal(err)
	}
	eventlogtest.Start(t, g)
	room := eventlogtest.Event(1, "", "").Room
	eventlogtest.Until(t, "the last event", func() bool {
		s := c.Seqs(room)
		return len(s) > 0 && s[len(s)-1] == n
	})
	st := g.Stats()
	if st.Lost == 0 || st.Lost+st.Delivered != n {
		t.Fatalf("lost %d + delivered %d, want > 0 lost and %d in all", st.Lost, st.Delivered, n)
	}
	s := c.Seqs(room)
	for i := 1; i < len(s); i++ {
		if s[i] != s[i-1]+1 {
			t.Fatalf("retained events out of order or with holes: %v", s)
		}
	}
}

// TestRedisKill9Takeover: a consumer process killed with SIGKILL while
// handling an event (not acknowledged) → another node's consumer delivers
// that event and the rest, in order, within the takeover bound.
func TestRedisKill9Takeover(t *testing.T) {
	srv := tk.StartRedis(t)
	l := newRedisLog(t, srv, eventlog.Options{})
	want := map[string][]uint64{}
	for i := 0; i < 3; i++ {
		ev := redisAppend(l)(t, eventlogtest.Event(900, eventlog.TypeEnter, fmt.Sprint("u", i)))
		want[ev.Room] = append(want[ev.Room], ev.Seq)
	}
	child := exec.Command(os.Args[0], "-test.run=^$")
	child.Env = append(os.Environ(), childEnv+"="+srv.Addr)
	out, err := child.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	defer child.Process.Kill()
	lines := make(chan string, 10)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	select {
	case line := <-lines:
		if !strings.HasPrefix(line, "got ") {
			t.Fatalf("child said %q", line)
		}
	case <-time.After(eventlogtest.Wait):
		t.Fatal("the child consumer got nothing")
	}
	child.Process.Signal(syscall.SIGKILL)
	child.Wait()
	killed := time.Now()
	for range lines {
	}

	c := eventlogtest.NewCollector()
	g, err := newRedisLog(t, srv, eventlog.Options{NodeID: "survivor"}).Group("callbacks", c.Handle)
	if err != nil {
		t.Fatal(err)
	}
	eventlogtest.Start(t, g)
	bound := eventlog.Options{}.TakeoverBound()
	deadline := time.Now().Add(bound + eventlogtest.Wait)
	for c.Total() < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("after kill -9, %d of 3 events delivered within the bound %v plus %v", c.Total(), bound, eventlogtest.Wait)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("taken over %v after kill -9 (documented bound %v)", time.Since(killed).Round(time.Millisecond), bound)
	for room, seqs := range want {
		if got := c.Seqs(room); fmt.Sprint(got) != fmt.Sprint(seqs) {
			t.Fatalf("got %v, want %v", got, seqs)
		}
	}
}

const childEnv = "EVENTLOG_TEST_CHILD_REDIS"

// childMain runs, in the child process of TestRedisKill9Takeover, a
// consumer whose handler reports the event and never finishes.
func childMain() bool {
	addr := os.Getenv(childEnv)
	if addr == "" {
		return false
	}
	g, err := eventlog.NewRedis(client(addr), eventlog.Options{NodeID: "victim"}).Group("callbacks",
		func(ctx context.Context, ev eventlog.Event) error {
			fmt.Printf("got %s %d\n", ev.Room, ev.Seq)
			<-ctx.Done()
			return ctx.Err()
		})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	g.Run(context.Background())
	return true
}

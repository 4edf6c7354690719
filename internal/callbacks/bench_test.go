package callbacks

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/trtcd/trtcd/internal/eventlog"
)

// benchReceiver answers 200 at once and notes when each event arrived.
type benchReceiver struct {
	srv     *httptest.Server
	got     atomic.Int64
	mu      sync.Mutex
	arrived map[string]time.Time
}

func newBenchReceiver(b *testing.B) *benchReceiver {
	r := &benchReceiver{arrived: map[string]time.Time{}}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		now := time.Now()
		id := req.Header.Get(HeaderEventID)
		r.mu.Lock()
		if _, dup := r.arrived[id]; !dup {
			r.arrived[id] = now
			r.got.Add(1)
		}
		r.mu.Unlock()
		w.Write([]byte(`{"code":0}`))
	}))
	b.Cleanup(r.srv.Close)
	return r
}

func benchSender(b *testing.B, url string, inRedis bool) *Sender {
	var st Outbox
	if inRedis {
		st = benchRedisStore(b)
	} else {
		sq, err := OpenStore(b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		st = sq
	}
	s := New(Options{Apps: []AppConfig{{SdkAppID: app1, URL: url, Key: "benchKey"}}}, st, nil)
	done := make(chan struct{})
	go func() { s.Run(context.Background()); close(done) }()
	b.Cleanup(func() { s.Close(); <-done })
	return s
}

func waitAll(b *testing.B, r *benchReceiver, n int64) {
	deadline := time.Now().Add(5 * time.Minute)
	for r.got.Load() < n {
		if time.Now().After(deadline) {
			b.Fatalf("only %d of %d delivered", r.got.Load(), n)
		}
		time.Sleep(time.Millisecond)
	}
}

// BenchmarkDeliveryRate: how many callbacks per second one sender (default
// policy: 16 requests in flight) delivers to a loopback receiver, events of
// 256 rooms handed over in batches of 100.
func BenchmarkDeliveryRate(b *testing.B) { benchDeliveryRate(b, false) }

// BenchmarkDeliveryRateRedis is BenchmarkDeliveryRate with the cluster's
// outbox: a local redis-server, this sender owning every shard.
func BenchmarkDeliveryRateRedis(b *testing.B) { benchDeliveryRate(b, true) }

func benchDeliveryRate(b *testing.B, inRedis bool) {
	r := newBenchReceiver(b)
	s := benchSender(b, r.srv.URL, inRedis)
	const rooms, batch = 256, 100
	now := time.Now().UnixMilli()
	b.ResetTimer()
	start := time.Now()
	evs := make([]Event, 0, batch)
	for i := 0; i < b.N; i++ {
		room := uint64(i%rooms + 1)
		evs = append(evs, Event{App: app1, Room: RoomKey(app1, room, ""), RoomNum: room, Seq: uint64(i/rooms + 1),
			TimeMs: now, Type: TypeEnter, User: "u" + strconv.Itoa(i), Role: "anchor"})
		if len(evs) == batch || i == b.N-1 {
			if err := s.HandleBatch(context.Background(), evs); err != nil {
				b.Fatal(err)
			}
			evs = evs[:0]
		}
	}
	waitAll(b, r, int64(b.N))
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
}

// BenchmarkLatency1000PerSecond: 1 000 events/s for 5 s over 50 rooms,
// each room handing its events over one at a time (Handle, then the next);
// the time from Handle's call to the receiver's arrival, p50 and p99.
func BenchmarkLatency1000PerSecond(b *testing.B) { benchLatency(b, false) }

// BenchmarkLatency1000PerSecondRedis is BenchmarkLatency1000PerSecond with
// the cluster's outbox (a local redis-server; this sender owns every shard).
func BenchmarkLatency1000PerSecondRedis(b *testing.B) { benchLatency(b, true) }

func benchLatency(b *testing.B, inRedis bool) {
	const rate, seconds, rooms = 1000, 5, 50
	for it := 0; it < b.N; it++ {
		r := newBenchReceiver(b)
		s := benchSender(b, r.srv.URL, inRedis)
		total := rate * seconds
		sent := make(map[string]time.Time, total)
		var sentMu sync.Mutex
		queues := make([]chan Event, rooms)
		var wg sync.WaitGroup
		for i := range queues {
			queues[i] = make(chan Event, total)
			wg.Add(1)
			go func(q chan Event) {
				defer wg.Done()
				for e := range q {
					sentMu.Lock()
					sent[EventID(e.Room, e.Seq, EventEnterRoom, e.TimeMs)] = time.Now()
					sentMu.Unlock()
					if err := s.Handle(context.Background(), e); err != nil {
						b.Error(err)
					}
				}
			}(queues[i])
		}
		start := time.Now()
		for i := 0; i < total; i++ {
			time.Sleep(time.Until(start.Add(time.Duration(i) * time.Second / rate)))
			room := uint64(i%rooms + 1)
			queues[room-1] <- Event{App: app1, Room: RoomKey(app1, room, ""), RoomNum: room, Seq: uint64(i/rooms + 1),
				TimeMs: time.Now().UnixMilli(), Type: TypeEnter, User: "u", Role: "anchor"}
		}
		for _, q := range queues {
			close(q)
		}
		wg.Wait()
		waitAll(b, r, int64(total))
		var lat []time.Duration
		r.mu.Lock()
		for id, at := range r.arrived {
			if !strings.HasPrefix(id, "1400000001:n:") {
				continue
			}
			lat = append(lat, at.Sub(sent[id]))
		}
		r.mu.Unlock()
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
		b.ReportMetric(float64(total)/time.Since(start).Seconds(), "events/s")
	}
}

// benchRedisStore starts a throwaway redis-server (skipping without one,
// failing with CI=true, as testkit does; testkit itself imports this package)
// and a RedisStore whose node owns the callbacks lease of every shard.
func benchRedisStore(b testing.TB) *RedisStore {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") == "true" {
			b.Fatal("redis-server is required in CI")
		}
		b.Skip("no redis-server (scripts/test.sh installs it)")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	_, port, _ := net.SplitHostPort(addr)
	cmd := exec.Command(bin, "--bind", "127.0.0.1", "--port", port, "--save", "", "--appendonly", "no", "--logfile", "")
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	ctx := context.Background()
	for deadline := time.Now().Add(30 * time.Second); rdb.Ping(ctx).Err() != nil; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			b.Fatal("redis-server did not start")
		}
	}
	for sh := 0; sh < eventlog.Shards; sh++ {
		rdb.Set(ctx, eventlog.LeaseKey(sh, "callbacks"), "bench/1", 0)
	}
	st := NewRedisStore(rdb, "bench", "callbacks", rdb.Close)
	if st.OwnedShards() != eventlog.Shards {
		b.Fatalf("owns %d shards", st.OwnedShards())
	}
	return st
}

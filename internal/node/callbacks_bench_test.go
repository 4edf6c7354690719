package node_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trtcd/trtcd/internal/config"
	"github.com/trtcd/trtcd/internal/eventlog"
	"github.com/trtcd/trtcd/internal/node"
	tk "github.com/trtcd/trtcd/internal/testkit"
)

// BenchmarkCallbackLatency: 1 000 room events per second for 5 s over 50
// rooms, appended to a node's event log as the registry appends them; the
// time from the append to the loopback receiver's arrival of the callback
// (log, callbacks group, outbox commit, HTTP), p50 and p99 in ms.
// "single": one node (memory log, SQLite outbox). "cluster": two nodes on
// one redis-server (Redis log, Redis outbox), events appended through node
// 0's log, delivered by whichever node owns each room's shard.
func BenchmarkCallbackLatency(b *testing.B) {
	b.Run("single", func(b *testing.B) { callbackLatency(b, false) })
	b.Run("cluster", func(b *testing.B) { callbackLatency(b, true) })
}

func callbackLatency(b *testing.B, cluster bool) {
	const rate, seconds, rooms = 1000, 5, 50
	for it := 0; it < b.N; it++ {
		var mu sync.Mutex
		arrived := map[string]time.Time{}
		recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			now := time.Now()
			f := strings.Split(r.Header.Get("X-Trtcd-Event-Id"), "/")
			mu.Lock()
			if _, dup := arrived[f[0]+"/"+f[1]]; !dup {
				arrived[f[0]+"/"+f[1]] = now
			}
			mu.Unlock()
			w.Write([]byte(`{"code":0}`))
		}))
		var nodes []*node.Node
		for i := 0; i < map[bool]int{false: 1, true: 2}[cluster]; i++ {
			cfg := tk.Config()
			cfg.DataDir = b.TempDir()
			cfg.History = "off"
			if cluster {
				if i == 0 {
					cfg.Redis = tk.StartRedis(b).URL()
				} else {
					cfg.Redis = nodes[0].Config.Redis
				}
				cfg.NodeID = fmt.Sprintf("bench%d", i)
			}
			cfg.Accounts[0].Apps[0].Callback = &config.Callback{URL: recv.URL}
			nodes = append(nodes, tk.Start(b, cfg))
		}
		if cluster { // measure once the shards are shared, not while they move
			for deadline := time.Now().Add(time.Minute); nodes[0].Callbacks.Stats().OwnedShards != eventlog.Shards/2 ||
				nodes[1].Callbacks.Stats().OwnedShards != eventlog.Shards/2; time.Sleep(50 * time.Millisecond) {
				if time.Now().After(deadline) {
					b.Fatal("the shards were not shared within a minute")
				}
			}
		}
		var appendOne func(ev eventlog.Event) (eventlog.Event, error)
		switch l := nodes[0].Log.(type) {
		case *eventlog.Memory:
			seqs := map[string]uint64{}
			appendOne = func(ev eventlog.Event) (eventlog.Event, error) {
				seqs[ev.Room]++
				ev.Seq, ev.TimeMs = seqs[ev.Room], time.Now().UnixMilli()
				return ev, l.Append(ev)
			}
		case *eventlog.Redis:
			appendOne = func(ev eventlog.Event) (eventlog.Event, error) { return l.Append(context.Background(), ev) }
		default:
			b.Fatalf("log %T", l)
		}
		total := rate * seconds
		sent := make(map[string]time.Time, total)
		var sentMu sync.Mutex
		start := time.Now()
		var wg sync.WaitGroup
		sem := make(chan struct{}, 64) // Redis appends take a round trip: several in flight
		for i := 0; i < total; i++ {
			time.Sleep(time.Until(start.Add(time.Duration(i) * time.Second / rate)))
			room := uint64(i%rooms + 1)
			ev := eventlog.Event{App: tk.App, Room: fmt.Sprintf("%d:n:%d", tk.App, room), RoomNum: room,
				Type: eventlog.TypeEnter, User: fmt.Sprint("u", i), Role: "anchor", Session: "s"}
			if !cluster {
				at := time.Now()
				got, err := appendOne(ev)
				if err != nil {
					b.Fatal(err)
				}
				sent[got.Room+"/"+fmt.Sprint(got.Seq)] = at
				continue
			}
			sem <- struct{}{}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				at := time.Now()
				got, err := appendOne(ev)
				if err != nil {
					b.Error(err)
					return
				}
				sentMu.Lock()
				sent[got.Room+"/"+fmt.Sprint(got.Seq)] = at
				sentMu.Unlock()
			}()
		}
		wg.Wait()
		for deadline := time.Now().Add(5 * time.Minute); ; time.Sleep(10 * time.Millisecond) {
			mu.Lock()
			n := len(arrived)
			mu.Unlock()
			if n >= total {
				break
			}
			if time.Now().After(deadline) {
				b.Fatalf("%d of %d callbacks arrived", n, total)
			}
		}
		elapsed := time.Since(start)
		var lat []time.Duration
		mu.Lock()
		for k, at := range arrived {
			if s, ok := sent[k]; ok {
				lat = append(lat, at.Sub(s))
			}
		}
		mu.Unlock()
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
		b.ReportMetric(float64(total)/elapsed.Seconds(), "events/s")
		for _, n := range nodes {
			n.Shutdown(context.Background())
		}
		recv.Close()
	}
}

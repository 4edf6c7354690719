package node_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"testing"
	"time"

	"github.com/trtcd/trtcd/internal/config"
	"github.com/trtcd/trtcd/internal/node"
	tk "github.com/trtcd/trtcd/internal/testkit"
)

// BenchmarkKickLatency: from sending RemoveUser with the official SDK (TC3
// POST) to the removed client's receipt of kicked. "single": API and client
// on one in-memory node. "cross-node": two nodes sharing a Redis, the API on
// node A, the client on node B. Both run in the same invocation, so their
// ratio holds on a noisy machine. Use -benchtime=1000x or more; reports p50
// and p99 in microseconds.
func BenchmarkKickLatency(b *testing.B) {
	b.Run("single", func(b *testing.B) {
		cfg := tk.Config()
		cfg.RateLimits = map[string]int{"RemoveUser": 1e6}
		n := tk.Start(b, cfg)
		kickLoop(b, n, n)
	})
	// "single" with callbacks on: every join and kick also goes to the
	// app's receiver (loopback, answers 200) through the durable outbox.
	b.Run("single-callbacks", func(b *testing.B) {
		recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			w.Write([]byte(`{"code":0}`))
		}))
		defer recv.Close()
		cfg := tk.Config()
		cfg.RateLimits = map[string]int{"RemoveUser": 1e6}
		cfg.DataDir = b.TempDir()
		cfg.Accounts[0].Apps[0].Callback = &config.Callback{URL: recv.URL}
		n := tk.Start(b, cfg)
		kickLoop(b, n, n)
	})
	// The baseline: the same SDK call for a user who is not there, so
	// nothing is kicked; the difference to "single" is the kick's own cost.
	b.Run("api-only", func(b *testing.B) {
		cfg := tk.Config()
		cfg.RateLimits = map[string]int{"RemoveUser": 1e6}
		n := tk.Start(b, cfg)
		sdk := tk.SDK(b, n.Addr(), tk.AcmeID, tk.AcmeKey, tk.Modes[0])
		tk.Join(b, n.Addr(), tk.App, tk.AppKey, "keeper", 42, "")
		lat := make([]time.Duration, 0, b.N)
		for i := 0; i < b.N; i++ {
			start := time.Now()
			if _, err := sdk.RemoveUser(removeReq(42, "nobody")); err != nil {
				b.Fatal(err)
			}
			lat = append(lat, time.Since(start))
		}
		report(b, lat)
	})
	b.Run("cross-node", func(b *testing.B) {
		srv := tk.StartRedis(b)
		var nodes []*node.Node
		for _, id := range []string{"bench-a", "bench-b"} {
			cfg := tk.Config()
			cfg.RateLimits = map[string]int{"RemoveUser": 1e6}
			cfg.Redis, cfg.NodeID = srv.URL(), id
			nodes = append(nodes, tk.Start(b, cfg))
		}
		kickLoop(b, nodes[0], nodes[1])
	})
}

func kickLoop(b *testing.B, api, home *node.Node) {
	sdk := tk.SDK(b, api.Addr(), tk.AcmeID, tk.AcmeKey, tk.Modes[0])
	keeper := tk.Join(b, home.Addr(), tk.App, tk.AppKey, "keeper", 42, "")
	go func() {
		for range keeper.Events() {
		}
	}()
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		c := tk.Join(b, home.Addr(), tk.App, tk.AppKey, "target", 42, "")
		b.StartTimer()
		start := time.Now()
		if _, err := sdk.RemoveUser(removeReq(42, "target")); err != nil {
			b.Fatal(err)
		}
		ev := <-c.Events()
		lat = append(lat, time.Since(start))
		if ev.Type != "kicked" {
			b.Fatalf("got %+v", ev)
		}
		b.StopTimer()
		c.Close()
		b.StartTimer()
	}
	b.StopTimer()
	report(b, lat)
}

func report(b *testing.B, lat []time.Duration) {
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
	b.ReportMetric(0, "ns/op")
}

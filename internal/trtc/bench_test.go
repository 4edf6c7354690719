package trtc_test

import (
	"context"
	"sort"
	"testing"
	"time"

	tk "github.com/trtcd/trtcd/internal/testkit"
)

// BenchmarkKickLatency: from sending RemoveUser with the official SDK to the
// removed client's receipt of kicked, one node, over loopback. Run with
// -benchtime=1000x or more; reports p50 and p99 in microseconds.
func BenchmarkKickLatency(b *testing.B) {
	cfg := tk.Config()
	cfg.RateLimits = map[string]int{"RemoveUser": 1e6}
	n := tk.Start(b, cfg)
	sdk := tk.SDK(b, n.Addr(), tk.AcmeID, tk.AcmeKey, tk.Modes[0])
	keeper := tk.Join(b, n.Addr(), tk.App, tk.AppKey, "keeper", 42, "")
	go func() {
		for range keeper.Events() {
		}
	}()
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		c := tk.Join(b, n.Addr(), tk.App, tk.AppKey, "target", 42, "")
		b.StartTimer()
		start := time.Now()
		if _, err := sdk.RemoveUser(removeUser(42, "target")); err != nil {
			b.Fatal(err)
		}
		ev := <-c.Events()
		d := time.Since(start)
		if ev.Type != "kicked" {
			b.Fatalf("got %+v", ev)
		}
		lat = append(lat, d)
		b.StopTimer()
		c.Close()
		b.StartTimer()
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
	keeper.Leave(context.Background())
}

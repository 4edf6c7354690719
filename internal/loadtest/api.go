package loadtest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// APIConfig: signed API calls as fast as Concurrency workers go, for
// Duration, beside the same loop against a bare net/http handler.
type APIConfig struct {
	Target
	Concurrency int
	Duration    time.Duration
	Baseline    *Baseline
}

// RunAPI calls RemoveUser for an absent user in a room that exists (a full
// signed request, answered with success) and reports throughput and latency.
func RunAPI(ctx context.Context, cfg APIConfig) (*Report, error) {
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 16
	}
	rep := NewReport("api", map[string]any{"concurrency": cfg.Concurrency, "duration": cfg.Duration.String()})
	room := uint64(time.Now().Unix()%1000000)*1000 + 999
	keeper, err := cfg.join(ctx, 0, "api-keeper", room, "", "anchor", 0)
	if err != nil {
		return nil, err
	}
	defer keeper.Close()
	body := fmt.Appendf(nil, `{"SdkAppId":%d,"RoomId":%d,"UserIds":["nobody"]}`, cfg.SdkAppID, room)

	caller := cfg.newCaller("RemoveUser", body, cfg.Concurrency)
	n, lat, failed, err := apiLoop(ctx, cfg.Target, caller, cfg.Concurrency, cfg.Duration)
	caller.close()
	if err != nil {
		return nil, err
	}
	rep.Figures["calls_per_s"] = float64(n) / cfg.Duration.Seconds()
	rep.Figures["failed"] = float64(failed)
	rep.Latency["signed API call"] = lat.Summary()
	if cfg.Baseline != nil {
		addr, cmd, err := cfg.Baseline.start(ctx, "bare")
		if err != nil {
			return nil, err
		}
		bt := cfg.Target
		bt.Server = "http://" + addr
		bc := bt.newCaller("RemoveUser", body, cfg.Concurrency)
		bn, blat, _, err := apiLoop(ctx, bt, bc, cfg.Concurrency, cfg.Duration)
		bc.close()
		stop(cmd)
		if err != nil {
			return nil, err
		}
		rep.Figures["baseline_bare_calls_per_s"] = float64(bn) / cfg.Duration.Seconds()
		rep.Figures["ratio_throughput_vs_bare"] = Ratio(rep.Figures["calls_per_s"], rep.Figures["baseline_bare_calls_per_s"])
		rep.Latency["bare net/http JSON handler"] = blat.Summary()
	}
	return rep, nil
}

func apiLoop(ctx context.Context, t Target, c *apiCaller, workers int, d time.Duration) (int64, *Latencies, int64, error) {
	lat := NewLatencies()
	var n, failed atomic.Int64
	deadline := time.Now().Add(d)
	done := make(chan struct{})
	go progressLoop(t, done, func() string { return fmt.Sprintf("api %s: %d calls", t.Server, n.Load()) })
	defer close(done)
	var wg sync.WaitGroup
	var firstErr atomic.Value
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) && ctx.Err() == nil {
				start := time.Now()
				code, err := c.call(ctx)
				if err != nil || code != "" {
					failed.Add(1)
					if err == nil {
						err = fmt.Errorf("answered %s", code)
					}
					firstErr.CompareAndSwap(nil, err)
					continue
				}
				lat.Record(time.Since(start))
				n.Add(1)
			}
		}()
	}
	wg.Wait()
	if n.Load() == 0 {
		if e, ok := firstErr.Load().(error); ok {
			return 0, lat, failed.Load(), e
		}
	}
	return n.Load(), lat, failed.Load(), nil
}

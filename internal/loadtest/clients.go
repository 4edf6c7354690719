package loadtest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/trtcd/trtcd/client"
)

// ClientsConfig: N idle joined clients over M rooms.
type ClientsConfig struct {
	Target
	Clients     int
	Rooms       int
	Rate        float64       // joins per second to aim for; 0: as fast as the workers go
	Concurrency int           // joins in flight
	Hold        time.Duration // how long the clients stay joined, idle but heartbeating
	Heartbeat   time.Duration
	Baseline    *Baseline // an echo server to compare memory with; nil to skip
}

// RunClients ramps clients up, holds them, and reports join rate, join
// latency and server memory per client.
func RunClients(ctx context.Context, cfg ClientsConfig) (*Report, error) {
	if cfg.Rooms <= 0 {
		cfg.Rooms = 1
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 64
	}
	rep := NewReport("clients", map[string]any{"clients": cfg.Clients, "rooms": cfg.Rooms, "rate": cfg.Rate,
		"concurrency": cfg.Concurrency, "hold": cfg.Hold.String(), "sources": cfg.Sources})
	rss0, err := BaselineRSS(cfg.Server)
	if err != nil {
		return nil, err
	}
	cpu0, err := ServerCPU(cfg.Server)
	if err != nil {
		return nil, err
	}
	lat := NewLatencies()
	lag := WatchLag(ctx, cfg.Server)
	conns := make([]*client.Conn, cfg.Clients)
	var failed atomic.Int64
	var firstErr error
	var errOnce sync.Once
	next := atomic.Int64{}
	pacer := Pacer{Rate: cfg.Rate, Start: time.Now()}
	done := make(chan struct{})
	go progressLoop(cfg.Target, done, func() string {
		return fmt.Sprintf("clients: %d joined, %d failed", lat.Count(), failed.Load())
	})
	var wg sync.WaitGroup
	for w := 0; w < cfg.Concurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= cfg.Clients || ctx.Err() != nil {
					return
				}
				pacer.Wait(i)
				start := time.Now()
				c, err := cfg.join(ctx, i, fmt.Sprintf("u%d", i), uint64(1+i%cfg.Rooms), "", "anchor", cfg.Heartbeat)
				if err != nil {
					failed.Add(1)
					errOnce.Do(func() { firstErr = err })
					continue
				}
				lat.Record(time.Since(start))
				conns[i] = c
				go drain(c)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(pacer.Start)
	joined := lat.Count()
	// The joins' deferred work (callbacks, history) is part of their cost.
	err = cfg.settle(ctx, rep, "settle_after_joins_ms")
	for group, n := range lag.Stop() {
		rep.Figures["max_lag_events_"+group] = n // how far the group fell behind the joins
	}
	if err != nil {
		return nil, err
	}
	if cpu1, err := ServerCPU(cfg.Server); err == nil && joined > 0 {
		// Server CPU per join: what the join rate would be per server core
		// with the load generator on other cores.
		perJoin := (cpu1 - cpu0) / float64(joined)
		rep.Figures["server_cpu_ms_per_join"] = perJoin * 1000
		rep.Figures["joins_per_s_per_server_core"] = Ratio(1, perJoin)
	}
	rep.Figures["joined"] = float64(joined)
	rep.Figures["failed"] = float64(failed.Load())
	rep.Figures["join_rate_per_s"] = float64(joined) / elapsed.Seconds()
	rep.Latency["join"] = lat.Summary()
	if firstErr != nil {
		cfg.progress("first join error: %v", firstErr)
	}
	select {
	case <-time.After(cfg.Hold):
	case <-ctx.Done():
	}
	close(done)
	rss1, err := ServerRSS(cfg.Server)
	if err != nil {
		return nil, err
	}
	rep.Figures["server_rss_mib"] = float64(rss1) / (1 << 20)
	rep.Figures["server_rss_before_mib"] = float64(rss0) / (1 << 20)
	if joined > 0 {
		rep.Figures["server_bytes_per_client"] = float64(rss1-rss0) / float64(joined)
	}
	cfg.progress("clients: closing %d connections", joined)
	closeAll(conns)
	if cfg.Baseline != nil && joined > 0 {
		echo, err := cfg.Baseline.Echo(ctx, cfg.Target, int(joined))
		if err != nil {
			return nil, fmt.Errorf("baseline: %w", err)
		}
		rep.Figures["baseline_echo_bytes_per_conn"] = echo.BytesPerConn
		rep.Figures["ratio_bytes_per_client_vs_echo"] = Ratio(rep.Figures["server_bytes_per_client"], echo.BytesPerConn)
		rep.Figures["baseline_echo_cpu_ms_per_conn"] = echo.CPUMsPerConn
		rep.Figures["ratio_cpu_per_join_vs_echo_conn"] = Ratio(rep.Figures["server_cpu_ms_per_join"], echo.CPUMsPerConn)
	}
	return rep, nil
}

// drain reads a client's events so that it never counts as slow.
func drain(c *client.Conn) {
	for range c.Events() {
	}
}

func closeAll(conns []*client.Conn) {
	var wg sync.WaitGroup
	sem := make(chan struct{}, 256)
	for _, c := range conns {
		if c == nil {
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func(c *client.Conn) {
			defer wg.Done()
			c.Close()
			<-sem
		}(c)
	}
	wg.Wait()
}

func progressLoop(t Target, done <-chan struct{}, line func() string) {
	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-done:
			return
		case <-tick.C:
			t.progress("%s", line())
		}
	}
}

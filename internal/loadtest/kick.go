package loadtest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/trtcd/trtcd/client"
)

// KickConfig: Count clients, each alone in its room, removed by RemoveUser
// calls sent at Rate per second.
type KickConfig struct {
	Target
	Count    int
	Rate     float64
	RoomBase uint64 // first room id; rooms RoomBase … RoomBase+Count-1
}

// RunKick reports the latency from sending RemoveUser to the client's
// receipt of kicked, and the API call's own latency.
func RunKick(ctx context.Context, cfg KickConfig) (*Report, error) {
	if cfg.RoomBase == 0 {
		cfg.RoomBase = uint64(time.Now().Unix()%1000000) * 1000
	}
	rep := NewReport("kick", map[string]any{"count": cfg.Count, "rate": cfg.Rate})
	conns, err := joinMany(ctx, cfg.Target, cfg.Count, func(i int) (string, uint64, string, string) {
		return fmt.Sprintf("k%d", i), cfg.RoomBase + uint64(i), "", "anchor"
	})
	if err != nil {
		return nil, err
	}
	defer closeAll(conns)
	if err := cfg.settle(ctx, rep, "settle_after_joins_ms"); err != nil {
		return nil, err
	}
	caller := cfg.newCaller("RemoveUser", nil, 64)
	defer caller.close()
	kickLat, apiLat := NewLatencies(), NewLatencies()
	var failed atomic.Int64
	var wg sync.WaitGroup
	pacer := Pacer{Rate: cfg.Rate, Start: time.Now()}
	for i := 0; i < cfg.Count && ctx.Err() == nil; i++ {
		pacer.Wait(i)
		wg.Add(1)
		go func(i int, c *client.Conn) {
			defer wg.Done()
			body := fmt.Appendf(nil, `{"SdkAppId":%d,"RoomId":%d,"UserIds":["k%d"]}`, cfg.SdkAppID, cfg.RoomBase+uint64(i), i)
			start := time.Now()
			code, err := caller.callWith(ctx, body)
			apiLat.Record(time.Since(start))
			if err != nil || code != "" {
				failed.Add(1)
				return
			}
			select {
			case ev := <-c.Events():
				if ev.Type == "kicked" {
					kickLat.Record(time.Since(start))
					return
				}
			case <-time.After(10 * time.Second):
			}
			failed.Add(1)
		}(i, conns[i])
	}
	wg.Wait()
	elapsed := time.Since(pacer.Start)
	rep.Figures["kicks"] = float64(kickLat.Count())
	rep.Figures["failed"] = float64(failed.Load())
	rep.Figures["kicks_per_s"] = float64(kickLat.Count()) / elapsed.Seconds()
	rep.Latency["kick (send RemoveUser → kicked received)"] = kickLat.Summary()
	rep.Latency["api (RemoveUser round trip)"] = apiLat.Summary()
	return rep, nil
}

// joinMany joins n clients with 64 joins in flight; who(i) names each one's
// user, room, string room and role.
func joinMany(ctx context.Context, t Target, n int, who func(i int) (string, uint64, string, string)) ([]*client.Conn, error) {
	conns := make([]*client.Conn, n)
	var next atomic.Int64
	var firstErr error
	var mu sync.Mutex
	var wg sync.WaitGroup
	done := make(chan struct{})
	var joined atomic.Int64
	go progressLoop(t, done, func() string { return fmt.Sprintf("joined %d/%d", joined.Load(), n) })
	defer close(done)
	for w := 0; w < 64; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				user, room, str, role := who(i)
				c, err := t.join(ctx, i, user, room, str, role, 0)
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					return
				}
				conns[i] = c
				joined.Add(1)
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		closeAll(conns)
		return nil, fmt.Errorf("join: %w", firstErr)
	}
	return conns, ctx.Err()
}

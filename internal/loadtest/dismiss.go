package loadtest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/trtcd/trtcd/client"
)

// DismissConfig: one room of Members dismissed at once.
type DismissConfig struct {
	Target
	Members int
}

// RunDismiss joins the members (as audience, so building the room is linear
// and each member hears only its own kick), calls DismissRoomByStrRoomId,
// and reports the time until the last member has received kicked.
func RunDismiss(ctx context.Context, cfg DismissConfig) (*Report, error) {
	rep := NewReport("dismiss", map[string]any{"members": cfg.Members})
	room := fmt.Sprintf("dismiss-%d", time.Now().UnixNano())
	conns, err := joinMany(ctx, cfg.Target, cfg.Members, func(i int) (string, uint64, string, string) {
		return fmt.Sprintf("d%d", i), 0, room, "audience"
	})
	if err != nil {
		return nil, err
	}
	defer closeAll(conns)
	if err := cfg.settle(ctx, rep, "settle_after_joins_ms"); err != nil {
		return nil, err
	}
	caller := cfg.newCaller("DismissRoomByStrRoomId", nil, 1)
	defer caller.close()
	kickLat := NewLatencies()
	var last atomic.Int64
	var missing atomic.Int64
	var wg sync.WaitGroup
	var t0 time.Time
	ready := make(chan struct{})
	for _, c := range conns {
		wg.Add(1)
		go func(c *client.Conn) {
			defer wg.Done()
			<-ready
			select {
			case ev := <-c.Events():
				if ev.Type == "kicked" {
					d := time.Since(t0)
					kickLat.Record(d)
					for {
						cur := last.Load()
						if int64(d) <= cur || last.CompareAndSwap(cur, int64(d)) {
							break
						}
					}
					return
				}
			case <-time.After(30 * time.Second):
			}
			missing.Add(1)
		}(c)
	}
	body := fmt.Appendf(nil, `{"SdkAppId":%d,"RoomId":%q}`, cfg.SdkAppID, room)
	cpu0, cpuErr := ServerCPU(cfg.Server)
	t0 = time.Now()
	close(ready)
	code, err := caller.callWith(ctx, body)
	apiDone := time.Since(t0)
	if err != nil || code != "" {
		return nil, fmt.Errorf("DismissRoomByStrRoomId: %v %s", err, code)
	}
	wg.Wait()
	if err := cfg.settle(ctx, rep, "settle_after_dismiss_ms"); err != nil {
		return nil, err
	}
	if cpu1, err := ServerCPU(cfg.Server); err == nil && cpuErr == nil {
		// The server's own share of the work: the load generator shares
		// the machine, so this is what one core of a dedicated server spends.
		rep.Figures["server_cpu_ms"] = (cpu1 - cpu0) * 1000
	}
	rep.Figures["api_ms"] = float64(apiDone.Microseconds()) / 1000
	rep.Figures["last_kicked_ms"] = float64(time.Duration(last.Load()).Microseconds()) / 1000
	rep.Figures["missing"] = float64(missing.Load())
	rep.Latency["kicked received (from the call)"] = kickLat.Summary()
	return rep, nil
}

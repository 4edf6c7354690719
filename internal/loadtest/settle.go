package loadtest

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Settle policy: a phase of a benchmark starts, and a phase's server CPU is
// read, only once the server has done the work the events of earlier
// changes left behind: every consumer group (callbacks, history) has
// consumed every event appended, and the callback outbox is empty. Without
// it a phase pays for the previous one's callbacks and history writes (a
// kick benchmark right after 2 000 joins measured their 4 000 callbacks),
// and a CPU figure misses its own deferred work. SettleTimeout bounds the
// wait; SettlePoll is how often /metrics is read meanwhile, and SettleReads
// how many reads in a row must find nothing pending: under load the test
// suite twice saw a single read report an empty outbox while two callbacks
// were still being retried (the cause is not found yet).
const (
	SettleTimeout = 2 * time.Minute
	SettlePoll    = 20 * time.Millisecond
	SettleReads   = 2 // consecutive settled reads of /metrics needed
)

// Settle waits until server's consumer groups have caught up with the
// events appended and its callback outbox is empty (as its /metrics says;
// a server without groups or callbacks is settled at once), and returns how
// long that took.
func Settle(ctx context.Context, server string) (time.Duration, error) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, SettleTimeout)
	defer cancel()
	last, quiet := "", 0
	for {
		busy, err := unsettled(ctx, server)
		switch {
		case err != nil && ctx.Err() != nil && last != "":
			busy = last // the deadline came during a read
		case err != nil:
			return time.Since(start), err
		case busy == "":
			if quiet++; quiet == SettleReads {
				return time.Since(start), nil
			}
			busy = "settled, reading again"
		default:
			quiet = 0
		}
		last = busy
		select {
		case <-ctx.Done():
			return time.Since(start), fmt.Errorf("server not settled (SettleTimeout %v, or the caller's deadline): %s", SettleTimeout, busy)
		case <-time.After(SettlePoll):
		}
	}
}

// unsettled reads server's /metrics and says what is still pending ("" when
// nothing is).
func unsettled(ctx context.Context, server string) (string, error) {
	b, err := readBacklog(ctx, server)
	if err != nil {
		return "", err
	}
	for group, n := range b.lag {
		if n > 0 {
			return fmt.Sprintf("group %s: %.0f events not consumed", group, n), nil
		}
	}
	if b.outbox > 0 {
		return fmt.Sprintf("callback outbox depth %.0f", b.outbox), nil
	}
	return "", nil
}

// backlog is the work a server's events left: per consumer group, the
// events appended and not yet consumed on this node; and the callback
// outbox's depth.
type backlog struct {
	lag    map[string]float64
	outbox float64
}

func readBacklog(ctx context.Context, server string) (backlog, error) {
	b := backlog{lag: map[string]float64{}}
	all, err := scrape(ctx, server, "trtcd_events_consumed_total", "trtcd_events_appended_total", "trtcd_callback_outbox_depth")
	if err != nil {
		return b, err
	}
	const consumed = `trtcd_events_consumed_total{group="`
	for series, c := range all {
		if group, ok := strings.CutPrefix(series, consumed); ok {
			b.lag[strings.TrimSuffix(group, `"}`)] = max(all["trtcd_events_appended_total"]-c, 0)
		}
	}
	b.outbox = all["trtcd_callback_outbox_depth"]
	return b, nil
}

// LagPoll is how often a LagWatch reads /metrics.
const LagPoll = 100 * time.Millisecond

// LagWatch records the largest backlog of each consumer group of a server
// while a phase runs (read every LagPoll).
type LagWatch struct {
	stop func()
	done chan struct{}
	max  map[string]float64
}

// WatchLag starts watching server's consumer groups; it stops after its
// first read when the server has none.
func WatchLag(ctx context.Context, server string) *LagWatch {
	ctx, cancel := context.WithCancel(ctx)
	w := &LagWatch{stop: cancel, done: make(chan struct{}), max: map[string]float64{}}
	go func() {
		defer close(w.done)
		t := time.NewTicker(LagPoll)
		defer t.Stop()
		for {
			if b, err := readBacklog(ctx, server); err == nil {
				if len(b.lag) == 0 {
					// No consumer group: nothing to watch, and no scrape of
					// /metrics every LagPoll charged to the phase's CPU.
					return
				}
				for g, n := range b.lag {
					w.max[g] = max(w.max[g], n)
				}
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return w
}

// Stop ends the watch and returns each group's largest backlog in events.
func (w *LagWatch) Stop() map[string]float64 {
	w.stop()
	<-w.done
	return w.max
}

// settle runs Settle (the settle policy) and records its time as figure.
func (t Target) settle(ctx context.Context, rep *Report, figure string) error {
	d, err := Settle(ctx, t.Server)
	if err != nil {
		return err
	}
	rep.Figures[figure] = float64(d.Microseconds()) / 1000
	t.progress("settled in %v (%s)", d.Round(time.Millisecond), figure)
	return nil
}

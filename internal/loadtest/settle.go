package loadtest

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"strconv"
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
// wait; SettlePoll is how often /metrics is read meanwhile.
const (
	SettleTimeout = 2 * time.Minute
	SettlePoll    = 20 * time.Millisecond
)

// Settle waits until server's consumer groups have caught up with the
// events appended and its callback outbox is empty (as its /metrics says;
// a server without groups or callbacks is settled at once), and returns how
// long that took.
func Settle(ctx context.Context, server string) (time.Duration, error) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, SettleTimeout)
	defer cancel()
	for {
		busy, err := unsettled(ctx, server)
		if err != nil {
			return time.Since(start), err
		}
		if busy == "" {
			return time.Since(start), nil
		}
		select {
		case <-ctx.Done():
			return time.Since(start), fmt.Errorf("server not settled after %v (SettleTimeout): %s", SettleTimeout, busy)
		case <-time.After(SettlePoll):
		}
	}
}

// unsettled reads server's /metrics and says what is still pending ("" when
// nothing is).
func unsettled(ctx context.Context, server string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(server, "/")+"/metrics", nil)
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%s/metrics: %s", server, resp.Status)
	}
	appended, consumed, depth := -1.0, map[string]float64{}, 0.0
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		series, v, ok := strings.Cut(sc.Text(), " ")
		if !ok || strings.HasPrefix(series, "#") {
			continue
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil {
			continue
		}
		switch {
		case series == "trtcd_events_appended_total":
			appended = f
		case strings.HasPrefix(series, "trtcd_events_consumed_total{"):
			consumed[series] = f
		case series == "trtcd_callback_outbox_depth":
			depth = f
		}
	}
	if err := sc.Err(); err != nil {
		return "", err
	}
	for series, c := range consumed {
		if c < appended {
			return fmt.Sprintf("%s %.0f of %.0f appended", series, c, appended), nil
		}
	}
	if depth > 0 {
		return fmt.Sprintf("callback outbox depth %.0f", depth), nil
	}
	return "", nil
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

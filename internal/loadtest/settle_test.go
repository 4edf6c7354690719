package loadtest_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trtcd/trtcd/internal/config"
	"github.com/trtcd/trtcd/internal/loadtest"
	tk "github.com/trtcd/trtcd/internal/testkit"
)

// TestSettleWaitsForCallbacks: with a receiver that refuses its first
// requests, Settle returns only once the node has delivered the callbacks
// of a join that returned before Settle began (101 room created and 103
// enter), whatever the retries took.
func TestSettleWaitsForCallbacks(t *testing.T) {
	var mu sync.Mutex
	refused, delivered := 0, 0
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		mu.Lock()
		defer mu.Unlock()
		if refused < 3 {
			refused++
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		delivered++
		w.Write([]byte(`{"code":0}`))
	}))
	defer recv.Close()
	cfg := tk.Config()
	cfg.Accounts[0].Apps[0].Callback = &config.Callback{URL: recv.URL}
	cfg.Callbacks.RetryInterval = config.Duration{Duration: 50 * time.Millisecond}
	n := tk.Start(t, cfg)
	c := tk.Join(t, n.Addr(), tk.App, tk.AppKey, "alice", 7, "")
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := loadtest.Settle(ctx, "http://"+n.Addr()); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if refused != 3 || delivered != 2 {
		t.Fatalf("Settle returned after %d refused and %d delivered callbacks, want 3 and 2 (101, 103)", refused, delivered)
	}
}

// TestSettleWithoutConsumers: a node without callbacks or history has
// nothing to wait for; a server that does not answer is an error.
func TestSettleWithoutConsumers(t *testing.T) {
	n := tk.Start(t, tk.Config())
	tk.Join(t, n.Addr(), tk.App, tk.AppKey, "alice", 7, "").Close()
	if _, err := loadtest.Settle(context.Background(), "http://"+n.Addr()); err != nil {
		t.Fatalf("Settle on a node without consumers: %v", err)
	}
	if _, err := loadtest.Settle(context.Background(), "http://127.0.0.1:1"); err == nil {
		t.Fatal("Settle on a closed port returned no error")
	}
}

// TestWatchLagReadsEachGroupsBacklog: the watch reads appended minus
// consumed per group from /metrics text (served here as a node writes it,
// with the numbers changing between reads) and keeps each group's largest.
func TestWatchLagReadsEachGroupsBacklog(t *testing.T) {
	srv := serveMetrics(t, func(n int64) string {
		history := 4.0
		if n > 1 {
			history = 9 // caught up (or nearly) after the first read
		}
		return fmt.Sprintf("# HELP trtcd_events_appended_total x\n# TYPE trtcd_events_appended_total counter\n"+
			"trtcd_events_appended_total 10\n"+
			"trtcd_events_consumed_total{group=\"callbacks\"} 10\n"+
			"trtcd_events_consumed_total{group=\"history\"} %g\n"+
			"trtcd_callback_outbox_depth 0\n", history)
	})
	w := loadtest.WatchLag(context.Background(), srv.URL)
	for srv.Reads() < 3 {
		time.Sleep(10 * time.Millisecond)
	}
	got := w.Stop()
	if got["history"] != 6 || got["callbacks"] != 0 || len(got) != 2 {
		t.Fatalf("largest backlogs %v, want history 6 and callbacks 0", got)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := loadtest.Settle(ctx, srv.URL); err == nil || !strings.Contains(err.Error(), "history") {
		t.Fatalf("Settle with history one event behind = %v, want an error naming the group", err)
	}
}

// TestWatchLagStopsWithoutGroups: a server without consumer groups is read
// once, not every LagPoll for the whole phase.
func TestWatchLagStopsWithoutGroups(t *testing.T) {
	srv := serveMetrics(t, func(int64) string {
		return "# TYPE trtcd_events_appended_total counter\ntrtcd_events_appended_total 10\n"
	})
	w := loadtest.WatchLag(context.Background(), srv.URL)
	time.Sleep(3 * loadtest.LagPoll) // would be 3 more reads if it kept watching
	if got := w.Stop(); len(got) != 0 {
		t.Fatalf("backlog %v from a server without groups", got)
	}
	if reads := srv.Reads(); reads != 1 {
		t.Fatalf("%d reads of /metrics, want 1", reads)
	}
}

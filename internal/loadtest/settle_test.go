package loadtest_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
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

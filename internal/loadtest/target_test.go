package loadtest_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/trtcd/trtcd/internal/loadtest"
	tk "github.com/trtcd/trtcd/internal/testkit"
)

// TestServerFiguresFromMetrics: the load tool reads the server's resident
// memory and CPU time from a real node's /metrics (the process collector's
// names).
func TestServerFiguresFromMetrics(t *testing.T) {
	n := tk.Start(t, tk.Config())
	server := "http://" + n.Addr()
	rss, err := loadtest.ServerRSS(server)
	if err != nil || rss <= 0 {
		t.Fatalf("ServerRSS = %d, %v", rss, err)
	}
	if cpu, err := loadtest.ServerCPU(server); err != nil || cpu <= 0 {
		t.Fatalf("ServerCPU = %v, %v", cpu, err)
	}
}

// TestServerFiguresFromOlderBuild: a trtcd from before the standard process
// metrics exported trtcd_process_resident_bytes and
// trtcd_process_cpu_seconds_total; the load tool reads those when the
// standard names are absent (so scripts/bench-compare.sh can drive an older
// build with this one's tool), and names both when neither is there.
func TestServerFiguresFromOlderBuild(t *testing.T) {
	serve := func(body string) *httptest.Server {
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/metrics" {
				io.WriteString(w, body)
			}
		}))
		t.Cleanup(s.Close)
		return s
	}
	older := serve("# HELP trtcd_process_resident_bytes x\ntrtcd_process_resident_bytes 12345678\ntrtcd_process_cpu_seconds_total 1.25\n")
	if rss, err := loadtest.ServerRSS(older.URL); err != nil || rss != 12345678 {
		t.Fatalf("ServerRSS = %d, %v; want 12345678", rss, err)
	}
	if cpu, err := loadtest.ServerCPU(older.URL); err != nil || cpu != 1.25 {
		t.Fatalf("ServerCPU = %v, %v; want 1.25", cpu, err)
	}
	_, err := loadtest.ServerCPU(serve("other_metric 1\n").URL)
	if err == nil || !strings.Contains(err.Error(), "process_cpu_seconds_total or trtcd_process_cpu_seconds_total") {
		t.Fatalf("ServerCPU without either name: %v", err)
	}
}

// TestBaselineRSSAfterWarmScrapes: a server reports its RSS before the
// scrape's own allocations, so the first scrapes' one-time cost shows only
// in later reads. BaselineRSS reads past them: its figure is the one a
// later ServerRSS compares with, and the one-time cost is not charged to
// the clients joined in between.
func TestBaselineRSSAfterWarmScrapes(t *testing.T) {
	var scrapes atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := min(scrapes.Add(1), loadtest.WarmScrapes+1) // grows by 1 MB on each of the first scrapes
		fmt.Fprintf(w, "process_resident_memory_bytes %d\n", 20<<20+(n-1)<<20)
	}))
	t.Cleanup(srv.Close)
	base, err := loadtest.BaselineRSS(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if want := int64(20<<20 + loadtest.WarmScrapes<<20); base != want || scrapes.Load() != loadtest.WarmScrapes+1 {
		t.Fatalf("BaselineRSS = %d after %d scrapes; want %d after %d", base, scrapes.Load(), want, loadtest.WarmScrapes+1)
	}
	if later, _ := loadtest.ServerRSS(srv.URL); later != base {
		t.Fatalf("a later ServerRSS = %d, BaselineRSS %d: the one-time cost would count as the clients'", later, base)
	}
}

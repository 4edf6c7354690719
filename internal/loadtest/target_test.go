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

// metricsServer serves /metrics as body(n) on its n-th read (from 1) and
// counts the reads; it stops when the test ends.
type metricsServer struct {
	URL   string
	reads atomic.Int64
}

func serveMetrics(t *testing.T, body func(n int64) string) *metricsServer {
	m := &metricsServer{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, body(m.reads.Add(1)))
	}))
	t.Cleanup(srv.Close)
	m.URL = srv.URL
	return m
}

// Reads is how many times /metrics was read.
func (m *metricsServer) Reads() int64 { return m.reads.Load() }

// TestServerFiguresFromOlderBuild: a trtcd from before the standard process
// metrics exported trtcd_process_resident_bytes and
// trtcd_process_cpu_seconds_total; the load tool reads those when the
// standard names are absent (so scripts/bench-compare.sh can drive an older
// build with this one's tool), and names both when neither is there.
func TestServerFiguresFromOlderBuild(t *testing.T) {
	text := func(body string) func(int64) string { return func(int64) string { return body } }
	older := serveMetrics(t, text("# HELP trtcd_process_resident_bytes x\ntrtcd_process_resident_bytes 12345678\ntrtcd_process_cpu_seconds_total 1.25\n"))
	if rss, err := loadtest.ServerRSS(older.URL); err != nil || rss != 12345678 {
		t.Fatalf("ServerRSS = %d, %v; want 12345678", rss, err)
	}
	if cpu, err := loadtest.ServerCPU(older.URL); err != nil || cpu != 1.25 {
		t.Fatalf("ServerCPU = %v, %v; want 1.25", cpu, err)
	}
	_, err := loadtest.ServerCPU(serveMetrics(t, text("other_metric 1\n")).URL)
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
	srv := serveMetrics(t, func(n int64) string { // grows by 1 MB on each of the first scrapes
		return fmt.Sprintf("process_resident_memory_bytes %d\n", 20<<20+(min(n, loadtest.WarmScrapes+1)-1)<<20)
	})
	base, err := loadtest.BaselineRSS(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if want := int64(20<<20 + loadtest.WarmScrapes<<20); base != want || srv.Reads() != loadtest.WarmScrapes+1 {
		t.Fatalf("BaselineRSS = %d after %d scrapes; want %d after %d", base, srv.Reads(), want, loadtest.WarmScrapes+1)
	}
	if later, _ := loadtest.ServerRSS(srv.URL); later != base {
		t.Fatalf("a later ServerRSS = %d, BaselineRSS %d: the one-time cost would count as the clients'", later, base)
	}
}

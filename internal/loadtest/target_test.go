package loadtest_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
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

// TestReadsOnlyTheMetricsItNeeds: the load tool names the metric families
// it reads (name[]), and a node's /metrics then answers only those: a
// benchmark reads /metrics every 20-100 ms while it measures the server's
// CPU, and a whole read cost the server 1.1-1.6 ms.
func TestReadsOnlyTheMetricsItNeeds(t *testing.T) {
	n := tk.Start(t, tk.Config())
	resp, err := http.Get("http://" + n.Addr() + "/metrics?name[]=process_cpu_seconds_total&name[]=trtcd_events_appended_total")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	families := map[string]bool{}
	for _, line := range strings.Split(string(body), "\n") {
		if name, ok := strings.CutPrefix(line, "# TYPE "); ok {
			families[strings.Fields(name)[0]] = true
		}
	}
	if len(families) != 2 || !families["process_cpu_seconds_total"] || !families["trtcd_events_appended_total"] {
		t.Fatalf("a node's /metrics with name[] filters gave the families %v, want only the two named", families)
	}

	srv := serveMetrics(t, func(int64) string { return "process_cpu_seconds_total 1\ntrtcd_events_appended_total 0\n" })
	if _, err := loadtest.ServerCPU(srv.URL); err != nil {
		t.Fatal(err)
	}
	if _, err := loadtest.Settle(context.Background(), srv.URL); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"name%5B%5D=process_cpu_seconds_total&name%5B%5D=trtcd_process_cpu_seconds_total",                                      // ServerCPU
		"name%5B%5D=trtcd_events_consumed_total&name%5B%5D=trtcd_events_appended_total&name%5B%5D=trtcd_callback_outbox_depth", // Settle
	}
	if got := srv.Queries(); len(got) < 2 || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("the load tool asked for %q, want %q then %q", got, want[0], want[1])
	}
}

// metricsServer serves /metrics as body(n) on its n-th read (from 1) and
// counts the reads and keeps their query strings; it stops when the test ends.
type metricsServer struct {
	URL     string
	reads   atomic.Int64
	mu      sync.Mutex
	queries []string
}

func serveMetrics(t *testing.T, body func(n int64) string) *metricsServer {
	m := &metricsServer{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.mu.Lock()
		m.queries = append(m.queries, r.URL.RawQuery)
		m.mu.Unlock()
		io.WriteString(w, body(m.reads.Add(1)))
	}))
	t.Cleanup(srv.Close)
	m.URL = srv.URL
	return m
}

// Reads is how many times /metrics was read.
func (m *metricsServer) Reads() int64 { return m.reads.Load() }

// Queries are the query strings of the reads so far.
func (m *metricsServer) Queries() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.queries...)
}

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

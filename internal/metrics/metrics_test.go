package metrics

import (
	"io"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func TestOwnOnlyNames(t *testing.T) {
	for _, c := range []struct {
		names []string
		want  bool
	}{
		{nil, false}, // no filter: everything
		{[]string{"trtcd_events_appended_total"}, true},
		{[]string{"trtcd_events_appended_total", "trtcd_callback_outbox_depth"}, true},
		{[]string{"trtcd_events_appended_total", "process_cpu_seconds_total"}, false},
		{[]string{"go_goroutines"}, false},
		{[]string{"trtcd"}, false},
		{[]string{""}, false},
	} {
		if got := ownOnly(c.names); got != c.want {
			t.Errorf("ownOnly(%q) = %v, want %v", c.names, got, c.want)
		}
	}
}

// countingCollector counts its Collect calls.
type countingCollector struct {
	desc  *prometheus.Desc
	calls atomic.Int64
}

func (c *countingCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }
func (c *countingCollector) Collect(ch chan<- prometheus.Metric) {
	c.calls.Add(1)
	ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, 1)
}

// TestHandlerSkipsRuntimeCollectorsForOwnFamilies: a scrape whose name[]
// filter names only trtcd_ families gets them without running the runtime
// registry's collectors (the process collector reads /proc); any other
// scrape runs them and gets both registries' families.
func TestHandlerSkipsRuntimeCollectorsForOwnFamilies(t *testing.T) {
	s := New()
	probe := &countingCollector{desc: prometheus.NewDesc("process_probe", "counts its collections", nil, nil)}
	s.runtime.MustRegister(probe)
	own := prometheus.NewGauge(prometheus.GaugeOpts{Name: "trtcd_probe", Help: "x"})
	s.Registry.MustRegister(own)
	scrape := func(query string) string {
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics"+query, nil))
		b, _ := io.ReadAll(rec.Body)
		return string(b)
	}
	body := scrape("?name[]=trtcd_probe")
	if !strings.Contains(body, "trtcd_probe 0") || strings.Contains(body, "process_") || probe.calls.Load() != 0 {
		t.Fatalf("own-only scrape: body %q, runtime collector ran %d times; want trtcd_probe alone and no run", body, probe.calls.Load())
	}
	body = scrape("?name[]=trtcd_probe&name[]=process_probe")
	if !strings.Contains(body, "trtcd_probe 0") || !strings.Contains(body, "process_probe 1") || probe.calls.Load() != 1 {
		t.Fatalf("mixed scrape: body %q, runtime collector ran %d times; want both families and one run", body, probe.calls.Load())
	}
	body = scrape("")
	for _, family := range []string{"trtcd_probe", "process_probe", "go_goroutines", "process_cpu_seconds_total"} {
		if !strings.Contains(body, "\n"+family+" ") {
			t.Errorf("a full scrape has no %s", family)
		}
	}
}

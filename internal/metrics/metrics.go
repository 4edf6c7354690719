// Package metrics is one node's Prometheus metrics: a registry of its own
// (several nodes in one process do not collide), the standard Go and process
// collectors, and the metrics recorded as things happen (API calls, Redis
// calls) rather than read from the parts' counters when /metrics is scraped.
// docs/metrics.md lists every metric.
package metrics

import (
	"net/http"
	"strings"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Namespace prefixes every trtcd metric.
const Namespace = "trtcd"

// Set is one node's metrics.
type Set struct {
	Registry *prometheus.Registry // trtcd's own metrics (trtcd_…)
	API      *API
	Redis    *Redis

	runtime  *prometheus.Registry // the Go and process collectors (go_…, process_…)
	eventLog atomic.Pointer[EventLog]
}

// New makes a node's metrics: a fresh registry with the Redis metrics and
// the event-log collector (empty until SetEventLog), and one with the Go
// and process collectors. The API metrics come with the actions' names
// (SetActions).
func New() *Set {
	s := &Set{Registry: prometheus.NewRegistry(), runtime: prometheus.NewRegistry(), Redis: newRedis()}
	s.Registry.MustRegister(s.Redis, eventLogCollector{s})
	s.runtime.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return s
}

// SetActions makes the API metrics, with a child resolved in advance for
// each of the named actions; it is called once.
func (s *Set) SetActions(actions []string) {
	s.API = newAPI(actions)
	s.Registry.MustRegister(s.API)
}

// Handler serves both registries in the Prometheus text format; with the
// name[] filter, only the named families. A scrape that names only trtcd_
// families does not run the Go and process collectors (ownOnly): they read
// /proc (the process's stat, netstat and open descriptors), about 1 ms of
// CPU per scrape, and the load tool reads the event-log lag this way every
// 20-100 ms while it measures a server's CPU (docs/metrics.md).
func (s *Set) Handler() http.Handler {
	all := promhttp.HandlerFor(prometheus.Gatherers{s.Registry, s.runtime}, promhttp.HandlerOpts{})
	own := promhttp.HandlerFor(s.Registry, promhttp.HandlerOpts{})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ownOnly(r.URL.Query()["name[]"]) {
			own.ServeHTTP(w, r)
			return
		}
		all.ServeHTTP(w, r)
	})
}

// ownOnly is whether a scrape's name[] filter names only trtcd's own
// families (and names any).
func ownOnly(names []string) bool {
	for _, n := range names {
		if !strings.HasPrefix(n, Namespace+"_") {
			return false
		}
	}
	return len(names) > 0
}

// name is a metric's full name.
func name(n string) string { return Namespace + "_" + n }

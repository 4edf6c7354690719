// Package metrics is one node's Prometheus metrics: a registry of its own
// (several nodes in one process do not collide), the standard Go and process
// collectors, and the metrics recorded as things happen (API calls, Redis
// calls) rather than read from the parts' counters when /metrics is scraped.
// docs/metrics.md lists every metric.
package metrics

import (
	"net/http"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Namespace prefixes every trtcd metric.
const Namespace = "trtcd"

// Set is one node's metrics.
type Set struct {
	Registry *prometheus.Registry
	API      *API
	Redis    *Redis

	eventLog atomic.Pointer[EventLog]
}

// New makes a node's metrics: a fresh registry with the Go and process
// collectors, the Redis metrics and the event-log collector (empty until
// SetEventLog). The API metrics come with the actions' names (SetActions).
func New() *Set {
	s := &Set{Registry: prometheus.NewRegistry(), Redis: newRedis()}
	s.Registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		s.Redis, eventLogCollector{s},
	)
	return s
}

// SetActions makes the API metrics, with a child resolved in advance for
// each of the named actions; it is called once.
func (s *Set) SetActions(actions []string) {
	s.API = newAPI(actions)
	s.Registry.MustRegister(s.API)
}

// Handler serves the registry in the Prometheus text format.
func (s *Set) Handler() http.Handler {
	return promhttp.HandlerFor(s.Registry, promhttp.HandlerOpts{})
}

// name is a metric's full name.
func name(n string) string { return Namespace + "_" + n }

package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

var redisBuckets = []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1}

// Redis times the node's Redis calls (a command or a pipeline) and counts
// the failed ones by kind (the kinds are cluster.CallError's names).
type Redis struct {
	duration prometheus.Histogram
	errors   *prometheus.CounterVec
	byKind   *counterCache
}

func newRedis() *Redis {
	r := &Redis{
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{Name: name("redis_request_duration_seconds"),
			Help: "Redis calls (one command or one pipeline) and how long they took, failed ones included.", Buckets: redisBuckets}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: name("redis_errors_total"),
			Help: "Redis calls that failed, by kind: timeout, connection, reply."}, []string{"kind"}),
	}
	r.byKind = newCounterCache(r.errors)
	return r
}

// Observe records one Redis call; kind is "" when it succeeded.
func (r *Redis) Observe(elapsed time.Duration, kind string) {
	r.duration.Observe(elapsed.Seconds())
	if kind != "" {
		r.byKind.get(kind).Inc()
	}
}

func (r *Redis) Describe(ch chan<- *prometheus.Desc) {
	r.duration.Describe(ch)
	r.errors.Describe(ch)
}

func (r *Redis) Collect(ch chan<- prometheus.Metric) {
	r.duration.Collect(ch)
	r.errors.Collect(ch)
}

package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// UnknownAction is the action label of calls that named no registered
// action (or failed before naming one): client input never becomes a label.
const UnknownAction = "unknown"

// apiBuckets are the API latency histogram's upper bounds in seconds: a
// signed call on loopback takes about half a millisecond, one through Redis a
// few.
var apiBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5}

// API counts API calls by action and code and times them by action. The
// children of each label set are resolved once and cached, so a call costs
// two map lookups and two atomic updates, and allocates nothing.
type API struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	actions  map[string]apiAction // read-only after newAPI
}

type apiAction struct {
	duration prometheus.Observer
	codes    *counterCache
}

func newAPI(actions []string) *API {
	a := &API{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: name("api_requests_total"),
			Help: "API calls answered, by action and code (OK on success)."}, []string{"action", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name("api_request_duration_seconds"),
			Help: "Time from a request's headers to its answer, by action.", Buckets: apiBuckets}, []string{"action"}),
		actions: map[string]apiAction{},
	}
	for _, n := range append([]string{UnknownAction}, actions...) {
		a.actions[n] = apiAction{duration: a.duration.WithLabelValues(n), codes: newCounterCache(a.requests, n)}
	}
	return a
}

// Observe records one answered call: action is the registered action's
// name ("" when none was found), code the error code or "OK".
func (a *API) Observe(action, code string, elapsed time.Duration) {
	act, ok := a.actions[action]
	if !ok {
		act = a.actions[UnknownAction]
	}
	act.duration.Observe(elapsed.Seconds())
	act.codes.get(code).Inc()
}

func (a *API) Describe(ch chan<- *prometheus.Desc) {
	a.requests.Describe(ch)
	a.duration.Describe(ch)
}

func (a *API) Collect(ch chan<- prometheus.Metric) {
	a.requests.Collect(ch)
	a.duration.Collect(ch)
}

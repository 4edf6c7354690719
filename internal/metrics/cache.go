package metrics

import (
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// counterCache resolves the children of a CounterVec whose last label takes
// a few values not known in advance (an API error code, a Redis error kind):
// each child is resolved once, and the map of resolved children is copied on
// write, so a lookup takes no lock and allocates nothing.
type counterCache struct {
	vec    *prometheus.CounterVec
	fixed  []string // the values of the labels before the last one
	mu     sync.Mutex
	byLast atomic.Pointer[map[string]prometheus.Counter]
}

func newCounterCache(vec *prometheus.CounterVec, fixed ...string) *counterCache {
	c := &counterCache{vec: vec, fixed: fixed}
	c.byLast.Store(&map[string]prometheus.Counter{})
	return c
}

// get returns the child for the last label's value v.
func (c *counterCache) get(v string) prometheus.Counter {
	if ctr := (*c.byLast.Load())[v]; ctr != nil {
		return ctr
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	old := *c.byLast.Load()
	if ctr := old[v]; ctr != nil {
		return ctr
	}
	ctr := c.vec.WithLabelValues(append(append([]string(nil), c.fixed...), v)...)
	next := make(map[string]prometheus.Counter, len(old)+1)
	for k, x := range old {
		next[k] = x
	}
	next[v] = ctr
	c.byLast.Store(&next)
	return ctr
}

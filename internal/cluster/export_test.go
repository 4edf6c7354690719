package cluster

import "time"

// Hooks for the external tests of this package.

// WithSleep sets the watcher's reconnect pause function.
func WithSleep(o Options, f func(time.Duration, <-chan struct{}) bool) Options {
	o.sleep = f
	return o
}

// SkewClock moves this registry's idea of Redis's clock by d (its deadlines
// move with it) until the next heartbeat measures it again.
func (r *Registry) SkewClock(d time.Duration) { r.offset.Add(int64(d)) }

// Pauses is the first n pauses of the reconnect backoff with jitter j.
func Pauses(n int, j func(int64) int64) []time.Duration {
	b := backoff{jitter: j}
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = b.next()
	}
	return out
}

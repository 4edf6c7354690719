package cloudapi

import (
	"context"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limiter decides whether one more call of an account to an action fits in
// the limit of N calls per second. On refusal it also returns how many calls
// were made in the last second, this one included, for the cloud's message.
// The in-memory limiter counts per node; the cluster one counts in Redis.
type Limiter interface {
	Allow(ctx context.Context, account, action string, limit int) (ok bool, count int, err error)
}

// exactLimit is the largest limit counted with an exact sliding window;
// larger limits (benchmarks, trusted backends) use a token bucket, whose
// memory does not grow with the limit.
const exactLimit = 1024

// MemoryLimiter allows a call when fewer than N calls were allowed in the
// second before it (an exact sliding window): 30 calls at once give exactly
// 20 successes for a limit of 20, and calls are served again a second later.
type MemoryLimiter struct {
	mu      sync.Mutex
	windows map[limitKey]*window
	now     func() time.Time
}

type limitKey struct{ account, action string }

// window holds the times of the last N allowed calls in a ring (the oldest
// at next), and the refusals since the window was last full.
type window struct {
	allowed      []int64 // Unix nanoseconds
	next         int
	bucket       *rate.Limiter // instead of the ring, for limits above exactLimit
	refused      int
	refusedSince int64
}

func NewMemoryLimiter(now func() time.Time) *MemoryLimiter {
	if now == nil {
		now = time.Now
	}
	return &MemoryLimiter{windows: map[limitKey]*window{}, now: now}
}

func (m *MemoryLimiter) Allow(_ context.Context, account, action string, limit int) (bool, int, error) {
	if limit <= 0 {
		return true, 0, nil
	}
	now := m.now()
	ns := now.UnixNano()
	m.mu.Lock()
	defer m.mu.Unlock()
	k := limitKey{account, action}
	w := m.windows[k]
	if w == nil || (w.bucket == nil && len(w.allowed) != limit) || (w.bucket != nil && w.bucket.Burst() != limit) {
		w = &window{}
		if limit <= exactLimit {
			w.allowed = make([]int64, limit)
		} else {
			w.bucket = rate.NewLimiter(rate.Limit(limit), limit)
		}
		m.windows[k] = w
	}
	var ok bool
	if w.bucket != nil {
		ok = w.bucket.AllowN(now, 1)
	} else if oldest := w.allowed[w.next]; oldest == 0 || ns-oldest >= int64(time.Second) {
		w.allowed[w.next] = ns
		w.next = (w.next + 1) % limit
		ok = true
	}
	if ok {
		return true, 0, nil
	}
	if ns-w.refusedSince >= int64(time.Second) {
		w.refused, w.refusedSince = 0, ns
	}
	w.refused++
	return false, limit + w.refused, nil
}

package cloudapi

import (
	"context"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limiter decides whether one more call of an account to an action fits in
// the limit of N calls per second (burst N). It returns the number of calls
// counted in the current second, for the cloud's message. The in-memory
// limiter below counts per node; the cluster one counts in Redis.
type Limiter interface {
	Allow(ctx context.Context, account, action string, limit int) (ok bool, count int, err error)
}

// MemoryLimiter is a token bucket per (account, action), plus a one-second
// window counter that only feeds the error message.
type MemoryLimiter struct {
	mu      sync.Mutex
	buckets map[limitKey]*bucket
	now     func() time.Time
}

type limitKey struct{ account, action string }

type bucket struct {
	lim         *rate.Limiter
	windowStart time.Time
	count       int
}

func NewMemoryLimiter(now func() time.Time) *MemoryLimiter {
	if now == nil {
		now = time.Now
	}
	return &MemoryLimiter{buckets: map[limitKey]*bucket{}, now: now}
}

func (m *MemoryLimiter) Allow(_ context.Context, account, action string, limit int) (bool, int, error) {
	if limit <= 0 {
		return true, 0, nil
	}
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	k := limitKey{account, action}
	b := m.buckets[k]
	if b == nil || b.lim.Burst() != limit {
		b = &bucket{lim: rate.NewLimiter(rate.Limit(limit), limit)}
		m.buckets[k] = b
	}
	if now.Sub(b.windowStart) >= time.Second {
		b.windowStart, b.count = now, 0
	}
	b.count++
	return b.lim.AllowN(now, 1), b.count, nil
}

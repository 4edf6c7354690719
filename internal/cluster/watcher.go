package cluster

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// Reconnect policy of the pub/sub connection: after it fails, the watcher
// waits before each new attempt, doubling from ReconnectMin up to
// ReconnectMax, with jitter (each pause lies in [cur/2, cur]), so that a
// Redis that refuses connections costs a few dials per second per node, and
// nodes do not redial in step. The outage is logged once, and its end once.
const (
	ReconnectMin = 50 * time.Millisecond
	ReconnectMax = time.Second
)

// backoff is the reconnect pause sequence.
type backoff struct {
	cur    time.Duration
	jitter func(n int64) int64 // uniform in [0, n]
}

// next is the pause before the next attempt.
func (b *backoff) next() time.Duration {
	if b.cur == 0 {
		b.cur = ReconnectMin
	} else {
		b.cur = min(2*b.cur, ReconnectMax)
	}
	half := b.cur / 2
	return half + time.Duration(b.jitter(int64(half)))
}

func (b *backoff) reset() { b.cur = 0 }

func uniformJitter(n int64) int64 { return rand.Int64N(n + 1) }

// watcher holds this node's one pub/sub connection: the event channels of
// the rooms where it holds sessions. A subscribe returns only once Redis has
// confirmed it, so a join that follows cannot miss its room's events. After a
// reconnect go-redis subscribes to the same channels again.
type watcher struct {
	ps      *redis.PubSub
	deliver func(payload string)
	log     *slog.Logger
	sleep   func(d time.Duration, stop <-chan struct{}) bool // false: stopped

	up       atomic.Bool   // the connection is believed to work
	attempts atomic.Uint64 // reconnection attempts
	outages  atomic.Uint64 // times the connection was lost

	mu      sync.Mutex
	waiting map[string][]chan struct{}
	stop    chan struct{}
	done    chan struct{}
}

func newWatcher(rdb redis.UniversalClient, deliver func(string), log *slog.Logger, sleep func(time.Duration, <-chan struct{}) bool) *watcher {
	if sleep == nil {
		sleep = sleepUnlessStopped
	}
	w := &watcher{ps: rdb.Subscribe(context.Background()), deliver: deliver, log: log, sleep: sleep,
		waiting: map[string][]chan struct{}{}, stop: make(chan struct{}), done: make(chan struct{})}
	w.up.Store(true)
	go w.run()
	return w
}

func sleepUnlessStopped(d time.Duration, stop <-chan struct{}) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-stop:
		return false
	}
}

func (w *watcher) run() {
	defer close(w.done)
	b := backoff{jitter: uniformJitter}
	for {
		if !w.up.Load() {
			// Redis is away: wait, then reconnect (go-redis subscribes to
			// the same channels again) and ask for a pong to know it worked.
			// Room events published meanwhile are lost; the registry
			// re-registers its sessions when it notices Redis lost them.
			if !w.sleep(b.next(), w.stop) {
				return
			}
			w.attempts.Add(1)
			if err := w.ps.Ping(context.Background()); err != nil {
				if errors.Is(err, redis.ErrClosed) {
					return
				}
				continue
			}
		}
		msg, err := w.ps.Receive(context.Background())
		if err != nil {
			if errors.Is(err, redis.ErrClosed) {
				return
			}
			if w.up.CompareAndSwap(true, false) {
				w.outages.Add(1)
				w.log.Warn("redis pub/sub connection lost: reconnecting with backoff", "err", err.Error(),
					"min_pause", ReconnectMin.String(), "max_pause", ReconnectMax.String())
			}
			continue
		}
		if w.up.CompareAndSwap(false, true) {
			b.reset()
			w.log.Info("redis pub/sub connection restored")
		}
		switch m := msg.(type) {
		case *redis.Message:
			w.deliver(m.Payload)
		case *redis.Subscription:
			if m.Kind == "subscribe" {
				w.mu.Lock()
				for _, ch := range w.waiting[m.Channel] {
					close(ch)
				}
				delete(w.waiting, m.Channel)
				w.mu.Unlock()
			}
		}
	}
}

func (w *watcher) subscribe(ctx context.Context, channel string) error {
	ch := make(chan struct{})
	w.mu.Lock()
	w.waiting[channel] = append(w.waiting[channel], ch)
	w.mu.Unlock()
	if err := w.ps.Subscribe(ctx, channel); err != nil {
		w.forget(channel, ch)
		return err
	}
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		w.forget(channel, ch)
		return ctx.Err()
	}
}

func (w *watcher) forget(channel string, ch chan struct{}) {
	w.mu.Lock()
	defer w.mu.Unlock()
	list := w.waiting[channel]
	for i, c := range list {
		if c == ch {
			w.waiting[channel] = append(list[:i], list[i+1:]...)
			break
		}
	}
	if len(w.waiting[channel]) == 0 {
		delete(w.waiting, channel)
	}
}

func (w *watcher) unsubscribe(ctx context.Context, channel string) error {
	return w.ps.Unsubscribe(ctx, channel)
}

func (w *watcher) close() error {
	close(w.stop)
	err := w.ps.Close()
	<-w.done
	return err
}

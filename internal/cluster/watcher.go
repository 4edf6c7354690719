package cluster

import (
	"context"
	"log/slog"
	"sync"

	"github.com/redis/go-redis/v9"
)

// watcher holds this node's one pub/sub connection: the event channels of
// the rooms where it holds sessions. A subscribe returns only once Redis has
// confirmed it, so a join that follows cannot miss its room's events. After a
// reconnect go-redis subscribes to the same channels again.
type watcher struct {
	ps      *redis.PubSub
	deliver func(payload string)
	log     *slog.Logger

	mu      sync.Mutex
	waiting map[string][]chan struct{}
	done    chan struct{}
}

func newWatcher(rdb redis.UniversalClient, deliver func(string), log *slog.Logger) *watcher {
	w := &watcher{ps: rdb.Subscribe(context.Background()), deliver: deliver, log: log,
		waiting: map[string][]chan struct{}{}, done: make(chan struct{})}
	go w.run()
	return w
}

func (w *watcher) run() {
	defer close(w.done)
	for {
		msg, err := w.ps.Receive(context.Background())
		if err != nil {
			if err == redis.ErrClosed {
				return
			}
			// Redis is away: go-redis reconnects and resubscribes on the next
			// Receive. Room events published meanwhile are lost, and the
			// registry re-registers its sessions when it notices.
			continue
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
	err := w.ps.Close()
	<-w.done
	return err
}

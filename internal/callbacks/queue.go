package callbacks

import (
	"sync"
	"time"
)

// A lane is one room's pending events. At most one of them is in flight, so
// a room's callbacks go out in order; lanes of one app share the app's
// workers, and every app has its own workers and connections, so a slow or
// dead receiver holds up nothing but its own app.
type lane struct {
	room   string
	rows   []*row // the first pending events, in order; rows[0] is the head
	more   bool   // the store may hold pending events after rows
	missed uint64 // events added while more was set (a load in progress must not clear more)
	lastID int64  // the last id put in rows: older ids are never taken again
	state  laneState
	timer  *time.Timer // set while the head waits for its retry
	marks  int         // store changes for this room not yet committed
}

type laneState uint8

const (
	laneIdle  laneState = iota // nothing to send now, or waiting for a retry
	laneReady                  // queued for a worker
	laneBusy                   // a worker holds it
)

// appQueue schedules one app's lanes onto its workers.
type appQueue struct {
	s       *Sender
	cfg     AppConfig
	filter  map[int]bool
	wire    *wire // the receiver's connections
	wireErr error // the URL could not be used (config validation refuses it first)

	mu     sync.Mutex
	cond   *sync.Cond
	rooms  map[string]*lane
	ready  []*lane // FIFO of laneReady lanes
	closed bool
}

func newAppQueue(s *Sender, cfg AppConfig) *appQueue {
	q := &appQueue{s: s, cfg: cfg, rooms: map[string]*lane{}}
	q.wire, q.wireErr = newWire(cfg.URL, s.opts)
	q.cond = sync.NewCond(&q.mu)
	if len(cfg.Events) > 0 {
		q.filter = map[int]bool{}
		for _, t := range cfg.Events {
			q.filter[t] = true
		}
	}
	return q
}

func (q *appQueue) wants(eventType int) bool { return q.filter == nil || q.filter[eventType] }

// laneOf returns room's lane, creating it. Caller holds mu.
func (q *appQueue) laneOf(room string) *lane {
	l := q.rooms[room]
	if l == nil {
		l = &lane{room: room}
		q.rooms[room] = l
	}
	return l
}

// add takes an event just accepted by the store. A new lane reads the
// store first when older events of its room may wait there (olderMayWait).
func (q *appQueue) add(r *row) {
	q.mu.Lock()
	defer q.mu.Unlock()
	l := q.rooms[r.room]
	if l == nil {
		l = q.laneOf(r.room)
		l.more = q.s.olderMayWait()
	}
	switch {
	case r.id <= l.lastID: // already read from the store
	case l.more || len(l.rows) >= laneBuffer:
		l.more = true
		l.missed++
	default:
		l.rows = append(l.rows, r)
		l.lastID = r.id
	}
	q.wake(l)
}

// resume notes that the store holds pending events of room.
func (q *appQueue) resume(room string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	l := q.laneOf(room)
	l.more = true
	l.missed++
	q.wake(l)
}

// wake queues an idle lane that has something to send. Caller holds mu.
func (q *appQueue) wake(l *lane) {
	if l.state == laneIdle && l.timer == nil && (len(l.rows) > 0 || l.more) && !q.closed {
		l.state = laneReady
		q.ready = append(q.ready, l)
		q.cond.Signal()
	}
}

// drop forgets a lane with nothing left to do. Caller holds mu.
func (q *appQueue) drop(l *lane) {
	if l.state == laneIdle && l.timer == nil && len(l.rows) == 0 && !l.more && l.marks == 0 && q.rooms[l.room] == l {
		delete(q.rooms, l.room)
	}
}

func (q *appQueue) shutdown() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.closed = true
	for _, l := range q.rooms {
		if l.timer != nil {
			l.timer.Stop()
		}
	}
	q.cond.Broadcast()
}

// next waits for a ready lane; nil once the queue is shut down.
func (q *appQueue) next() *lane {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.ready) == 0 && !q.closed {
		q.cond.Wait()
	}
	if q.closed {
		return nil
	}
	l := q.ready[0]
	q.ready[0] = nil
	q.ready = q.ready[1:]
	l.state = laneBusy
	return l
}

func (q *appQueue) work() {
	for {
		l := q.next()
		if l == nil {
			return
		}
		if r := q.head(l); r != nil {
			q.finish(l, r, q.s.attempt(q, r))
		}
	}
}

// head is the lane's first pending event, read from the store when the
// lane holds none in memory; nil (and the lane released) when there is none.
func (q *appQueue) head(l *lane) *row {
	q.mu.Lock()
	defer q.mu.Unlock()
	if !q.s.store.owns(l.room) {
		// Another node delivers this room now (cluster mode: the log's lease
		// on its shard moved); what is held here is read again if it returns.
		clear(l.rows)
		l.rows, l.more, l.lastID = nil, false, 0
		l.state = laneIdle
		q.drop(l)
		return nil
	}
	if len(l.rows) == 0 && l.more {
		missed, after := l.missed, l.lastID
		q.mu.Unlock()
		rows, err := q.s.store.pending(l.room, after, laneBuffer)
		q.mu.Lock()
		if err != nil {
			q.s.log.Warn("callback outbox read failed", "error", err.Error(), "room", l.room)
			q.retryLater(l, q.s.opts.RetryInterval)
			return nil
		}
		for _, r := range rows {
			if r.id > l.lastID {
				l.rows = append(l.rows, r)
				l.lastID = r.id
			}
		}
		l.more = len(rows) == laneBuffer || l.missed != missed
	}
	if len(l.rows) == 0 {
		l.state = laneIdle
		q.wake(l) // more was set again during the read
		q.drop(l)
		return nil
	}
	return l.rows[0]
}

// retryLater releases the lane until d has passed. Caller holds mu.
func (q *appQueue) retryLater(l *lane, d time.Duration) {
	l.state = laneIdle
	if d <= 0 || q.closed {
		q.wake(l)
		return
	}
	l.timer = time.AfterFunc(d, func() {
		q.mu.Lock()
		defer q.mu.Unlock()
		l.timer = nil
		q.wake(l)
	})
}

// finish records an attempt's result and releases the lane. Store changes
// are queued after mu is released (the writer's callbacks take mu).
func (q *appQueue) finish(l *lane, r *row, res result) {
	now := time.Now()
	nowMs := now.UnixMilli()
	var storeOp func()
	committed := func() {
		q.mu.Lock()
		defer q.mu.Unlock()
		l.marks--
		q.drop(l)
	}
	q.mu.Lock()
	switch {
	case res.outcome == outcomeCanceled: // shutting down: stays pending for the next start
		l.state = laneIdle
	case res.outcome == OutcomeOK:
		l.rows[0] = nil
		l.rows = l.rows[1:]
		l.marks++
		attempts := r.attempts + 1
		storeOp = func() { q.s.store.markDelivered(r, nowMs, attempts, committed) }
		q.s.m.delivered(r.app, r.etype, now.Sub(time.UnixMilli(r.eventMs)))
		l.state = laneIdle
		q.wake(l)
	default:
		r.attempts++
		q.s.m.failed(r.app, r.etype, res.outcome)
		delay := q.s.backoff(r.attempts)
		if nowMs+delay.Milliseconds() > r.startMs+q.s.opts.RetryHorizon.Milliseconds() {
			l.rows[0] = nil
			l.rows = l.rows[1:]
			l.marks++
			attempts, msg := r.attempts, res.err
			storeOp = func() { q.s.store.moveDead(r, attempts, msg, nowMs, committed) }
			q.s.m.dead(r.app)
			q.s.log.Warn("callback moved to dead letters", "app", r.app, "room", r.room, "seq", r.seq,
				"event_type", r.etype, "attempts", r.attempts, "error", res.err)
			l.state = laneIdle
			q.wake(l)
		} else {
			attempts, msg := r.attempts, res.err
			storeOp = func() { q.s.store.markFailed(r, attempts, msg) }
			q.retryLater(l, delay)
		}
	}
	q.mu.Unlock()
	if storeOp != nil {
		storeOp()
	}
}

// backoff is the wait after the attempts-th failure: none after the first,
// then RetryInterval doubling up to RetryMaxInterval.
func (s *Sender) backoff(attempts int) time.Duration {
	if attempts <= 1 {
		return 0
	}
	d := s.opts.RetryInterval
	for i := 2; i < attempts && d < s.opts.RetryMaxInterval; i++ {
		d *= 2
	}
	return min(d, s.opts.RetryMaxInterval)
}

// Package yielder lets a long computation in the background give waiting
// network work a turn.
//
// With one P (a server pinned to one core), the Go scheduler looks for
// network events only when it has no goroutine left to run, or from its
// monitor thread every 10 ms. A goroutine that computes for a millisecond
// without blocking (a SQLite transaction: modernc.org/sqlite is pure Go)
// therefore holds every request that arrives meanwhile until it is done:
// runtime.Gosched does not help, the scheduler picks the yielding goroutine
// again before it polls the network. A Yielder parks its caller on a pipe
// that a helper goroutine makes readable at once: the scheduler then has
// nothing to run, polls the network, and runs what it found before the
// caller goes on.
package yielder

import (
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Every is how much computation a background writer does between two turns
// it gives the network (policy "writer yield", docs/architecture.md): a
// request that arrives while it runs waits about this long, and a turn
// costs a few microseconds (two pipe system calls and one poll).
const Every = 100 * time.Microsecond

// Yielder gives the network a turn at most once per interval of its
// caller's computation: Start marks where a computation begins, Maybe
// turns once the interval has passed since then or since the last turn.
// Start, Maybe and Turn are for one goroutine at a time.
type Yielder struct {
	every  time.Duration
	last   time.Time
	behind bool // since Start: no turns
	r, w   *os.File
	kick   chan struct{}
	stop   chan struct{}
	done   chan struct{}
	once   sync.Once
	turns  atomic.Int64
	buf    [16]byte
}

// New starts a Yielder that gives a turn when every has passed since the
// last one. Close it.
func New(every time.Duration) (*Yielder, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	y := &Yielder{every: every, last: time.Now(), r: r, w: w, kick: make(chan struct{}, 1),
		stop: make(chan struct{}), done: make(chan struct{})}
	go y.helper()
	return y, nil
}

func (y *Yielder) helper() {
	defer close(y.done)
	one := []byte{1}
	for {
		select {
		case <-y.kick:
			if _, err := y.w.Write(one); err != nil {
				y.r.Close() // a Turn waiting to read returns; later ones see done
				return
			}
		case <-y.stop:
			return
		}
	}
}

// Start marks the beginning of a computation: its first turn comes once
// the interval has passed (time spent waiting before it does not count).
// A caller that is behind (a writer with a full batch) gets no turns until
// the next Start: it would only fall further behind while requests keep
// coming. A nil Yielder does nothing.
func (y *Yielder) Start(behind bool) {
	if y != nil {
		y.last, y.behind = time.Now(), behind
	}
}

// Maybe gives the network a turn if the interval has passed since Start or
// the last turn, unless Start was told the caller is behind. A nil Yielder
// does nothing.
func (y *Yielder) Maybe() {
	if y == nil || y.behind || time.Since(y.last) < y.every {
		return
	}
	y.Turn()
}

// Turn gives the network a turn now.
func (y *Yielder) Turn() {
	select {
	case y.kick <- struct{}{}:
	case <-y.stop:
		return
	case <-y.done: // the helper failed (a pipe that could not be written)
		return
	}
	// The pipe is empty until the helper runs, so the read parks this
	// goroutine; the helper writes; with nothing left to run the scheduler
	// polls the network, and readies this goroutine with whatever else it
	// found. Gosched puts those first.
	if _, err := y.r.Read(y.buf[:]); err == nil {
		y.turns.Add(1)
	}
	runtime.Gosched()
	y.last = time.Now()
}

// Turns is how many turns were given.
func (y *Yielder) Turns() int64 {
	if y == nil {
		return 0
	}
	return y.turns.Load()
}

// Close stops the helper; Maybe and Turn do nothing afterwards (a Turn
// under way when Close is called returns).
func (y *Yielder) Close() {
	if y == nil {
		return
	}
	y.once.Do(func() {
		close(y.stop)
		<-y.done
		y.w.Close()
		y.r.Close()
	})
}

package history

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/trtcd/trtcd/internal/yielder"
)

// Group commit: Apply (and ApplyAll) hands its events to one writer goroutine, which writes
// every event waiting at that moment in one transaction and then answers
// each caller. The history group calls Apply from one goroutine per shard,
// so under load a transaction carries many events and the store pays one
// commit (and one WAL write) per batch instead of per event. Events of one
// room come from one shard, which waits for each answer before the next, so
// room order is kept.
const (
	// MaxCommitBatch is the most events one transaction carries.
	MaxCommitBatch = 256
	// CommitDelay is how long the writer collects events after the first
	// one before it commits (unless MaxCommitBatch are waiting): a commit
	// costs about as much as writing one event, so at a steady 1 000 events
	// per second this makes a transaction carry about ten. The shards that
	// wait meanwhile are the history group's, never a client's. Longer is
	// cheaper per event but worse for everyone else: 50 ms took 12-17 % less
	// CPU per join at 1 000 joins/s, but a server on one core then spent a
	// few milliseconds at a time in one commit, and kicks arriving meanwhile
	// waited (kick p99 1.36-1.40×, docs/benchmarks.md).
	CommitDelay = 10 * time.Millisecond
	// CommitTimeout bounds one transaction; a database that does not answer
	// within it fails the batch, whose events are delivered again.
	CommitTimeout = 30 * time.Second
)

// pending is one caller's events (one Apply, or one ApplyAll: in order, in
// the same transaction) and where its outcome goes.
type pending struct {
	evs  []Event
	done chan error
}

// writer is the group-commit loop and its queue.
type writer struct {
	// SQLite only: the network's turns during a transaction (applyBatch).
	// A PostgreSQL statement waits on the network: the scheduler polls then.
	turns   *yielder.Yielder
	start   sync.Once
	stop    sync.Once
	queue   chan *pending
	closing chan struct{}
	done    chan struct{}
}

func newWriter() writer {
	return writer{queue: make(chan *pending, MaxCommitBatch), closing: make(chan struct{}), done: make(chan struct{})}
}

// submit queues evs for the next transaction and waits for the outcome. An
// event whose caller gave up (ctx) may still be written: Apply is idempotent.
func (s *Store) submit(ctx context.Context, evs []Event) error {
	closed := fmt.Errorf("%w: store closed", ErrUnavailable)
	select {
	case <-s.w.closing:
		return closed
	default:
	}
	s.w.start.Do(func() { go s.writeLoop() })
	p := &pending{evs: evs, done: make(chan error, 1)}
	select {
	case s.w.queue <- p:
	case <-s.w.closing:
		return closed
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-p.done:
		return err
	case <-s.w.done: // closed after p was queued: answered, or never will be
		select {
		case err := <-p.done:
			return err
		default:
			return closed
		}
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Store) writeLoop() {
	defer close(s.w.done)
	batch := make([]*pending, 0, MaxCommitBatch)
	evs := make([]Event, 0, MaxCommitBatch)
	timer := time.NewTimer(CommitDelay)
	timer.Stop()
	for {
		batch, evs = batch[:0], evs[:0]
		select {
		case p := <-s.w.queue:
			batch = append(batch, p)
		case <-s.w.closing:
			s.failQueued()
			return
		}
		timer.Reset(CommitDelay)
		n := len(batch[0].evs)
	more:
		for n < MaxCommitBatch {
			select {
			case p := <-s.w.queue:
				batch = append(batch, p)
				n += len(p.evs)
			case <-timer.C:
				break more
			case <-s.w.closing:
				break more
			}
		}
		timer.Stop()
		for _, p := range batch {
			evs = append(evs, p.evs...)
		}
		s.commitBatch(batch, evs)
	}
}

// commitBatch writes a batch and answers its callers. When the shared
// transaction fails, each event is tried alone, so one event the database
// refuses holds up only its own shard.
func (s *Store) commitBatch(batch []*pending, evs []Event) {
	bad, err := s.applyWithTimeout(evs)
	if err == nil {
		for _, p := range batch {
			p.done <- errors.Join(bad[:len(p.evs)]...)
			bad = bad[len(p.evs):]
		}
		return
	}
	if len(batch) == 1 {
		batch[0].done <- err
		return
	}
	for _, p := range batch {
		bad, err := s.applyWithTimeout(p.evs)
		if err == nil {
			err = errors.Join(bad...)
		}
		p.done <- err
	}
}

func (s *Store) applyWithTimeout(evs []Event) ([]error, error) {
	ctx, cancel := context.WithTimeout(context.Background(), CommitTimeout)
	defer cancel()
	return s.applyBatch(ctx, evs)
}

// failQueued answers whatever is still queued when the store closes.
func (s *Store) failQueued() {
	for {
		select {
		case p := <-s.w.queue:
			p.done <- fmt.Errorf("%w: store closed", ErrUnavailable)
		default:
			return
		}
	}
}

// closeWriter stops the writer loop (if it ran) after its current batch.
func (s *Store) closeWriter() {
	s.w.stop.Do(func() {
		close(s.w.closing)
		ran := true
		s.w.start.Do(func() { ran = false })
		if ran {
			<-s.w.done
		} else {
			close(s.w.done) // an Apply racing with Close sees it and gives up
		}
		s.w.turns.Close()
	})
}

// txStmts runs the write path's statements inside one transaction through
// statements prepared once per database connection: the same few statements
// run for every event, and parsing them each time was the larger part of a
// write's cost.
type txStmts struct {
	tx *sql.Tx
	s  *Store
}

func (t *txStmts) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	st, err := t.s.stmt(ctx, q)
	if err != nil {
		return nil, err
	}
	return t.tx.StmtContext(ctx, st).ExecContext(ctx, args...)
}

func (t *txStmts) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	st, err := t.s.stmt(ctx, q)
	if err != nil {
		// A failed prepare surfaces on Scan, as database/sql does for queries.
		return t.tx.QueryRowContext(ctx, t.s.bind(q), args...)
	}
	return t.tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
}

// stmt is the prepared statement for q (written with ? placeholders),
// prepared on first use.
func (s *Store) stmt(ctx context.Context, q string) (*sql.Stmt, error) {
	s.stmtMu.Lock()
	defer s.stmtMu.Unlock()
	if st := s.stmts[q]; st != nil {
		return st, nil
	}
	st, err := s.db.PrepareContext(ctx, s.bind(q))
	if err != nil {
		return nil, err
	}
	if s.stmts == nil {
		s.stmts = make(map[string]*sql.Stmt)
	}
	s.stmts[q] = st
	return st, nil
}

func (s *Store) closeStmts() {
	s.stmtMu.Lock()
	defer s.stmtMu.Unlock()
	for q, st := range s.stmts {
		st.Close()
		delete(s.stmts, q)
	}
}

package callbacks

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite" // pure-Go SQLite driver "sqlite"

	"github.com/trtcd/trtcd/internal/yielder"
)

// StoreFile is the outbox's file in the data directory.
const StoreFile = "callbacks.db"

// DeliveredRetention is how long a delivered event is remembered, so that
// a redelivery of the same event by the room-event log is recognised and
// not sent again: its room's mark in memory (writebehind.go), and the row
// of one that had been written pending before it was delivered.
const DeliveredRetention = 10 * time.Minute

// writeBatch is the most changes committed in one transaction.
const writeBatch = 512

// CommitDelay is how long the outbox's writer collects changes after the
// first one before it commits them in one transaction (unless writeBatch
// are waiting): a commit costs about as much as several rows, so under load
// a transaction carries many events and their delivery marks, and the work
// runs after the room change that caused it rather than beside it (the kick
// whose 104 it records has answered by then). It delays each callback by at
// most this much.
const CommitDelay = 10 * time.Millisecond

const schema = `
CREATE TABLE IF NOT EXISTS outbox(
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  app        INTEGER NOT NULL,
  room       TEXT    NOT NULL,
  seq        INTEGER NOT NULL,
  etype      INTEGER NOT NULL,
  event_ms   INTEGER NOT NULL,
  info       BLOB    NOT NULL,
  start_ms   INTEGER NOT NULL, -- the retry horizon counts from here: the event, or its replay
  attempts   INTEGER NOT NULL DEFAULT 0,
  last_error TEXT    NOT NULL DEFAULT '',
  state      INTEGER NOT NULL DEFAULT 0, -- 0 pending, 1 delivered
  done_ms    INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX IF NOT EXISTS outbox_event ON outbox(room, seq, etype, event_ms);
CREATE INDEX IF NOT EXISTS outbox_room ON outbox(room, id) WHERE state = 0;
CREATE INDEX IF NOT EXISTS outbox_age ON outbox(event_ms) WHERE state = 0;
CREATE INDEX IF NOT EXISTS outbox_done ON outbox(done_ms) WHERE state = 1;
CREATE TABLE IF NOT EXISTS deadletter(
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  app        INTEGER NOT NULL,
  room       TEXT    NOT NULL,
  seq        INTEGER NOT NULL,
  etype      INTEGER NOT NULL,
  event_ms   INTEGER NOT NULL,
  info       BLOB    NOT NULL,
  attempts   INTEGER NOT NULL,
  last_error TEXT    NOT NULL,
  dead_ms    INTEGER NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS deadletter_event ON deadletter(room, seq, etype, event_ms);
CREATE TABLE IF NOT EXISTS counters(name TEXT PRIMARY KEY, n INTEGER NOT NULL);
INSERT OR IGNORE INTO counters VALUES('pending', (SELECT COUNT(*) FROM outbox WHERE state = 0));
CREATE TRIGGER IF NOT EXISTS outbox_ins AFTER INSERT ON outbox WHEN NEW.state = 0
  BEGIN UPDATE counters SET n = n + 1 WHERE name = 'pending'; END;
CREATE TRIGGER IF NOT EXISTS outbox_upd AFTER UPDATE OF state ON outbox WHEN OLD.state = 0 AND NEW.state <> 0
  BEGIN UPDATE counters SET n = n - 1 WHERE name = 'pending'; END;
CREATE TRIGGER IF NOT EXISTS outbox_del AFTER DELETE ON outbox WHEN OLD.state = 0
  BEGIN UPDATE counters SET n = n - 1 WHERE name = 'pending'; END;
`

// row is one pending event of the outbox.
type row struct {
	id       int64
	app      uint64
	room     string
	seq      uint64
	etype    int
	eventMs  int64
	info     []byte
	startMs  int64
	attempts int
}

// Store is the durable outbox and dead-letter list in one SQLite file (WAL
// mode, synchronous=FULL: a committed event survives a crash of the process
// and of the machine). Writes go through one goroutine that commits
// whatever is queued in one transaction (group commit); accepted events are
// written behind their delivery (writebehind.go).
type Store struct {
	path string
	w, r *sql.DB
	ops  chan *op
	log  *slog.Logger

	hmu      sync.Mutex
	held     map[int64]*held // accepted events not yet written, by id
	heldKeys map[eventKey]*held
	lastID   int64           // the last outbox id handed out
	marks    map[string]mark // per room, the newest event accepted (writebehind.go)
	recent   recentRing      // delivered events that left no row, newest last (recent.go)
	floorMs  int64           // events at or before this time may be in the file whatever their room's mark

	written     [3]atomic.Uint64 // events the write-behind handled, by heldState (Writes)
	writeErrors atomic.Uint64
	commitMu    sync.RWMutex // a commit and its ops' completions, against Depth's two reads

	stmtMu sync.Mutex
	stmts  map[string]*sql.Stmt // prepared statements of w and r, by text

	// A transaction of a few hundred statements is milliseconds of CPU
	// without a pause: the writer gives the network a turn every
	// yielder.Every of it, unless it is behind (a full batch): the
	// "writer yield" policy, docs/architecture.md.
	turns *yielder.Yielder

	mu     sync.RWMutex // guards closed against sends on ops
	closed bool
	done   chan struct{}
}

// op is one change made inside the writer's transaction. reply, when set,
// gets the result after the commit; after (and done, with the result) run
// after the commit too.
type op struct {
	fn    func(tx *sql.Tx) error
	reply chan error
	after func()
	done  func(error)
}

var errClosed = errors.New("callbacks: store is closed")

// OpenStore opens (creating it and dir when needed) dir/callbacks.db.
func OpenStore(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("callbacks: data_dir: %w", err)
	}
	path := filepath.Join(dir, StoreFile)
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() +
		"?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(0)&_txlock=immediate"
	w, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("callbacks: %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	if _, err := w.Exec(schema); err != nil {
		w.Close()
		return nil, fmt.Errorf("callbacks: %s: %w", path, err)
	}
	r, err := sql.Open("sqlite", dsn)
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("callbacks: %s: %w", path, err)
	}
	r.SetMaxOpenConns(4)
	st := &Store{path: path, w: w, r: r, stmts: map[string]*sql.Stmt{}, ops: make(chan *op, 4*writeBatch), done: make(chan struct{}),
		log: slog.Default(), held: map[int64]*held{}, heldKeys: map[eventKey]*held{}, marks: map[string]mark{}}
	if err := w.QueryRow(lastIDSQL).Scan(&st.lastID); err != nil {
		w.Close()
		r.Close()
		return nil, fmt.Errorf("callbacks: %s: %w", path, err)
	}
	if err := w.QueryRow(floorSQL).Scan(&st.floorMs); err != nil {
		w.Close()
		r.Close()
		return nil, fmt.Errorf("callbacks: %s: %w", path, err)
	}
	for _, q := range writerStatements {
		if _, err := st.prepared(w, q); err != nil {
			w.Close()
			r.Close()
			return nil, fmt.Errorf("callbacks: %s: %w", path, err)
		}
	}
	if st.turns, err = yielder.New(yielder.Every); err != nil {
		w.Close()
		r.Close()
		return nil, fmt.Errorf("callbacks: %w", err)
	}
	go st.writer()
	return st, nil
}

// prepared returns db's prepared statement for q (SQLite would otherwise
// parse q on every call).
func (st *Store) prepared(db *sql.DB, q string) (*sql.Stmt, error) {
	key := q
	if db == st.r {
		key = "r:" + q
	}
	st.stmtMu.Lock()
	defer st.stmtMu.Unlock()
	if s := st.stmts[key]; s != nil {
		return s, nil
	}
	s, err := db.Prepare(q)
	if err == nil {
		st.stmts[key] = s
	}
	return s, err
}

// txExec runs q in tx, as a prepared statement when q is one of
// writerStatements (prepared at open: w's one connection is the tx's).
func (st *Store) txExec(tx *sql.Tx, q string, args ...any) (sql.Result, error) {
	st.stmtMu.Lock()
	s := st.stmts[q]
	st.stmtMu.Unlock()
	if s == nil {
		return tx.Exec(q, args...)
	}
	return tx.Stmt(s).Exec(args...)
}

// query runs q on the reader as a prepared statement.
func (st *Store) query(q string, args ...any) (*sql.Rows, error) {
	s, err := st.prepared(st.r, q)
	if err != nil {
		return nil, err
	}
	return s.Query(args...)
}

// Turns is how many turns the writer gave the network during its
// transactions (the "writer yield" policy).
func (st *Store) Turns() int64 { return st.turns.Turns() }

// Path is the database file.
func (st *Store) Path() string { return st.path }

// Close commits what is queued and closes the file.
func (st *Store) Close() error {
	st.mu.Lock()
	if st.closed {
		st.mu.Unlock()
		return nil
	}
	st.closed = true
	close(st.ops)
	st.mu.Unlock()
	<-st.done
	st.turns.Close()
	st.stmtMu.Lock()
	for _, s := range st.stmts {
		s.Close()
	}
	st.stmtMu.Unlock()
	return errors.Join(st.r.Close(), st.w.Close())
}

// submit queues a change; false when the store is closed.
func (st *Store) submit(o *op) bool {
	st.mu.RLock()
	defer st.mu.RUnlock()
	if st.closed {
		return false
	}
	st.ops <- o
	return true
}

// exec runs fn in the writer's next transaction and waits for the commit.
func (st *Store) exec(ctx context.Context, fn func(tx *sql.Tx) error) error {
	o := &op{fn: fn, reply: make(chan error, 1)}
	if !st.submit(o) {
		return errClosed
	}
	select {
	case err := <-o.reply:
		return err
	case <-ctx.Done():
		return ctx.Err() // the change may still be committed
	}
}

// async queues fn; after runs once it is committed (or has failed).
func (st *Store) async(fn func(tx *sql.Tx) error, after func()) {
	if !st.submit(&op{fn: fn, after: after}) && after != nil {
		after()
	}
}

func (st *Store) writer() {
	defer close(st.done)
	batch := make([]*op, 0, writeBatch)
	delay := time.NewTimer(CommitDelay)
	defer delay.Stop()
	for o := range st.ops {
		batch = append(batch[:0], o)
		delay.Reset(CommitDelay)
	fill:
		for len(batch) < writeBatch {
			select {
			case o, ok := <-st.ops:
				if !ok {
					break fill // closing: commit what is here at once
				}
				batch = append(batch, o)
			case <-delay.C:
				break fill
			}
		}
		if err := st.commit(batch); err != nil {
			// One bad change must not fail the others: retry one by one.
			for _, o := range batch {
				if err := st.commit([]*op{o}); err != nil {
					st.finish(o, err)
				}
			}
		}
	}
}

func (st *Store) finish(o *op, err error) {
	if o.reply != nil {
		o.reply <- err
	}
	if o.after != nil {
		o.after()
	}
	if o.done != nil {
		o.done(err)
	}
}

func (st *Store) commit(batch []*op) error {
	tx, err := st.w.Begin()
	if err != nil {
		return err
	}
	st.turns.Start(len(batch) >= writeBatch) // no turns while behind
	for _, o := range batch {
		st.turns.Maybe()
		if err := o.fn(tx); err != nil {
			tx.Rollback()
			return err
		}
	}
	// Depth reads the held events and then the file: the commit and the
	// forgetting of what it wrote are one step for it (commitMu).
	st.commitMu.Lock()
	defer st.commitMu.Unlock()
	if err := tx.Commit(); err != nil {
		return err
	}
	for _, o := range batch {
		st.finish(o, nil)
	}
	return nil
}

const (
	markDeliveredSQL = `UPDATE outbox SET state = 1, done_ms = ?, attempts = ? WHERE id = ?`
	markFailedSQL    = `UPDATE outbox SET attempts = ?, last_error = ? WHERE id = ?`
	deadCopySQL      = `INSERT OR REPLACE INTO deadletter(app, room, seq, etype, event_ms, info, attempts, last_error, dead_ms)
		SELECT app, room, seq, etype, event_ms, info, ?, ?, ? FROM outbox WHERE id = ? AND state = 0`
	deadDeleteSQL = `DELETE FROM outbox WHERE id = ? AND state = 0`
)

// writerStatements are prepared once on the writer's connection.
var writerStatements = []string{markDeliveredSQL, markFailedSQL, deadCopySQL, deadDeleteSQL, insertHeldSQL, insertDeadSQL}

// insert adds rows to the outbox, skipping those whose event is held,
// accepted before (the marks), pending in the file or in the dead letters;
// added[i] tells whether rows[i] was added (and its id set). It returns once
// they are committed.
func (st *Store) insert(ctx context.Context, rows []*row) ([]bool, error) {
	added, durable, err := st.accept(rows)
	if err != nil {
		return added, err
	}
	return added, durable(ctx)
}

// accept is insert without the wait: the rows are held, and may be sent,
// at once; durable waits for the writer's transaction that writes them
// (write-behind, writebehind.go).
func (st *Store) accept(rows []*row) (added []bool, durable func(context.Context) error, err error) {
	added = make([]bool, len(rows))
	hs := make([]*held, len(rows))
	lookup := make([]bool, len(rows)) // ageUnknown: is it in the file?
	st.hmu.Lock()
	for i, r := range rows { // reserve the keys: a concurrent insert of the same event is a duplicate
		k := keyOf(r)
		if st.heldKeys[k] != nil {
			continue
		}
		age := st.age(r)
		if age == ageTaken {
			continue
		}
		hs[i] = &held{r: r, attempts: r.attempts}
		st.heldKeys[k] = hs[i]
		lookup[i] = age == ageUnknown
	}
	st.hmu.Unlock()
	release := func(i int) {
		st.hmu.Lock()
		delete(st.heldKeys, keyOf(rows[i]))
		st.hmu.Unlock()
		hs[i] = nil
	}
	for i, r := range rows {
		if hs[i] == nil || !lookup[i] {
			continue
		}
		known, err := st.known(r)
		if err != nil {
			for j := range rows {
				if hs[j] != nil {
					release(j)
				}
			}
			return make([]bool, len(rows)), nil, err
		}
		if known {
			release(i)
		}
	}
	var accepted []*held
	st.hmu.Lock()
	for i, h := range hs {
		if h != nil {
			st.lastID++
			rows[i].id = st.lastID
			st.held[st.lastID] = h
			st.taken(rows[i])
			accepted = append(accepted, h)
			added[i] = true
		}
	}
	st.hmu.Unlock()
	if len(accepted) == 0 {
		return added, func(context.Context) error { return nil }, nil
	}
	o := &op{fn: func(tx *sql.Tx) error { return st.writeHeld(tx, accepted) }, reply: make(chan error, 1),
		done: func(err error) { st.wrote(accepted, err) }}
	if !st.submit(o) {
		st.hmu.Lock()
		// The marks moved; a closed store takes nothing more anyway.
		for _, h := range accepted {
			delete(st.held, h.r.id)
			delete(st.heldKeys, keyOf(h.r))
		}
		st.hmu.Unlock()
		return make([]bool, len(rows)), nil, errClosed
	}
	return added, func(ctx context.Context) error {
		select {
		case err := <-o.reply:
			return err
		case <-ctx.Done():
			return ctx.Err() // the rows may still be written
		}
	}, nil
}

// known tells whether r's event is in the outbox or the dead letters.
func (st *Store) known(r *row) (bool, error) {
	s, err := st.prepared(st.r, knownSQL)
	if err != nil {
		return false, err
	}
	var known bool
	err = s.QueryRow(r.room, int64(r.seq), r.etype, r.eventMs, r.room, int64(r.seq), r.etype, r.eventMs).Scan(&known)
	return known, err
}

// pending reads up to limit pending rows of room after id afterID, in
// order: the held ones and those in the file.
func (st *Store) pending(room string, afterID int64, limit int) ([]*row, error) {
	held := st.heldRows(room, afterID) // before the file: a row written in between is in both, not in neither
	inFile, err := st.pendingInFile(room, afterID, limit)
	if err != nil {
		return nil, err
	}
	return mergeRows(held, inFile, limit), nil
}

func (st *Store) pendingInFile(room string, afterID int64, limit int) ([]*row, error) {
	rs, err := st.query(`SELECT id, app, seq, etype, event_ms, info, start_ms, attempts
		FROM outbox WHERE state = 0 AND room = ? AND id > ? ORDER BY id LIMIT ?`, room, afterID, limit)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	var out []*row
	for rs.Next() {
		r := &row{room: room}
		var app, seq int64
		if err := rs.Scan(&r.id, &app, &seq, &r.etype, &r.eventMs, &r.info, &r.startMs, &r.attempts); err != nil {
			return nil, err
		}
		r.app, r.seq = uint64(app), uint64(seq)
		out = append(out, r)
	}
	return out, rs.Err()
}

// roomRef names a room with pending events.
type roomRef struct {
	app  uint64
	room string
}

// pendingRooms lists the rooms with pending events.
func (st *Store) pendingRooms() ([]roomRef, error) {
	var out []roomRef
	seen := map[string]bool{}
	for _, r := range st.heldRows("", 0) {
		if !seen[r.room] {
			seen[r.room] = true
			out = append(out, roomRef{app: r.app, room: r.room})
		}
	}
	rs, err := st.r.Query(`SELECT DISTINCT room, app FROM outbox WHERE state = 0`)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	for rs.Next() {
		var ref roomRef
		var app int64
		if err := rs.Scan(&ref.room, &app); err != nil {
			return nil, err
		}
		ref.app = uint64(app)
		if !seen[ref.room] {
			out = append(out, ref)
		}
	}
	return out, rs.Err()
}

// owns: one node's store delivers every room.
func (st *Store) owns(string) bool { return true }

// markDelivered records a delivery (asynchronously: a crash before the
// commit only means the event is sent once more).
func (st *Store) markDelivered(r *row, nowMs int64, attempts int, after func()) {
	if st.holdChange(r, func(h *held) {
		h.state, h.doneMs, h.attempts = heldDelivered, nowMs, attempts
		if after != nil {
			h.after = append(h.after, after)
		}
	}) {
		return
	}
	st.async(func(tx *sql.Tx) error {
		_, err := st.txExec(tx, markDeliveredSQL, nowMs, attempts, r.id)
		return err
	}, after)
}

// markFailed records a failed attempt.
func (st *Store) markFailed(r *row, attempts int, lastErr string) {
	if st.holdChange(r, func(h *held) { h.attempts, h.lastErr = attempts, lastErr }) {
		return
	}
	st.async(func(tx *sql.Tx) error {
		_, err := st.txExec(tx, markFailedSQL, attempts, lastErr, r.id)
		return err
	}, nil)
}

// moveDead moves a pending row to the dead letters.
func (st *Store) moveDead(r *row, attempts int, lastErr string, nowMs int64, after func()) {
	if st.holdChange(r, func(h *held) {
		h.state, h.attempts, h.lastErr, h.doneMs = heldDead, attempts, lastErr, nowMs
		if after != nil {
			h.after = append(h.after, after)
		}
	}) {
		return
	}
	st.async(func(tx *sql.Tx) error { return st.moveDeadTx(tx, r.id, attempts, lastErr, nowMs) }, after)
}

func (st *Store) moveDeadTx(tx *sql.Tx, id int64, attempts int, lastErr string, nowMs int64) error {
	if _, err := st.txExec(tx, deadCopySQL,
		attempts, lastErr, nowMs, id); err != nil {
		return err
	}
	_, err := st.txExec(tx, deadDeleteSQL, id)
	return err
}

// prune deletes delivered rows older than DeliveredRetention, a bounded
// number per call; it reports how many it deleted.
func (st *Store) prune(nowMs int64) (int64, error) {
	st.hmu.Lock()
	st.forgetMarks(nowMs - DeliveredRetention.Milliseconds())
	st.hmu.Unlock()
	var n int64
	err := st.exec(context.Background(), func(tx *sql.Tx) error {
		res, err := tx.Exec(`DELETE FROM outbox WHERE id IN (SELECT id FROM outbox
			WHERE state = 1 AND done_ms < ? LIMIT 5000)`, nowMs-DeliveredRetention.Milliseconds())
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}

// Depth is the number of undelivered events, the event time (Unix ms) of
// the oldest of them (0 when none), and the number of dead letters.
func (st *Store) Depth() (pending int64, oldestMs int64, dead int64, err error) {
	st.commitMu.RLock() // no commit between the two reads: each event counted once
	defer st.commitMu.RUnlock()
	held := st.heldRows("", 0)
	defer func() {
		pending += int64(len(held))
		for _, r := range held {
			if oldestMs == 0 || r.eventMs < oldestMs {
				oldestMs = r.eventMs
			}
		}
	}()
	var oldest sql.NullInt64
	err = st.r.QueryRow(`SELECT (SELECT n FROM counters WHERE name = 'pending'),
		(SELECT MIN(event_ms) FROM outbox WHERE state = 0),
		(SELECT COUNT(*) FROM deadletter)`).Scan(&pending, &oldest, &dead)
	return pending, oldest.Int64, dead, err
}

package callbacks

import (
	"context"
	"database/sql"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
)

// outboxRows reads dir's outbox file on its own connection: state → rows.
func outboxRows(t *testing.T, dir string) (byState map[int]int, dead int) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, StoreFile)+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	byState = map[int]int{}
	rs, err := db.Query(`SELECT state, COUNT(*) FROM outbox GROUP BY state`)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	for rs.Next() {
		var state, n int
		if err := rs.Scan(&state, &n); err != nil {
			t.Fatal(err)
		}
		byState[state] = n
	}
	if err := db.QueryRow(`SELECT COUNT(*) FROM deadletter`).Scan(&dead); err != nil {
		t.Fatal(err)
	}
	return byState, dead
}

// blockWriter holds st's writer inside a transaction until release is
// called: what is accepted meanwhile stays held, whatever the machine's speed.
func blockWriter(t *testing.T, st *Store) (release func()) {
	t.Helper()
	in, out := make(chan struct{}), make(chan struct{})
	st.async(func(*sql.Tx) error { close(in); <-out; return nil }, nil)
	<-in
	var once sync.Once
	release = func() { once.Do(func() { close(out) }) }
	t.Cleanup(release)
	return release
}

// With a receiver that answers at once, an event needs no row at all: the
// writer writes nothing for it, the console's recent list has it from
// memory, and a redelivery after the commit is still recognised.
func TestWriteBehindWritesNothingForDeliveredEvents(t *testing.T) {
	rv := newReceiver(t, "")
	dir := t.TempDir()
	s := start(t, dir, fast(AppConfig{SdkAppID: app1, URL: rv.url()}))
	release := blockWriter(t, s.Store().(*Store))
	const n = 40
	var evs []Event
	for i := 1; i <= n; i++ {
		evs = append(evs, ev(app1, uint64(i%4+1), uint64(i), TypeEnter, "u", "anchor", ""))
	}
	handled := make(chan error, 1)
	go func() { handled <- s.HandleBatch(context.Background(), evs) }() // returns once the writer has committed
	await(t, "40 callbacks sent before any commit", func() bool { return len(rv.delivered()) == n })
	select {
	case err := <-handled:
		t.Fatalf("HandleBatch returned (%v) before the writer committed", err)
	default:
	}
	await(t, "an empty outbox while the writer is held", func() bool {
		d, _, _, err := s.Store().Depth()
		return err == nil && d == 0
	})
	release()
	if err := <-handled; err != nil {
		t.Fatal(err)
	}
	await(t, "40 events handled by the writer", func() bool {
		w := s.Stats().OutboxWrites
		return w["delivered"]+w["pending"] == n
	})
	if w := s.Stats().OutboxWrites; w["delivered"] != n || w["dead"] != 0 || w["failed"] != 0 {
		t.Fatalf("writes %v, want all 40 delivered before their commit", w)
	}
	if by, dead := outboxRows(t, dir); by[0] != 0 || by[1] != 0 || dead != 0 {
		t.Fatalf("rows in the file: %v, %d dead; want none", by, dead)
	}
	recent, err := s.Store().Recent(app1, 50)
	if err != nil || len(recent) != n {
		t.Fatalf("recent: %d, %v", len(recent), err)
	}
	for i, d := range recent {
		if !d.Delivered || d.Seq != uint64(n-i) || d.DoneMs == 0 {
			t.Fatalf("recent[%d] = %+v, want seq %d delivered", i, d, n-i)
		}
	}
	handle(t, s, evs[n-1], evs[0]) // handed over again after the commit
	if st := s.Stats(); st.Duplicates != 2 || len(rv.delivered()) != n {
		t.Fatalf("duplicates %d, %d sent", st.Duplicates, len(rv.delivered()))
	}
}

// A held event (accepted, its row not yet written) counts in the depth and
// is recognised when handed over again; a receiver that refuses it leaves a
// pending row with its attempts counted, and a store closed at once keeps
// it for the next start.
func TestWriteBehindHeldEventsAreCountedAndKept(t *testing.T) {
	dir := t.TempDir()
	st, err := OpenStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	release := blockWriter(t, st)
	rows := []*row{
		{app: app1, room: "r1", seq: 1, etype: EventEnterRoom, eventMs: 1, info: []byte(`{}`), startMs: 1},
		{app: app1, room: "r1", seq: 2, etype: EventExitRoom, eventMs: 2, info: []byte(`{}`), startMs: 2},
	}
	added, _, err := st.accept(rows)
	if err != nil || !added[0] || !added[1] {
		t.Fatalf("insert %v %v", added, err)
	}
	// Depth right after insert: held or written, both count.
	if d, oldest, _, err := st.Depth(); err != nil || d != 2 || oldest != 1 {
		t.Fatalf("depth %d oldest %d %v, want 2 and 1", d, oldest, err)
	}
	again, _, err := st.accept([]*row{{app: app1, room: "r1", seq: 1, etype: EventEnterRoom, eventMs: 1, info: []byte(`{}`)}})
	if err != nil || again[0] {
		t.Fatalf("the same event again was accepted: %v %v", again, err)
	}
	st.markFailed(rows[0], 1, "HTTP 503")
	if got, err := st.pending("r1", 0, 10); err != nil || len(got) != 2 || got[0].id != rows[0].id || got[1].id != rows[1].id || got[0].attempts != 1 {
		t.Fatalf("pending %v %v", got, err)
	}
	if by, _ := outboxRows(t, dir); len(by) != 0 {
		t.Fatalf("rows written while the writer was held: %v", by)
	}
	release()
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	by, _ := outboxRows(t, dir)
	if by[0] != 2 {
		t.Fatalf("after close: %v, want 2 pending rows", by)
	}
	st, err = OpenStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	got, err := st.pending("r1", 0, 10)
	if err != nil || len(got) != 2 || got[0].attempts != 1 || got[0].seq != 1 || got[1].seq != 2 {
		t.Fatalf("reopened: %v %v", got, err)
	}
	// Ids go on after the last one written.
	more := []*row{{app: app1, room: "r1", seq: 3, etype: EventExitRoom, eventMs: 3, info: []byte(`{}`), startMs: 3}}
	if _, err := st.insert(context.Background(), more); err != nil || more[0].id <= got[1].id {
		t.Fatalf("new id %d after %d (%v)", more[0].id, got[1].id, err)
	}
}

// An event moved to the dead letters before its row was written goes
// straight to the dead letters.
func TestWriteBehindDeadBeforeWritten(t *testing.T) {
	dir := t.TempDir()
	st, err := OpenStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	release := blockWriter(t, st)
	r := &row{app: app1, room: "r9", seq: 1, etype: EventEnterRoom, eventMs: 5, info: []byte(`{}`), startMs: 5}
	if _, _, err := st.accept([]*row{r}); err != nil {
		t.Fatal(err)
	}
	st.moveDead(r, 3, "HTTP 500", 99, nil)
	release()
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	by, dead := outboxRows(t, dir)
	if len(by) != 0 || dead != 1 {
		t.Fatalf("outbox %v, dead letters %d; want none and 1", by, dead)
	}
	if w := st.Writes(); w["dead"] != 1 || w["pending"] != 0 || w["delivered"] != 0 {
		t.Fatalf("writes %v", w)
	}
}

// The wall clock stepping back does not make a room's next events look
// like redeliveries: the sequence number decides.
func TestClockSteppingBackIsNotADuplicate(t *testing.T) {
	rv := newReceiver(t, "")
	s := start(t, t.TempDir(), fast(AppConfig{SdkAppID: app1, URL: rv.url()}))
	first, second := ev(app1, 1, 1, TypeEnter, "u", "anchor", ""), ev(app1, 1, 2, TypeLeave, "u", "anchor", "left")
	second.TimeMs = first.TimeMs - 60_000 // a minute earlier by the clock, but later
	handle(t, s, first)
	await(t, "the first callback", func() bool { return len(rv.delivered()) == 1 })
	handle(t, s, second)
	await(t, "the second callback", func() bool { return len(rv.delivered()) == 2 })
	if d := s.Stats().Duplicates; d != 0 {
		t.Fatalf("%d duplicates", d)
	}
	handle(t, s, first) // a redelivery is still one
	if d := s.Stats().Duplicates; d != 1 {
		t.Fatalf("%d duplicates after a redelivery", d)
	}
}

// A write that fails hands its events back with an error; when the log
// hands them over again they are taken, not counted as duplicates, and
// written.
func TestFailedWriteTakesTheEventsAgain(t *testing.T) {
	rv := newReceiver(t, "")
	rv.setBehave(func(w http.ResponseWriter, r *http.Request, n int) bool {
		w.WriteHeader(http.StatusInternalServerError) // undelivered: the commit must write it
		return true
	})
	dir := t.TempDir()
	s := start(t, dir, fast(AppConfig{SdkAppID: app1, URL: rv.url()}))
	st := s.Store().(*Store)
	if _, err := st.w.Exec(`PRAGMA query_only = 1`); err != nil { // the writer's one connection
		t.Fatal(err)
	}
	e := ev(app1, 1, 1, TypeEnter, "u", "anchor", "")
	if err := s.HandleBatch(context.Background(), []Event{e}); err == nil {
		t.Fatal("the write did not fail")
	}
	if _, err := st.w.Exec(`PRAGMA query_only = 0`); err != nil {
		t.Fatal(err)
	}
	handle(t, s, e) // the log hands it over again
	if d := s.Stats().Duplicates; d != 0 {
		t.Fatalf("taken for a duplicate (%d) after its write failed", d)
	}
	await(t, "its pending row", func() bool {
		by, _ := outboxRows(t, dir)
		return by[0] == 1
	})
}

// TestWriterYieldsDuringALongTransaction: the outbox's writer gives the
// network turns while a transaction of many changes runs (policy writer
// yield), and counts them.
func TestWriterYieldsDuringALongTransaction(t *testing.T) {
	st, err := OpenStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() }) // after blockWriter's release
	release := blockWriter(t, st)
	const n = writeBatch - 1 // one transaction after the blocked one
	var done sync.WaitGroup
	done.Add(n)
	for range n {
		st.async(func(tx *sql.Tx) error {
			var rows int
			return tx.QueryRow(`SELECT COUNT(*) FROM outbox`).Scan(&rows)
		}, done.Done)
	}
	before := st.Turns() // the blocked transaction may have given one
	release()
	done.Wait()
	if after := st.Turns(); after < before+2 {
		t.Fatalf("Turns after a transaction of %d statements = %d, %d before: want turns given within it", n, after, before)
	}
}

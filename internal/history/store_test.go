package history_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"testing"

	"github.com/trtcd/trtcd/internal/history"
	"github.com/trtcd/trtcd/internal/history/historytest"
)

func TestSQLite(t *testing.T)   { historytest.Run(t, historytest.SQLite) }
func TestPostgres(t *testing.T) { historytest.Run(t, historytest.Postgres) }

// TestWriterYieldsDuringALongTransaction: the SQLite writer gives the
// network turns while it writes a batch that takes longer than
// yielder.Every (policy writer yield), and counts them; a full batch (the
// writer is behind) gets none.
func TestWriterYieldsDuringALongTransaction(t *testing.T) {
	s, _ := historytest.Open(t, historytest.SQLite, history.Options{Now: historytest.NewClock(historytest.Now).Now})
	if n := s.Stats().Turns; n != 0 {
		t.Fatalf("Turns before any write = %d, want 0", n)
	}
	rooms := func(first, n int) []history.Event { // one enter each: hundreds of statements, milliseconds
		var evs []history.Event
		for i := range n {
			room := uint64(first + i)
			key := fmt.Sprintf("%d:n:%d", historytest.App, room)
			evs = append(evs, history.Event{App: historytest.App, Room: key, RoomNum: room, Seq: 1,
				TimeMs: historytest.Ms(0), Type: history.TypeEnter, User: "u"})
		}
		return evs
	}
	ctx := context.Background()
	if err := s.ApplyAll(ctx, rooms(1, history.MaxCommitBatch-1)); err != nil {
		t.Fatal(err)
	}
	st := s.Stats()
	if st.Turns < 2 || st.Applied != history.MaxCommitBatch-1 {
		t.Fatalf("after %d events in one transaction: Turns = %d, Applied = %d; want turns given within it and every event written",
			history.MaxCommitBatch-1, st.Turns, st.Applied)
	}
	if err := s.ApplyAll(ctx, rooms(history.MaxCommitBatch, history.MaxCommitBatch)); err != nil {
		t.Fatal(err)
	}
	if st2 := s.Stats(); st2.Turns != st.Turns || st2.Applied != st.Applied+history.MaxCommitBatch {
		t.Fatalf("after a full batch: Turns %d → %d, Applied %d → %d; want no turn and every event written",
			st.Turns, st2.Turns, st.Applied, st2.Applied)
	}
}

// TestWALHoldsCheckpointPages: SQLite's write-ahead log holds
// WALCheckpointPages before the writer copies it into the database, not
// SQLite's default of 1 000 pages, and not much more (a checkpoint then
// starts the log over; its file keeps its size).
func TestWALHoldsCheckpointPages(t *testing.T) {
	s, path := historytest.Open(t, historytest.SQLite, history.Options{Now: historytest.NewClock(historytest.Now).Now})
	ctx := context.Background()
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var pageSize int64
	if err := db.QueryRowContext(ctx, "PRAGMA page_size").Scan(&pageSize); err != nil {
		t.Fatal(err)
	}
	frame := pageSize + 24 // a page and its frame header
	pages := func() int64 {
		fi, err := os.Stat(path + "-wal")
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size() / frame
	}
	room, txs := uint64(0), 0
	write := func() { // one transaction of 64 entries: a few dozen pages
		var evs []history.Event
		for range 64 {
			room++
			evs = append(evs, history.Event{App: historytest.App, Room: fmt.Sprintf("%d:n:%d", historytest.App, room),
				RoomNum: room, Seq: 1, TimeMs: historytest.Ms(0), Type: history.TypeEnter, User: "u"})
		}
		if err := s.ApplyAll(ctx, evs); err != nil {
			t.Fatal(err)
		}
		txs++
	}
	for pages() < history.WALCheckpointPages && txs < 1000 {
		write()
	}
	if p := pages(); p < history.WALCheckpointPages {
		t.Fatalf("after %d transactions the WAL holds %d pages: it was copied into the database before %d", txs, p, history.WALCheckpointPages)
	}
	for n := txs; txs < 2*n; { // as many again: past a checkpoint
		write()
	}
	if p := pages(); p > history.WALCheckpointPages+200 {
		t.Fatalf("after %d transactions the WAL holds %d pages, want a checkpoint at %d", txs, p, history.WALCheckpointPages)
	}
}

// TestDuplicateLoginCheckSkipped: in a session this store opened, a user's
// first entry runs no duplicate-login UPDATE (the session cache knows the
// user has no open stay), a second entry while the first stay is open runs
// one, and an entry after a leave runs none.
func TestDuplicateLoginCheckSkipped(t *testing.T) {
	s, _ := historytest.Open(t, historytest.SQLite, history.Options{Now: historytest.NewClock(historytest.Now).Now})
	ev := func(seq uint64, typ, user string) history.Event {
		return history.Event{App: historytest.App, Room: fmt.Sprintf("%d:n:31", historytest.App), RoomNum: 31, Seq: seq,
			TimeMs: historytest.Ms(0) + int64(seq), Type: typ, User: user}
	}
	step := func(what string, want int64, evs ...history.Event) {
		t.Helper()
		historytest.Feed(t, s, evs)
		if got := s.DuplicateChecks(); got != want {
			t.Fatalf("after %s: %d duplicate-login UPDATEs run, want %d", what, got, want)
		}
	}
	step("three first entries", 0, ev(1, history.TypeRoomOpened, "a"), ev(2, history.TypeEnter, "a"),
		ev(3, history.TypeEnter, "b"), ev(4, history.TypeEnter, "c"))
	step("a second entry of a", 1, ev(5, history.TypeEnter, "a"))
	step("b's leave and entry", 1, ev(6, history.TypeLeave, "b"), ev(7, history.TypeEnter, "b"))
	var many []history.Event // the set holds a, b, c: fill it to MaxTrackedMembers
	for i := range history.MaxTrackedMembers - 3 {
		many = append(many, ev(uint64(8+i), history.TypeEnter, fmt.Sprintf("u%d", i)))
	}
	if err := s.ApplyAll(context.Background(), many); err != nil {
		t.Fatal(err)
	}
	seq := uint64(8 + len(many))
	step("MaxTrackedMembers first entries", 1)
	step("one more user (the set is dropped)", 1, ev(seq, history.TypeEnter, "z"))
	step("the next new user", 2, ev(seq+1, history.TypeEnter, "y"))
}

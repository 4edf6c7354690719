package history_test

import (
	"context"
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
	const frame = 4096 + 24 // a page and its frame header
	ctx := context.Background()
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

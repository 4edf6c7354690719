package history_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/trtcd/trtcd/internal/history"
	"github.com/trtcd/trtcd/internal/history/historytest"
)

func TestSQLite(t *testing.T)   { historytest.Run(t, historytest.SQLite) }
func TestPostgres(t *testing.T) { historytest.Run(t, historytest.Postgres) }

// TestWriterYieldsDuringALongTransaction: the SQLite writer gives the
// network turns while it writes a batch that takes longer than
// yielder.Every (policy writer yield), and counts them.
func TestWriterYieldsDuringALongTransaction(t *testing.T) {
	s, _ := historytest.Open(t, historytest.SQLite, history.Options{Now: historytest.NewClock(historytest.Now).Now})
	if n := s.Stats().Turns; n != 0 {
		t.Fatalf("Turns before any write = %d, want 0", n)
	}
	var evs []history.Event
	for i := range history.MaxCommitBatch { // one transaction: hundreds of statements, milliseconds
		room := uint64(1 + i)
		key := fmt.Sprintf("%d:n:%d", historytest.App, room)
		evs = append(evs,
			history.Event{App: historytest.App, Room: key, RoomNum: room, Seq: 1, TimeMs: historytest.Ms(0), Type: history.TypeRoomOpened, User: "u"},
			history.Event{App: historytest.App, Room: key, RoomNum: room, Seq: 2, TimeMs: historytest.Ms(0), Type: history.TypeEnter, User: "u"})
	}
	if err := s.ApplyAll(context.Background(), evs); err != nil {
		t.Fatal(err)
	}
	if st := s.Stats(); st.Turns < 1 || st.Applied != int64(len(evs)) {
		t.Fatalf("after %d events in one call: Turns = %d, Applied = %d; want turns given and every event written", len(evs), st.Turns, st.Applied)
	}
}

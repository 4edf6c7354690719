package history_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/trtcd/trtcd/internal/history"
	ht "github.com/trtcd/trtcd/internal/history/historytest"
)

// BenchmarkApply measures history writes: one event per Apply (one
// transaction each) and batches of 100 events per ApplyAll, as a consumer
// that reads the log in batches would write them. Each room gets an enter
// and a leave of one of 10 users in turn.
//
//	scripts/postgres.sh go test -run '^$' -bench BenchmarkApply -benchtime 5000x ./internal/history/
func BenchmarkApply(b *testing.B) {
	for _, be := range ht.Backends {
		for _, batch := range []int{1, 100} {
			b.Run(fmt.Sprintf("%s/batch=%d", be.Name, batch), func(b *testing.B) {
				s, _ := ht.Open(b, be, history.Options{Now: ht.NewClock(ht.Now).Now})
				evs := make([]history.Event, 0, b.N)
				for i := 0; len(evs) < b.N; i++ {
					room := uint64(1 + i/10)
					e := history.Event{App: ht.App, Room: fmt.Sprintf("%d:n:%d", ht.App, room), RoomNum: room,
						Seq: uint64(1 + i%10*2), TimeMs: ht.Ms(0) + int64(i), Type: history.TypeEnter, User: fmt.Sprintf("u%d", i%10)}
					evs = append(evs, e)
					e.Type, e.Seq, e.TimeMs = history.TypeLeave, e.Seq+1, e.TimeMs+1
					evs = append(evs, e)
				}
				evs = evs[:b.N]
				ctx := context.Background()
				b.ResetTimer()
				for i := 0; i < len(evs); i += batch {
					end := min(i+batch, len(evs))
					if err := s.ApplyAll(ctx, evs[i:end]); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
			})
		}
	}
}

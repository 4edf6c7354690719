package history_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/trtcd/trtcd/internal/history"
	ht "github.com/trtcd/trtcd/internal/history/historytest"
)

// BenchmarkApply measures history writes as the node's history group makes
// them: 64 callers at once (one per event-log shard, each room on one of
// them, in order), handing over one event per call or batches of 100 (one
// read of the log); the group commit puts whatever is waiting into one
// transaction. Each room gets an enter and a leave of one of 10 users in
// turn.
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
				const callers = 64 // eventlog.Shards
				per := make([][]history.Event, callers)
				for _, e := range evs {
					k := e.RoomNum % callers
					per[k] = append(per[k], e)
				}
				ctx := context.Background()
				b.ResetTimer()
				var wg sync.WaitGroup
				for _, mine := range per {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for i := 0; i < len(mine); i += batch {
							if err := s.ApplyAll(ctx, mine[i:min(i+batch, len(mine))]); err != nil {
								b.Error(err)
								return
							}
						}
					}()
				}
				wg.Wait()
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
			})
		}
	}
}

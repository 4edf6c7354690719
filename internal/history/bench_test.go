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
				b.ResetTimer()
				applyFromCallers(b, s, per, batch)
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
			})
		}
	}
}

// BenchmarkApplyJoins measures the writes of a join burst, the events of
// trtcd bench clients: rooms of 10 members fill one entry at a time
// (each room's opening, then its entries), handed over as the history group
// reads them (64 callers, batches of 30: what a 10 ms commit collects at
// 3 000 joins per second). The server's CPU per join with history on
// against off (docs/benchmarks.md) is mostly this.
//
//	taskset -c 0 go test -run '^$' -bench 'BenchmarkApplyJoins/sqlite' -benchtime 20000x ./internal/history/
func BenchmarkApplyJoins(b *testing.B) {
	for _, be := range ht.Backends {
		b.Run(be.Name, func(b *testing.B) {
			s, _ := ht.Open(b, be, history.Options{Now: ht.NewClock(ht.Now).Now})
			const callers, batch = 64, 30
			per := make([][]history.Event, callers)
			for i := 0; i < b.N; i++ {
				room := uint64(1 + i/10)
				k := room % callers
				e := history.Event{App: ht.App, Room: fmt.Sprintf("%d:n:%d", ht.App, room), RoomNum: room,
					Seq: uint64(1 + i%10), TimeMs: ht.Ms(0) + int64(i), Type: history.TypeEnter, User: fmt.Sprintf("u%d", i%10),
					SessionID: fmt.Sprintf("s%d", i), ClientIP: "127.0.0.1", Role: "anchor"}
				if i%10 == 0 {
					open := e
					open.Type = history.TypeRoomOpened
					e.Seq++ // the entry comes after the opening
					per[k] = append(per[k], open)
				} else {
					e.Seq++
				}
				per[k] = append(per[k], e)
			}
			b.ResetTimer()
			applyFromCallers(b, s, per, batch)
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "joins/s")
		})
	}
}

// applyFromCallers hands each caller's events to s from a goroutine of its
// own (as the history group's shards do), batch events per ApplyAll, and
// waits for all of them.
func applyFromCallers(b *testing.B, s *history.Store, per [][]history.Event, batch int) {
	ctx := context.Background()
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
}

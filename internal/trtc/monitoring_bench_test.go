package trtc_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/trtcd/trtcd/internal/history"
	ht "github.com/trtcd/trtcd/internal/history/historytest"
)

// BenchRoomsEnv sets how many rooms a day the monitoring benchmark writes
// (10 members each, 14 days); the default is small so that CI runs quickly.
const BenchRoomsEnv = "TRTCD_BENCH_HISTORY_ROOMS"

// BenchmarkMonitoring measures each action, signed over HTTP, over 14 days
// of history: N rooms a day (TRTCD_BENCH_HISTORY_ROOMS, default 20), each
// opened for 30 minutes by 10 members.
//
//	TRTCD_BENCH_HISTORY_ROOMS=1000 scripts/postgres.sh go test -run '^$' -bench BenchmarkMonitoring -benchtime 200x -timeout 60m ./internal/trtc/
func BenchmarkMonitoring(b *testing.B) {
	perDay := 20
	if v := os.Getenv(BenchRoomsEnv); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1400 {
			b.Fatalf("%s must be 1..1400", BenchRoomsEnv)
		}
		perDay = n
	}
	const days, members = 14, 10
	day0 := time.Date(ht.T0.Year(), ht.T0.Month(), ht.T0.Day(), 0, 0, 0, 0, ht.Zone)
	now := day0.AddDate(0, 0, days).Add(time.Hour)
	for _, be := range ht.Backends {
		b.Run(be.Name, func(b *testing.B) {
			s, _ := ht.Open(b, be, history.Options{Now: ht.NewClock(now).Now})
			start := time.Now()
			var batch []history.Event
			flush := func() {
				if err := s.ApplyAll(context.Background(), batch); err != nil {
					b.Fatal(err)
				}
				batch = batch[:0]
			}
			seqs := map[uint64]uint64{}
			for d := 0; d < days; d++ {
				for r := 0; r < perDay; r++ {
					room := uint64(r + 1)
					t0 := day0.AddDate(0, 0, d).Add(time.Duration(r) * time.Minute).UnixMilli()
					ev := func(at int64, typ, user string) history.Event {
						seqs[room]++
						return history.Event{App: ht.App, Room: fmt.Sprintf("%d:n:%d", ht.App, room), RoomNum: room, Seq: seqs[room],
							TimeMs: at, Type: typ, User: user, Role: "anchor", ClientIP: "10.0.0.1", Device: "Android", SdkVersion: "11.8"}
					}
					// room_opened shares the first entry's sequence number,
					// room_closed the last leave's.
					open := ev(t0, history.TypeRoomOpened, "m0")
					seqs[room]--
					batch = append(batch, open)
					for m := 0; m < members; m++ {
						batch = append(batch, ev(t0+int64(m)*10_000, history.TypeEnter, fmt.Sprintf("m%d", m)))
					}
					for m := 0; m < members; m++ {
						batch = append(batch, ev(t0+30*60_000+int64(m), history.TypeLeave, fmt.Sprintf("m%d", m)))
					}
					seqs[room]--
					closed := ev(t0+30*60_000+members, history.TypeRoomClosed, "")
					batch = append(batch, closed)
					if len(batch) >= 1000 {
						flush()
					}
				}
			}
			flush()
			b.Logf("%s: %d rooms a day for %d days written in %v", be.Name, perDay, days, time.Since(start).Round(time.Millisecond))

			lastDay := day0.AddDate(0, 0, days-1)
			comm := history.CommID(ht.App, "1", false, lastDay.UnixMilli(), uint64((days-1)*2*members+1))
			limits := map[string]int{"DescribeRoomInfo": 1e9, "DescribeUserInfo": 1e9, "DescribeUserEvent": 1e9, "DescribeScaleInfo": 1e9}
			m := startMonitoring(b, s, limits, nil)
			for _, q := range []struct {
				action string
				body   map[string]any
				field  string
			}{
				{"DescribeRoomInfo", map[string]any{"SdkAppId": ht.App, "StartTime": lastDay.Unix(), "EndTime": lastDay.Unix() + 86400, "PageNumber": 0, "PageSize": 100}, "RoomList"},
				{"DescribeUserInfo", map[string]any{"CommId": comm, "StartTime": lastDay.Unix(), "EndTime": lastDay.Unix() + 4*3600, "SdkAppId": ht.App, "PageNumber": 0, "PageSize": 100}, "UserList"},
				{"DescribeUserEvent", map[string]any{"CommId": comm, "StartTime": lastDay.Unix(), "EndTime": lastDay.Unix() + 86400, "UserId": "m3", "RoomId": "1", "SdkAppId": ht.App}, "Data"},
				{"DescribeScaleInfo", map[string]any{"SdkAppId": ht.App, "StartTime": day0.Unix() + 3600, "EndTime": now.Unix()}, "ScaleList"},
			} {
				b.Run(q.action, func(b *testing.B) {
					var rows []map[string]any
					m.call(b, q.action, q.body).field(b, q.field, &rows)
					if len(rows) == 0 {
						b.Fatalf("%s answered no rows", q.action)
					}
					b.ResetTimer()
					for i := 0; i < b.N; i++ {
						if r := m.call(b, q.action, q.body); r.Code != "" {
							b.Fatal(r.Code, r.Message)
						}
					}
				})
			}
		})
	}
}

package historytest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trtcd/trtcd/internal/history"
)

var ctx = context.Background()

// Clock is a settable clock for Options.Now.
type Clock struct{ ms atomic.Int64 }

func NewClock(t time.Time) *Clock { c := &Clock{}; c.Set(t); return c }
func (c *Clock) Set(t time.Time)  { c.ms.Store(t.UnixMilli()) }
func (c *Clock) Now() time.Time   { return time.UnixMilli(c.ms.Load()) }

// Feed applies events one by one, failing the test on any error.
func Feed(t testing.TB, s *history.Store, evs []history.Event) {
	t.Helper()
	for _, e := range evs {
		if err := s.Apply(ctx, e); err != nil {
			t.Fatalf("Apply %+v: %v", e, err)
		}
	}
}

// Run is the contract: every backend answers the same.
func Run(t *testing.T, b Backend) {
	t.Run("Script", func(t *testing.T) { testScript(t, b) })
	t.Run("RedeliveryChangesNothing", func(t *testing.T) { testRedelivery(t, b) })
	t.Run("BadEvents", func(t *testing.T) { testBadEvents(t, b) })
	t.Run("MigrationsFromEmpty", func(t *testing.T) { testMigrations(t, b) })
	t.Run("UpgradeFromVersion1", func(t *testing.T) { testUpgradeFromV1(t, b) })
	t.Run("UpgradeFromVersion2", func(t *testing.T) { testUpgradeFromV2(t, b) })
	t.Run("UpgradeFromVersion3", func(t *testing.T) { testUpgradeFromV3(t, b) })
	t.Run("Retention", func(t *testing.T) { testRetention(t, b) })
	t.Run("RetentionBoundary", func(t *testing.T) { testRetentionBoundary(t, b) })
	t.Run("ConcurrentWriters", func(t *testing.T) { testConcurrent(t, b) })
	t.Run("ApplyAfterClose", func(t *testing.T) { testApplyAfterClose(t, b) })
	t.Run("EntryWithoutOpening", func(t *testing.T) { testEntryWithoutOpening(t, b) })
	t.Run("Reopened", func(t *testing.T) { testReopened(t, b) })
	t.Run("LateEventAfterPrune", func(t *testing.T) { testLateEventAfterPrune(t, b) })
	t.Run("DuplicateLogins", func(t *testing.T) { testDuplicateLogins(t, b) })
	t.Run("OpenStayAfterPrune", func(t *testing.T) { testOpenStayAfterPrune(t, b) })
}

func eq(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s:\n got  %+v\n want %+v", what, got, want)
	}
}

func rooms(t *testing.T, s *history.Store, q history.RoomQuery) (int, []string) {
	t.Helper()
	total, page, err := s.Rooms(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	ids := []string{}
	for _, r := range page {
		ids = append(ids, r.CommID)
	}
	return total, ids
}

type stay struct {
	User, Role, Reason string
	Join, Leave        time.Duration
}

func members(t *testing.T, s *history.Store, q history.MemberQuery) (int, []stay) {
	t.Helper()
	total, page, err := s.Members(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	out := []stay{}
	for _, m := range page {
		st := stay{User: m.UserID, Role: m.Role, Reason: m.LeaveReason, Join: time.Duration(m.JoinMs-Ms(0)) * time.Millisecond}
		if m.LeaveMs != 0 {
			st.Leave = time.Duration(m.LeaveMs-Ms(0)) * time.Millisecond
		} else {
			st.Leave = -1
		}
		out = append(out, st)
	}
	return total, out
}

func events(t *testing.T, s *history.Store, app uint64, comm, user string) []string {
	t.Helper()
	evs, err := s.UserEvents(ctx, history.EventQuery{App: app, CommID: comm, User: user, FromMs: 0, ToMs: Ms(30 * day)})
	if err != nil {
		t.Fatal(err)
	}
	out := []string{}
	for _, e := range evs {
		out = append(out, fmt.Sprintf("%v:%d/%d/%d/%d", time.Duration(e.TimeMs-Ms(0))*time.Millisecond, e.EventID, e.Stream, e.ParamOne, e.ParamTwo))
	}
	return out
}

// Days are the three days of the script in Zone, as [start, end) ms.
func Days() [][2]int64 {
	d0 := time.Date(T0.Year(), T0.Month(), T0.Day(), 0, 0, 0, 0, Zone)
	var out [][2]int64
	for i := 0; i < 3; i++ {
		out = append(out, [2]int64{d0.AddDate(0, 0, i).UnixMilli(), d0.AddDate(0, 0, i+1).UnixMilli()})
	}
	return out
}

// CheckScript asserts every answer the script must produce.
func CheckScript(t *testing.T, s *history.Store) {
	t.Helper()
	all := history.RoomQuery{App: App, FromMs: Ms(-time.Hour), ToMs: Ms(time.Hour), Limit: 10}
	total, ids := rooms(t, s, all)
	eq(t, "rooms of the first hour", fmt.Sprint(total, ids), fmt.Sprint(3, []string{CommA1, CommStr, CommA2}))

	_, page, _ := s.Rooms(ctx, all)
	eq(t, "first session", page[0], history.RoomSession{CommID: CommA1, App: App, RoomText: "1234", CreatedMs: Ms(0),
		DestroyedMs: Ms(100 * sec), Creator: "alice", CloseReason: history.ReasonDismissed})
	eq(t, "string room", page[1], history.RoomSession{CommID: CommStr, App: App, RoomText: "1234", IsStr: true, CreatedMs: Ms(50 * sec), Creator: "erin"})
	eq(t, "second session", page[2], history.RoomSession{CommID: CommA2, App: App, RoomText: "1234", CreatedMs: Ms(200 * sec),
		DestroyedMs: Ms(260 * sec), Creator: "dave", CloseReason: history.ReasonEmpty})

	// Paging: the total is of all matches, the page is a slice of them.
	p := all
	p.Limit, p.Offset = 2, 0
	total, ids = rooms(t, s, p)
	eq(t, "page 0 of 2", fmt.Sprint(total, ids), fmt.Sprint(3, []string{CommA1, CommStr}))
	p.Offset = 2
	total, ids = rooms(t, s, p)
	eq(t, "page 1 of 2", fmt.Sprint(total, ids), fmt.Sprint(3, []string{CommA2}))
	p.Offset = 3
	total, ids = rooms(t, s, p)
	eq(t, "past the end", fmt.Sprint(total, ids), fmt.Sprint(3, []string{}))
	p.Offset = 1 << 63
	total, ids = rooms(t, s, p)
	eq(t, "far past the end", fmt.Sprint(total, ids), fmt.Sprint(3, []string{}))

	// Time filter: sessions that overlap the range.
	total, ids = rooms(t, s, history.RoomQuery{App: App, FromMs: Ms(150 * sec), ToMs: Ms(time.Hour), Limit: 10})
	eq(t, "rooms overlapping 150 s..1 h", fmt.Sprint(total, ids), fmt.Sprint(2, []string{CommStr, CommA2}))
	total, ids = rooms(t, s, history.RoomQuery{App: App, FromMs: Ms(day - time.Hour), ToMs: Ms(day + time.Hour), Limit: 10})
	eq(t, "rooms of the next day", fmt.Sprint(total, ids), fmt.Sprint(2, []string{CommStr, Comm555}))
	// Room filter: both kinds of room with that text.
	total, ids = rooms(t, s, history.RoomQuery{App: App, FromMs: 0, ToMs: Ms(10 * day), RoomText: "555", Limit: 10})
	eq(t, "room 555", fmt.Sprint(total, ids), fmt.Sprint(1, []string{Comm555}))
	total, ids = rooms(t, s, history.RoomQuery{App: App, FromMs: 0, ToMs: Ms(10 * day), RoomText: "999", Limit: 10})
	eq(t, "room 999", fmt.Sprint(total, ids), fmt.Sprint(0, []string{}))
	// Another app sees only its own.
	total, ids = rooms(t, s, history.RoomQuery{App: App2, FromMs: 0, ToMs: Ms(10 * day), Limit: 10})
	eq(t, "other app", fmt.Sprint(total, ids), fmt.Sprint(1, []string{Comm77}))

	if r, ok, err := s.Room(ctx, App, CommA2); err != nil || !ok || r.Creator != "dave" {
		t.Fatalf("Room(A2) = %+v %v %v", r, ok, err)
	}
	if _, ok, err := s.Room(ctx, App2, CommA2); err != nil || ok {
		t.Fatalf("Room(A2) for another app = %v %v", ok, err)
	}

	full := history.MemberQuery{App: App, CommID: CommA1, FromMs: 0, ToMs: Ms(10 * day), Limit: 10}
	total, stays := members(t, s, full)
	eq(t, "members of the first session", fmt.Sprint(total, stays), fmt.Sprint(4, []stay{
		{"alice", "anchor", "duplicate", 0, 40 * sec},
		{"bob", "audience", "removed", 10 * sec, 30 * sec},
		{"carol", "anchor", "dismissed", 20 * sec, 100 * sec},
		{"alice", "anchor", "dismissed", 40 * sec, 100 * sec},
	}))
	_, page2, _ := s.Members(ctx, full)
	eq(t, "first stay's client", [4]string{page2[0].ClientIP, page2[0].Device, page2[0].SdkVersion, page2[0].SessionID},
		[4]string{"10.0.0.1", "Android", "11.8", "alice-1"})
	q := full
	q.Users = []string{"alice"}
	total, stays = members(t, s, q)
	eq(t, "alice's stays", fmt.Sprint(total, stays), fmt.Sprint(2, []stay{
		{"alice", "anchor", "duplicate", 0, 40 * sec}, {"alice", "anchor", "dismissed", 40 * sec, 100 * sec}}))
	q.Users = []string{"bob", "nobody"}
	total, stays = members(t, s, q)
	eq(t, "bob and nobody", fmt.Sprint(total, stays), fmt.Sprint(1, []stay{{"bob", "audience", "removed", 10 * sec, 30 * sec}}))
	q = full
	q.Limit, q.Offset = 1, 1
	total, stays = members(t, s, q)
	eq(t, "second page of one", fmt.Sprint(total, stays), fmt.Sprint(4, []stay{{"bob", "audience", "removed", 10 * sec, 30 * sec}}))
	q = full
	q.FromMs, q.ToMs = Ms(35*sec), Ms(45*sec)
	total, stays = members(t, s, q)
	eq(t, "present between 35 s and 45 s", fmt.Sprint(total, stays), fmt.Sprint(3, []stay{
		{"alice", "anchor", "duplicate", 0, 40 * sec}, {"carol", "anchor", "dismissed", 20 * sec, 100 * sec},
		{"alice", "anchor", "dismissed", 40 * sec, 100 * sec}}))
	q = full
	q.App = App2
	total, _ = members(t, s, q)
	eq(t, "another app's view of A1", total, 0)

	total, stays = members(t, s, history.MemberQuery{App: App, CommID: CommStr, FromMs: 0, ToMs: Ms(10 * day), Limit: 10})
	eq(t, "string room", fmt.Sprint(total, stays), fmt.Sprint(1, []stay{{"erin", "anchor", "", 50 * sec, -1}}))
	total, stays = members(t, s, history.MemberQuery{App: App, CommID: Comm555, FromMs: 0, ToMs: Ms(10 * day), Limit: 10})
	eq(t, "room 555", fmt.Sprint(total, stays), fmt.Sprint(3, []stay{
		{"frank", "anchor", "timeout", day, day + 20*sec},
		{"gina", "anchor", "duplicate", day + 10*sec, day + 30*sec},
		{"gina", "anchor", "left", day + 30*sec, day + 40*sec}}))

	eq(t, "alice's events", events(t, s, App, CommA1, "alice"), []string{
		"0s:103/0/20/-1", "40s:104/0/5/-1", "40s:103/0/20/-1", "1m0s:201/2/-1/-1", "1m40s:104/0/4/-1"})
	eq(t, "bob's events", events(t, s, App, CommA1, "bob"), []string{"10s:103/0/21/-1", "30s:104/0/3/-1"})
	eq(t, "carol's events", events(t, s, App, CommA1, "carol"), []string{"20s:103/0/20/-1", "50s:105/0/21/-1", "1m40s:104/0/4/-1"})
	eq(t, "dave in the second session", events(t, s, App, CommA2, "dave"), []string{"3m20s:103/0/20/-1", "4m20s:104/0/1/-1"})
	eq(t, "dave in the first session", events(t, s, App, CommA1, "dave"), []string{})
	eq(t, "frank's timeout", events(t, s, App, Comm555, "frank"), []string{"24h0m0s:103/0/20/-1", "24h0m20s:104/0/2/-1"})
	eq(t, "another app", events(t, s, App2, CommA1, "alice"), []string{})
	evs, err := s.UserEvents(ctx, history.EventQuery{App: App, CommID: CommA1, User: "alice", FromMs: Ms(30 * sec), ToMs: Ms(60 * sec)})
	if err != nil || len(evs) != 3 {
		t.Fatalf("alice's events in 30..60 s: %+v %v", evs, err)
	}

	sc, err := s.Scale(ctx, App, Days())
	if err != nil {
		t.Fatal(err)
	}
	d := Days()
	eq(t, "scale", sc, []history.DayScale{
		{DayMs: d[0][0], Entries: 6, Members: 5, Rooms: 2},
		{DayMs: d[1][0], Entries: 3, Members: 2, Rooms: 1},
		{DayMs: d[2][0], Entries: 0, Members: 0, Rooms: 0},
	})
	sc, _ = s.Scale(ctx, App2, Days()[:1])
	eq(t, "scale of the other app", sc, []history.DayScale{{DayMs: d[0][0], Entries: 1, Members: 1, Rooms: 1}})
}

func testScript(t *testing.T, b Backend) {
	s, _ := Open(t, b, history.Options{Now: NewClock(Now).Now})
	Feed(t, s, Script())
	CheckScript(t, s)
	st := s.Stats()
	if st.Ignored != 1 || st.Applied != int64(len(Script())-1) || st.Failed != 0 {
		t.Fatalf("stats %+v", st)
	}
}

// testRedelivery: at-least-once delivery after a crash re-sends events that
// were already written, after later ones: the answers do not change.
func testRedelivery(t *testing.T, b Backend) {
	s, _ := Open(t, b, history.Options{Now: NewClock(Now).Now})
	script := Script()
	Feed(t, s, script)
	Feed(t, s, script[:12])
	if err := s.ApplyAll(ctx, script); err != nil {
		t.Fatal(err)
	}
	Feed(t, s, script[20:])
	CheckScript(t, s)
}

func testBadEvents(t *testing.T, b Backend) {
	s, _ := Open(t, b, history.Options{Now: NewClock(Now).Now})
	good := Script()[:2]
	for _, mut := range []func(*history.Event){
		func(e *history.Event) { e.App = 0 },
		func(e *history.Event) { e.Room = "" },
		func(e *history.Event) { e.RoomNum = 0 },
		func(e *history.Event) { e.RoomStr = "x" },
		func(e *history.Event) { e.TimeMs = 0 },
		func(e *history.Event) { e.Type = "" },
	} {
		e := good[0]
		mut(&e)
		if err := s.Apply(ctx, e); !errors.Is(err, history.ErrBadEvent) {
			t.Fatalf("Apply(%+v) = %v, want ErrBadEvent", e, err)
		}
	}
	total, _ := rooms(t, s, history.RoomQuery{App: App, FromMs: 0, ToMs: Ms(day), Limit: 10})
	eq(t, "rooms after bad events", total, 0)
	bad := good[1]
	bad.TimeMs = -5
	err := s.ApplyAll(ctx, []history.Event{good[0], bad, good[1]})
	if !errors.Is(err, history.ErrBadEvent) {
		t.Fatalf("ApplyAll with one bad event = %v", err)
	}
	total, stays := members(t, s, history.MemberQuery{App: App, CommID: CommA1, FromMs: 0, ToMs: Ms(day), Limit: 10})
	eq(t, "the good events of the batch", fmt.Sprint(total, stays), fmt.Sprint(1, []stay{{"alice", "anchor", "", 0, -1}}))
}

func testMigrations(t *testing.T, b Backend) {
	addr := b.New(t)
	raw := b.SQL(t, addr)
	var n int
	if err := raw.QueryRowContext(ctx, `SELECT COUNT(*) FROM history_schema`).Scan(&n); err == nil {
		t.Fatal("the new database already has a schema")
	}
	s, err := b.Open(ctx, addr, history.Options{Now: NewClock(Now).Now})
	if err != nil {
		t.Fatal(err)
	}
	v, err := s.Version(ctx)
	if err != nil || v != history.SchemaVersion() {
		t.Fatalf("version %d %v, want %d", v, err, history.SchemaVersion())
	}
	Feed(t, s, Script())
	s.Close()
	// Opening again migrates nothing and keeps the data.
	s, err = b.Open(ctx, addr, history.Options{Now: NewClock(Now).Now})
	if err != nil {
		t.Fatal(err)
	}
	if err := raw.QueryRowContext(ctx, `SELECT COUNT(*) FROM history_schema`).Scan(&n); err != nil || n != history.SchemaVersion() {
		t.Fatalf("%d schema rows (%v), want %d", n, err, history.SchemaVersion())
	}
	CheckScript(t, s)
	s.Close()
	// A database from a newer binary is refused, not damaged.
	if _, err := raw.ExecContext(ctx, `INSERT INTO history_schema (version) VALUES (99)`); err != nil {
		t.Fatal(err)
	}
	if s, err := b.Open(ctx, addr, history.Options{}); err == nil {
		s.Close()
		t.Fatal("opened a database with a newer schema")
	}
}

// testRetention: with the clock at T0 + 14 days + 150 s, everything that
// ended before T0 + 150 s goes, and nothing else.
func testRetention(t *testing.T, b Backend) {
	clock := NewClock(Now)
	s, _ := Open(t, b, history.Options{Now: clock.Now})
	Feed(t, s, Script())
	if n, err := s.Prune(ctx); err != nil || n != 0 {
		t.Fatalf("prune at T0+3d deleted %d (%v)", n, err)
	}
	CheckScript(t, s)
	clock.Set(T0.Add(history.DefaultRetention + 150*sec))
	n, err := s.Prune(ctx)
	// The first session: 1 room, 4 stays, its 2 events that are not an
	// enter or a leave (those are read off the stays, schema version 3).
	if err != nil || n != 7 {
		t.Fatalf("prune deleted %d rows (%v), want 7", n, err)
	}
	total, ids := rooms(t, s, history.RoomQuery{App: App, FromMs: 0, ToMs: Ms(30 * day), Limit: 10})
	eq(t, "rooms kept", fmt.Sprint(total, ids), fmt.Sprint(3, []string{CommStr, CommA2, Comm555}))
	total, _ = members(t, s, history.MemberQuery{App: App, CommID: CommA1, FromMs: 0, ToMs: Ms(30 * day), Limit: 10})
	eq(t, "stays of the first session", total, 0)
	total, stays := members(t, s, history.MemberQuery{App: App, CommID: CommStr, FromMs: 0, ToMs: Ms(30 * day), Limit: 10})
	eq(t, "erin is still there", fmt.Sprint(total, stays), fmt.Sprint(1, []stay{{"erin", "anchor", "", 50 * sec, -1}}))
	eq(t, "alice's events", events(t, s, App, CommA1, "alice"), []string{})
	// Her stay is kept while it is open, and her entry with it.
	eq(t, "erin's events", events(t, s, App, CommStr, "erin"), []string{"50s:103/0/20/-1"})
	eq(t, "dave's events", events(t, s, App, CommA2, "dave"), []string{"3m20s:103/0/20/-1", "4m20s:104/0/1/-1"})
	eq(t, "frank's events", events(t, s, App, Comm555, "frank"), []string{"24h0m0s:103/0/20/-1", "24h0m20s:104/0/2/-1"})
	total, ids = rooms(t, s, history.RoomQuery{App: App2, FromMs: 0, ToMs: Ms(30 * day), Limit: 10})
	eq(t, "the other app's open room", fmt.Sprint(total, ids), fmt.Sprint(1, []string{Comm77}))
	if n, err := s.Prune(ctx); err != nil || n != 0 {
		t.Fatalf("second prune deleted %d (%v)", n, err)
	}
	if st := s.Stats(); st.Pruned != 7 {
		t.Fatalf("stats %+v", st)
	}
}

// testRetentionBoundary: what ended 1 ms before now − retention goes; what
// ended exactly then stays, until the clock moves on by 1 ms; what is still
// open stays however old it is.
func testRetentionBoundary(t *testing.T, b Backend) {
	clock := NewClock(T0)
	s, _ := Open(t, b, history.Options{Now: clock.Now})
	rm, open := room{app: App, num: 31337}, room{app: App, num: 31338}
	cut := 10 * sec
	Feed(t, s, []history.Event{
		rm.ev(1, 0, history.TypeRoomOpened, "early"),
		enter(rm.ev(1, 0, history.TypeEnter, "early"), "anchor", "", "", ""),
		enter(rm.ev(2, 0, history.TypeEnter, "onTime"), "anchor", "", "", ""),
		reason(rm.ev(3, cut-time.Millisecond, history.TypeLeave, "early"), history.ReasonLeft),
		reason(rm.ev(4, cut, history.TypeLeave, "onTime"), history.ReasonLeft),
		reason(rm.ev(4, cut, history.TypeRoomClosed, ""), history.ReasonEmpty),
		open.ev(1, 0, history.TypeRoomOpened, "stayer"),
		enter(open.ev(1, 0, history.TypeEnter, "stayer"), "anchor", "", "", ""),
	})
	comm, commOpen := history.CommID(App, "31337", false, Ms(0), 1), history.CommID(App, "31338", false, Ms(0), 1)
	all := history.RoomQuery{App: App, FromMs: 0, ToMs: Ms(30 * day), Limit: 10}
	stays := func(c string) string {
		_, st := members(t, s, history.MemberQuery{App: App, CommID: c, FromMs: 0, ToMs: Ms(30 * day), Limit: 10})
		var users []string
		for _, x := range st {
			users = append(users, x.User)
		}
		return fmt.Sprint(users)
	}

	clock.Set(T0.Add(history.DefaultRetention + cut)) // now − retention = the second leave, exactly
	n, err := s.Prune(ctx)
	// early's stay (with its enter and leave, read off it).
	if err != nil || n != 1 {
		t.Fatalf("prune at the boundary deleted %d rows (%v), want 1", n, err)
	}
	total, ids := rooms(t, s, all)
	eq(t, "room sessions at the boundary", fmt.Sprint(total, ids), fmt.Sprint(2, []string{comm, commOpen}))
	eq(t, "stays at the boundary", stays(comm), "[onTime]")
	eq(t, "onTime's events at the boundary", len(events(t, s, App, comm, "onTime")), 2) // its stay's enter and leave
	eq(t, "early's events at the boundary", events(t, s, App, comm, "early"), []string{})

	clock.Set(T0.Add(history.DefaultRetention + cut + time.Millisecond))
	if n, err := s.Prune(ctx); err != nil || n != 2 {
		t.Fatalf("prune 1 ms later deleted %d rows (%v), want 2 (a stay, the room)", n, err)
	}
	total, ids = rooms(t, s, all)
	eq(t, "room sessions 1 ms later", fmt.Sprint(total, ids), fmt.Sprint(1, []string{commOpen}))
	eq(t, "the open stay is kept", stays(commOpen), "[stayer]")
	eq(t, "the closed room's stays", stays(comm), "[]")
}

// testConcurrent: several consumers write different rooms, and the same
// events twice, at once.
func testConcurrent(t *testing.T, b Backend) {
	s, _ := Open(t, b, history.Options{Now: NewClock(Now).Now})
	const writers, roomsEach = 4, 5
	var wg sync.WaitGroup
	errs := make(chan error, writers*2)
	for w := 0; w < writers*2; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for r := 0; r < roomsEach; r++ {
				rm := room{app: App, num: uint64(10000 + (w%writers)*100 + r)}
				for _, e := range []history.Event{
					rm.ev(1, time.Duration(r)*sec, history.TypeRoomOpened, "u1"),
					rm.ev(1, time.Duration(r)*sec, history.TypeEnter, "u1"),
					rm.ev(2, time.Duration(r)*sec+1, history.TypeEnter, "u2"),
					rm.ev(3, time.Duration(r)*sec+2, history.TypeLeave, "u1"),
				} {
					if err := s.Apply(ctx, e); err != nil {
						errs <- err
						return
					}
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	total, _ := rooms(t, s, history.RoomQuery{App: App, FromMs: 0, ToMs: Ms(day), Limit: 100})
	eq(t, "rooms written", total, writers*roomsEach)
	sc, err := s.Scale(ctx, App, Days()[:1])
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "entries written once", sc[0].Entries, writers*roomsEach*2)
}

// testEntryWithoutOpening: history enabled while a room is live sees an
// entry first; the entry opens a session of its own.
func testEntryWithoutOpening(t *testing.T, b Backend) {
	s, _ := Open(t, b, history.Options{Now: NewClock(Now).Now})
	rm := room{app: App, num: 4242}
	Feed(t, s, []history.Event{
		rm.ev(40, 5*sec, history.TypeLeave, "ghost"), // no session: ignored
		rm.ev(41, 6*sec, history.TypeEnter, "hal"),
		rm.ev(42, 7*sec, history.TypeLeave, "hal"),
		rm.ev(42, 7*sec, history.TypeRoomClosed, ""),
	})
	_, page, err := s.Rooms(ctx, history.RoomQuery{App: App, FromMs: 0, ToMs: Ms(day), Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "the implicit session", page, []history.RoomSession{{CommID: history.CommID(App, "4242", false, Ms(6*sec), 41),
		App: App, RoomText: "4242", CreatedMs: Ms(6 * sec), DestroyedMs: Ms(7 * sec), Creator: "hal", CloseReason: history.ReasonEmpty}})
}

// testApplyAfterClose: a closed store answers ErrUnavailable at once.
func testApplyAfterClose(t *testing.T, b Backend) {
	s, _ := Open(t, b, history.Options{Now: NewClock(Now).Now})
	rm := room{app: App, num: 77}
	if err := s.Apply(ctx, rm.ev(1, sec, history.TypeRoomOpened, "u1")); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if err := s.Apply(ctx, rm.ev(2, sec, history.TypeEnter, "u1")); !errors.Is(err, history.ErrUnavailable) {
		t.Fatalf("Apply after Close = %v, want ErrUnavailable", err)
	}
}

// testReopened: a store opened again on the same database (a restart, with
// rooms still open) goes on writing their sessions as one store would,
// finding the sessions the first one opened in the database.
func testReopened(t *testing.T, b Backend) {
	s, addr := Open(t, b, history.Options{Now: NewClock(Now).Now})
	script := Script()
	Feed(t, s, script[:len(script)/2])
	s.Close()
	s2, err := b.Open(ctx, addr, history.Options{Now: NewClock(Now).Now})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	Feed(t, s2, script[len(script)/2:])
	CheckScript(t, s2)
}

// testLateEventAfterPrune: events redelivered for a room session that
// retention deleted do not go where they do not belong. A late leave is
// stored nowhere; a late opening comes back as an old session, and the
// room's newer session, open before it came back, still gets its events.
func testLateEventAfterPrune(t *testing.T, b Backend) {
	clock := NewClock(Now)
	s, _ := Open(t, b, history.Options{Now: clock.Now})
	rm := room{app: App, num: 9191}
	old := history.CommID(App, "9191", false, Ms(1*sec), 1)
	Feed(t, s, []history.Event{
		rm.ev(1, 1*sec, history.TypeRoomOpened, "ivy"),
		rm.ev(2, 1*sec, history.TypeEnter, "ivy"),
		rm.ev(3, 2*sec, history.TypeLeave, "ivy"),
		rm.ev(3, 2*sec, history.TypeRoomClosed, ""),
	})
	eq(t, "ivy's events before", events(t, s, App, old, "ivy"), []string{"1s:103/0/20/-1", "2s:104/0/0/-1"})
	later := history.DefaultRetention + 100*sec
	clock.Set(T0.Add(later + 50*sec))
	newer := history.CommID(App, "9191", false, Ms(later), 10)
	Feed(t, s, []history.Event{
		rm.ev(10, later, history.TypeRoomOpened, "joe"),
		rm.ev(11, later, history.TypeEnter, "joe"),
	})
	if n, err := s.Prune(ctx); err != nil || n == 0 {
		t.Fatalf("prune deleted %d rows (%v)", n, err)
	}
	Feed(t, s, []history.Event{
		rm.ev(3, 2*sec, history.TypeLeave, "ivy"),
		rm.ev(1, 1*sec, history.TypeRoomOpened, "ivy"),
		rm.ev(12, later+10*sec, history.TypeLeave, "joe"),
	})
	eq(t, "ivy's events after", events(t, s, App, old, "ivy"), []string{})
	eq(t, "joe's events in the newer session", events(t, s, App, newer, "joe"), []string{"336h1m40s:103/0/20/-1", "336h1m50s:104/0/0/-1"})
	eq(t, "joe's events in the old one", events(t, s, App, old, "joe"), []string{})
	total, stays := members(t, s, history.MemberQuery{App: App, CommID: newer, FromMs: 0, ToMs: Ms(30 * day), Limit: 10})
	eq(t, "joe's stay", fmt.Sprint(total, stays), fmt.Sprint(1, []stay{{"joe", "anchor", history.ReasonLeft, later, later + 10*sec}}))
}

// testDuplicateLogins: a user entering while a stay of theirs is open ends
// that stay as a duplicate, whatever came before: a leave and a rejoin, a
// leave redelivered after a newer entry, a restart. (On SQLite the session
// cache knows who may have an open stay and skips the close for the others,
// sessions.go: it must never skip it wrongly.)
func testDuplicateLogins(t *testing.T, b Backend) {
	s, addr := Open(t, b, history.Options{Now: NewClock(Now).Now})
	rm := room{app: App, num: 6060}
	Feed(t, s, []history.Event{
		rm.ev(1, 1*sec, history.TypeRoomOpened, "kay"),
		rm.ev(2, 1*sec, history.TypeEnter, "kay"),
		rm.ev(3, 2*sec, history.TypeLeave, "kay"),
		rm.ev(4, 3*sec, history.TypeEnter, "kay"), // a rejoin
		rm.ev(5, 4*sec, history.TypeEnter, "kay"), // and a duplicate of it
		rm.ev(6, 5*sec, history.TypeEnter, "lou"),
		rm.ev(7, 6*sec, history.TypeLeave, "lou"),
		rm.ev(8, 7*sec, history.TypeEnter, "lou"),
		rm.ev(7, 6*sec, history.TypeLeave, "lou"), // redelivered: the stay from 7s is still open
		rm.ev(9, 8*sec, history.TypeEnter, "lou"),
		rm.ev(10, 9*sec, history.TypeEnter, "max"),
	})
	s.Close()
	s2, err := b.Open(ctx, addr, history.Options{Now: NewClock(Now).Now})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	Feed(t, s2, []history.Event{rm.ev(11, 10*sec, history.TypeEnter, "max")}) // after a restart
	// No opening: the entry opens the session.
	implicit := room{app: App, num: 6061}
	Feed(t, s2, []history.Event{implicit.ev(1, 1*sec, history.TypeEnter, "pia"), implicit.ev(2, 2*sec, history.TypeEnter, "pia")})
	total, stays := members(t, s2, history.MemberQuery{App: App, CommID: history.CommID(App, "6061", false, Ms(sec), 1),
		FromMs: 0, ToMs: Ms(day), Limit: 20})
	eq(t, "pia's stays", fmt.Sprint(total, stays), fmt.Sprint(2, []stay{
		{"pia", "anchor", history.ReasonDuplicate, 1 * sec, 2 * sec}, {"pia", "anchor", "", 2 * sec, -1}}))
	total, stays = members(t, s2, history.MemberQuery{App: App, CommID: history.CommID(App, "6060", false, Ms(sec), 1),
		FromMs: 0, ToMs: Ms(day), Limit: 20})
	dup, left := history.ReasonDuplicate, history.ReasonLeft
	eq(t, "stays", fmt.Sprint(total, stays), fmt.Sprint(8, []stay{
		{"kay", "anchor", left, 1 * sec, 2 * sec}, {"kay", "anchor", dup, 3 * sec, 4 * sec}, {"kay", "anchor", "", 4 * sec, -1},
		{"lou", "anchor", left, 5 * sec, 6 * sec}, {"lou", "anchor", dup, 7 * sec, 8 * sec}, {"lou", "anchor", "", 8 * sec, -1},
		{"max", "anchor", dup, 9 * sec, 10 * sec}, {"max", "anchor", "", 10 * sec, -1},
	}))
}

// testOpenStayAfterPrune: retention deletes a closed room session but keeps
// a stay in it that is still open (an entry delivered after the close).
// When the session's opening is delivered again, a later entry of that user
// still ends that stay as a duplicate.
func testOpenStayAfterPrune(t *testing.T, b Backend) {
	clock := NewClock(Now)
	s, _ := Open(t, b, history.Options{Now: clock.Now})
	rm := room{app: App, num: 7070}
	Feed(t, s, []history.Event{
		rm.ev(1, 1*sec, history.TypeRoomOpened, "nia"),
		rm.ev(2, 1*sec, history.TypeEnter, "nia"),
		rm.ev(4, 3*sec, history.TypeLeave, "nia"),
		rm.ev(4, 3*sec, history.TypeRoomClosed, ""),
		rm.ev(3, 2*sec, history.TypeEnter, "oz"), // late: its session had closed
	})
	clock.Set(T0.Add(history.DefaultRetention + 100*sec))
	if n, err := s.Prune(ctx); err != nil || n == 0 {
		t.Fatalf("prune deleted %d rows (%v)", n, err)
	}
	Feed(t, s, []history.Event{
		rm.ev(1, 1*sec, history.TypeRoomOpened, "nia"), // redelivered
		rm.ev(5, 4*sec, history.TypeEnter, "oz"),
	})
	total, stays := members(t, s, history.MemberQuery{App: App, CommID: history.CommID(App, "7070", false, Ms(sec), 1),
		FromMs: 0, ToMs: Ms(30 * day), Limit: 20})
	eq(t, "oz's stays", fmt.Sprint(total, stays), fmt.Sprint(2, []stay{
		{"oz", "anchor", history.ReasonDuplicate, 2 * sec, 4 * sec}, {"oz", "anchor", "", 4 * sec, -1}}))
}

// testUpgradeFromV1: a database an older binary left at schema version 1,
// with its data, is brought to the current version at start-up: version 2
// drops two indexes, and the answers stay the same.
func testUpgradeFromV1(t *testing.T, b Backend) {
	addr, raw, exec, want := written(t, b, Script())
	// Back to version 1 as it was: its rows (version 2's), its two indexes,
	// its one version row.
	backToVersion2(t, exec)
	exec(`CREATE INDEX member_sessions_comm_join ON member_sessions (comm_id, join_ms)`)
	exec(`CREATE INDEX user_events_comm_user_time ON user_events (comm_id, user_id, time_ms)`)
	exec(`DELETE FROM history_schema WHERE version > 1`)
	upgraded(t, b, addr, 2)
	// One row per version, read on the raw connection first (which also
	// makes SQLite reload the schema it cached before the upgrade).
	var rows int
	if err := raw.QueryRowContext(ctx, `SELECT COUNT(*) FROM history_schema`).Scan(&rows); err != nil || rows != history.SchemaVersion() {
		t.Fatalf("%d schema rows (%v), want %d", rows, err, history.SchemaVersion())
	}
	// Both indexes are gone: their names are free again.
	exec(`CREATE INDEX member_sessions_comm_join ON member_sessions (comm_id)`)
	exec(`CREATE INDEX user_events_comm_user_time ON user_events (comm_id)`)
	eq(t, "rows after the upgrade", version3Rows(t, raw), want)
}

// kimApp is an app of its own for testUpgradeFromV2's extra room, out of
// the script's answers.
const kimApp = 1400000099

// testUpgradeFromV2: a populated version 2 database, whose enter and leave
// events are user_events rows, answers the same after the upgrade to
// version 3 and holds what version 3 writes: the stays' leave_seq, and no
// row for an enter or for a leave its stay holds.
func testUpgradeFromV2(t *testing.T, b Backend) {
	// In one millisecond: a duplicate login closes kim's first stay (no
	// leave event), and a leave with a reason closes the second.
	rm := room{app: kimApp, num: 4343}
	addr, raw, exec, want := written(t, b, Script(), []history.Event{
		rm.ev(1, 0, history.TypeRoomOpened, "kim"),
		enter(rm.ev(1, 0, history.TypeEnter, "kim"), "anchor", "", "", ""),
		enter(rm.ev(2, 5*sec, history.TypeEnter, "kim"), "anchor", "", "", ""),
		reason(rm.ev(3, 5*sec, history.TypeLeave, "kim"), history.ReasonRemoved),
	})
	backToVersion2(t, exec)
	exec(`DELETE FROM history_schema WHERE version > 2`)
	var rows int
	if err := raw.QueryRowContext(ctx, `SELECT COUNT(*) FROM user_events WHERE type = 'enter'`).Scan(&rows); err != nil || rows == 0 {
		t.Fatalf("version 2 as made: %d enter rows (%v)", rows, err)
	}
	s2 := upgraded(t, b, addr, 3)
	eq(t, "kim's events", events(t, s2, kimApp, history.CommID(kimApp, "4343", false, Ms(0), 1), "kim"),
		[]string{"0s:103/0/20/-1", "5s:103/0/20/-1", "5s:104/0/3/-1"})
	eq(t, "rows after the upgrade", version3Rows(t, raw), want)
}

// written feeds batches into a new database and closes its store; it
// returns the database's address, a raw connection to it, a statement
// runner on that connection, and its rows as version3Rows lists them.
func written(t *testing.T, b Backend, batches ...[]history.Event) (addr string, raw *sql.DB, exec func(string), rows string) {
	t.Helper()
	s, addr := Open(t, b, history.Options{Now: NewClock(Now).Now})
	for _, evs := range batches {
		Feed(t, s, evs)
	}
	s.Close()
	raw = b.SQL(t, addr)
	return addr, raw, execOn(t, raw), version3Rows(t, raw)
}

// upgraded opens the store at addr, which upgrades it, checks that it is
// now at this binary's schema version (at least atLeast) and that it
// answers the script as before, and returns it (closed at the test's end).
func upgraded(t *testing.T, b Backend, addr string, atLeast int) *history.Store {
	t.Helper()
	s, err := b.Open(ctx, addr, history.Options{Now: NewClock(Now).Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if v, err := s.Version(ctx); err != nil || v != history.SchemaVersion() || v < atLeast {
		t.Fatalf("version %d (%v), want %d", v, err, history.SchemaVersion())
	}
	CheckScript(t, s)
	return s
}

// execOn runs statements on raw, failing the test on an error.
func execOn(t *testing.T, raw *sql.DB) func(string) {
	return func(q string) {
		t.Helper()
		if _, err := raw.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// testUpgradeFromV3: a populated version 3 database answers the same after
// the upgrade to version 4, holds the same rows, and has lost the indexes
// version 4 does without (their names are free again).
func testUpgradeFromV3(t *testing.T, b Backend) {
	addr, raw, exec, want := written(t, b, Script())
	backToVersion3(t, exec)
	exec(`DELETE FROM history_schema WHERE version > 3`)
	upgraded(t, b, addr, 4)
	eq(t, "rows after the upgrade", version3Rows(t, raw), want)
	exec(`CREATE INDEX member_sessions_comm_user ON member_sessions (comm_id)`)
	exec(`CREATE INDEX member_sessions_leave ON member_sessions (comm_id)`)
	exec(`CREATE INDEX room_sessions_destroyed ON room_sessions (comm_id)`)
}

// backToVersion3 gives a database written by this version version 3's
// layout: member_sessions keyed (comm_id, enter_seq, user_id), with indexes
// on (comm_id, user_id, join_ms) and on leave_ms, and room_sessions'
// index on destroyed_ms.
func backToVersion3(t *testing.T, exec func(string)) {
	t.Helper()
	exec(`CREATE TABLE member_sessions_v3 (
		comm_id TEXT NOT NULL, enter_seq BIGINT NOT NULL, user_id TEXT NOT NULL, app BIGINT NOT NULL,
		room_key TEXT NOT NULL, room_text TEXT NOT NULL, role TEXT NOT NULL, session_id TEXT NOT NULL,
		join_ms BIGINT NOT NULL, leave_ms BIGINT, leave_reason TEXT NOT NULL, client_ip TEXT NOT NULL,
		device TEXT NOT NULL, sdk_version TEXT NOT NULL, leave_seq BIGINT,
		PRIMARY KEY (comm_id, enter_seq, user_id))`)
	exec(`INSERT INTO member_sessions_v3 SELECT comm_id, enter_seq, user_id, app, room_key, room_text, role, session_id,
		join_ms, leave_ms, leave_reason, client_ip, device, sdk_version, leave_seq FROM member_sessions`)
	exec(`DROP TABLE member_sessions`)
	exec(`ALTER TABLE member_sessions_v3 RENAME TO member_sessions`)
	exec(`CREATE INDEX member_sessions_comm_user ON member_sessions (comm_id, user_id, join_ms)`)
	exec(`CREATE INDEX member_sessions_app_join ON member_sessions (app, join_ms, room_key, user_id)`)
	exec(`CREATE INDEX member_sessions_leave ON member_sessions (leave_ms)`)
	exec(`CREATE INDEX room_sessions_destroyed ON room_sessions (destroyed_ms)`)
}

// backToVersion2 turns a database written by this version into what
// version 2 wrote for the same events: every enter and every leave with a
// reason as a user_events row (their EventId and parameters as
// DescribeUserEvent answers them), and no leave_seq column.
func backToVersion2(t *testing.T, exec func(string)) {
	t.Helper()
	backToVersion3(t, exec)
	exec(`INSERT INTO user_events (comm_id, user_id, seq, type, app, time_ms, event_id, stream, param_one, param_two)
		SELECT comm_id, user_id, enter_seq, 'enter', app, join_ms, 103, 0, CASE WHEN role = 'audience' THEN 21 ELSE 20 END, -1 FROM member_sessions`)
	exec(`INSERT INTO user_events (comm_id, user_id, seq, type, app, time_ms, event_id, stream, param_one, param_two)
		SELECT comm_id, user_id, leave_seq, 'leave', app, leave_ms, 104, 0, CASE leave_reason WHEN 'left' THEN 1 WHEN 'timeout' THEN 2
			WHEN 'removed' THEN 3 WHEN 'dismissed' THEN 4 WHEN 'duplicate' THEN 5 ELSE 0 END, -1 FROM member_sessions WHERE leave_seq IS NOT NULL`)
	exec(`ALTER TABLE member_sessions DROP COLUMN leave_seq`)
}

// version3Rows lists what a version 3 store holds of its members' events:
// every stay's leave_seq and every user_events row.
func version3Rows(t *testing.T, raw *sql.DB) string {
	t.Helper()
	var out []string
	for _, q := range []string{
		`SELECT comm_id, user_id, enter_seq, COALESCE(leave_seq, -1) FROM member_sessions ORDER BY comm_id, user_id, enter_seq`,
		`SELECT comm_id, user_id, seq, type FROM user_events ORDER BY comm_id, user_id, seq, type`,
	} {
		rows, err := raw.QueryContext(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var comm, user, x string
			var n int64
			if err := rows.Scan(&comm, &user, &n, &x); err != nil {
				t.Fatal(err)
			}
			out = append(out, fmt.Sprint(comm, "/", user, "/", n, "/", x))
		}
		if err := rows.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return strings.Join(out, "\n")
}

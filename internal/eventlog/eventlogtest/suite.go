// Package eventlogtest is the contract every event log meets: the memory
// log and the Redis log both run it.
package eventlogtest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/trtcd/trtcd/internal/eventlog"
)

// Node is the log as one node sees it.
type Node interface {
	Group(name string, h eventlog.Handler) (*eventlog.Group, error)
	GroupBatch(name string, h eventlog.BatchHandler) (*eventlog.Group, error)
}

// Target is one fresh, empty log.
type Target struct {
	// Node returns the log as another node sees it (Memory: the same log;
	// Redis: a new client of the same server).
	Node func(t *testing.T) Node
	// Append commits ev (its room set), taking the room's next seq, and
	// returns it as stored. It waits for the log to be reachable.
	Append func(t *testing.T, ev eventlog.Event) eventlog.Event
	// Restart, if set, makes the log lose everything (Redis restarted empty).
	Restart func(t *testing.T)
}

// Factory makes a fresh target for each test.
type Factory func(t *testing.T) Target

// Wait is the generous deadline for anything to arrive (loaded machines).
const Wait = 30 * time.Second

// Run runs the contract.
func Run(t *testing.T, f Factory) {
	t.Run("EveryEventOnceInRoomOrder", func(t *testing.T) { testOnceInOrder(t, f(t)) })
	t.Run("TwoGroupsEachGetEverything", func(t *testing.T) { testTwoGroups(t, f(t)) })
	t.Run("TwoConsumersSplitTheShards", func(t *testing.T) { testSplit(t, f(t)) })
	t.Run("CancelledBeforeAckIsRedelivered", func(t *testing.T) { testCancelBeforeAck(t, f(t)) })
	t.Run("HandlerErrorsRetriedInOrder", func(t *testing.T) { testRetry(t, f(t)) })
	t.Run("BatchHandlerGetsReadsInRoomOrder", func(t *testing.T) { testBatch(t, f(t)) })
	t.Run("BatchHandlerErrorRetriesTheBatch", func(t *testing.T) { testBatchRetry(t, f(t)) })
	t.Run("LagCountAndAge", func(t *testing.T) { testLag(t, f(t)) })
	t.Run("BadInput", func(t *testing.T) { testBadInput(t, f(t)) })
	t.Run("RestartEmptyDoesNotWedge", func(t *testing.T) {
		tg := f(t)
		if tg.Restart == nil {
			t.Skip("this log cannot lose its data")
		}
		testRestart(t, tg)
	})
}

// Event makes an event of numeric room num of app 1400000001.
func Event(num uint64, typ eventlog.Type, user string) eventlog.Event {
	e := eventlog.Event{Type: typ, User: user, Role: eventlog.RoleAnchor, Session: "s-" + user}
	e.SetRoom(1400000001, num, "")
	return e
}

// Collector records what a handler was given.
type Collector struct {
	mu     sync.Mutex
	byRoom map[string][]uint64 // room → seqs in arrival order
	count  map[string]int      // room/seq → deliveries
	total  int
}

func NewCollector() *Collector {
	return &Collector{byRoom: map[string][]uint64{}, count: map[string]int{}}
}

// Handle is a Handler that records every event.
func (c *Collector) Handle(_ context.Context, ev eventlog.Event) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.byRoom[ev.Room] = append(c.byRoom[ev.Room], ev.Seq)
	c.count[fmt.Sprintf("%s/%d", ev.Room, ev.Seq)]++
	c.total++
	return nil
}

// Total is the number of deliveries.
func (c *Collector) Total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.total
}

// Seqs is what room received, in order.
func (c *Collector) Seqs(room string) []uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]uint64(nil), c.byRoom[room]...)
}

// Dups lists events delivered more than once.
func (c *Collector) Dups() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for k, n := range c.count {
		if n > 1 {
			out = append(out, fmt.Sprintf("%s×%d", k, n))
		}
	}
	return out
}

// Until polls cond until it holds, failing after Wait.
func Until(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(Wait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("still waiting after %v: %s", Wait, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Start runs g until the test ends (or stop is called) and waits for Run
// to return.
func Start(t *testing.T, g *eventlog.Group) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- g.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run: %v", err)
				}
			case <-time.After(Wait):
				t.Errorf("Run did not return %v after its context ended", Wait)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func mustGroup(t *testing.T, n Node, name string, h eventlog.Handler) *eventlog.Group {
	t.Helper()
	g, err := n.Group(name, h)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// appendRooms appends per events to each of rooms (num first..first+rooms-1),
// interleaved, and returns each room's seqs in order.
func appendRooms(t *testing.T, tg Target, first uint64, rooms, per int) map[string][]uint64 {
	want := map[string][]uint64{}
	for i := 0; i < per; i++ {
		for r := 0; r < rooms; r++ {
			ev := tg.Append(t, Event(first+uint64(r), eventlog.TypeEnter, fmt.Sprintf("u%d", i)))
			want[ev.Room] = append(want[ev.Room], ev.Seq)
		}
	}
	return want
}

func total(want map[string][]uint64) int {
	n := 0
	for _, s := range want {
		n += len(s)
	}
	return n
}

// checkExact: every room got exactly its seqs, in order, once.
func checkExact(t *testing.T, name string, c *Collector, want map[string][]uint64) {
	t.Helper()
	if d := c.Dups(); len(d) > 0 {
		t.Fatalf("%s: delivered more than once: %v", name, d)
	}
	for room, seqs := range want {
		if got := c.Seqs(room); fmt.Sprint(got) != fmt.Sprint(seqs) {
			t.Fatalf("%s: room %s got %v, want %v", name, room, got, seqs)
		}
	}
}

func testOnceInOrder(t *testing.T, tg Target) {
	c := NewCollector()
	before := appendRooms(t, tg, 100, 20, 5) // appended before the group starts
	Start(t, mustGroup(t, tg.Node(t), "callbacks", c.Handle))
	after := appendRooms(t, tg, 100, 20, 5) // and while it runs
	for room, s := range after {
		before[room] = append(before[room], s...)
	}
	n := total(before)
	Until(t, fmt.Sprintf("%d events", n), func() bool { return c.Total() >= n })
	checkExact(t, "callbacks", c, before)
}

func testTwoGroups(t *testing.T, tg Target) {
	a, b := NewCollector(), NewCollector()
	node := tg.Node(t)
	Start(t, mustGroup(t, node, "callbacks", a.Handle))
	Start(t, mustGroup(t, node, "history", b.Handle))
	want := appendRooms(t, tg, 200, 10, 10)
	n := total(want)
	Until(t, "both groups", func() bool { return a.Total() >= n && b.Total() >= n })
	checkExact(t, "callbacks", a, want)
	checkExact(t, "history", b, want)
}

func testSplit(t *testing.T, tg Target) {
	a, b := NewCollector(), NewCollector()
	ga := mustGroup(t, tg.Node(t), "callbacks", a.Handle)
	gb := mustGroup(t, tg.Node(t), "callbacks", b.Handle)
	Start(t, ga)
	Start(t, gb)
	Until(t, "the two consumers to share the shards", func() bool {
		return ga.Stats().Owned == eventlog.Shards/2 && gb.Stats().Owned == eventlog.Shards/2
	})
	want := appendRooms(t, tg, 300, 100, 4)
	n := total(want)
	Until(t, fmt.Sprintf("%d events between the two", n), func() bool { return a.Total()+b.Total() >= n })
	if a.Total() == 0 || b.Total() == 0 {
		t.Fatalf("one consumer did all the work: %d and %d", a.Total(), b.Total())
	}
	both := NewCollector()
	for room := range want {
		sa, sb := a.Seqs(room), b.Seqs(room)
		if len(sa) > 0 && len(sb) > 0 {
			t.Fatalf("room %s was split between consumers: %v and %v", room, sa, sb)
		}
		for _, s := range append(sa, sb...) {
			ev := eventlog.Event{Room: room, Seq: s}
			both.Handle(context.Background(), ev)
		}
	}
	checkExact(t, "callbacks (both consumers)", both, want)
}

func testCancelBeforeAck(t *testing.T, tg Target) {
	got := make(chan eventlog.Event, 1)
	blocker := func(ctx context.Context, ev eventlog.Event) error {
		select {
		case got <- ev:
		default:
		}
		<-ctx.Done() // never finishes: the event is not acknowledged
		return ctx.Err()
	}
	ga := mustGroup(t, tg.Node(t), "callbacks", blocker)
	stop := Start(t, ga)
	want := appendRooms(t, tg, 400, 1, 3)
	var first eventlog.Event
	select {
	case first = <-got:
	case <-time.After(Wait):
		t.Fatal("the first consumer got nothing")
	}
	stop()
	c := NewCollector()
	Start(t, mustGroup(t, tg.Node(t), "callbacks", c.Handle))
	Until(t, "the unacknowledged events to come again", func() bool { return c.Total() >= 3 })
	checkExact(t, "callbacks after the first consumer ended", c, want)
	if s := c.Seqs(first.Room); s[0] != first.Seq {
		t.Fatalf("redelivery did not start with the unacknowledged event %d: %v", first.Seq, s)
	}
}

func testRetry(t *testing.T, tg Target) {
	var mu sync.Mutex
	var calls []string
	fails := 0
	var failSeq uint64
	h := func(_ context.Context, ev eventlog.Event) error {
		mu.Lock()
		defer mu.Unlock()
		calls = append(calls, fmt.Sprint(ev.Seq))
		if ev.Seq == failSeq && fails < 3 {
			fails++
			return errors.New("the customer's endpoint is down")
		}
		return nil
	}
	want := appendRooms(t, tg, 500, 1, 4)
	var room string
	for r := range want {
		room = r
	}
	seqs := want[room]
	failSeq = seqs[1]
	g := mustGroup(t, tg.Node(t), "callbacks", h)
	Start(t, g)
	Until(t, "all events to succeed", func() bool { return g.Stats().Delivered >= 4 })
	mu.Lock()
	got := fmt.Sprint(calls)
	mu.Unlock()
	s := func(i int) string { return fmt.Sprint(seqs[i]) }
	wantCalls := fmt.Sprint([]string{s(0), s(1), s(1), s(1), s(1), s(2), s(3)})
	if got != wantCalls {
		t.Fatalf("handler calls %s, want %s (retries in place, nothing skipped or reordered)", got, wantCalls)
	}
	if st := g.Stats(); st.Retries != 3 || st.Delivered != 4 {
		t.Fatalf("stats %+v, want 3 retries and 4 delivered", st)
	}
}

func testLag(t *testing.T, tg Target) {
	c := NewCollector()
	g := mustGroup(t, tg.Node(t), "history", c.Handle)
	lag := func() eventlog.Lag {
		l, err := g.LagNow(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	if l := lag(); l.Count != 0 || l.Oldest != 0 {
		t.Fatalf("lag of an empty log: %+v", l)
	}
	appendRooms(t, tg, 600, 5, 1)
	if l := lag(); l.Count != 5 {
		t.Fatalf("lag count %d, want 5 (appended, not acknowledged)", l.Count)
	}
	Until(t, "the oldest event's age to reach 1 s", func() bool { return lag().Oldest >= time.Second })
	Start(t, g)
	Until(t, "lag to drop to zero", func() bool { l := lag(); return l.Count == 0 && l.Oldest == 0 })
	Until(t, "Lag() to report the measurement", func() bool { l := g.Lag(); return !l.At.IsZero() && l.Count == 0 })
	if c.Total() != 5 {
		t.Fatalf("delivered %d, want 5", c.Total())
	}
}

func testBadInput(t *testing.T, tg Target) {
	n := tg.Node(t)
	for _, name := range []string{"", "Callbacks", "a b", "x/y", "0123456789012345678901234567890123"} {
		if _, err := n.Group(name, func(context.Context, eventlog.Event) error { return nil }); !errors.Is(err, eventlog.ErrInvalid) {
			t.Fatalf("group name %q: %v, want ErrInvalid", name, err)
		}
	}
	if _, err := n.Group("callbacks", nil); !errors.Is(err, eventlog.ErrInvalid) {
		t.Fatalf("nil handler: %v", err)
	}
}

func testRestart(t *testing.T, tg Target) {
	c := NewCollector()
	g := mustGroup(t, tg.Node(t), "callbacks", c.Handle)
	Start(t, g)
	want := appendRooms(t, tg, 700, 5, 2)
	Until(t, "events before the restart", func() bool { return c.Total() >= 10 })
	tg.Restart(t)
	after := appendRooms(t, tg, 800, 5, 2) // new rooms: Redis's seq counters restarted too
	Until(t, "events after the restart", func() bool { return c.Total() >= 20 })
	checkExact(t, "before", c, want)
	checkExact(t, "after", c, after)
}

// batches records a batch handler's calls: each call's seqs.
type batches struct {
	mu    sync.Mutex
	calls [][]uint64
	c     *Collector
	fail  int // fail this many calls first
}

func (b *batches) handle(ctx context.Context, evs []eventlog.Event) error {
	b.mu.Lock()
	var seqs []uint64
	for _, ev := range evs {
		seqs = append(seqs, ev.Seq)
	}
	b.calls = append(b.calls, seqs)
	fail := b.fail > 0
	if fail {
		b.fail--
	}
	b.mu.Unlock()
	if fail {
		return errors.New("the database is down")
	}
	for _, ev := range evs {
		b.c.Handle(ctx, ev)
	}
	return nil
}

func (b *batches) largest() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for _, c := range b.calls {
		n = max(n, len(c))
	}
	return n
}

func testBatch(t *testing.T, tg Target) {
	b := &batches{c: NewCollector()}
	before := appendRooms(t, tg, 600, 1, 20) // one room, so one shard: one read holds all 20
	g, err := tg.Node(t).GroupBatch("history", b.handle)
	if err != nil {
		t.Fatal(err)
	}
	Start(t, g)
	after := appendRooms(t, tg, 600, 3, 5)
	for room, s := range after {
		before[room] = append(before[room], s...)
	}
	n := total(before)
	Until(t, fmt.Sprintf("%d events", n), func() bool { return b.c.Total() >= n })
	checkExact(t, "history (batches)", b.c, before)
	if got := b.largest(); got < 20 {
		t.Fatalf("the 20 events waiting at the start came in batches of at most %d, want one batch", got)
	}
	if st := g.Stats(); st.Delivered != int64(n) {
		t.Fatalf("Delivered %d, want %d", st.Delivered, n)
	}
}

func testBatchRetry(t *testing.T, tg Target) {
	b := &batches{c: NewCollector(), fail: 2}
	want := appendRooms(t, tg, 700, 1, 5)
	g, err := tg.Node(t).GroupBatch("history", b.handle)
	if err != nil {
		t.Fatal(err)
	}
	Start(t, g)
	Until(t, "the batch to succeed", func() bool { return b.c.Total() >= 5 })
	checkExact(t, "history (retried batch)", b.c, want)
	b.mu.Lock()
	calls := fmt.Sprint(b.calls)
	b.mu.Unlock()
	var room string
	for r := range want {
		room = r
	}
	one := fmt.Sprint(want[room])
	if wantCalls := "[" + one + " " + one + " " + one + "]"; calls != wantCalls {
		t.Fatalf("handler calls %s, want the whole batch three times %s", calls, wantCalls)
	}
	if st := g.Stats(); st.Retries != 2 || st.Delivered != 5 {
		t.Fatalf("stats %+v, want 2 retries and 5 delivered", st)
	}
}

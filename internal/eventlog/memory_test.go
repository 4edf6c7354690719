package eventlog_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/trtcd/trtcd/internal/eventlog"
	"github.com/trtcd/trtcd/internal/eventlog/eventlogtest"
)

func TestMain(m *testing.M) {
	if childMain() {
		return
	}
	goleak.VerifyTestMain(m)
}

// memTarget is a fresh memory log; Append plays the memory registry:
// the room's next seq and the time, then Append, under one lock.
func memTarget(opt eventlog.Options) (*eventlog.Memory, eventlogtest.Target) {
	m := eventlog.NewMemory(opt)
	var mu sync.Mutex
	seqs := map[string]uint64{}
	return m, eventlogtest.Target{
		Node: func(*testing.T) eventlogtest.Node { return m },
		Append: func(t *testing.T, ev eventlog.Event) eventlog.Event {
			mu.Lock()
			defer mu.Unlock()
			seqs[ev.Room]++
			ev.Seq, ev.TimeMs = seqs[ev.Room], time.Now().UnixMilli()
			if err := m.Append(ev); err != nil {
				t.Fatal(err)
			}
			return ev
		},
	}
}

func TestMemoryContract(t *testing.T) {
	eventlogtest.Run(t, func(t *testing.T) eventlogtest.Target {
		_, tg := memTarget(eventlog.Options{})
		return tg
	})
}

// A consumer that falls more than Capacity events behind in a shard loses
// the overwritten ones; they are counted, and the rest come in order.
func TestMemoryRetentionCountsLost(t *testing.T) {
	_, tg := memTarget(eventlog.Options{Capacity: 4})
	var seqs []uint64
	for i := 0; i < 10; i++ {
		seqs = append(seqs, tg.Append(t, eventlogtest.Event(1, eventlog.TypeEnter, "u")).Seq)
	}
	c := eventlogtest.NewCollector()
	g, err := tg.Node(t).Group("history", c.Handle)
	if err != nil {
		t.Fatal(err)
	}
	eventlogtest.Start(t, g)
	eventlogtest.Until(t, "the retained events", func() bool { return c.Total() >= 4 })
	room := eventlogtest.Event(1, "", "").Room
	if got, want := c.Seqs(room), seqs[6:]; len(got) != 4 || got[0] != want[0] || got[3] != want[3] {
		t.Fatalf("got %v, want %v", got, want)
	}
	if st := g.Stats(); st.Lost != 6 {
		t.Fatalf("lost %d, want 6", st.Lost)
	}
}

func TestMemoryAppendRejectsIncompleteEvents(t *testing.T) {
	m := eventlog.NewMemory(eventlog.Options{})
	for _, ev := range []eventlog.Event{{}, {Room: "1:n:1", Type: eventlog.TypeEnter}, {Room: "1:n:1", Seq: 1}} {
		if err := m.Append(ev); !errors.Is(err, eventlog.ErrInvalid) {
			t.Fatalf("Append(%+v) = %v, want ErrInvalid", ev, err)
		}
	}
	g, err := m.Group("history", func(context.Context, eventlog.Event) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	if l, _ := g.LagNow(context.Background()); l.Count != 0 {
		t.Fatalf("rejected events were appended: lag %+v", l)
	}
}

// A ring grown by a burst that its group was behind on gives its memory
// back once the group has caught up.
func TestMemoryRingShrinksWhenEmptied(t *testing.T) {
	m, tg := memTarget(eventlog.Options{})
	c := eventlogtest.NewCollector()
	hold := make(chan struct{})
	g, err := tg.Node(t).Group("history", func(ctx context.Context, ev eventlog.Event) error {
		<-hold
		return c.Handle(ctx, ev)
	})
	if err != nil {
		t.Fatal(err)
	}
	m.Seal()
	eventlogtest.Start(t, g)
	for i := 0; i < 500; i++ { // one room: one shard
		tg.Append(t, eventlogtest.Event(1, eventlog.TypeEnter, "u"))
	}
	if n := m.Slots(); n < 500 {
		t.Fatalf("%d slots for 500 unacknowledged events", n)
	}
	close(hold)
	eventlogtest.Until(t, "500 events", func() bool { return c.Total() >= 500 })
	eventlogtest.Until(t, "the ring given back", func() bool { return m.Slots() <= 8 })
	tg.Append(t, eventlogtest.Event(1, eventlog.TypeLeave, "u"))
	eventlogtest.Until(t, "the next event", func() bool { return c.Total() >= 501 })
}

// A sealed log keeps only what some group has not acknowledged: after the
// group has handled everything, the ring is empty and the lag is zero; a
// sealed log without groups keeps nothing at all.
func TestMemorySealedKeepsOnlyUnacknowledged(t *testing.T) {
	m, tg := memTarget(eventlog.Options{})
	c := eventlogtest.NewCollector()
	g, err := tg.Node(t).Group("history", c.Handle)
	if err != nil {
		t.Fatal(err)
	}
	m.Seal()
	eventlogtest.Start(t, g)
	for i := 0; i < 50; i++ {
		tg.Append(t, eventlogtest.Event(uint64(1+i%5), eventlog.TypeEnter, "u"))
	}
	eventlogtest.Until(t, "50 events", func() bool { return c.Total() >= 50 })
	eventlogtest.Until(t, "an empty log", func() bool { return m.Retained() == 0 })
	if l, err := g.LagNow(context.Background()); err != nil || l.Count != 0 {
		t.Fatalf("lag %+v, %v", l, err)
	}

	bare := eventlog.NewMemory(eventlog.Options{})
	bare.Seal()
	for i := 0; i < 20; i++ {
		ev := eventlogtest.Event(1, eventlog.TypeEnter, "u")
		ev.Seq, ev.TimeMs = uint64(i+1), time.Now().UnixMilli()
		if err := bare.Append(ev); err != nil {
			t.Fatal(err)
		}
	}
	if n := bare.Retained(); n != 0 {
		t.Fatalf("a sealed log without groups keeps %d events", n)
	}
	if bare.Read() || !m.Read() {
		t.Fatalf("Read: sealed without groups %v, with a group %v", bare.Read(), m.Read())
	}
}

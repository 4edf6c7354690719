package eventlog_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trtcd/trtcd/internal/eventlog"
	"github.com/trtcd/trtcd/internal/eventlog/eventlogtest"
	tk "github.com/trtcd/trtcd/internal/testkit"
)

func benchEvents() []eventlog.Event {
	evs := make([]eventlog.Event, 100)
	for i := range evs {
		evs[i] = eventlogtest.Event(uint64(i+1), eventlog.TypeEnter, "user")
		evs[i].Seq, evs[i].TimeMs = 1, time.Now().UnixMilli()
	}
	return evs
}

// BenchmarkMemoryAppend: one Append, as the memory registry makes it under
// its room lock.
func BenchmarkMemoryAppend(b *testing.B) {
	m := eventlog.NewMemory(eventlog.Options{})
	evs := benchEvents()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		ev := evs[i%len(evs)]
		ev.Seq = uint64(i + 1)
		m.Append(ev)
	}
}

// BenchmarkRedisAppend: one append script (seq INCR + XADD MAXLEN ~), one
// round trip to a local redis-server.
func BenchmarkRedisAppend(b *testing.B) {
	l := newRedisLog(b, tk.StartRedis(b), eventlog.Options{})
	evs := benchEvents()
	ctx := context.Background()
	for i := 0; b.Loop(); i++ {
		if _, err := l.Append(ctx, evs[i%len(evs)]); err != nil {
			b.Fatal(err)
		}
	}
}

type appender func(ev eventlog.Event)

// benchConsume: b.N events are appended, then one group consumes them
// (handler, ack); the time is per event consumed. Run it with a fixed
// count (-benchtime=20000x): the memory log keeps b.N/10 per shard.
func benchConsume(b *testing.B, node eventlogtest.Node, app appender) {
	evs := benchEvents()
	for i := 0; i < b.N; i++ {
		app(evs[i%len(evs)])
	}
	var n atomic.Int64
	done := make(chan struct{})
	target := int64(b.N)
	g, err := node.Group("bench", func(context.Context, eventlog.Event) error {
		if n.Add(1) == target {
			close(done)
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan struct{})
	b.ResetTimer()
	go func() { g.Run(ctx); close(ran) }()
	<-done
	b.StopTimer()
	cancel()
	<-ran
}

func BenchmarkMemoryConsume(b *testing.B) {
	m := eventlog.NewMemory(eventlog.Options{Capacity: b.N/10 + 1000})
	var seq uint64
	benchConsume(b, m, func(ev eventlog.Event) {
		seq++
		ev.Seq = seq
		m.Append(ev)
	})
}

func BenchmarkRedisConsume(b *testing.B) {
	l := newRedisLog(b, tk.StartRedis(b), eventlog.Options{MaxLen: 1 << 20})
	benchConsume(b, l, func(ev eventlog.Event) {
		if _, err := l.Append(context.Background(), ev); err != nil {
			b.Fatal(err)
		}
	})
}

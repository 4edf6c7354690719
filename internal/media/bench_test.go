package media_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	mc "github.com/trtcd/trtcd/client/media"
	"github.com/trtcd/trtcd/client/media/wire"
	"github.com/trtcd/trtcd/internal/media"
	"github.com/trtcd/trtcd/internal/rooms"
)

// BenchmarkForward: one publisher sends synthetic VP8 at 100 Mbit/s
// (about 9 000 packets/s) to N subscribers, all in this process over
// 127.0.0.1. One op is one packet the SFU forwards; sub-pkts/s is what the
// subscribers received per second in total, loss-% what they missed of
// N x forwarded. The publisher and subscribers share the CPU with the SFU,
// so the figures are a lower bound for the SFU alone.
func BenchmarkForward(b *testing.B) {
	for _, n := range []int{1, 4, 16} {
		b.Run(fmt.Sprintf("subscribers=%d", n), func(b *testing.B) { benchForward(b, n) })
	}
}

func benchForward(b *testing.B, n int) {
	ev := &eventLog{}
	srv, err := media.NewServer(media.Config{Networks: loopback, OnMediaEvent: ev.add, Bitrate: media.BitratePolicy{Max: 1 << 30}}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*wait)
	defer cancel()
	e := &env{t: nil, srv: srv, room: srv.Room("bench"), ctx: ctx, events: ev}
	var cleanups []func()
	defer func() {
		for _, f := range cleanups {
			f()
		}
	}()
	join := func(user string) *member {
		m, stop := e.joinB(user, rooms.Anchor)
		cleanups = append(cleanups, stop)
		return m
	}
	pub := join("pub")
	subs := make([]*member, n)
	for i := range subs {
		subs[i] = join(fmt.Sprintf("sub%d", i))
	}
	if err := pub.c.Publish(ctx, mc.TrackSpec{Kind: wire.Video, Bitrate: 100_000_000, FrameRate: 100}); err != nil {
		b.Fatal(err)
	}
	received := func() uint64 {
		var s uint64
		for _, m := range subs {
			s += m.c.Received("pub", wire.Video).Packets
		}
		return s
	}
	deadline := time.Now().Add(wait)
	for received() < uint64(100*n) {
		if time.Now().After(deadline) {
			b.Fatal("subscribers receive nothing")
		}
		time.Sleep(10 * time.Millisecond)
	}
	f0, r0 := srv.Metrics().PacketsForwarded, received()
	b.ResetTimer()
	start := time.Now()
	for srv.Metrics().PacketsForwarded < f0+uint64(b.N) {
		time.Sleep(time.Millisecond)
	}
	el := time.Since(start)
	b.StopTimer()
	time.Sleep(200 * time.Millisecond) // let in-flight packets land
	fwd, got := srv.Metrics().PacketsForwarded-f0, received()-r0
	b.ReportMetric(float64(got)/el.Seconds(), "sub-pkts/s")
	if want := float64(fwd) * float64(n); want > 0 {
		b.ReportMetric(100*max(0, want-float64(got))/want, "loss-%")
	}
}

// joinB is join for benchmarks: it returns its cleanup instead of
// registering it on a *testing.T.
func (e *env) joinB(user string, role rooms.Role) (*member, func()) {
	ready := make(chan struct{})
	var peer *media.Peer
	toServer := newQueue(func(m wire.Message) {
		<-ready
		peer.Handle(m)
	})
	var client *mc.Client
	toClient := newQueue(func(m wire.Message) { client.Handle(m) })
	client, err := mc.New(toServer.push, mc.Options{Networks: loopback})
	if err != nil {
		panic(err)
	}
	peer, err = e.room.Join(user, role, toClient.push)
	close(ready)
	if err != nil {
		panic(err)
	}
	return &member{c: client, p: peer, sent: &recorder{}}, func() {
		client.Close()
		toServer.stop()
		toClient.stop()
	}
}

package media_test

import (
	"context"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	mc "github.com/trtcd/trtcd/client/media"
	"github.com/trtcd/trtcd/client/media/wire"
	"github.com/trtcd/trtcd/internal/media"
	"github.com/trtcd/trtcd/internal/rooms"
)

// Every test must leave no goroutine behind: no PeerConnection's, no
// forwarder's, no client's. Fuzz workers are left alone.
func TestMain(m *testing.M) {
	for _, a := range os.Args {
		if strings.HasPrefix(a, "-test.fuzzworker") || strings.HasPrefix(a, "-test.fuzz=") {
			os.Exit(m.Run())
		}
	}
	goleak.VerifyTestMain(m)
}

var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}

// wait is the generous deadline for anything to happen.
const wait = 30 * time.Second

type env struct {
	t      *testing.T
	srv    *media.Server
	room   *media.Room
	ctx    context.Context
	events *eventLog
}

func newEnv(t *testing.T, cfg media.Config) *env {
	t.Helper()
	ev := &eventLog{}
	cfg.Networks = loopback
	cfg.OnMediaEvent = ev.add
	srv, err := media.NewServer(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*wait)
	e := &env{t: t, srv: srv, room: srv.Room("1400000001:1234"), ctx: ctx, events: ev}
	t.Cleanup(func() {
		srv.Close()
		cancel()
	})
	return e
}

// member is one joined client: its media client, its server-side peer,
// and what the server sent it.
type member struct {
	c    *mc.Client
	p    *media.Peer
	sent *recorder
}

// join connects a client to the room through two message queues that
// encode every message to JSON and decode it again, as a WebSocket would.
func (e *env) join(user string, role rooms.Role, opts ...mc.Options) *member {
	e.t.Helper()
	o := mc.Options{Networks: loopback}
	if len(opts) > 0 {
		o = opts[0]
	}
	ready := make(chan struct{})
	var peer *media.Peer
	toServer := newQueue(func(m wire.Message) {
		<-ready
		peer.Handle(m)
	})
	var client *mc.Client
	toClient := newQueue(func(m wire.Message) { client.Handle(m) })
	rec := &recorder{}
	client, err := mc.New(toServer.push, o)
	if err != nil {
		e.t.Fatal(err)
	}
	peer, err = e.room.Join(user, role, func(m wire.Message) error {
		rec.add(m)
		return toClient.push(m)
	})
	close(ready)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() {
		client.Close()
		toServer.stop()
		toClient.stop()
	})
	return &member{c: client, p: peer, sent: rec}
}

// queue delivers messages in order on its own goroutine, through JSON.
type queue struct {
	mu     sync.Mutex
	cond   *sync.Cond
	items  [][]byte
	closed bool
	done   chan struct{}
}

func newQueue(deliver func(wire.Message)) *queue {
	q := &queue{done: make(chan struct{})}
	q.cond = sync.NewCond(&q.mu)
	go func() {
		defer close(q.done)
		for {
			q.mu.Lock()
			for len(q.items) == 0 && !q.closed {
				q.cond.Wait()
			}
			if q.closed {
				q.mu.Unlock()
				return
			}
			b := q.items[0]
			q.items = q.items[1:]
			q.mu.Unlock()
			m, err := wire.Decode(b)
			if err != nil {
				panic("a message did not survive its JSON form: " + err.Error() + ": " + string(b))
			}
			deliver(m)
		}
	}()
	return q
}

func (q *queue) push(m wire.Message) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.items = append(q.items, m.Encode())
	q.cond.Signal()
	return nil
}

func (q *queue) stop() {
	q.mu.Lock()
	q.closed = true
	q.cond.Signal()
	q.mu.Unlock()
	<-q.done
}

// recorder keeps what the server sent one peer, as it was sent.
type recorder struct {
	mu   sync.Mutex
	msgs []wire.Message
}

func (r *recorder) add(m wire.Message) {
	r.mu.Lock()
	r.msgs = append(r.msgs, m)
	r.mu.Unlock()
}

func (r *recorder) has(typ, user string, kind wire.Kind) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, m := range r.msgs {
		if m.Type == typ && m.UserID == user && m.Kind == kind {
			return true
		}
	}
	return false
}

type eventLog struct {
	mu  sync.Mutex
	evs []media.MediaEvent
}

func (l *eventLog) add(ev media.MediaEvent) {
	l.mu.Lock()
	l.evs = append(l.evs, ev)
	l.mu.Unlock()
}

func (l *eventLog) list() []media.MediaEvent {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]media.MediaEvent(nil), l.evs...)
}

// until polls cond every 20 ms for up to wait.
func until(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("still waiting after %s: %s", wait, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// grows waits until f() exceeds its current value by more than n.
func grows(t *testing.T, what string, f func() uint64, n uint64) {
	t.Helper()
	start := f()
	until(t, what, func() bool { return f() > start+n })
}

// mediaSecond waits for one second of the publisher's audio clock (50
// packets of 20 ms), however long that takes in wall time.
func mediaSecond(t *testing.T, pub *mc.Client) {
	t.Helper()
	grows(t, "the publisher to send 1 s of audio", func() uint64 { return pub.Sent(wire.Audio) }, 50)
}

func packets(c *mc.Client, user string, k wire.Kind) func() uint64 {
	return func() uint64 { return c.Received(user, k).Packets }
}

// slack is how many packets may still arrive after forwarding stopped:
// those already in flight and in buffers.
const slack = 20

// stopped checks that f grows by at most slack over one media second.
func stopped(t *testing.T, what string, pub *mc.Client, f func() uint64) {
	t.Helper()
	before := f()
	mediaSecond(t, pub)
	mediaSecond(t, pub)
	if after := f(); after > before+slack {
		t.Fatalf("%s: still arriving: %d -> %d packets over 2 s of media", what, before, after)
	}
}

func (e *env) publish(m *member, specs ...mc.TrackSpec) {
	e.t.Helper()
	if err := m.c.Publish(e.ctx, specs...); err != nil {
		e.t.Fatalf("publish: %v", err)
	}
}

var av = []mc.TrackSpec{{Kind: wire.Audio}, {Kind: wire.Video}}

// refusal waits for the next media_error of the given code.
func refusal(t *testing.T, c *mc.Client, code string) *wire.Error {
	t.Helper()
	deadline := time.After(wait)
	for {
		select {
		case e := <-c.Errors():
			if e.Code == code {
				return e
			}
		case <-deadline:
			t.Fatalf("no %s error within %s", code, wait)
		}
	}
}

func (r *recorder) sdps() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, m := range r.msgs {
		if m.SDP != "" {
			out = append(out, m.SDP)
		}
	}
	return out
}

type cand struct {
	udp  bool
	addr string
	port uint16
}

// candidates lists an SDP's a=candidate lines.
func candidates(sdp string) []cand {
	var out []cand
	for _, l := range strings.Split(sdp, "\r\n") {
		f := strings.Fields(strings.TrimPrefix(l, "a=candidate:"))
		if !strings.HasPrefix(l, "a=candidate:") || len(f) < 6 {
			continue
		}
		p, _ := strconv.Atoi(f[5])
		out = append(out, cand{udp: strings.EqualFold(f[2], "udp"), addr: f[4], port: uint16(p)})
	}
	return out
}

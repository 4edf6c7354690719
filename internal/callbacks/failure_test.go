package callbacks

import (
	"context"
	"net"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// A redirect is a failure and is not followed; the event is retried at the
// configured URL and delivered there once it answers 200.
func TestRedirectsAreNotFollowed(t *testing.T) {
	target := newReceiver(t, "")
	rv := newReceiver(t, "")
	rv.setBehave(func(w http.ResponseWriter, r *http.Request, n int) bool {
		http.Redirect(w, r, target.url(), http.StatusTemporaryRedirect)
		return true
	})
	s := start(t, t.TempDir(), fast(AppConfig{SdkAppID: app1, URL: rv.url()}))
	handle(t, s, ev(app1, 1, 1, TypeEnter, "u", "anchor", ""))
	await(t, "3 failed attempts", func() bool {
		return s.Stats().Deliveries[DeliveryKey{app1, EventEnterRoom, OutcomeStatus}] >= 3
	})
	if n := target.count(); n != 0 {
		t.Fatalf("the redirect target got %d requests", n)
	}
	rv.setBehave(nil)
	await(t, "delivery at the configured URL", func() bool { return len(rv.delivered()) == 1 })
	if target.count() != 0 {
		t.Fatal("redirect followed")
	}
}

// countingConn counts the bytes the sender reads from the receiver.
type countingConn struct {
	net.Conn
	n *atomic.Int64
}

func (c countingConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	c.n.Add(int64(n))
	return n, err
}

// An enormous answer is a failure, and no more than a few KB of it are read
// however much the receiver sends.
func TestEnormousAnswerIsNotReadBeyondTheCap(t *testing.T) {
	var written atomic.Int64
	rv := newReceiver(t, "")
	rv.setBehave(func(w http.ResponseWriter, r *http.Request, n int) bool {
		chunk := []byte(strings.Repeat("x", 64<<10))
		for i := 0; i < 1<<12; i++ { // up to 256 MiB, until the sender hangs up
			n, err := w.Write(chunk)
			written.Add(int64(n))
			if err != nil {
				break
			}
		}
		return true
	})
	var mu sync.Mutex
	var perConn []*atomic.Int64
	opts := fast(AppConfig{SdkAppID: app1, URL: rv.url()})
	opts.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		n := &atomic.Int64{}
		mu.Lock()
		perConn = append(perConn, n)
		mu.Unlock()
		return countingConn{c, n}, nil
	}
	s := start(t, t.TempDir(), opts)
	handle(t, s, ev(app1, 1, 1, TypeEnter, "u", "anchor", ""))
	await(t, "2 too-large failures", func() bool {
		return s.Stats().Deliveries[DeliveryKey{app1, EventEnterRoom, OutcomeTooLarge}] >= 2
	})
	rv.setBehave(nil)
	await(t, "delivery", func() bool { return len(rv.delivered()) == 1 })
	mu.Lock()
	defer mu.Unlock()
	for i, n := range perConn {
		if n.Load() > 64<<10 {
			t.Errorf("connection %d: read %d bytes", i, n.Load())
		}
	}
	if written.Load() < 1<<20 {
		t.Logf("receiver wrote only %d bytes", written.Load()) // the sender hung up early: fine
	}
}

// Hanging, slow, connection-closing and 500 receivers are each a failure
// with a retry, counted by outcome; then the event arrives.
func TestFailingReceiversAreRetried(t *testing.T) {
	for _, c := range []struct {
		name    string
		outcome string
		fail    func(w http.ResponseWriter, r *http.Request) bool
	}{
		{"hang", OutcomeTimeout, func(w http.ResponseWriter, r *http.Request) bool { <-r.Context().Done(); return true }},
		{"slow", OutcomeTimeout, func(w http.ResponseWriter, r *http.Request) bool {
			w.WriteHeader(http.StatusOK)
			w.(http.Flusher).Flush() // headers at once, the body never within the timeout
			<-r.Context().Done()
			return true
		}},
		{"close", OutcomeConnect, func(w http.ResponseWriter, r *http.Request) bool {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
			return true
		}},
		{"500", OutcomeStatus, func(w http.ResponseWriter, r *http.Request) bool {
			w.WriteHeader(http.StatusInternalServerError)
			return true
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			rv := newReceiver(t, "")
			rv.setBehave(func(w http.ResponseWriter, r *http.Request, n int) bool {
				if n < 2 {
					return c.fail(w, r)
				}
				return false
			})
			opts := fast(AppConfig{SdkAppID: app1, URL: rv.url()})
			opts.Timeout = 300 * time.Millisecond
			s := start(t, t.TempDir(), opts)
			handle(t, s, ev(app1, 1, 1, TypeEnter, "u", "anchor", ""), ev(app1, 1, 2, TypeLeave, "u", "anchor", "left"))
			await(t, "both events", func() bool { return len(rv.delivered()) == 2 })
			if got := seqs(rv.delivered()); !reflect.DeepEqual(got, []string{"1", "2"}) {
				t.Fatalf("order %v", got)
			}
			st := s.Stats()
			if n := st.Deliveries[DeliveryKey{app1, EventEnterRoom, c.outcome}]; n != 2 {
				t.Errorf("%s failures: %d (%+v)", c.outcome, n, st.Deliveries)
			}
			if st.Retries[app1] != 2 {
				t.Errorf("retries %d", st.Retries[app1])
			}
			if h := rv.delivered()[0].header.Get(HeaderAttempt); h != "3" {
				t.Errorf("attempt header %q", h)
			}
		})
	}
}

// After the horizon an event goes to the dead letters (and so do the
// room's later events, each after one attempt); an operator lists and
// replays them, and a running sender delivers them in order.
func TestDeadLettersAndReplay(t *testing.T) {
	rv := newReceiver(t, "")
	rv.setBehave(func(w http.ResponseWriter, r *http.Request, n int) bool {
		w.WriteHeader(http.StatusBadGateway)
		return true
	})
	dir := t.TempDir()
	opts := fast(AppConfig{SdkAppID: app1, URL: rv.url()})
	opts.RetryHorizon = 200 * time.Millisecond
	s := start(t, dir, opts)
	evs := []Event{ev(app1, 1, 1, TypeEnter, "a", "anchor", ""), ev(app1, 1, 2, TypeLeave, "a", "anchor", "left"),
		ev(app1, 2, 1, TypeEnter, "b", "audience", "")}
	handle(t, s, evs...)
	await(t, "3 dead letters", func() bool { return s.Stats().DeadLetters == 3 })
	st := s.Stats()
	if st.DeadLettered[app1] != 3 || st.OutboxDepth != 0 {
		t.Fatalf("stats %+v", st)
	}
	// The redelivery of a dead event is not taken again.
	handle(t, s, evs[0])
	if s.Stats().Duplicates != 1 {
		t.Fatal("dead event accepted again")
	}
	dl, err := s.Store().DeadLetters(DeadFilter{App: app1})
	if err != nil || len(dl) != 3 {
		t.Fatalf("%v %v", dl, err)
	}
	var first DeadLetter
	for _, d := range dl {
		if d.Room == "1400000001:n:1" && d.Seq == 1 {
			first = d
		}
	}
	if first.EventType != EventEnterRoom || first.Attempts < 1 || first.LastError != "HTTP 502" ||
		!strings.Contains(string(first.EventInfo), `"UserId":"a"`) || first.DeadMs == 0 {
		t.Fatalf("dead letter %+v in %+v", first, dl)
	}
	var room1 []int64
	for _, d := range dl {
		if d.Room == "1400000001:n:1" {
			room1 = append(room1, d.ID)
		}
	}
	rv.setBehave(nil)
	// Replay from a second handle on the same file, as the CLI does.
	other, err := OpenStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	n, err := other.Replay(context.Background(), DeadFilter{IDs: room1})
	other.Close()
	if err != nil || n != 2 {
		t.Fatalf("replay %d %v", n, err)
	}
	await(t, "the replayed room", func() bool { return len(rv.delivered()) == 2 })
	if got := seqs(rv.delivered()); !reflect.DeepEqual(got, []string{"1", "2"}) {
		t.Fatalf("order %v", got)
	}
	if left, _ := s.Store().DeadLetters(DeadFilter{}); len(left) != 1 || left[0].Room != "1400000001:n:2" {
		t.Fatalf("left %+v", left)
	}
}

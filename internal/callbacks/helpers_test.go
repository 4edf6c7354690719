package callbacks

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// wait is generous: the machine is shared and slow.
const wait = 30 * time.Second

// hit is one request a receiver got, as received.
type hit struct {
	body   []byte
	header http.Header
	ok     bool // answered 200
}

// callback is a parsed body.
type callback struct {
	EventGroupId int
	EventType    int
	CallbackTs   int64
	EventInfo    json.RawMessage
}

// receiver is a real HTTP receiver on 127.0.0.1. Its behave function picks
// the answer (default 200 {"code":0}); it checks every Sign with its own
// HMAC over the raw body.
type receiver struct {
	t   testing.TB
	srv *httptest.Server
	key string

	mu     sync.Mutex
	hits   []hit
	behave func(w http.ResponseWriter, r *http.Request, n int) bool // true: answered (not 200 by default)
	change chan struct{}
}

func newReceiver(t testing.TB, key string) *receiver { return newReceiverWith(t, key, nil) }

// newReceiverWith is newReceiver with its http.Server set up by setup
// before it starts.
func newReceiverWith(t testing.TB, key string, setup func(*http.Server)) *receiver {
	rv := &receiver{t: t, key: key, change: make(chan struct{}, 1)}
	rv.srv = httptest.NewUnstartedServer(http.HandlerFunc(rv.serve))
	if setup != nil {
		setup(rv.srv.Config)
	}
	rv.srv.Start()
	t.Cleanup(rv.srv.Close)
	return rv
}

func (rv *receiver) url() string { return rv.srv.URL + "/trtc/callback" }

func (rv *receiver) setBehave(f func(w http.ResponseWriter, r *http.Request, n int) bool) {
	rv.mu.Lock()
	rv.behave = f
	rv.mu.Unlock()
}

func independentSign(key string, body []byte) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write(body)
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

func (rv *receiver) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
		rv.t.Errorf("request %s Content-Type %q", r.Method, r.Header.Get("Content-Type"))
	}
	if got, want := r.Header.Get("Sign"), independentSign(rv.key, body); got != want {
		rv.t.Errorf("Sign %q, independent HMAC gives %q for %s", got, want, body)
	}
	rv.mu.Lock()
	n := len(rv.hits)
	behave := rv.behave
	rv.hits = append(rv.hits, hit{body: body, header: r.Header.Clone()})
	rv.mu.Unlock()
	ok := true
	if behave != nil && behave(w, r, n) {
		ok = false
	} else {
		w.Write([]byte(`{"code":0}`))
	}
	rv.mu.Lock()
	rv.hits[n].ok = ok
	rv.mu.Unlock()
	select {
	case rv.change <- struct{}{}:
	default:
	}
}

// delivered are the bodies answered 200, in arrival order.
func (rv *receiver) delivered() []hit {
	rv.mu.Lock()
	defer rv.mu.Unlock()
	var out []hit
	for _, h := range rv.hits {
		if h.ok {
			out = append(out, h)
		}
	}
	return out
}

func (rv *receiver) count() int {
	rv.mu.Lock()
	defer rv.mu.Unlock()
	return len(rv.hits)
}

// await waits until cond holds, failing with what is missing.
func await(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for %s", wait, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func parse(t testing.TB, body []byte) callback {
	t.Helper()
	var c callback
	if err := json.Unmarshal(body, &c); err != nil {
		t.Fatalf("body %s: %v", body, err)
	}
	return c
}

// perRoom groups delivered callbacks by their X-Trtcd-Event-Id room.
func perRoom(t testing.TB, hits []hit) map[string][]hit {
	out := map[string][]hit{}
	for _, h := range hits {
		id := h.header.Get(HeaderEventID)
		room := id[:strings.Index(id, "/")]
		out[room] = append(out[room], h)
	}
	return out
}

// start runs a sender over dir until the test ends.
func start(t testing.TB, dir string, opts Options) *Sender {
	t.Helper()
	st, err := OpenStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	s := New(opts, st, slog.New(slog.NewTextHandler(io.Discard, nil)))
	done := make(chan struct{})
	go func() { s.Run(context.Background()); close(done) }()
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
		<-done
	})
	return s
}

// fast is a policy for tests: short timeout and retries.
func fast(apps ...AppConfig) Options {
	return Options{Apps: apps, Timeout: 2 * time.Second, RetryInterval: 20 * time.Millisecond,
		RetryMaxInterval: 100 * time.Millisecond, RetryHorizon: time.Hour, Concurrency: 4}
}

// ev builds an event of a numeric room.
func ev(app, room, seq uint64, typ, user, role, reason string) Event {
	return Event{App: app, Room: RoomKey(app, room, ""), RoomNum: room, Seq: seq,
		TimeMs: time.Now().UnixMilli(), Type: typ, User: user, Role: role, Reason: reason}
}

func handle(t testing.TB, s *Sender, evs ...Event) {
	t.Helper()
	for _, e := range evs {
		if err := s.Handle(context.Background(), e); err != nil {
			t.Fatalf("Handle %+v: %v", e, err)
		}
	}
}

// seqs lists the sequence numbers of hits, from X-Trtcd-Event-Id.
func seqs(hits []hit) []string {
	var out []string
	for _, h := range hits {
		parts := strings.Split(h.header.Get(HeaderEventID), "/")
		out = append(out, parts[len(parts)-3])
	}
	return out
}

func seqList(from, to int) []string {
	var out []string
	for i := from; i <= to; i++ {
		out = append(out, fmt.Sprint(i))
	}
	return out
}

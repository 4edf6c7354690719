package testkit

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/trtcd/trtcd/internal/callbacks"
)

// SeqCallbacks is a callback receiver on 127.0.0.1 that keeps each event
// once (by X-Trtcd-Event-Id: deliveries are at least once) as
// "EventType/UserId", with the event's room sequence number, and lists them
// in room order whatever order they arrived in.
type SeqCallbacks struct {
	mu  sync.Mutex
	got map[string]string // event id (room/seq/type/time) → "type/user"
	srv *httptest.Server
}

// NewSeqCallbacks starts a receiver that stops when the test ends.
func NewSeqCallbacks(t testing.TB) *SeqCallbacks {
	c := &SeqCallbacks{got: map[string]string{}}
	c.srv = CallbackReceiver(t, func(eventID, event string) {
		c.mu.Lock()
		c.got[eventID] = event
		c.mu.Unlock()
	})
	return c
}

// CallbackReceiver starts a callback receiver on 127.0.0.1 that hands got
// each callback as its X-Trtcd-Event-Id and "EventType/UserId" (a body
// that is not JSON is answered 400); it stops when the test ends.
func CallbackReceiver(t testing.TB, got func(eventID, event string)) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var cb struct {
			EventType int
			EventInfo struct{ UserId string }
		}
		if json.Unmarshal(body, &cb) != nil {
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
		got(r.Header.Get(callbacks.HeaderEventID), fmt.Sprintf("%d/%s", cb.EventType, cb.EventInfo.UserId))
	}))
	t.Cleanup(srv.Close)
	return srv
}

// URL is the receiver's callback URL.
func (c *SeqCallbacks) URL() string { return c.srv.URL }

// List is the events received, in room order.
func (c *SeqCallbacks) List() []string { return c.Since(0) }

// Since is the events received with a sequence number above seq, in room
// order.
func (c *SeqCallbacks) Since(seq uint64) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var seqs []uint64
	by := map[uint64]string{}
	for id, s := range c.got {
		if n := EventSeq(id); n > seq {
			seqs = append(seqs, n)
			by[n] = s
		}
	}
	slices.Sort(seqs)
	out := make([]string, len(seqs))
	for i, n := range seqs {
		out[i] = by[n]
	}
	return out
}

// Last is the highest sequence number received.
func (c *SeqCallbacks) Last() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	var m uint64
	for id := range c.got {
		m = max(m, EventSeq(id))
	}
	return m
}

// EventSeq reads the sequence number of an X-Trtcd-Event-Id
// (room/seq/type/time).
func EventSeq(id string) uint64 {
	f := strings.Split(id, "/")
	if len(f) < 2 {
		return 0
	}
	n, _ := strconv.ParseUint(f[1], 10, 64)
	return n
}

// MediaOf is user's media callbacks (20x) among got.
func MediaOf(got []string, user string) []string {
	var out []string
	for _, cb := range got {
		if strings.HasPrefix(cb, "20") && strings.HasSuffix(cb, "/"+user) {
			out = append(out, cb)
		}
	}
	return out
}

// CountOf is how many of got are one of want.
func CountOf(got []string, want ...string) int {
	n := 0
	for _, g := range got {
		if slices.Contains(want, g) {
			n++
		}
	}
	return n
}

// Pairs is evs with each two in sorted order ("201/a 203/a, ..."): two
// events of one moment whose order is that of the packets.
func Pairs(evs []string) string {
	var out []string
	for i := 0; i+1 < len(evs); i += 2 {
		a, b := evs[i], evs[i+1]
		if b < a {
			a, b = b, a
		}
		out = append(out, a+" "+b)
	}
	if len(evs)%2 == 1 {
		out = append(out, evs[len(evs)-1])
	}
	return strings.Join(out, ", ")
}

package callbacks

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/trtcd/trtcd/internal/config"
)

const (
	app1 = 1400000001
	app2 = 1400000002
)

// A scripted sequence (joins, a removal, a duplicate login, a role switch, a
// timeout, a dismissal; and a string room that empties) gives exactly the
// documented callbacks per room, in order, each signed over its raw bytes.
func TestScriptedSequenceGivesTheDocumentedCallbacks(t *testing.T) {
	rv := newReceiver(t, "key1400000001")
	filtered := newReceiver(t, "")
	s := start(t, t.TempDir(), fast(AppConfig{SdkAppID: app1, URL: rv.url(), Key: "key1400000001"},
		AppConfig{SdkAppID: app2, URL: filtered.url(), Events: []int{EventEnterRoom, EventExitRoom}}))

	const t0 = 1700000000000
	n := func(seq uint64, typ, user, role, reason string) Event {
		return Event{App: app1, Room: "1400000001:n:1234", RoomNum: 1234, Seq: seq, TimeMs: t0 + int64(seq)*1001,
			Type: typ, User: user, Role: role, Reason: reason, Device: "Android 14", SdkVersion: "trtcd-go"}
	}
	str := func(seq uint64, typ, user, role, reason string) Event {
		return Event{App: app1, Room: "1400000001:s:live-1", RoomStr: "live-1", Seq: seq, TimeMs: t0 + int64(seq)*1001,
			Type: typ, User: user, Role: role, Reason: reason, Device: "Windows", SdkVersion: "web/5"}
	}
	script := []Event{
		n(1, TypeRoomOpened, "alice", "anchor", ""),
		n(2, TypeEnter, "alice", "anchor", ""),
		str(1, TypeRoomOpened, "dave", "anchor", ""),
		n(3, TypeEnter, "bob", "audience", ""),
		str(2, TypeEnter, "dave", "anchor", ""),
		n(4, TypeRoleSwitch, "bob", "anchor", ""),
		n(5, TypeLeave, "bob", "anchor", "removed"),
		n(6, TypeEnter, "carol", "anchor", ""),
		n(7, TypeLeave, "carol", "anchor", "duplicate"),
		str(3, TypeLeave, "dave", "anchor", "left"),
		n(8, TypeEnter, "carol", "anchor", ""),
		str(4, TypeRoomClosed, "", "", "empty"),
		n(9, TypeLeave, "carol", "anchor", "timeout"),
		n(10, TypeLeave, "alice", "anchor", "dismissed"),
		n(11, TypeRoomClosed, "", "", "dismissed"),
	}
	handle(t, s, script...)
	// The log delivers at least once: a redelivery is recognised; a type
	// without a callback is skipped.
	handle(t, s, n(5, TypeLeave, "bob", "anchor", "removed"), n(12, "hand_raised", "bob", "", ""))
	handle(t, s, Event{App: app2, Room: "1400000002:n:7", RoomNum: 7, Seq: 1, TimeMs: t0, Type: TypeRoomOpened, User: "x"},
		Event{App: app2, Room: "1400000002:n:7", RoomNum: 7, Seq: 2, TimeMs: t0, Type: TypeEnter, User: "x", Role: "anchor"})

	await(t, "15 callbacks", func() bool { return len(rv.delivered()) >= 15 })
	await(t, "app2's one callback", func() bool { return len(filtered.delivered()) >= 1 })

	ts := func(seq int) string {
		ms := t0 + int64(seq)*1001
		return fmt.Sprintf(`"EventTs":%d,"EventMsTs":%d`, ms/1000, ms)
	}
	want := map[string][]string{
		"1400000001:n:1234": {
			`101 {"RoomId":1234,` + ts(1) + `,"UserId":"alice"}`,
			`103 {"RoomId":1234,` + ts(2) + `,"UserId":"alice","Role":20,"TerminalType":2,"UserType":3,"Reason":1}`,
			`103 {"RoomId":1234,` + ts(3) + `,"UserId":"bob","Role":21,"TerminalType":2,"UserType":3,"Reason":1}`,
			`105 {"RoomId":1234,` + ts(4) + `,"UserId":"bob","Role":20}`,
			`104 {"RoomId":1234,` + ts(5) + `,"UserId":"bob","Role":20,"Reason":3}`,
			`103 {"RoomId":1234,` + ts(6) + `,"UserId":"carol","Role":20,"TerminalType":2,"UserType":3,"Reason":1}`,
			`104 {"RoomId":1234,` + ts(7) + `,"UserId":"carol","Role":20,"Reason":3}`,
			`103 {"RoomId":1234,` + ts(8) + `,"UserId":"carol","Role":20,"TerminalType":2,"UserType":3,"Reason":1}`,
			`104 {"RoomId":1234,` + ts(9) + `,"UserId":"carol","Role":20,"Reason":2}`,
			`104 {"RoomId":1234,` + ts(10) + `,"UserId":"alice","Role":20,"Reason":3}`,
			`102 {"RoomId":1234,` + ts(11) + `}`,
		},
		"1400000001:s:live-1": {
			`101 {"RoomId":"live-1",` + ts(1) + `,"UserId":"dave"}`,
			`103 {"RoomId":"live-1",` + ts(2) + `,"UserId":"dave","Role":20,"TerminalType":1,"UserType":1,"Reason":1}`,
			`104 {"RoomId":"live-1",` + ts(3) + `,"UserId":"dave","Role":20,"Reason":1}`,
			`102 {"RoomId":"live-1",` + ts(4) + `}`,
		},
	}
	got := map[string][]string{}
	for room, hits := range perRoom(t, rv.delivered()) {
		for i, h := range hits {
			c := parse(t, h.body)
			if c.EventGroupId != c.EventType/100 || c.CallbackTs < t0 {
				t.Errorf("%s: group %d for type %d, CallbackTs %d", h.body, c.EventGroupId, c.EventType, c.CallbackTs)
			}
			if h.header.Get("SdkAppId") != "1400000001" || h.header.Get(HeaderAttempt) != "1" {
				t.Errorf("headers %v", h.header)
			}
			var seq int
			fmt.Sscanf(strings.TrimPrefix(h.header.Get(HeaderEventID), room+"/"), "%d", &seq)
			if wantID := EventID(room, uint64(seq), c.EventType, t0+int64(seq)*1001); h.header.Get(HeaderEventID) != wantID || seq != i+1 {
				t.Errorf("event id %q, want %q as number %d", h.header.Get(HeaderEventID), wantID, i+1)
			}
			got[room] = append(got[room], strconv.Itoa(c.EventType)+" "+string(c.EventInfo))
		}
	}
	for room := range want {
		if !reflect.DeepEqual(got[room], want[room]) {
			t.Errorf("room %s\n got %s\nwant %s", room, strings.Join(got[room], "\n     "), strings.Join(want[room], "\n     "))
		}
	}
	if len(got) != len(want) {
		t.Errorf("rooms %v", got)
	}
	if h := filtered.delivered(); len(h) != 1 || parse(t, h[0].body).EventType != EventEnterRoom {
		t.Errorf("app2 filter [103 104]: got %d callbacks, first %s", len(h), h[0].body)
	}
	await(t, "the sender to count 16 deliveries", func() bool {
		st := s.Stats()
		return st.Latency[app1].Count+st.Latency[app2].Count == 16
	})
	st := s.Stats()
	if st.Accepted != 16 || st.Duplicates != 1 || st.Skipped[SkipUnknownType] != 1 || st.Skipped[SkipFiltered] != 1 {
		t.Errorf("stats %+v", st)
	}
	if st.Deliveries[DeliveryKey{app1, EventExitRoom, OutcomeOK}] != 5 || st.Latency[app1].Count != 15 {
		t.Errorf("deliveries %+v latency %+v", st.Deliveries, st.Latency[app1])
	}
	await(t, "an empty outbox", func() bool { return s.Stats().OutboxDepth == 0 })
}

// The receiver is down for a while (answering 500), then up: nothing is
// lost and every room keeps its order. The outage lasts at least
// TRTCD_TEST_RECEIVER_OUTAGE (a Go duration; default 1s, the issue's
// scenario is 30s) and until every room has been retried a few times.
func TestReceiverDownThenUpLosesNothing(t *testing.T) {
	outage := time.Second
	if v := os.Getenv("TRTCD_TEST_RECEIVER_OUTAGE"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("TRTCD_TEST_RECEIVER_OUTAGE: %v", err)
		}
		outage = d
	}
	down := time.Now()
	rv := newReceiver(t, "k")
	rv.setBehave(func(w http.ResponseWriter, r *http.Request, n int) bool {
		w.WriteHeader(http.StatusInternalServerError)
		return true
	})
	s := start(t, t.TempDir(), fast(AppConfig{SdkAppID: app1, URL: rv.url(), Key: "k"}))
	const rooms, per = 5, 20
	for i := uint64(1); i <= per; i++ {
		for room := uint64(1); room <= rooms; room++ {
			handle(t, s, ev(app1, room, i, TypeEnter, fmt.Sprint("u", i), "anchor", ""))
		}
	}
	await(t, "retries against the failing receiver", func() bool { return s.Stats().Retries[app1] >= 3*rooms })
	time.Sleep(time.Until(down.Add(outage)))
	if d := len(rv.delivered()); d != 0 {
		t.Fatalf("%d delivered while failing", d)
	}
	st := s.Stats()
	if st.OutboxDepth != rooms*per || st.OldestAge <= 0 || st.Deliveries[DeliveryKey{app1, EventEnterRoom, OutcomeStatus}] == 0 {
		t.Fatalf("while down: %+v", st)
	}
	rv.setBehave(nil)
	await(t, "every event", func() bool { return len(rv.delivered()) >= rooms*per })
	for room, hits := range perRoom(t, rv.delivered()) {
		if got := seqs(hits); !reflect.DeepEqual(got, seqList(1, per)) {
			t.Errorf("room %s got %v", room, got)
		}
	}
	if d := len(rv.delivered()); d != rooms*per {
		t.Errorf("%d delivered, want %d", d, rooms*per)
	}
	await(t, "an empty outbox", func() bool { st := s.Stats(); return st.OutboxDepth == 0 && st.OldestAge == 0 })
}

// Events accepted before Close are delivered by the next sender on the same
// data_dir (the kill -9 case runs a real process: cmd/trtcd).
func TestRestartDeliversWhatWasPending(t *testing.T) {
	dir := t.TempDir()
	rv := newReceiver(t, "")
	rv.setBehave(func(w http.ResponseWriter, r *http.Request, n int) bool {
		w.WriteHeader(http.StatusServiceUnavailable)
		return true
	})
	opts := fast(AppConfig{SdkAppID: app1, URL: rv.url()})
	st, err := OpenStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	s := New(opts, st, nil)
	done := make(chan struct{})
	go func() { s.Run(t.Context()); close(done) }()
	for i := uint64(1); i <= 10; i++ {
		handle(t, s, ev(app1, 9, i, TypeEnter, "u", "anchor", ""))
	}
	await(t, "an attempt", func() bool { return rv.count() > 0 })
	s.Close()
	<-done
	rv.setBehave(nil)
	start(t, dir, opts)
	await(t, "10 callbacks after the restart", func() bool { return len(rv.delivered()) >= 10 })
	if got := seqs(rv.delivered()); !reflect.DeepEqual(got, seqList(1, 10)) {
		t.Fatalf("got %v", got)
	}
}

// One app's receiver hangs: the other app receives all its events meanwhile.
func TestDeadReceiverDoesNotDelayAnotherApp(t *testing.T) {
	release := make(chan struct{})
	dead := newReceiver(t, "")
	dead.setBehave(func(w http.ResponseWriter, r *http.Request, n int) bool {
		select {
		case <-release:
			return false
		case <-r.Context().Done():
			return true
		}
	})
	live := newReceiver(t, "")
	opts := fast(AppConfig{SdkAppID: app1, URL: dead.url()}, AppConfig{SdkAppID: app2, URL: live.url()})
	opts.Timeout = time.Minute // the dead receiver's requests hang for the whole test
	s := start(t, t.TempDir(), opts)
	const rooms, per = 10, 10
	for i := uint64(1); i <= per; i++ {
		for room := uint64(1); room <= rooms; room++ {
			handle(t, s, ev(app1, room, i, TypeEnter, "u", "anchor", ""), ev(app2, room, i, TypeEnter, "u", "anchor", ""))
		}
	}
	await(t, "app2's events while app1's receiver hangs", func() bool { return len(live.delivered()) >= rooms*per })
	if n := len(dead.delivered()); n != 0 {
		t.Fatalf("the hanging receiver answered %d", n)
	}
	if n := dead.count(); n == 0 || n > opts.Concurrency {
		t.Errorf("hanging receiver got %d requests, want 1..%d (one per worker)", n, opts.Concurrency)
	}
	close(release)
	await(t, "app1's events once its receiver answers", func() bool { return len(dead.delivered()) >= rooms*per })
	for room, hits := range perRoom(t, dead.delivered()) {
		if got := seqs(hits); !reflect.DeepEqual(got, seqList(1, per)) {
			t.Errorf("room %s got %v", room, got)
		}
	}
}

// Open makes the store in data_dir only when an app has a callback; without
// one, Handle drops every event and nothing is written.
func TestOpenUsesDataDirOnlyWithCallbacks(t *testing.T) {
	cfg := config.Config{DataDir: filepath.Join(t.TempDir(), "none"), Accounts: []config.Account{{Name: "a",
		Apps: []config.App{{SdkAppID: app1, Key: "k"}}}}}
	s, err := Open(cfg, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	handle(t, s, ev(app1, 1, 1, TypeEnter, "u", "anchor", ""))
	if st := s.Stats(); st.Skipped[SkipNoCallback] != 1 || st.Accepted != 0 {
		t.Fatalf("stats %+v", st)
	}
	s.Close()
	if _, err := os.Stat(cfg.DataDir); !os.IsNotExist(err) {
		t.Fatalf("data_dir created without callbacks: %v", err)
	}
	rv := newReceiver(t, "")
	cfg.Accounts[0].Apps[0].Callback = &config.Callback{URL: rv.url()}
	s, err = Open(cfg, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { s.Run(t.Context()); close(done) }()
	handle(t, s, ev(app1, 1, 1, TypeEnter, "u", "anchor", ""))
	await(t, "the callback", func() bool { return len(rv.delivered()) == 1 })
	s.Close()
	<-done
	if _, err := os.Stat(filepath.Join(cfg.DataDir, StoreFile)); err != nil {
		t.Fatal(err)
	}
}

// A restarted sender handed a new event of a room before it has resumed the
// room's pending events from the store sends the older ones first.
func TestRestartKeepsRoomOrderWithNewEvents(t *testing.T) {
	dir := t.TempDir()
	rv := newReceiver(t, "")
	rv.setBehave(func(w http.ResponseWriter, r *http.Request, n int) bool {
		w.WriteHeader(http.StatusServiceUnavailable)
		return true
	})
	opts := fast(AppConfig{SdkAppID: app1, URL: rv.url()})
	first := start(t, dir, opts)
	for i := uint64(1); i <= 5; i++ {
		handle(t, first, ev(app1, 9, i, TypeEnter, "u", "anchor", ""))
	}
	await(t, "an attempt", func() bool { return rv.count() > 0 })
	first.Close()
	rv.setBehave(nil)

	st, err := OpenStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	s := New(opts, st, nil)
	handle(t, s, ev(app1, 9, 6, TypeEnter, "u", "anchor", "")) // before Run: nothing resumed yet
	done := make(chan struct{})
	go func() { s.Run(t.Context()); close(done) }()
	defer func() { s.Close(); <-done }()
	await(t, "6 callbacks after the restart", func() bool { return len(rv.delivered()) >= 6 })
	if got := seqs(rv.delivered()); !reflect.DeepEqual(got, seqList(1, 6)) {
		t.Fatalf("got %v, want 1…6 in order", got)
	}
}

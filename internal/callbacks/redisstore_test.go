package callbacks

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"testing"
	"time"
)

// startRedis runs a sender over a RedisStore on a throwaway redis-server,
// this sender owning every shard, until the test ends.
func startRedis(t *testing.T, opts Options) (*Sender, *RedisStore) {
	st := benchRedisStore(t)
	s := New(opts, st, slog.New(slog.NewTextHandler(io.Discard, nil)))
	done := make(chan struct{})
	go func() { s.Run(context.Background()); close(done) }()
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
		<-done
	})
	return s, st
}

// The cluster's outbox keeps the SQLite outbox's contract: an event handed
// over twice is sent once; after the horizon events go dead and a
// redelivery of a dead event is not taken; replay sends them in order;
// pruning forgets delivered events after DeliveredRetention.
func TestRedisStoreDedupesDeadLettersReplaysAndPrunes(t *testing.T) {
	rv := newReceiver(t, "k")
	rv.setBehave(func(w http.ResponseWriter, r *http.Request, n int) bool {
		w.WriteHeader(http.StatusBadGateway)
		return true
	})
	opts := fast(AppConfig{SdkAppID: app1, URL: rv.url(), Key: "k"})
	opts.RetryHorizon = 200 * time.Millisecond
	s, st := startRedis(t, opts)
	evs := []Event{ev(app1, 1, 1, TypeEnter, "a", "anchor", ""), ev(app1, 1, 2, TypeLeave, "a", "anchor", "left"),
		ev(app1, 2, 1, TypeEnter, "b", "audience", "")}
	handle(t, s, evs...)
	handle(t, s, evs[0]) // pending: recognised
	if got := s.Stats().Duplicates; got != 1 {
		t.Fatalf("duplicates %d", got)
	}
	await(t, "3 dead letters", func() bool { return s.Stats().DeadLetters == 3 })
	if st := s.Stats(); st.OutboxDepth != 0 || st.OldestAge != 0 || st.DeadLettered[app1] != 3 {
		t.Fatalf("stats %+v", st)
	}
	handle(t, s, evs[1]) // dead: recognised
	if got := s.Stats().Duplicates; got != 2 {
		t.Fatalf("duplicates %d after a dead event", got)
	}
	if pend, dead, err := st.AppDepth(app1); err != nil || pend != 0 || dead != 3 {
		t.Fatalf("AppDepth = %d, %d, %v; want 0 pending, 3 dead", pend, dead, err)
	}
	dl, err := st.DeadLetters(DeadFilter{App: app1})
	if err != nil || len(dl) != 3 || dl[0].LastError != "HTTP 502" || dl[0].Attempts < 1 || len(dl[0].EventInfo) == 0 {
		t.Fatalf("dead letters %+v %v", dl, err)
	}
	var room1 []int64
	for _, d := range dl {
		if d.Room == RoomKey(app1, 1, "") {
			room1 = append(room1, d.ID)
		}
	}
	rv.setBehave(nil)
	if n, err := st.Replay(context.Background(), DeadFilter{IDs: room1}); err != nil || n != 2 {
		t.Fatalf("replay %d %v", n, err)
	}
	await(t, "the replayed room", func() bool { return len(rv.delivered()) == 2 })
	if got := seqs(rv.delivered()); !reflect.DeepEqual(got, []string{"1", "2"}) {
		t.Fatalf("order %v", got)
	}
	if left, _ := st.DeadLetters(DeadFilter{}); len(left) != 1 || left[0].Room != RoomKey(app1, 2, "") {
		t.Fatalf("left %+v", left)
	}
	await(t, "an empty outbox", func() bool { return s.Stats().OutboxDepth == 0 })
	handle(t, s, evs[0]) // delivered, retained: recognised
	if got := s.Stats().Duplicates; got != 3 {
		t.Fatalf("duplicates %d after a delivered event", got)
	}
	if n, err := st.prune(time.Now().Add(DeliveredRetention + time.Minute).UnixMilli()); err != nil || n != 2 {
		t.Fatalf("pruned %d %v", n, err)
	}
	handle(t, s, evs[0]) // forgotten: taken and sent again
	await(t, "the event sent again after pruning", func() bool { return len(rv.delivered()) == 3 })
}

// Recent and AppDepth (the console's view) list one app's pending rows of
// every shard, newest first, with their failed attempts; another app's rows
// are not shown.
func TestRedisStoreRecentAndAppDepth(t *testing.T) {
	st := benchRedisStore(t)
	t.Cleanup(func() { st.Close() })
	var rows []*row
	for i, e := range []Event{ev(app1, 1, 1, TypeEnter, "a", "anchor", ""), ev(app1, 7, 1, TypeEnter, "b", "anchor", ""),
		ev(app1+1, 1, 1, TypeEnter, "c", "anchor", "")} {
		typ, info, err := Render(e)
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, &row{app: e.App, room: e.Room, seq: e.Seq, etype: typ, eventMs: e.TimeMs + int64(i), info: info, startMs: e.TimeMs})
	}
	if added, err := st.insert(context.Background(), rows); err != nil || len(added) != 3 || !added[0] || !added[2] {
		t.Fatalf("insert %v %v", added, err)
	}
	st.markFailed(rows[0], 2, "HTTP 502")
	got, err := st.Recent(app1, 10)
	if err != nil || len(got) != 2 {
		t.Fatalf("Recent = %+v, %v", got, err)
	}
	if got[0].Room != rows[1].room || got[1].Room != rows[0].room || got[1].Attempts != 2 || got[1].LastError != "HTTP 502" || got[0].Delivered {
		t.Fatalf("Recent = %+v", got)
	}
	if one, _ := st.Recent(app1, 1); len(one) != 1 || one[0].Room != rows[1].room {
		t.Fatalf("Recent limit 1 = %+v", one)
	}
	if pend, dead, err := st.AppDepth(app1); err != nil || pend != 2 || dead != 0 {
		t.Fatalf("AppDepth = %d, %d, %v", pend, dead, err)
	}
}

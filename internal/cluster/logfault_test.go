package cluster_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/trtcd/trtcd/internal/cluster"
	"github.com/trtcd/trtcd/internal/eventlog"
	"github.com/trtcd/trtcd/internal/rooms"
	tk "github.com/trtcd/trtcd/internal/testkit"
)

// logOf lists the events of room in its shard's stream: "type user reason".
func logOf(t *testing.T, srv *tk.Redis, room rooms.Key) []string {
	t.Helper()
	rdb, err := cluster.NewClient(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer rdb.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	msgs, err := rdb.XRange(ctx, eventlog.StreamKey(eventlog.Shard(room.String())), "-", "+").Result()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range msgs {
		var kv []string
		for k, v := range m.Values {
			kv = append(kv, k, fmt.Sprint(v))
		}
		ev, err := eventlog.DecodeFields(kv)
		if err != nil {
			t.Fatal(err)
		}
		if ev.Room == room.String() {
			out = append(out, strings.TrimSpace(fmt.Sprintf("%s %s %s", ev.Type, ev.User, ev.Reason)))
		}
	}
	return out
}

// stalledRemove removes "v" from room while Redis is stopped (SIGSTOP) for
// pause: the script is sent before the operation timeout and runs when
// Redis resumes.
func stalledRemove(t *testing.T, srv *tk.Redis, reg *cluster.Registry, room rooms.Key, pause time.Duration) error {
	t.Helper()
	ctx := context.Background()
	if _, err := reg.Enter(ctx, room, rooms.Member{UserID: "v", SessionID: "s1", NodeID: "n"}); err != nil {
		t.Fatal(err)
	}
	if _, err := reg.Enter(ctx, room, rooms.Member{UserID: "keep", SessionID: "s2", NodeID: "n"}); err != nil {
		t.Fatal(err)
	}
	reg.Remove(ctx, rooms.NumRoom(1, 999), []string{"x"}) // loads the script (else EVALSHA answers NOSCRIPT)
	srv.Pause(t)
	resumed := make(chan struct{})
	go func() {
		defer close(resumed)
		time.Sleep(pause)
		srv.Resume(t)
	}()
	err := reg.Remove(ctx, room, []string{"v"})
	<-resumed
	return err
}

// TestStalledCommitIsAllOrNothing: Redis stops (SIGSTOP) while a removal is
// in flight. Whether the script ran before its deadline (the answer is only
// late) or after it (refused), the member hash and the event log agree: the
// removal and its leave event are there together, or neither is.
func TestStalledCommitIsAllOrNothing(t *testing.T) {
	srv := tk.StartRedis(t)
	t.Run("RunsBeforeItsDeadline", func(t *testing.T) {
		reg := newRegistry(t, srv, cluster.Options{NodeID: "before", Heartbeat: time.Hour, ResolveTimeout: 20 * time.Second})
		// Deadlines 3 s later than usual: the script, run after a 1.2 s
		// stop, still applies; its answer comes after the timeout.
		reg.SkewClock(3 * time.Second)
		room := rooms.NumRoom(1, 1)
		if err := stalledRemove(t, srv, reg, room, 1200*time.Millisecond); err != nil {
			t.Fatalf("a removal applied late answered %v", err)
		}
		ms, err := reg.Members(context.Background(), room)
		if err != nil || len(ms) != 1 || ms[0].UserID != "keep" {
			t.Fatalf("members %+v %v", ms, err)
		}
		if got := strings.Join(logOf(t, srv, room), ","); got != "room_open v,enter v,enter keep,leave v removed" {
			t.Fatalf("log %s", got)
		}
		if s := reg.Stats(); s.OutcomeApplied != 1 || s.Appended != 4 {
			t.Fatalf("stats %+v: want the outcome applied, 4 events appended (one read from the outcome record)", s)
		}
	})
	t.Run("RunsAfterItsDeadline", func(t *testing.T) {
		reg := newRegistry(t, srv, cluster.Options{NodeID: "after", Heartbeat: time.Hour})
		room := rooms.NumRoom(1, 2)
		// Stopped past the operation timeout and the resolution: the call
		// fails, and the script, run on resume, is refused by its deadline.
		if err := stalledRemove(t, srv, reg, room, 4*time.Second); err == nil {
			t.Fatal("a removal with Redis stopped throughout succeeded")
		}
		ms, err := reg.Members(context.Background(), room) // after the queued script
		if err != nil || len(ms) != 2 {
			t.Fatalf("members %+v %v", ms, err)
		}
		if got := strings.Join(logOf(t, srv, room), ","); got != "room_open v,enter v,enter keep" {
			t.Fatalf("log %s", got)
		}
		if a := reg.Stats().Appended; a != 3 {
			t.Fatalf("appended %d, want 3", a)
		}
	})
}

package cluster_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/trtcd/trtcd/internal/cluster"
	"github.com/trtcd/trtcd/internal/rooms"
	tk "github.com/trtcd/trtcd/internal/testkit"
)

// TestMediaRestoreBlocks: the write-back sets the claim and the blocks when
// nobody holds the room's media, or this process does; when another
// incarnation holds it, the holder is returned and the blocks are written
// only if asked to merge, and then only merged (a user that has an entry
// keeps it). MediaMergeBlocks merges
// without taking a free claim. The record has no expiry.
func TestMediaRestoreBlocks(t *testing.T) {
	srv := tk.StartRedis(t)
	a := newRegistry(t, srv, cluster.Options{NodeID: "a"})
	b := newRegistry(t, srv, cluster.Options{NodeID: "b"})
	ctx := context.Background()
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer rdb.Close()
	room := rooms.NumRoom(1, 2)
	blk := cluster.MediaBlockedKey(room)

	h, n, err := a.MediaRestoreBlocks(ctx, room, map[string][2]bool{"alice": {false, true}, "bob": {true, true}}, false)
	if err != nil || h != a.Incarnation() || n != 2 {
		t.Fatalf("write-back with no claim: %q, %d written, %v; want both written by a", h, n, err)
	}
	if o, _ := a.MediaOwner(ctx, room); o != a.Incarnation() {
		t.Fatalf("claim after the write-back %q, want a's", o)
	}
	if got, _ := a.MediaBlocked(ctx, room); got["alice"] != [2]bool{false, true} || got["bob"] != [2]bool{true, true} || len(got) != 2 {
		t.Fatalf("blocks written back %v", got)
	}
	if ttl := rdb.PTTL(ctx, blk).Val(); ttl != -1 {
		t.Fatalf("blocks record expiry %v, want none", ttl)
	}
	if h, n, err := a.MediaRestoreBlocks(ctx, room, map[string][2]bool{"carol": {true, false}, "bob": {false, true}}, false); err != nil || h != a.Incarnation() || n != 2 {
		t.Fatalf("write-back by the holder: %q, %d written, %v; want both written", h, n, err)
	}
	if h, n, err := b.MediaRestoreBlocks(ctx, room, map[string][2]bool{"dave": {true, false}}, false); err != nil || h != a.Incarnation() || n != 0 {
		t.Fatalf("write-back by a non-holder, not merging: %q, %d written, %v; want nothing written, a holding", h, n, err)
	}
	if got, _ := a.MediaBlocked(ctx, room); len(got) != 3 {
		t.Fatalf("blocks after a refused write-back %v, want a's three", got)
	}
	if h, n, err := b.MediaRestoreBlocks(ctx, room, map[string][2]bool{"dave": {true, false}, "alice": {true, true}}, true); err != nil || h != a.Incarnation() || n != 1 {
		t.Fatalf("write-back by a non-holder: %q, %d written, %v; want merged (dave's only), a holding", h, n, err)
	}
	if got, _ := a.MediaBlocked(ctx, room); len(got) != 4 || got["bob"] != [2]bool{false, true} || got["carol"] != [2]bool{true, false} ||
		got["dave"] != [2]bool{true, false} || got["alice"] != [2]bool{false, true} {
		t.Fatalf("blocks after the merge %v, want bob's and carol's as a wrote them, dave's added, alice's entry kept", got)
	}
	if o, _ := a.MediaOwner(ctx, room); o != a.Incarnation() {
		t.Fatalf("claim after a non-holder's write-back %q, want a's", o)
	}
	if ttl := rdb.PTTL(ctx, blk).Val(); ttl != -1 {
		t.Fatalf("blocks record expiry after the merge %v, want none", ttl)
	}

	other := rooms.NumRoom(1, 3)
	if h, n, err := b.MediaMergeBlocks(ctx, other, map[string][2]bool{"erin": {false, true}}); err != nil || h != "" || n != 1 {
		t.Fatalf("merge with no claim: %q, %d written, %v; want erin's merged, nobody holding", h, n, err)
	}
	if o, _ := b.MediaOwner(ctx, other); o != "" {
		t.Fatalf("claim after a merge %q, want none (a merge takes no claim)", o)
	}
	if got, _ := b.MediaBlocked(ctx, other); len(got) != 1 || got["erin"] != [2]bool{false, true} {
		t.Fatalf("blocks merged %v, want erin's", got)
	}
}

// TestOnReregisterAfterEmptyRestart: after Redis restarted empty, the
// OnReregister functions run when the process re-registers (before it is
// listed again); one that fails makes the re-registration start again.
func TestOnReregisterAfterEmptyRestart(t *testing.T) {
	srv := tk.StartRedis(t)
	reg := newRegistry(t, srv, cluster.Options{NodeID: "a", Heartbeat: 100 * time.Millisecond})
	var calls atomic.Int32
	var listedAtCall atomic.Bool
	reg.OnReregister(func(ctx context.Context) error {
		incs, err := reg.Incarnations(ctx)
		if err != nil {
			return err
		}
		for _, i := range incs {
			if i == reg.Incarnation() {
				listedAtCall.Store(true)
			}
		}
		if calls.Add(1) == 1 {
			return errors.New("first call fails")
		}
		return nil
	})
	time.Sleep(300 * time.Millisecond) // heartbeats with the key in place: no call
	if n := calls.Load(); n != 0 {
		t.Fatalf("called %d times without a restart", n)
	}
	srv.Stop()
	srv.Start(t) // empty
	deadline := time.Now().Add(30 * time.Second)
	for reg.Stats().Reregistrations == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no re-registration within 30 s of Redis restarted empty")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n := calls.Load(); n != 2 {
		t.Fatalf("called %d times, want 2 (a failed call, then the one that completed the re-registration)", n)
	}
	if listedAtCall.Load() {
		t.Fatal("the process was listed again before its OnReregister functions ran")
	}
}

// TestRedisEpoch: the epoch is the same for every process until Redis
// restarts empty, and then a new one, the same again for everyone.
func TestRedisEpoch(t *testing.T) {
	srv := tk.StartRedis(t)
	a := newRegistry(t, srv, cluster.Options{NodeID: "a"})
	b := newRegistry(t, srv, cluster.Options{NodeID: "b"})
	ctx := context.Background()
	e1, err := a.RedisEpoch(ctx)
	if err != nil || e1 == "" {
		t.Fatalf("epoch %q, %v", e1, err)
	}
	if e, err := b.RedisEpoch(ctx); err != nil || e != e1 {
		t.Fatalf("another process's epoch %q (%v), want %q", e, err, e1)
	}
	srv.Stop()
	srv.Start(t) // empty
	var e2 string
	for deadline := time.Now().Add(30 * time.Second); e2 == "" && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		e2, _ = b.RedisEpoch(ctx) // the pool's connections come back
	}
	if e2 == "" || e2 == e1 {
		t.Fatalf("epoch after Redis restarted empty %q, want a new one (was %q)", e2, e1)
	}
	if e, err := a.RedisEpoch(ctx); err != nil || e != e2 {
		t.Fatalf("the other process's epoch after the restart %q (%v), want %q", e, err, e2)
	}
}

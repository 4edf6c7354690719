package cluster_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/trtcd/trtcd/internal/cluster"
	"github.com/trtcd/trtcd/internal/rooms"
	tk "github.com/trtcd/trtcd/internal/testkit"
)

// TestMediaClaim: the first node to need a room's media claims it, a second
// one is told the holder; the holder's claim outlives MediaClaimTTL while
// refreshed; released, the next claimant takes it; the claim of a node
// whose liveness key is gone is taken over at once.
func TestMediaClaim(t *testing.T) {
	srv := tk.StartRedis(t)
	a := newRegistry(t, srv, cluster.Options{NodeID: "a"})
	b := newRegistry(t, srv, cluster.Options{NodeID: "b", Heartbeat: time.Hour}) // its liveness key is not refreshed
	ctx := context.Background()
	room := rooms.NumRoom(1, 1)
	if o, took, err := a.MediaClaim(ctx, room); err != nil || o != a.Incarnation() || took {
		t.Fatalf("first claim: %q %v %v, want a's", o, took, err)
	}
	if o, _, err := b.MediaClaim(ctx, room); err != nil || o != a.Incarnation() {
		t.Fatalf("second claim: %q %v, want a's", o, err)
	}
	if lost, err := a.MediaKeep(ctx, []rooms.Key{room}); err != nil || len(lost) != 0 {
		t.Fatalf("keep by the holder: lost %v %v", lost, err)
	}
	if lost, err := b.MediaKeep(ctx, []rooms.Key{room}); err != nil || len(lost) != 1 {
		t.Fatalf("keep by another: lost %v %v, want the room", lost, err)
	}
	if err := b.MediaRelease(ctx, room); err != nil {
		t.Fatal(err)
	}
	if o, _ := b.MediaOwner(ctx, room); o != a.Incarnation() {
		t.Fatalf("a release by a non-holder changed the claim to %q", o)
	}
	if err := a.MediaRelease(ctx, room); err != nil {
		t.Fatal(err)
	}
	if o, _, err := b.MediaClaim(ctx, room); err != nil || o != b.Incarnation() {
		t.Fatalf("claim after release: %q %v, want b's", o, err)
	}

	// b dies: its liveness key goes (as after kill -9 and LiveTTL).
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer rdb.Close()
	keys, _ := rdb.Keys(ctx, "trtcd:node:{"+b.Incarnation()+"}:alive").Result()
	if len(keys) != 1 {
		t.Fatalf("b's liveness key not found: %v", keys)
	}
	rdb.Del(ctx, keys[0])
	if o, took, err := a.MediaClaim(ctx, room); err != nil || o != a.Incarnation() || !took {
		t.Fatalf("claim of a dead holder's room: %q took=%v %v, want a's, taken over", o, took, err)
	}
	if ttl := rdb.PTTL(ctx, cluster.MediaKey(room)).Val(); ttl <= 0 || ttl > cluster.MediaClaimTTL {
		t.Fatalf("claim TTL %v, want (0, %v]", ttl, cluster.MediaClaimTTL)
	}
}

// TestMediaRelaySigned: a relayed message reaches its incarnation; one
// published on the channel without the cluster's signature is refused; a
// node started after Redis lost the key signs with the others' key.
func TestMediaRelaySigned(t *testing.T) {
	srv := tk.StartRedis(t)
	a := newRegistry(t, srv, cluster.Options{NodeID: "a"})
	b := newRegistry(t, srv, cluster.Options{NodeID: "b"})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	got := make(chan string, 4)
	refused := make(chan struct{}, 4)
	rb, err := b.NewMediaRelay(ctx, func(p []byte) { got <- string(p) }, func() { refused <- struct{}{} })
	if err != nil {
		t.Fatal(err)
	}
	defer rb.Close()
	ra, err := a.NewMediaRelay(ctx, func([]byte) {}, func() {})
	if err != nil {
		t.Fatal(err)
	}
	defer ra.Close()

	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer rdb.Close()
	channel := "trtcd:media:{" + b.Incarnation() + "}"
	for _, forged := range []string{`{"op":"dismiss"}`, strings.Repeat("0", 64) + ` {"op":"dismiss"}`} {
		rdb.Publish(ctx, channel, forged)
		select {
		case <-refused:
		case p := <-got:
			t.Fatalf("forged message %q delivered as %q", forged, p)
		case <-ctx.Done():
			t.Fatal("forged message neither refused nor delivered")
		}
	}
	// Redis restarted empty loses the key; Keep writes it back, so a node
	// started afterwards signs like the others.
	rdb.FlushAll(ctx)
	if err := ra.Keep(ctx); err != nil {
		t.Fatal(err)
	}
	c := newRegistry(t, srv, cluster.Options{NodeID: "c"})
	rc, err := c.NewMediaRelay(ctx, func([]byte) {}, func() {})
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if err := rc.Send(ctx, b.Incarnation(), []byte(`{"op":"ack"}`)); err != nil {
		t.Fatal(err)
	}
	select {
	case p := <-got:
		if p != `{"op":"ack"}` {
			t.Fatalf("delivered %q", p)
		}
	case <-ctx.Done():
		t.Fatal("signed message not delivered")
	}
}

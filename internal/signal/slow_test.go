package signal_test

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/trtcd/trtcd/client"
	"github.com/trtcd/trtcd/internal/rooms"
	"github.com/trtcd/trtcd/internal/signal"
)

// inertSession is an in-process member that produces room events without a
// connection.
type inertSession struct{ id string }

func (s inertSession) ID() string            { return s.id }
func (s inertSession) Deliver(*rooms.Notice) {}

// TestSlowClientIsDroppedOthersUnaffected: one member stops reading while
// 10 000 events are sent to the room; the others get all of theirs in order
// and the slow one is disconnected.
func TestSlowClientIsDroppedOthersUnaffected(t *testing.T) {
	e := newEnv(t, signal.Config{QueueLen: 128})
	const events = 10000

	// The slow member: a small socket buffer, and it never reads.
	d := &websocket.Dialer{NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if tc, ok := c.(*net.TCPConn); ok {
			tc.SetReadBuffer(4096)
		}
		return c, err
	}}
	slow, _, err := d.Dial("ws"+strings.TrimPrefix(e.srv.URL, "http")+signal.Path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	slow.WriteMessage(websocket.TextMessage, []byte(joinJSON(map[string]any{"userId": "slow", "userSig": userSig("slow")})))

	var good []*client.Conn
	var received [2]atomic.Int64
	var sawSlowLeave [2]atomic.Bool
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for i := range received {
		c, err := client.Join(e.ctx, e.srv.URL, e.params(fmt.Sprintf("good%d", i)), client.Options{Buffer: 1024})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		good = append(good, c)
	}
	// Wait until the slow member is in the room.
	for deadline := time.Now().Add(5 * time.Second); len(e.members(e.room)) < 3; {
		if time.Now().After(deadline) {
			t.Fatal("slow member never joined")
		}
		time.Sleep(5 * time.Millisecond)
	}
	for i, c := range good {
		wg.Add(1)
		go func(i int, c *client.Conn) {
			defer wg.Done()
			var last uint64
			n := 0
			for ev := range c.Events() {
				if ev.Seq <= last {
					errs <- fmt.Errorf("good%d: seq %d after %d", i, ev.Seq, last)
					return
				}
				last = ev.Seq
				if ev.UserID == "slow" && ev.Type == "user_left" && ev.Reason == "timeout" {
					sawSlowLeave[i].Store(true)
				}
				if ev.UserID == "churn" {
					want := "user_entered"
					if n%2 == 1 {
						want = "user_left"
					}
					if ev.Type != want {
						errs <- fmt.Errorf("good%d: event %d is %s", i, n, ev.Type)
						return
					}
					n++
					received[i].Store(int64(n))
				}
				if n == events && sawSlowLeave[i].Load() {
					return
				}
			}
			errs <- fmt.Errorf("good%d: ended after %d events: %v", i, n, c.Err())
		}(i, c)
	}

	ctx := context.Background()
	for i := 0; i < events/2; i++ {
		// The test paces itself so the good readers are never more than a
		// few dozen events behind; the slow one falls behind for good.
		for produced := int64(2 * i); produced-min(received[0].Load(), received[1].Load()) > 64; {
			time.Sleep(50 * time.Microsecond)
		}
		s := inertSession{id: fmt.Sprintf("churn-%d", i)}
		if err := e.hub.Join(ctx, e.room, "churn", rooms.Anchor, s); err != nil {
			t.Fatal(err)
		}
		if err := e.hub.Leave(ctx, e.room, s, rooms.ReasonLeft); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	// Both good members were told the slow one left (or the loop above
	// would still be waiting), and it is out of the room.
	if got := fmt.Sprint(e.members(e.room)); got != "[good0/anchor good1/anchor]" {
		t.Fatalf("the slow member is still in the room: %s", got)
	}
	// And the slow connection really is closed: reading what the kernel
	// still buffers hits the end. Only a read that waits 30 s for anything
	// at all means the server left it open.
	for {
		slow.SetReadDeadline(time.Now().Add(30 * time.Second))
		if _, _, err := slow.ReadMessage(); err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				t.Fatal("the slow connection is still open")
			}
			break
		}
	}
}

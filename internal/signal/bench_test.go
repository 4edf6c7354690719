package signal_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/trtcd/trtcd/client"
	"github.com/trtcd/trtcd/internal/signal"
)

// BenchmarkJoinLeave: one client dials, joins with a UserSig, and leaves,
// over loopback WebSocket.
func BenchmarkJoinLeave(b *testing.B) {
	e := newEnv(&testing.T{}, signal.Config{})
	defer e.srv.Close()
	defer e.sig.Shutdown(context.Background())
	p := e.params("bench")
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c, err := client.Join(ctx, e.srv.URL, p, client.Options{Heartbeat: -1})
		if err != nil {
			b.Fatal(err)
		}
		if err := c.Leave(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFanout1000: one event (an anchor entering or leaving) delivered to
// every member of a 1 000-member room, each on its own WebSocket; an op ends
// when all 1 000 have received it.
func BenchmarkFanout1000(b *testing.B) {
	const members = 1000
	e := newEnv(&testing.T{}, signal.Config{QueueLen: 1024})
	defer e.srv.Close()
	defer e.sig.Shutdown(context.Background())
	ctx := context.Background()
	// The receivers are audience members: they get every event of the room,
	// and their own joins are not announced, so building the room is linear.
	var conns []*client.Conn
	for i := 0; i < members; i++ {
		p := e.params(fmt.Sprintf("m%d", i))
		p.Role = "audience"
		c, err := client.Join(ctx, e.srv.URL, p, client.Options{Buffer: 4096})
		if err != nil {
			b.Fatal(err)
		}
		conns = append(conns, c)
	}
	mover, err := client.Join(ctx, e.srv.URL, e.params("mover"), client.Options{})
	if err != nil {
		b.Fatal(err)
	}
	var wg sync.WaitGroup
	got := make(chan struct{}, members)
	stop := make(chan struct{})
	for _, c := range conns {
		wg.Add(1)
		go func(c *client.Conn) {
			defer wg.Done()
			for {
				select {
				case _, ok := <-c.Events():
					if !ok {
						return
					}
					got <- struct{}{}
				case <-stop:
					return
				}
			}
		}(c)
	}
	for i := 0; i < members; i++ { // mover's own entry
		<-got
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		// Alternate leave and re-enter of one member via the hub: one event each.
		if i%2 == 0 {
			// Leave (not Close) so the leave is committed before the next
			// join; a quick re-join would otherwise replace the old session
			// silently, as duplicates do.
			mover.Leave(ctx)
		} else {
			mover, err = client.Join(ctx, e.srv.URL, e.params("mover"), client.Options{})
			if err != nil {
				b.Fatal(err)
			}
		}
		for k := 0; k < members; k++ {
			<-got
		}
	}
	b.StopTimer()
	close(stop)
	mover.Close()
	for _, c := range conns {
		c.Close()
	}
	wg.Wait()
}

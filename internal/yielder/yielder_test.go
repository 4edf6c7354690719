package yielder_test

import (
	"crypto/sha256"
	"net"
	"runtime"
	"sync/atomic"
	"testing"

	"go.uber.org/goleak"

	"github.com/trtcd/trtcd/internal/yielder"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestTurnLetsARequestInDuringAComputation: with one P, a request that
// arrives while a goroutine computes is read within the computation's first
// turns. Without the turns the scheduler would see it only when the
// computation ends or after its monitor's 10 ms poll, thousands of this
// loop's steps later.
func TestTurnLetsARequestInDuringAComputation(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	y, err := yielder.New(0) // a turn at every Maybe
	if err != nil {
		t.Fatal(err)
	}
	defer y.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var served atomic.Bool
	accepted := make(chan net.Conn)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			close(accepted)
			return
		}
		accepted <- c
		var b [1]byte
		if n, _ := c.Read(b[:]); n == 1 {
			served.Store(true)
		}
	}()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	srv, ok := <-accepted
	if !ok {
		t.Fatal("accept failed")
	}
	defer srv.Close()
	// The server's goroutine runs on to its Read and parks there; the
	// request then waits in the kernel.
	runtime.Gosched()
	if _, err := client.Write([]byte{1}); err != nil {
		t.Fatal(err)
	}
	steps, sum := 0, sha256.Sum256(nil)
	for ; !served.Load() && steps < 100_000; steps++ {
		for range 20 { // a few microseconds of work
			sum = sha256.Sum256(sum[:])
		}
		y.Maybe()
	}
	if !served.Load() {
		t.Fatalf("the request was not read in %d steps of the computation", steps)
	}
	if steps > 3 {
		t.Fatalf("the request was read after %d steps, want at most 3 (one turn each)", steps)
	}
	if y.Turns() < 1 {
		t.Fatalf("Turns = %d, want at least 1", y.Turns())
	}
}

// TestMaybeWaitsForTheInterval: within the interval Maybe gives no turn.
func TestMaybeWaitsForTheInterval(t *testing.T) {
	y, err := yielder.New(1 << 62)
	if err != nil {
		t.Fatal(err)
	}
	defer y.Close()
	for range 1000 {
		y.Maybe()
	}
	if n := y.Turns(); n != 0 {
		t.Fatalf("Turns = %d, want 0 within the interval", n)
	}
	y.Turn()
	if n := y.Turns(); n != 1 {
		t.Fatalf("Turns after Turn = %d, want 1", n)
	}
}

// TestClosedYielderDoesNothing: after Close a turn returns at once; a nil
// Yielder is a no-op.
func TestClosedYielderDoesNothing(t *testing.T) {
	y, err := yielder.New(0)
	if err != nil {
		t.Fatal(err)
	}
	y.Close()
	y.Close()
	y.Maybe()
	y.Turn()
	if n := y.Turns(); n != 0 {
		t.Fatalf("Turns after Close = %d, want 0", n)
	}
	var none *yielder.Yielder
	none.Maybe()
	none.Close()
	if none.Turns() != 0 {
		t.Fatal("a nil Yielder counted turns")
	}
}

package yielder

import "testing"

// TestTurnReturnsWhenThePipeFails: with the pipe broken (its write end
// closed), a Turn and every later one return without a turn counted, and
// Close still returns.
func TestTurnReturnsWhenThePipeFails(t *testing.T) {
	y, err := New(0)
	if err != nil {
		t.Fatal(err)
	}
	y.w.Close() // the helper's next write fails
	y.Turn()
	y.Turn()
	y.Maybe()
	if n := y.Turns(); n != 0 {
		t.Fatalf("Turns with a failed pipe = %d, want 0", n)
	}
	y.Close()
}

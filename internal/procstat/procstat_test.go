package procstat

import (
	"os"
	"strconv"
	"testing"
	"time"
)

func TestRSSOfThisProcess(t *testing.T) {
	self, err := RSS("self")
	if err != nil {
		t.Skip("no /proc here:", err)
	}
	// Touch 64 MiB; RSS must grow by most of it.
	buf := make([]byte, 64<<20)
	for i := range buf {
		buf[i] = 1
	}
	after, err := RSS(strconv.Itoa(os.Getpid()))
	if err != nil {
		t.Fatal(err)
	}
	if after-self < 48<<20 {
		t.Fatalf("RSS grew by %d bytes after touching 64 MiB", after-self)
	}
	_ = buf[len(buf)-1]
	if _, err := RSS("999999999"); err == nil {
		t.Fatal("no error for a missing process")
	}
}

func TestCPUGrowsWithWork(t *testing.T) {
	before, err := CPU("self")
	if err != nil {
		t.Skip("no /proc here:", err)
	}
	x := 0
	for deadline := time.Now().Add(300 * time.Millisecond); time.Now().Before(deadline); {
		x++
	}
	after, err := CPU(strconv.Itoa(os.Getpid()))
	if err != nil {
		t.Fatal(err)
	}
	if after-before < 0.2 {
		t.Fatalf("CPU grew by %.2f s over 0.3 s of spinning (%d)", after-before, x)
	}
}

package procstat

import (
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"
)

func TestRSSOfThisProcess(t *testing.T) {
	self, err := RSS("self")
	if err != nil {
		t.Skip("no /proc here:", err)
	}
	// Touch 64 MiB of fresh anonymous memory outside the Go heap, so that
	// memory the runtime already holds cannot hide the growth.
	buf, err := syscall.Mmap(-1, 0, 64<<20, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Munmap(buf)
	for i := 0; i < len(buf); i += 4096 {
		buf[i] = 1
	}
	after, err := RSS(strconv.Itoa(os.Getpid()))
	if err != nil {
		t.Fatal(err)
	}
	if after-self < 48<<20 {
		t.Fatalf("RSS grew by %d bytes after touching 64 MiB", after-self)
	}
	if _, err := RSS("999999999"); err == nil {
		t.Fatal("no error for a missing process")
	}
}

// TestCPUGrowsWithWork spins until the kernel's own accounting for this
// process (getrusage) has grown by 0.3 s of CPU, however long that takes on a
// busy machine, and checks that CPU read from /proc saw the same work.
func TestCPUGrowsWithWork(t *testing.T) {
	before, err := CPU("self")
	if err != nil {
		t.Skip("no /proc here:", err)
	}
	start := rusageCPU(t)
	x := 0
	for rusageCPU(t)-start < 0.3 {
		for i := 0; i < 1_000_000; i++ {
			x++
		}
	}
	after, err := CPU(strconv.Itoa(os.Getpid()))
	if err != nil {
		t.Fatal(err)
	}
	// /proc counts in clock ticks (10 ms) and other goroutines add to both
	// figures, so allow for rounding only.
	if after-before < 0.25 {
		t.Fatalf("CPU from /proc grew by %.2f s while getrusage counted 0.3 s (%d)", after-before, x)
	}
}

func rusageCPU(t *testing.T) float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

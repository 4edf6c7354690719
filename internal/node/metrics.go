package node

import (
	"fmt"
	"net/http"
	"runtime"
	"sort"
	"syscall"
	"time"

	"github.com/trtcd/trtcd/internal/procstat"
)

// metrics serves a few gauges in the Prometheus text format.
func (n *Node) metrics(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4")
	fmt.Fprintf(w, "# HELP trtcd_connections Open client WebSocket connections.\n# TYPE trtcd_connections gauge\ntrtcd_connections %d\n", n.Signal.Connections())
	fmt.Fprintf(w, "# HELP trtcd_sessions Sessions joined to a room on this node.\n# TYPE trtcd_sessions gauge\ntrtcd_sessions %d\n", n.Hub.Sessions())
	errs := n.Signal.ErrorsSent()
	codes := make([]string, 0, len(errs))
	for code := range errs {
		codes = append(codes, code)
	}
	sort.Strings(codes)
	fmt.Fprintf(w, "# HELP trtcd_client_errors_total Error messages sent to clients (refused joins, bad frames), by protocol code.\n# TYPE trtcd_client_errors_total counter\n")
	for _, code := range codes {
		fmt.Fprintf(w, "trtcd_client_errors_total{code=%q} %d\n", code, errs[code])
	}
	fmt.Fprintf(w, "# HELP trtcd_client_idle_timeouts_total Joined clients removed by the idle timeout.\n# TYPE trtcd_client_idle_timeouts_total counter\ntrtcd_client_idle_timeouts_total %d\n", n.Signal.IdleTimeouts())
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		fmt.Fprintf(w, "# HELP trtcd_process_cpu_seconds_total CPU time of this process.\n# TYPE trtcd_process_cpu_seconds_total counter\ntrtcd_process_cpu_seconds_total %.6f\n", cpu.Seconds())
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Fprintf(w, "# HELP trtcd_go_heap_inuse_bytes Go heap in use.\n# TYPE trtcd_go_heap_inuse_bytes gauge\ntrtcd_go_heap_inuse_bytes %d\n", ms.HeapInuse)
	fmt.Fprintf(w, "# HELP trtcd_go_stack_inuse_bytes Goroutine stacks in use.\n# TYPE trtcd_go_stack_inuse_bytes gauge\ntrtcd_go_stack_inuse_bytes %d\n", ms.StackInuse)
	fmt.Fprintf(w, "# HELP trtcd_goroutines Goroutines.\n# TYPE trtcd_goroutines gauge\ntrtcd_goroutines %d\n", runtime.NumGoroutine())
	if rss, err := procstat.RSS("self"); err == nil {
		fmt.Fprintf(w, "# HELP trtcd_process_resident_bytes Resident memory of this process.\n# TYPE trtcd_process_resident_bytes gauge\ntrtcd_process_resident_bytes %d\n", rss)
	}
}

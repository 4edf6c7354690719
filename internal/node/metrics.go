package node

import (
	"fmt"
	"net/http"
	"runtime"
	"syscall"
	"time"

	"github.com/trtcd/trtcd/internal/cluster"
	"github.com/trtcd/trtcd/internal/procstat"
)

// metrics serves a few gauges in the Prometheus text format.
func (n *Node) metrics(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4")
	fmt.Fprintf(w, "# HELP trtcd_connections Open client WebSocket connections.\n# TYPE trtcd_connections gauge\ntrtcd_connections %d\n", n.Signal.Connections())
	fmt.Fprintf(w, "# HELP trtcd_sessions Sessions joined to a room on this node.\n# TYPE trtcd_sessions gauge\ntrtcd_sessions %d\n", n.Hub.Sessions())
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
	if cr, ok := n.Registry.(*cluster.Registry); ok {
		clusterMetrics(w, cr.Stats())
	}
	if rss, err := procstat.RSS("self"); err == nil {
		fmt.Fprintf(w, "# HELP trtcd_process_resident_bytes Resident memory of this process.\n# TYPE trtcd_process_resident_bytes gauge\ntrtcd_process_resident_bytes %d\n", rss)
	}
}

// clusterMetrics: what the Redis registry's fault policies did.
func clusterMetrics(w http.ResponseWriter, s cluster.Stats) {
	fmt.Fprintf(w, "# HELP trtcd_cluster_outcome_resolutions_total Changes whose Redis answer was lost, by what the node found out.\n# TYPE trtcd_cluster_outcome_resolutions_total counter\n")
	fmt.Fprintf(w, "trtcd_cluster_outcome_resolutions_total{outcome=\"applied\"} %d\n", s.OutcomeApplied)
	fmt.Fprintf(w, "trtcd_cluster_outcome_resolutions_total{outcome=\"not_applied\"} %d\n", s.OutcomeNotApplied)
	fmt.Fprintf(w, "trtcd_cluster_outcome_resolutions_total{outcome=\"unknown\"} %d\n", s.OutcomeUnknown)
	fmt.Fprintf(w, "# HELP trtcd_cluster_refused_join_cleanups_total Refused joins whose traces in Redis were removed.\n# TYPE trtcd_cluster_refused_join_cleanups_total counter\ntrtcd_cluster_refused_join_cleanups_total %d\n", s.RefusedJoinCleanups)
	fmt.Fprintf(w, "# HELP trtcd_cluster_refused_join_ghosts_total Refused joins that had committed, removed and announced as left.\n# TYPE trtcd_cluster_refused_join_ghosts_total counter\ntrtcd_cluster_refused_join_ghosts_total %d\n", s.RefusedJoinGhosts)
	fmt.Fprintf(w, "# HELP trtcd_cluster_swept_incarnations_total Dead node incarnations whose members this node swept.\n# TYPE trtcd_cluster_swept_incarnations_total counter\ntrtcd_cluster_swept_incarnations_total %d\n", s.SweptIncarnations)
	fmt.Fprintf(w, "# HELP trtcd_cluster_reregistrations_total Times this node re-registered its sessions after Redis lost them.\n# TYPE trtcd_cluster_reregistrations_total counter\ntrtcd_cluster_reregistrations_total %d\n", s.Reregistrations)
	fmt.Fprintf(w, "# HELP trtcd_cluster_reconnect_attempts_total Pub/sub reconnection attempts (with backoff).\n# TYPE trtcd_cluster_reconnect_attempts_total counter\ntrtcd_cluster_reconnect_attempts_total %d\n", s.ReconnectAttempts)
	fmt.Fprintf(w, "# HELP trtcd_cluster_watch_outages_total Times the pub/sub connection was lost.\n# TYPE trtcd_cluster_watch_outages_total counter\ntrtcd_cluster_watch_outages_total %d\n", s.WatchOutages)
}

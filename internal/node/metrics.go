package node

import (
	"fmt"
	"net/http"
	"runtime"
	"sort"
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
	n.policyMetrics(w)
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
	n.mediaMetrics(w)
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
	if cr, ok := n.Registry.(*cluster.Registry); ok {
		clusterMetrics(w, cr.Stats())
	}
	if rss, err := procstat.RSS("self"); err == nil {
		fmt.Fprintf(w, "# HELP trtcd_process_resident_bytes Resident memory of this process.\n# TYPE trtcd_process_resident_bytes gauge\ntrtcd_process_resident_bytes %d\n", rss)
	}
}

// policyMetrics counts how often each front-door policy fires.
func (n *Node) policyMetrics(w http.ResponseWriter) {
	api := n.API.Stats()
	fmt.Fprintf(w, "# HELP trtcd_api_body_budget_bytes Request-body bytes held by API requests not yet authenticated.\n# TYPE trtcd_api_body_budget_bytes gauge\ntrtcd_api_body_budget_bytes %d\n", api.BodyBudgetHeld)
	fmt.Fprintf(w, "# HELP trtcd_api_body_budget_refused_total API requests answered ServiceUnavailable because the unauthenticated body budget was spent.\n# TYPE trtcd_api_body_budget_refused_total counter\ntrtcd_api_body_budget_refused_total %d\n", api.BodyBudgetRefused)
	fmt.Fprintf(w, "# HELP trtcd_api_body_timeouts_total API request bodies that did not arrive within http_read_timeout.\n# TYPE trtcd_api_body_timeouts_total counter\ntrtcd_api_body_timeouts_total %d\n", api.BodyTimeouts)
	fmt.Fprintf(w, "# HELP trtcd_api_params_refused_total API bodies refused for passing the parameter decoding limits.\n# TYPE trtcd_api_params_refused_total counter\ntrtcd_api_params_refused_total %d\n", api.ParamsRefused)
	if c := n.conns; c != nil {
		open, limit := c.Descriptors()
		fmt.Fprintf(w, "# HELP trtcd_open_descriptors Descriptors open: those open at start plus accepted connections not yet closed.\n# TYPE trtcd_open_descriptors gauge\ntrtcd_open_descriptors %d\n", open)
		fmt.Fprintf(w, "# HELP trtcd_descriptor_limit The process's descriptor limit (RLIMIT_NOFILE).\n# TYPE trtcd_descriptor_limit gauge\ntrtcd_descriptor_limit %d\n", limit)
		fmt.Fprintf(w, "# HELP trtcd_http_header_timeouts_total Connections closed because a request's headers did not arrive within http_header_timeout.\n# TYPE trtcd_http_header_timeouts_total counter\ntrtcd_http_header_timeouts_total %d\n", c.headerTimeouts.Load())
		fmt.Fprintf(w, "# HELP trtcd_http_idle_closed_total Keep-alive connections closed after http_idle_timeout without a request.\n# TYPE trtcd_http_idle_closed_total counter\ntrtcd_http_idle_closed_total %d\n", c.idleClosed.Load())
	}
	n.WebUI.WriteMetrics(w)
	rj := n.Signal.RefusedJoins()
	fmt.Fprintf(w, "# HELP trtcd_joins_refused_total Joins refused with ServerFull, by policy.\n# TYPE trtcd_joins_refused_total counter\ntrtcd_joins_refused_total{policy=\"max_clients\"} %d\ntrtcd_joins_refused_total{policy=\"fd_headroom\"} %d\n", rj.MaxClients, rj.FDHeadroom)
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

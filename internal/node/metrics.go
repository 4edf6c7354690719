package node

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/trtcd/trtcd/internal/cloudapi"
	"github.com/trtcd/trtcd/internal/cluster"
	"github.com/trtcd/trtcd/internal/metrics"
	"github.com/trtcd/trtcd/internal/rooms"
)

// The metrics read from the parts' own counters when /metrics is scraped:
// the hot paths (a join, an event's fan-out, a policy firing) only add to an
// atomic counter. docs/metrics.md lists them all.
var (
	descConnections = newDesc("connections", "Open client WebSocket connections.")
	descSessions    = newDesc("sessions", "Sessions joined to a room on this node.")
	descRooms       = newDesc("rooms", "Rooms with at least one session on this node.")
	descJoins       = newDesc("joins_total", "Sessions that joined a room on this node.")
	descJoinRefused = newDesc("joins_refused_total", "Joins refused, by protocol code (docs/protocol.md).", "code")
	descAdmission   = newDesc("join_admission_refused_total", "Joins refused with ServerFull, by admission policy: max_clients, fd_headroom.", "policy")
	descLeaves      = newDesc("leaves_total", "Sessions that left their room without being kicked, by reason: left, timeout.", "reason")
	descKicks       = newDesc("kicks_total", "Sessions kicked, by reason: removed, dismissed, duplicate, timeout.", "reason")
	descClientErrs  = newDesc("client_errors_total", "Error messages sent to clients (refused joins, bad frames), by protocol code.", "code")
	descIdle        = newDesc("client_idle_timeouts_total", "Joined clients removed by the idle timeout.")
	descSlow        = newDesc("client_slow_drops_total", "Clients disconnected because their outbound queue was full.")

	descBudgetHeld    = newDesc("api_body_budget_bytes", "Request-body bytes held by API requests not yet authenticated.")
	descBudgetRefused = newDesc("api_body_budget_refused_total", "API requests answered ServiceUnavailable because the unauthenticated body budget was spent.")
	descBodyTimeouts  = newDesc("api_body_timeouts_total", "API request bodies that did not arrive within http_read_timeout.")
	descParamsRefused = newDesc("api_params_refused_total", "API bodies refused for passing the parameter decoding limits.")
	descEchoClipped   = newDesc("api_echo_truncations_total", "Client-supplied values cut to MaxEcho bytes in an error message or a log line (all nodes of this process).")
	descLimiterDown   = newDesc("api_rate_limit_fail_open_total", "API calls let through uncounted because the rate limiter could not be reached.")
	descOpenFDs       = newDesc("open_descriptors", "Descriptors open: those open at start plus accepted connections not yet closed.")
	descHeaderTimeout = newDesc("http_header_timeouts_total", "Connections closed because a request's headers did not arrive within http_header_timeout.")
	descIdleClosed    = newDesc("http_idle_closed_total", "Keep-alive connections closed after http_idle_timeout without a request.")

	descOutcomes       = newDesc("cluster_outcome_resolutions_total", "Changes whose Redis answer was lost, by what the node found out: applied, not_applied, unknown.", "outcome")
	descJoinCleanups   = newDesc("cluster_refused_join_cleanups_total", "Refused joins whose traces in Redis were removed.")
	descJoinGhosts     = newDesc("cluster_refused_join_ghosts_total", "Refused joins that had committed, removed and announced as left.")
	descSwept          = newDesc("cluster_swept_incarnations_total", "Dead node incarnations whose members this node swept.")
	descReregistered   = newDesc("cluster_reregistrations_total", "Times this node re-registered its sessions after Redis lost them.")
	descReconnects     = newDesc("cluster_reconnect_attempts_total", "Pub/sub reconnection attempts (with backoff).")
	descWatchOutages   = newDesc("cluster_watch_outages_total", "Times the pub/sub connection was lost.")
	descHistoryTurns   = newDesc("history_writer_turns_total", "SQLite history: turns the history writer gave the network during its transactions (policy writer yield: at most one per 100 µs of a transaction's computation, none while the writer is behind).")
	descStartupRetries = newDesc("cluster_startup_retries_total", "Failed attempts to reach Redis at start-up (redis_startup_timeout).")
)

func newDesc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(metrics.Namespace+"_"+name, help, labels, nil)
}

// collector reads the node's parts when /metrics is scraped.
type collector struct{ n *Node }

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descConnections, descSessions, descRooms, descJoins, descJoinRefused,
		descAdmission, descLeaves, descKicks, descClientErrs, descIdle, descSlow, descBudgetHeld, descBudgetRefused,
		descBodyTimeouts, descParamsRefused, descEchoClipped, descLimiterDown, descOpenFDs, descHeaderTimeout,
		descIdleClosed, descOutcomes, descJoinCleanups, descJoinGhosts, descSwept, descReregistered, descReconnects,
		descWatchOutages, descStartupRetries, descHistoryTurns} {
		ch <- d
	}
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	n := c.n
	g := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	k := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}

	hub := n.Hub.Stats()
	g(descConnections, float64(n.Signal.Connections()))
	g(descSessions, float64(hub.Sessions))
	g(descRooms, float64(hub.Rooms))
	k(descJoins, hub.Joins)
	for code, v := range n.Signal.JoinsRefused() {
		k(descJoinRefused, v, code)
	}
	rj := n.Signal.RefusedJoins()
	k(descAdmission, uint64(rj.MaxClients), "max_clients")
	k(descAdmission, uint64(rj.FDHeadroom), "fd_headroom")
	for _, r := range rooms.Reasons {
		if r == rooms.ReasonLeft || r == rooms.ReasonTimeout {
			k(descLeaves, hub.Leaves[r], string(r))
		}
		if r != rooms.ReasonLeft {
			k(descKicks, hub.Kicks[r], string(r))
		}
	}
	for code, v := range n.Signal.ErrorsSent() {
		k(descClientErrs, v, code)
	}
	k(descIdle, n.Signal.IdleTimeouts())
	k(descSlow, n.Signal.SlowDrops())

	api := n.API.Stats()
	g(descBudgetHeld, float64(api.BodyBudgetHeld))
	k(descBudgetRefused, uint64(api.BodyBudgetRefused))
	k(descBodyTimeouts, uint64(api.BodyTimeouts))
	k(descParamsRefused, uint64(api.ParamsRefused))
	k(descEchoClipped, cloudapi.Clipped())
	k(descLimiterDown, uint64(api.RateLimitFailOpen))
	if t := n.conns; t != nil {
		open, _ := t.Descriptors() // the limit is process_max_fds
		g(descOpenFDs, float64(open))
		k(descHeaderTimeout, uint64(t.headerTimeouts.Load()))
		k(descIdleClosed, uint64(t.idleClosed.Load()))
	}

	if n.History != nil {
		k(descHistoryTurns, uint64(n.History.Stats().Turns))
	}

	if cr, ok := n.Registry.(*cluster.Registry); ok {
		s := cr.Stats()
		k(descOutcomes, s.OutcomeApplied, "applied")
		k(descOutcomes, s.OutcomeNotApplied, "not_applied")
		k(descOutcomes, s.OutcomeUnknown, "unknown")
		k(descJoinCleanups, s.RefusedJoinCleanups)
		k(descJoinGhosts, s.RefusedJoinGhosts)
		k(descSwept, s.SweptIncarnations)
		k(descReregistered, s.Reregistrations)
		k(descReconnects, s.ReconnectAttempts)
		k(descWatchOutages, s.WatchOutages)
		k(descStartupRetries, s.StartupRetries)
	}
}

// observeRedis feeds the Redis call metrics (cluster.ObserveCalls).
func (n *Node) observeRedis(elapsed time.Duration, kind cluster.CallError) {
	n.Metrics.Redis.Observe(elapsed, kind.String())
}

package node

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/trtcd/trtcd/internal/callbacks"
)

// The callback sender's metrics (docs/callbacks.md, docs/metrics.md),
// present when some app has a callback. Label values come from the config
// (app ids) and fixed sets (event types, outcomes, skip reasons).
var (
	descCBDeliveries = newDesc("callback_deliveries_total", "Callback delivery attempts, by app, EventType and result: ok, status, timeout, error, too_large.", "app", "event_type", "result")
	descCBLatency    = newDesc("callback_delivery_latency_seconds", "Time from an event to its receiver's 200, by app.", "app")
	descCBRetries    = newDesc("callback_retries_total", "Callback attempts after the first, by app.", "app")
	descCBDead       = newDesc("callback_dead_lettered_total", "Events moved to the dead letters on this node, by app.", "app")
	descCBAccepted   = newDesc("callback_events_accepted_total", "Events accepted into the callback outbox by this node (on one node: written within CommitDelay, write-behind).")
	descCBDuplicates = newDesc("callback_events_duplicate_total", "Events handed over again and recognised as already taken.")
	descCBSkipped    = newDesc("callback_events_skipped_total", "Events that get no callback, by reason: no_callback, filtered, unknown_type, invalid.", "reason")
	descCBDepth      = newDesc("callback_outbox_depth", "Undelivered events in the callback outbox (in cluster mode: the cluster's shared outbox).")
	descCBOldest     = newDesc("callback_outbox_oldest_age_seconds", "Age of the oldest undelivered event in the outbox (0 when none).")
	descCBDeadNow    = newDesc("callback_dead_letters", "Dead letters in the outbox's store now.")
	descCBWrites     = newDesc("callback_outbox_writes_total", "One node: accepted events handled by the outbox's write-behind, by their state at its commit: delivered (nothing written), pending, dead, or failed.", "state")
	descCBShards     = newDesc("callback_outbox_shards_owned", "Cluster mode: event-log shards whose callback outbox this node delivers (read every OwnershipRefresh).")
	descCBTurns      = newDesc("callback_outbox_writer_turns_total", "One node: turns the outbox's writer gave the network during its transactions (policy writer yield: at most one per 100 µs of a transaction's computation, none while the writer is behind).")
	descCBConns      = newDesc("callback_connections_total", "Connections to the callback receivers: dialed, expired (idle past 60 s, closed), stale (closed by the receiver while idle; the request went again on a new one).", "event")
)

// callbackCollector reads the sender's Stats when /metrics is scraped.
type callbackCollector struct{ n *Node }

func (c callbackCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descCBDeliveries, descCBLatency, descCBRetries, descCBDead, descCBAccepted,
		descCBDuplicates, descCBSkipped, descCBDepth, descCBOldest, descCBDeadNow, descCBShards, descCBWrites, descCBTurns, descCBConns} {
		ch <- d
	}
}

func (c callbackCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.n.Callbacks
	if s == nil {
		return
	}
	st := s.Stats()
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge := func(d *prometheus.Desc, v float64) { ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v) }
	app := func(a uint64) string { return strconv.FormatUint(a, 10) }
	for k, v := range st.Deliveries {
		counter(descCBDeliveries, v, app(k.App), strconv.Itoa(k.EventType), k.Outcome)
	}
	for a, h := range st.Latency {
		buckets := make(map[float64]uint64, len(callbacks.LatencyBuckets))
		for i, ub := range callbacks.LatencyBuckets {
			buckets[ub] = h.Counts[i]
		}
		ch <- prometheus.MustNewConstHistogram(descCBLatency, h.Count, h.Sum, buckets, app(a))
	}
	for a, v := range st.Retries {
		counter(descCBRetries, v, app(a))
	}
	for a, v := range st.DeadLettered {
		counter(descCBDead, v, app(a))
	}
	counter(descCBAccepted, st.Accepted)
	counter(descCBDuplicates, st.Duplicates)
	for r, v := range st.Skipped {
		counter(descCBSkipped, v, r)
	}
	gauge(descCBDepth, float64(st.OutboxDepth))
	gauge(descCBOldest, st.OldestAge.Seconds())
	gauge(descCBDeadNow, float64(st.DeadLetters))
	for state, v := range st.OutboxWrites {
		counter(descCBWrites, v, state)
	}
	if st.OutboxWrites != nil { // one node
		counter(descCBTurns, st.WriterTurns)
	}
	for event, v := range st.Connections {
		counter(descCBConns, v, event)
	}
	if st.OwnedShards >= 0 {
		gauge(descCBShards, float64(st.OwnedShards))
	}
}

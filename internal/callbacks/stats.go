package callbacks

import (
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// Reasons an event gets no callback, as counted in Stats.Skipped.
const (
	SkipNoCallback  = "no_callback"  // its app has no callback url
	SkipFiltered    = "filtered"     // the app's events filter leaves its type out
	SkipUnknownType = "unknown_type" // a room-event type without a TRTC callback
	SkipInvalid     = "invalid"      // it breaks the event contract (logged)
)

// LatencyBuckets are the upper bounds (seconds) of the delivery latency
// histogram: from the event's time to the receiver's 200.
var LatencyBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600}

// DeliveryKey names one counter of Stats.Deliveries.
type DeliveryKey struct {
	App       uint64
	EventType int
	Outcome   string // OutcomeOK, OutcomeStatus, ...
}

// Histogram is cumulative like Prometheus's: Counts[i] events took at most
// LatencyBuckets[i]; Count is all of them.
type Histogram struct {
	Counts []uint64
	Count  uint64
	Sum    float64 // seconds
}

// Stats is a snapshot of the sender's counters and its outbox.
type Stats struct {
	Accepted     uint64                 // events committed to the outbox
	Duplicates   uint64                 // events handed over again and recognised
	Skipped      map[string]uint64      // events without a callback, by Skip* reason
	Deliveries   map[DeliveryKey]uint64 // attempts by app, event type and outcome
	Retries      map[uint64]uint64      // attempts after the first, by app
	Latency      map[uint64]Histogram   // event time to 200, by app
	DeadLettered map[uint64]uint64      // events moved to the dead letters, by app
	OutboxDepth  int64                  // undelivered events in the store
	OldestAge    time.Duration          // age of the oldest undelivered event (0: none)
	DeadLetters  int64                  // dead letters in the store now
	OwnedShards  int                    // cluster mode: shards whose outbox this node delivers; -1 on one node
	OutboxWrites map[string]uint64      // one node: events the write-behind handled, by state at its commit (delivered, pending, dead, failed)
	WriterTurns  uint64                 // one node: turns the outbox's writer gave the network during its transactions (writer yield)
	// Connections to the receivers, all apps: "dialed", "expired" (closed
	// after idling past wireIdleTimeout), "stale" (closed by the receiver
	// while idle, the request sent again on a new one).
	Connections map[string]uint64
}

type metrics struct {
	accepted, duplicates atomic.Uint64

	mu         sync.Mutex
	skipped    map[string]uint64
	deliveries map[DeliveryKey]uint64
	retries    map[uint64]uint64
	deadN      map[uint64]uint64
	latency    map[uint64]*Histogram

	// depth is the last outbox depth read from the store, reported again
	// when a read fails, so that a failed read never shows an empty outbox.
	depthMu                    sync.Mutex
	depth, oldestMs, deadCount int64
	depthErrs                  uint64
}

func newMetrics() *metrics {
	return &metrics{skipped: map[string]uint64{}, deliveries: map[DeliveryKey]uint64{},
		retries: map[uint64]uint64{}, deadN: map[uint64]uint64{}, latency: map[uint64]*Histogram{}}
}

func (m *metrics) skip(reason string) { m.mu.Lock(); m.skipped[reason]++; m.mu.Unlock() }
func (m *metrics) retry(app uint64)   { m.mu.Lock(); m.retries[app]++; m.mu.Unlock() }
func (m *metrics) dead(app uint64)    { m.mu.Lock(); m.deadN[app]++; m.mu.Unlock() }

func (m *metrics) failed(app uint64, etype int, outcome string) {
	m.mu.Lock()
	m.deliveries[DeliveryKey{app, etype, outcome}]++
	m.mu.Unlock()
}

func (m *metrics) delivered(app uint64, etype int, latency time.Duration) {
	sec := max(latency.Seconds(), 0)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.deliveries[DeliveryKey{app, etype, OutcomeOK}]++
	h := m.latency[app]
	if h == nil {
		h = &Histogram{Counts: make([]uint64, len(LatencyBuckets))}
		m.latency[app] = h
	}
	h.Count++
	h.Sum += sec
	if i := sort.SearchFloat64s(LatencyBuckets, sec); i < len(LatencyBuckets) {
		h.Counts[i]++ // cumulated in Stats
	}
}

// Stats is a snapshot; the outbox figures are read from the store.
func (s *Sender) Stats() Stats {
	m := s.m
	st := Stats{Accepted: m.accepted.Load(), Duplicates: m.duplicates.Load(),
		Skipped: map[string]uint64{}, Deliveries: map[DeliveryKey]uint64{}, Retries: map[uint64]uint64{},
		Latency: map[uint64]Histogram{}, DeadLettered: map[uint64]uint64{}}
	m.mu.Lock()
	for k, v := range m.skipped {
		st.Skipped[k] = v
	}
	for k, v := range m.deliveries {
		st.Deliveries[k] = v
	}
	for k, v := range m.retries {
		st.Retries[k] = v
	}
	for k, v := range m.deadN {
		st.DeadLettered[k] = v
	}
	for k, h := range m.latency {
		c := Histogram{Counts: make([]uint64, len(h.Counts)), Count: h.Count, Sum: h.Sum}
		var run uint64
		for i, n := range h.Counts {
			run += n
			c.Counts[i] = run
		}
		st.Latency[k] = c
	}
	m.mu.Unlock()
	st.Connections = map[string]uint64{}
	for _, q := range s.apps {
		if w := q.wire; w != nil {
			st.Connections["dialed"] += w.dialed.Load()
			st.Connections["expired"] += w.expired.Load()
			st.Connections["stale"] += w.stale.Load()
		}
	}
	st.OwnedShards = -1
	if rs, ok := s.store.(*RedisStore); ok {
		st.OwnedShards = rs.OwnedShards()
	}
	if fs, ok := s.store.(*Store); ok {
		st.OutboxWrites = fs.Writes()
		st.WriterTurns = uint64(fs.Turns())
	}
	if s.store != nil {
		depth, oldest, dead, err := s.store.Depth()
		m.depthMu.Lock()
		if err == nil {
			m.depth, m.oldestMs, m.deadCount = depth, oldest, dead
		} else {
			m.depthErrs++
			if m.depthErrs == 1 || m.depthErrs%100 == 0 {
				s.log.Warn("callbacks: reading the outbox depth failed; reporting the last one read", "err", err, "failures", m.depthErrs)
			}
		}
		depth, oldest, dead = m.depth, m.oldestMs, m.deadCount
		m.depthMu.Unlock()
		st.OutboxDepth, st.DeadLetters = depth, dead
		if oldest > 0 {
			st.OldestAge = max(time.Since(time.UnixMilli(oldest)), 0)
		}
	}
	return st
}

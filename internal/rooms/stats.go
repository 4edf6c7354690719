package rooms

import "sync/atomic"

// Reasons lists every Reason, in a fixed order.
var Reasons = []Reason{ReasonLeft, ReasonRemoved, ReasonTimeout, ReasonDismissed, ReasonDuplicate}

// reasonCounts counts by Reason without a map on the hot path.
type reasonCounts [5]atomic.Uint64

func (rc *reasonCounts) add(r Reason) {
	for i, x := range Reasons {
		if x == r {
			rc[i].Add(1)
			return
		}
	}
}

func (rc *reasonCounts) snapshot() map[Reason]uint64 {
	m := make(map[Reason]uint64, len(Reasons))
	for i, r := range Reasons {
		m[r] = rc[i].Load()
	}
	return m
}

// hubStats count what happened to this node's sessions, for /metrics.
type hubStats struct {
	joins  atomic.Uint64
	leaves reasonCounts
	kicks  reasonCounts
}

// HubStats is a snapshot of a hub's counters and gauges.
type HubStats struct {
	Joins    uint64            // sessions that joined a room
	Leaves   map[Reason]uint64 // sessions that left (not kicked), by reason: left, timeout
	Kicks    map[Reason]uint64 // sessions kicked, by reason: removed, dismissed, duplicate, timeout
	Sessions int               // sessions attached now
	Rooms    int               // rooms with a session on this node now
}

// Stats returns the hub's counters.
func (h *Hub) Stats() HubStats {
	h.mu.RLock()
	sessions, rooms := 0, len(h.rooms)
	for _, atts := range h.rooms {
		sessions += len(atts)
	}
	h.mu.RUnlock()
	return HubStats{Joins: h.stats.joins.Load(), Leaves: h.stats.leaves.snapshot(), Kicks: h.stats.kicks.snapshot(),
		Sessions: sessions, Rooms: rooms}
}

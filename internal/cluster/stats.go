package cluster

import "sync/atomic"

// stats count what the registry's fault policies did; /metrics shows them.
type stats struct {
	resolved        [3]atomic.Uint64 // by outcome: applied, not_applied, unknown
	joinCleanups    atomic.Uint64    // refused joins undone (member and index entry gone)
	joinGhosts      atomic.Uint64    // of those, joins that had committed and were announced as left
	sweptIncarnatns atomic.Uint64    // dead node incarnations whose members were swept
	reregistrations atomic.Uint64    // times this node re-registered its sessions (Redis lost them)
	appended        atomic.Uint64    // events this node's scripts appended to the event log
	startupRetries  atomic.Uint64    // start-up attempts to reach Redis that failed
	mediaStops      atomic.Uint64    // stop events written for the live tracks of a media node that was gone
}

// Stats is a snapshot of the registry's counters.
type Stats struct {
	OutcomeApplied, OutcomeNotApplied, OutcomeUnknown uint64 // changes whose answer was lost, by what the node found out
	RefusedJoinCleanups                               uint64 // refused joins whose traces were removed
	RefusedJoinGhosts                                 uint64 // refused joins that had committed, removed and announced as left
	SweptIncarnations                                 uint64 // dead incarnations swept by this node
	Reregistrations                                   uint64 // re-registrations after Redis lost this node's state
	ReconnectAttempts                                 uint64 // pub/sub reconnection attempts
	WatchOutages                                      uint64 // pub/sub outages (each logged once)
	Appended                                          uint64 // events this node's changes appended to the event log
	StartupRetries                                    uint64 // failed attempts to reach Redis at start-up
}

// Stats returns the registry's counters.
func (r *Registry) Stats() Stats {
	return Stats{
		OutcomeApplied:      r.stats.resolved[applied].Load(),
		OutcomeNotApplied:   r.stats.resolved[notApplied].Load(),
		OutcomeUnknown:      r.stats.resolved[unknown].Load(),
		RefusedJoinCleanups: r.stats.joinCleanups.Load(),
		RefusedJoinGhosts:   r.stats.joinGhosts.Load(),
		SweptIncarnations:   r.stats.sweptIncarnatns.Load(),
		Reregistrations:     r.stats.reregistrations.Load(),
		ReconnectAttempts:   r.watch.attempts.Load(),
		WatchOutages:        r.watch.outages.Load(),
		Appended:            r.stats.appended.Load(),
		StartupRetries:      r.stats.startupRetries.Load(),
	}
}

package node

import "github.com/prometheus/client_golang/prometheus"

// The media plane's metrics (docs/media.md, docs/metrics.md).
var (
	descMediaMsgs      = newDesc("media_messages_total", "Media signalling messages on client WebSockets, by direction: in, out, refused (answered with a media_error).", "direction")
	descMediaEvents    = newDesc("media_events_total", "Media events (201-206: tracks started and stopped).")
	descMediaUnlogged  = newDesc("media_events_unlogged_total", "Media events not recorded in the room-event log, by reason: not_member (the user had left the room), failed (the registry failed or the room key was bad), stale (cluster mode: this node no longer runs the room's media, or the track's stop was already written after a media reset).", "reason")
	descMediaForwarded = newDesc("media_packets_forwarded_total", "RTP packets forwarded to subscribers (once per published packet).")
	descMediaBlocked   = newDesc("media_packets_blocked_total", "RTP packets withheld because their publisher is blocked (SetUserBlocked).")
	descMediaOverRate  = newDesc("media_packets_over_bitrate_total", "RTP packets dropped by the bitrate policy.")
	descMediaKeyframes = newDesc("media_keyframe_requests_total", "Keyframe requests (PLI) sent to publishers.")
	descMediaKFMerged  = newDesc("media_keyframe_requests_merged_total", "Keyframe requests merged by the keyframe rate limit.")
	descMediaOffersRef = newDesc("media_offers_refused_total", "Publishing offers refused.")
	descMediaRenegLim  = newDesc("media_renegotiation_limited_total", "Offers and renegotiation requests refused by the renegotiation policy.")
	descMediaCandsRef  = newDesc("media_candidates_refused_total", "Remote ICE candidates refused (outside media.networks, or malformed).")
	descMediaPubRef    = newDesc("media_publish_refused_total", "Offers to publish from audience members.")

	// cluster mode (docs/media.md, "Cluster mode")
	descMediaRelay     = newDesc("media_relay_messages_total", "Media messages relayed between nodes, by direction: sent, received, dropped (a full queue or a failed publish), refused (a bad signature), bad (undecodable).", "direction")
	descMediaActTO     = newDesc("media_relay_action_timeouts_total", "RemoveUser, DismissRoom and SetUserBlocked calls that answered without the media node's confirmation (MediaActionTimeout).")
	descMediaResets    = newDesc("media_resets_total", "Sessions of this node sent media_reset (their room's media moved or its node died).")
	descMediaStopsRst  = newDesc("media_stops_after_reset_total", "Stop events (202, 204, 206) this node wrote for tracks left live by a media node that was gone (dead, lost the room, or shut down).")
	descMediaTakeOvers = newDesc("media_takeovers_total", "Rooms whose media this node claimed from a dead node.")
	descMediaRestored  = newDesc("media_blocks_restored_total", "Blocks (SetUserBlocked) this node, as the room's media node, wrote back to Redis after Redis had lost them (restarted empty): with its claim when it re-registered, or merged into the record of a room another node had taken meanwhile.")
	descMediaMerged    = newDesc("media_blocks_merged_total", "Blocks (SetUserBlocked) this node, as the room's media node, applied in the MediaMergeWindow after taking a room, from a hand-over or from the record, that its media did not hold yet (mostly those the previous media node handed over after Redis lost them).")
	descMediaClaimed   = newDesc("media_rooms_claimed", "Rooms whose media claim this node holds.")
	descMediaHosted    = newDesc("media_peers_hosted", "Media peers this node runs for sessions on other nodes.")
)

// mediaCollector reads the media counters when /metrics is scraped; the
// SFU's own are served only when media is on.
type mediaCollector struct{ n *Node }

func (c mediaCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descMediaMsgs, descMediaEvents, descMediaUnlogged, descMediaForwarded, descMediaBlocked, descMediaOverRate,
		descMediaKeyframes, descMediaKFMerged, descMediaOffersRef, descMediaRenegLim, descMediaCandsRef, descMediaPubRef,
		descMediaRelay, descMediaActTO, descMediaResets, descMediaStopsRst, descMediaTakeOvers, descMediaRestored, descMediaMerged, descMediaClaimed, descMediaHosted} {
		ch <- d
	}
}

func (c mediaCollector) Collect(ch chan<- prometheus.Metric) {
	k := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	mm := c.n.Signal.MediaMessages()
	k(descMediaMsgs, mm.In, "in")
	k(descMediaMsgs, mm.Out, "out")
	k(descMediaMsgs, mm.Refused, "refused")
	if c.n.Media == nil {
		return
	}
	k(descMediaEvents, c.n.mediaEvents.Load())
	k(descMediaUnlogged, c.n.mediaNotMember.Load(), "not_member")
	k(descMediaUnlogged, c.n.mediaFailed.Load(), "failed")
	k(descMediaUnlogged, c.n.mediaStale.Load(), "stale")
	m := c.n.Media.Metrics()
	k(descMediaForwarded, m.PacketsForwarded)
	k(descMediaBlocked, m.PacketsBlocked)
	k(descMediaOverRate, m.PacketsOverBitrate)
	k(descMediaKeyframes, m.KeyframeRequests)
	k(descMediaKFMerged, m.KeyframeMerged)
	k(descMediaOffersRef, m.OffersRefused)
	k(descMediaRenegLim, m.RenegotiationLimit)
	k(descMediaCandsRef, m.CandidatesRefused)
	k(descMediaPubRef, m.PublishRefused)
	if c.n.mplane == nil || c.n.mplane.cl == nil {
		return
	}
	cm := c.n.mplane.cl
	k(descMediaRelay, cm.st.sent.Load(), "sent")
	k(descMediaRelay, cm.st.received.Load(), "received")
	k(descMediaRelay, cm.st.dropped.Load(), "dropped")
	k(descMediaRelay, cm.st.refused.Load(), "refused")
	k(descMediaRelay, cm.st.bad.Load(), "bad")
	k(descMediaActTO, cm.st.actionTimeouts.Load())
	k(descMediaResets, cm.st.resets.Load())
	k(descMediaStopsRst, cm.reg.MediaStops())
	k(descMediaTakeOvers, cm.st.takeOvers.Load())
	k(descMediaRestored, cm.st.blocksRestored.Load())
	k(descMediaMerged, cm.st.blocksMerged.Load())
	claimed, hosted := cm.counts()
	ch <- prometheus.MustNewConstMetric(descMediaClaimed, prometheus.GaugeValue, float64(claimed))
	ch <- prometheus.MustNewConstMetric(descMediaHosted, prometheus.GaugeValue, float64(hosted))
}

package node

import "github.com/prometheus/client_golang/prometheus"

// The media plane's metrics (docs/media.md, docs/metrics.md).
var (
	descMediaMsgs      = newDesc("media_messages_total", "Media signalling messages on client WebSockets, by direction: in, out, refused (answered with a media_error).", "direction")
	descMediaEvents    = newDesc("media_events_total", "Media events (201-206: tracks started and stopped).")
	descMediaUnlogged  = newDesc("media_events_unlogged_total", "Media events not recorded in the room-event log, by reason: not_member (the user had left the room), failed (the registry failed or the room key was bad).", "reason")
	descMediaForwarded = newDesc("media_packets_forwarded_total", "RTP packets forwarded to subscribers (once per published packet).")
	descMediaBlocked   = newDesc("media_packets_blocked_total", "RTP packets withheld because their publisher is blocked (SetUserBlocked).")
	descMediaOverRate  = newDesc("media_packets_over_bitrate_total", "RTP packets dropped by the bitrate policy.")
	descMediaKeyframes = newDesc("media_keyframe_requests_total", "Keyframe requests (PLI) sent to publishers.")
	descMediaKFMerged  = newDesc("media_keyframe_requests_merged_total", "Keyframe requests merged by the keyframe rate limit.")
	descMediaOffersRef = newDesc("media_offers_refused_total", "Publishing offers refused.")
	descMediaRenegLim  = newDesc("media_renegotiation_limited_total", "Offers and renegotiation requests refused by the renegotiation policy.")
	descMediaCandsRef  = newDesc("media_candidates_refused_total", "Remote ICE candidates refused (outside media.networks, or malformed).")
	descMediaPubRef    = newDesc("media_publish_refused_total", "Offers to publish from audience members.")
)

// mediaCollector reads the media counters when /metrics is scraped; the
// SFU's own are served only when media is on.
type mediaCollector struct{ n *Node }

func (c mediaCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descMediaMsgs, descMediaEvents, descMediaUnlogged, descMediaForwarded, descMediaBlocked, descMediaOverRate,
		descMediaKeyframes, descMediaKFMerged, descMediaOffersRef, descMediaRenegLim, descMediaCandsRef, descMediaPubRef} {
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
}

package node

import (
	"fmt"
	"net/http"
)

// mediaMetrics: the media plane's policies and traffic (docs/media.md).
func (n *Node) mediaMetrics(w http.ResponseWriter) {
	mm := n.Signal.MediaMessages()
	fmt.Fprintf(w, "# HELP trtcd_media_messages_total Media signalling messages on client WebSockets, by direction (refused: answered with a media_error).\n# TYPE trtcd_media_messages_total counter\n")
	fmt.Fprintf(w, "trtcd_media_messages_total{direction=\"in\"} %d\ntrtcd_media_messages_total{direction=\"out\"} %d\ntrtcd_media_messages_total{direction=\"refused\"} %d\n", mm.In, mm.Out, mm.Refused)
	if n.Media == nil {
		return
	}
	fmt.Fprintf(w, "# HELP trtcd_media_events_total Media events (201-206: tracks started and stopped).\n# TYPE trtcd_media_events_total counter\ntrtcd_media_events_total %d\n", n.mediaEvents.Load())
	m := n.Media.Metrics()
	for _, c := range []struct {
		name, help string
		v          uint64
	}{
		{"trtcd_media_packets_forwarded_total", "RTP packets forwarded to subscribers (once per published packet).", m.PacketsForwarded},
		{"trtcd_media_packets_blocked_total", "RTP packets withheld because their publisher is blocked (SetUserBlocked).", m.PacketsBlocked},
		{"trtcd_media_packets_over_bitrate_total", "RTP packets dropped by the bitrate policy.", m.PacketsOverBitrate},
		{"trtcd_media_keyframe_requests_total", "Keyframe requests (PLI) sent to publishers.", m.KeyframeRequests},
		{"trtcd_media_keyframe_requests_merged_total", "Keyframe requests merged by the keyframe rate limit.", m.KeyframeMerged},
		{"trtcd_media_offers_refused_total", "Publishing offers refused.", m.OffersRefused},
		{"trtcd_media_renegotiation_limited_total", "Offers and renegotiation requests refused by the renegotiation policy.", m.RenegotiationLimit},
		{"trtcd_media_candidates_refused_total", "Remote ICE candidates refused (outside media.networks, or malformed).", m.CandidatesRefused},
		{"trtcd_media_publish_refused_total", "Offers to publish from audience members.", m.PublishRefused},
	} {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s counter\n%s %d\n", c.name, c.help, c.name, c.name, c.v)
	}
}

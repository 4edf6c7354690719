package media

import (
	"sync/atomic"
	"time"

	"github.com/trtcd/trtcd/client/media/wire"
)

// EventType is a TRTC media event type (callback event group 2).
type EventType int

// The media event types, numbered as TRTC's callbacks number them.
const (
	EventStartVideo    EventType = 201
	EventStopVideo     EventType = 202
	EventStartAudio    EventType = 203
	EventStopAudio     EventType = 204
	EventStartSubVideo EventType = 205 // TRTC: EVENT_TYPE_START_ASSIT
	EventStopSubVideo  EventType = 206 // TRTC: EVENT_TYPE_STOP_ASSIT
)

// MediaEvent says a user started or stopped publishing a track. A track
// starts when its first packet arrives and stops when its publisher takes it
// away (renegotiation, a switch to audience, or its connection failing)
// while staying in the room. Leaving, removal and dismissal stop nothing.
type MediaEvent struct {
	Type EventType
	Room string
	User string
	Time time.Time
}

func startEvent(k wire.Kind) EventType {
	switch k {
	case wire.Audio:
		return EventStartAudio
	case wire.SubVideo:
		return EventStartSubVideo
	}
	return EventStartVideo
}

func stopEvent(k wire.Kind) EventType { return startEvent(k) + 1 }

// Metrics counts what the SFU's policies did; every field only grows.
type Metrics struct {
	PacketsForwarded   uint64 // RTP packets written to subscriber tracks (once per published packet)
	PacketsBlocked     uint64 // dropped because the publisher is blocked (SetBlocked)
	PacketsOverBitrate uint64 // dropped by BitratePolicy
	KeyframeRequests   uint64 // PLIs sent to publishers
	KeyframeMerged     uint64 // requests merged by KeyframeRateLimit
	OffersRefused      uint64 // offers refused (any media_error answering an offer)
	RenegotiationLimit uint64 // offers refused by RenegotiationPolicy
	CandidatesRefused  uint64 // remote candidates outside Networks or malformed
	PublishRefused     uint64 // offers from audience members
}

type counters struct {
	forwarded, blocked, overBitrate, keyframes, keyframeMerged atomic.Uint64
	offersRefused, renegLimit, candRefused, publishRefused     atomic.Uint64
}

func (c *counters) snapshot() Metrics {
	return Metrics{
		PacketsForwarded:   c.forwarded.Load(),
		PacketsBlocked:     c.blocked.Load(),
		PacketsOverBitrate: c.overBitrate.Load(),
		KeyframeRequests:   c.keyframes.Load(),
		KeyframeMerged:     c.keyframeMerged.Load(),
		OffersRefused:      c.offersRefused.Load(),
		RenegotiationLimit: c.renegLimit.Load(),
		CandidatesRefused:  c.candRefused.Load(),
		PublishRefused:     c.publishRefused.Load(),
	}
}

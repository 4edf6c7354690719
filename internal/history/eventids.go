package history

// The cloud's DescribeUserEvent answers events as (EventId, Type, ParamOne,
// ParamTwo). The cloud's published event-id table covers client-side device
// and media events reported by its SDKs (1001–4007), which trtcd does not
// see. For the room events trtcd does see, EventId is the TRTC room and media
// callback event type (103 enter room, 104 exit room, 105 change role,
// 201–206 start/stop video, audio, substream), and the parameters are
// trtcd's own, documented in docs/api.md.

// Stream types of EventMessage.Type.
const (
	StreamNone = 0 // not about a video stream
	StreamBig  = 2 // the main (big) video
)

// Role codes (ParamOne of enter and role_switch), as the room callbacks
// number roles.
const (
	RoleAnchor   = 20
	RoleAudience = 21
)

// Leave reason codes (ParamOne of exit-room events).
var leaveReasonCodes = map[string]int64{
	ReasonLeft:      1,
	ReasonTimeout:   2,
	ReasonRemoved:   3,
	ReasonDismissed: 4,
	ReasonDuplicate: 5,
}

// eventIDs maps the event types that belong to one user onto the cloud's
// event ids and stream types. Room-level types (opened, closed) are not
// user events.
var eventIDs = map[string]struct {
	id     int64
	stream int64
}{
	TypeEnter:          {103, StreamNone},
	TypeLeave:          {104, StreamNone},
	TypeRoleSwitch:     {105, StreamNone},
	TypeVideoStart:     {201, StreamBig},
	TypeVideoStop:      {202, StreamBig},
	TypeAudioStart:     {203, StreamNone},
	TypeAudioStop:      {204, StreamNone},
	TypeSubstreamStart: {205, StreamNone},
	TypeSubstreamStop:  {206, StreamNone},
}

func roleCode(role string) int64 {
	if role == "audience" {
		return RoleAudience
	}
	return RoleAnchor
}

// userEvent is how one event appears in DescribeUserEvent; ok is false for
// types that are not a user's events.
func userEvent(e *Event) (ev UserEvent, ok bool) {
	m, ok := eventIDs[e.Type]
	if !ok || e.User == "" {
		return UserEvent{}, false
	}
	ev = UserEvent{TimeMs: e.TimeMs, EventID: m.id, Stream: m.stream, ParamOne: -1, ParamTwo: -1}
	switch e.Type {
	case TypeEnter, TypeRoleSwitch:
		ev.ParamOne = roleCode(e.Role)
	case TypeLeave:
		ev.ParamOne = leaveReasonCodes[e.Reason] // 0: a reason this table does not know
	}
	return ev, true
}

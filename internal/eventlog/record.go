package eventlog

// Record is an Event as the log's readers that store or send it (history,
// callbacks) see it: flat, with the member's client details pulled out of
// Ext and the vocabulary of TRTC's callbacks and monitoring data. One
// conversion, Event.Record, serves every such reader.
type Record struct {
	App        uint64 `json:"app"`
	Room       string `json:"room"` // "1400000001:n:1234" or "1400000001:s:<room>"
	RoomNum    uint64 `json:"roomNum,omitempty"`
	RoomStr    string `json:"roomStr,omitempty"`
	Seq        uint64 `json:"seq"`
	TimeMs     int64  `json:"timeMs"` // when it happened, Unix ms
	Type       string `json:"type"`   // a Record* type
	User       string `json:"user,omitempty"`
	Role       string `json:"role,omitempty"`   // RoleAnchor | RoleAudience
	Reason     string `json:"reason,omitempty"` // leave: the Reason* words; room_closed: RecordReasonEmpty or ReasonDismissed
	SessionID  string `json:"sessionId,omitempty"`
	ClientIP   string `json:"clientIp,omitempty"`
	Device     string `json:"device,omitempty"`
	SdkVersion string `json:"sdkVersion,omitempty"`
}

// The Record types: the log's types, with the room's opening and closing in
// the past tense and the substream spelt out.
const (
	RecordRoomOpened     = "room_opened"
	RecordRoomClosed     = "room_closed"
	RecordSubstreamStart = "substream_start"
	RecordSubstreamStop  = "substream_stop"

	// RecordReasonEmpty: the room closed because its last member left (for
	// whatever reason), not by a dismissal.
	RecordReasonEmpty = "empty"
)

// Ext keys of an enter event: what the client said about itself.
const (
	ExtClientIP   = "ip"
	ExtDevice     = "device"
	ExtSdkVersion = "sdk"
)

// Record flattens the event for its readers.
func (ev Event) Record() Record {
	r := Record{
		App: ev.App, Room: ev.Room, Seq: ev.Seq, TimeMs: ev.TimeMs, Type: string(ev.Type),
		User: ev.User, Role: ev.Role, Reason: ev.Reason, SessionID: ev.Session,
	}
	if ev.StrRoom {
		r.RoomStr = ev.RoomStr
	} else {
		r.RoomNum = ev.RoomNum
	}
	switch ev.Type {
	case TypeRoomOpen:
		r.Type = RecordRoomOpened
	case TypeRoomClose:
		r.Type = RecordRoomClosed
		if ev.Reason != ReasonDismissed {
			r.Reason = RecordReasonEmpty
		}
	case TypeSubStart:
		r.Type = RecordSubstreamStart
	case TypeSubStop:
		r.Type = RecordSubstreamStop
	}
	if ev.Ext != nil {
		r.ClientIP, r.Device, r.SdkVersion = ev.Ext[ExtClientIP], ev.Ext[ExtDevice], ev.Ext[ExtSdkVersion]
	}
	return r
}

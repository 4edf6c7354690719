// Package callbacks delivers TRTC event callbacks (webhooks) to each app's
// receiver: the cloud's body and Sign, at least once, per room in order,
// from a durable outbox in an embedded SQLite store. docs/callbacks.md
// describes the format, the policy and the operator commands.
package callbacks

import "strconv"

// Event is one room event as the room-event log hands it over. Exactly one
// of RoomNum and RoomStr is set. (Room, Seq, Type) identifies an event;
// TimeMs tells apart a sequence restarted after a Redis restart.
type Event struct {
	App        uint64 `json:"app"`
	Room       string `json:"room"` // "1400000001:n:1234" or "1400000001:s:<room>"
	RoomNum    uint64 `json:"roomNum,omitempty"`
	RoomStr    string `json:"roomStr,omitempty"`
	Seq        uint64 `json:"seq"`
	TimeMs     int64  `json:"timeMs"` // when it happened, Unix ms
	Type       string `json:"type"`   // see Types
	User       string `json:"user,omitempty"`
	Role       string `json:"role,omitempty"`   // "anchor" | "audience"
	Reason     string `json:"reason,omitempty"` // leave: left, removed, dismissed, duplicate, timeout; room_closed: empty, dismissed
	SessionID  string `json:"sessionId,omitempty"`
	ClientIP   string `json:"clientIp,omitempty"`
	Device     string `json:"device,omitempty"`
	SdkVersion string `json:"sdkVersion,omitempty"`
}

// Event type names of the room-event log.
const (
	TypeRoomOpened     = "room_opened"
	TypeRoomClosed     = "room_closed"
	TypeEnter          = "enter"
	TypeLeave          = "leave"
	TypeRoleSwitch     = "role_switch"
	TypeVideoStart     = "video_start"
	TypeVideoStop      = "video_stop"
	TypeAudioStart     = "audio_start"
	TypeAudioStop      = "audio_stop"
	TypeSubstreamStart = "substream_start"
	TypeSubstreamStop  = "substream_stop"
)

// RoomKey is the room key text of the contract, for building events.
func RoomKey(app, num uint64, str string) string {
	if str != "" {
		return strconv.FormatUint(app, 10) + ":s:" + str
	}
	return strconv.FormatUint(app, 10) + ":n:" + strconv.FormatUint(num, 10)
}

// Package callbacks delivers TRTC event callbacks (webhooks) to each app's
// receiver: the cloud's body and Sign, at least once, per room in order,
// from a durable outbox (SQLite on one node, Redis in a cluster). docs/callbacks.md
// describes the format, the policy and the operator commands.
package callbacks

import (
	"strconv"

	"github.com/trtcd/trtcd/internal/eventlog"
)

// Event is one room event as the log's callbacks group hands it over
// (eventlog.Event.Record). Exactly one of RoomNum and RoomStr is set. (Room,
// Seq, Type) identifies an event; TimeMs tells apart a sequence restarted
// after a Redis restart.
type Event = eventlog.Record

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

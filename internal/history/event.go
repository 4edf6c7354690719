// Package history keeps the record of room sessions and member sessions that
// the data-monitoring actions (DescribeRoomInfo, DescribeUserInfo,
// DescribeUserEvent, DescribeScaleInfo) answer from. It is a reader of the
// room-event log (consumer group "history"): Apply writes each event once,
// idempotently, into SQLite (one node) or PostgreSQL (many nodes).
package history

import (
	"errors"
	"fmt"
	"github.com/trtcd/trtcd/internal/eventlog"
	"strconv"
)

// Event is one committed room change as the event log's history group
// hands it over (eventlog.Event.Record).
type Event = eventlog.Record

// The event types the store understands.
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

// Leave reasons, and the reasons a room closes.
const (
	ReasonLeft      = "left"
	ReasonRemoved   = "removed"
	ReasonDismissed = "dismissed"
	ReasonDuplicate = "duplicate"
	ReasonTimeout   = "timeout"
	ReasonEmpty     = "empty"
)

// ErrBadEvent marks an event that can never be stored (no app, room, time or
// type). The consumer should log and acknowledge it rather than retry.
var ErrBadEvent = errors.New("history: malformed event")

func check(e *Event) error {
	switch {
	case e.App == 0:
		return fmt.Errorf("%w: App is 0", ErrBadEvent)
	case e.Room == "":
		return fmt.Errorf("%w: Room is empty", ErrBadEvent)
	case (e.RoomNum == 0) == (e.RoomStr == ""):
		return fmt.Errorf("%w: exactly one of RoomNum and RoomStr must be set", ErrBadEvent)
	case e.TimeMs <= 0:
		return fmt.Errorf("%w: TimeMs is not positive", ErrBadEvent)
	case e.Type == "":
		return fmt.Errorf("%w: Type is empty", ErrBadEvent)
	}
	return nil
}

// roomText is the room as the cloud's RoomString shows it: the decimal
// number of a numeric room, the string of a string room.
func roomText(e *Event) string {
	if e.RoomStr != "" {
		return e.RoomStr
	}
	return strconv.FormatUint(e.RoomNum, 10)
}

// CommID is the identifier of one room session (the cloud's "CommId", one
// call). The cloud's form is SdkAppId_RoomId_CreateTime (seconds); trtcd adds
// the sequence number of the room_opened event, so that two sessions of one
// room opened in the same second differ, and marks string rooms with a
// "_str" suffix, so that numeric room 1234 and string room "1234" differ:
//
//	1400000001_1234_1590065777_17       numeric room 1234
//	1400000001_1234_1590065777_1_str    string room "1234"
//
// It is derived from the room_opened event alone, so a redelivered event
// names the same session.
func CommID(app uint64, roomText string, str bool, createdMs int64, openSeq uint64) string {
	id := fmt.Sprintf("%d_%s_%d_%d", app, roomText, createdMs/1000, openSeq)
	if str {
		id += "_str"
	}
	return id
}

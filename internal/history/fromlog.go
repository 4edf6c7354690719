package history

import "github.com/trtcd/trtcd/internal/eventlog"

// Ext keys of an enter event in the room-event log that history keeps:
// what the client said about itself when it joined.
const (
	ExtClientIP   = "ip"
	ExtDevice     = "device"
	ExtSdkVersion = "sdk"
)

// FromLog is the history view of one room-event log entry: the history
// consumer group hands every entry to Apply through it.
func FromLog(ev eventlog.Event) Event {
	e := Event{
		App: ev.App, Room: ev.Room, Seq: ev.Seq, TimeMs: ev.TimeMs,
		User: ev.User, Role: ev.Role, Reason: ev.Reason, SessionID: ev.Session,
		Type: string(ev.Type),
	}
	if ev.StrRoom {
		e.RoomStr = ev.RoomStr
	} else {
		e.RoomNum = ev.RoomNum
	}
	switch ev.Type {
	case eventlog.TypeRoomOpen:
		e.Type = TypeRoomOpened
	case eventlog.TypeRoomClose:
		e.Type = TypeRoomClosed
		if ev.Reason != eventlog.ReasonDismissed {
			e.Reason = ReasonEmpty // the last member left, for whatever reason
		}
	case eventlog.TypeSubStart:
		e.Type = TypeSubstreamStart
	case eventlog.TypeSubStop:
		e.Type = TypeSubstreamStop
	}
	if ev.Ext != nil {
		e.ClientIP, e.Device, e.SdkVersion = ev.Ext[ExtClientIP], ev.Ext[ExtDevice], ev.Ext[ExtSdkVersion]
	}
	return e
}

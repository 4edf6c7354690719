package rooms

import (
	"context"

	"github.com/trtcd/trtcd/internal/eventlog"
)

// Registry is where membership lives: the only stateful dependency of rooms.
// Each method is one atomic change that also assigns the room's next sequence
// numbers, appends the change's events to the room event log and publishes
// the resulting Event, in order, to the sink set with SetSink: no change
// without its events, no event without its change. The in-memory registry is the single-node default; the Redis one
// serves a cluster. Both pass roomstest.RunRegistrySuite.
type Registry interface {
	// SetSink sets the function that receives this node's events. It is
	// called before any change and must not block or call back into the
	// registry.
	SetSink(func(Event))

	// Enter adds m to the room, creating the room if needed. If the user is
	// already in the room, m replaces the earlier session (a Replaced event).
	// The snapshot lists the anchors after the change.
	Enter(ctx context.Context, room Key, m Member) (Snapshot, error)

	// Leave removes the user if, and only if, its current session is
	// sessionID; otherwise it does nothing (the session was replaced).
	Leave(ctx context.Context, room Key, userID, sessionID string, reason Reason) error

	// Remove removes those of userIDs that are present, with reason removed.
	// It fails with ErrRoomNotFound when the room has no members.
	Remove(ctx context.Context, room Key, userIDs []string) error

	// Dismiss removes everyone; ErrRoomNotFound when the room is empty.
	Dismiss(ctx context.Context, room Key) error

	// SwitchRole gives the user the role, if, and only if, its current
	// session is sessionID (else ErrNotMember; ErrRoomNotFound when the room
	// is empty; ErrSameRole when it has that role already). It returns the
	// sequence number of the change.
	SwitchRole(ctx context.Context, room Key, userID, sessionID string, role Role) (uint64, error)

	// LogMedia records that the room's member userID started or stopped
	// publishing (typ one of the media types of MediaTypes) as one log event
	// with the room's next sequence number, the member's role and session and
	// the commit time, and returns that number. Only the log hears of it:
	// nothing is published to the sessions. ErrNotMember, and nothing is
	// appended, when the user is not a member of the room now (also when the
	// room is empty); ErrNotMediaType for any other type.
	LogMedia(ctx context.Context, room Key, userID string, typ eventlog.Type) (uint64, error)

	// Members lists the room's members (anchors and audience); nil if empty.
	Members(ctx context.Context, room Key) ([]Member, error)

	// Watch and Unwatch tell the registry which rooms this node holds
	// sessions in, so that a shared registry delivers their events here.
	Watch(ctx context.Context, room Key) error
	Unwatch(ctx context.Context, room Key) error

	Close() error
}

// Snapshot is a room's state right after an Enter.
type Snapshot struct {
	Seq     uint64
	Anchors []Member
}

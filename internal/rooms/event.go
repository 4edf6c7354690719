package rooms

import (
	"errors"
	"time"
)

// Role of a member. Audience members keep a room alive and are subject to
// RemoveUser and DismissRoom, but their own entering and leaving is not
// announced and they are not listed to others (TRTC's live scene).
type Role uint8

const (
	Anchor Role = iota
	Audience
)

func (r Role) String() string {
	if r == Audience {
		return "audience"
	}
	return "anchor"
}

// ParseRole reads "anchor" (also the default for "") or "audience".
func ParseRole(s string) (Role, bool) {
	switch s {
	case "", "anchor":
		return Anchor, true
	case "audience":
		return Audience, true
	}
	return Anchor, false
}

// Reason says why a member left a room.
type Reason string

const (
	ReasonLeft      Reason = "left"      // the client left (or the node drained)
	ReasonRemoved   Reason = "removed"   // RemoveUser
	ReasonTimeout   Reason = "timeout"   // heartbeats stopped, the client was too slow, or its node died
	ReasonDismissed Reason = "dismissed" // DismissRoom
	ReasonDuplicate Reason = "duplicate" // the same UserId entered again elsewhere
)

// Member is one user's presence in a room, held by one session on one node.
type Member struct {
	UserID    string
	Role      Role
	SessionID string
	NodeID    string
	JoinedAt  time.Time
}

// EventKind is what changed in a room.
type EventKind uint8

const (
	Entered   EventKind = iota + 1 // Member entered
	Replaced                       // Member entered again; Old's session is kicked (duplicate)
	Exited                         // Member left for Reason
	Dismissed                      // every member in Members was removed; the room is gone
)

// Event is one membership change. Every change to a room gets the next
// sequence number of that room, so all observers see the same order. Events
// carry enough (time, role, reason, session) to feed callbacks and history.
type Event struct {
	Room    Key
	Seq     uint64
	Kind    EventKind
	Member  Member
	Old     *Member // Replaced: the earlier session
	Reason  Reason
	Members []Member // Dismissed: everyone who was in the room
	Time    time.Time
}

// Domain errors; the transports map them to their own codes.
var (
	ErrRoomNotFound = errors.New("rooms: the room does not exist")
	ErrUnavailable  = errors.New("rooms: the registry is unavailable")
	ErrDraining     = errors.New("rooms: this node is shutting down")
)

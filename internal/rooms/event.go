package rooms

import (
	"errors"
	"time"

	"github.com/trtcd/trtcd/internal/eventlog"
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
	// ReasonRoleSwitch is not a leave: it is what the others are told
	// (user_left) when an anchor becomes audience, and so leaves their view.
	ReasonRoleSwitch Reason = "role_switch"
)

// Member is one user's presence in a room, held by one session on one node.
type Member struct {
	UserID    string
	Role      Role
	SessionID string
	NodeID    string
	JoinedAt  time.Time
	Client    Client // what the client said about itself at its join
}

// Client describes a member's client: its address and, if the client said,
// its device and SDK version. It travels in the member's enter event
// (eventlog.ExtClientIP, ExtDevice, ExtSdkVersion) to history and callbacks;
// empty fields are unknown.
type Client struct {
	IP         string
	Device     string
	SdkVersion string
}

// ext is the client as the Ext of an enter event; nil when nothing is known.
func (c Client) ext() map[string]string {
	if c == (Client{}) {
		return nil
	}
	x := make(map[string]string, 3)
	put := func(k, v string) {
		if v != "" {
			x[k] = v
		}
	}
	put(eventlog.ExtClientIP, c.IP)
	put(eventlog.ExtDevice, c.Device)
	put(eventlog.ExtSdkVersion, c.SdkVersion)
	return x
}

// EventKind is what changed in a room.
type EventKind uint8

const (
	Entered     EventKind = iota + 1 // Member entered
	Replaced                         // Member entered again; Old's session is kicked (duplicate)
	Exited                           // Member left for Reason
	Dismissed                        // every member in Members was removed; the room is gone
	RoleChanged                      // Member's role is now Member.Role; Old is the member before
)

// Event is one membership change as this node's sessions see it. A change
// appends one or more events to the room event log (internal/eventlog), each
// with its own sequence number of the room (docs/eventlog.md has the
// mapping); Seq is the last of them, so all observers see the same order and
// a join snapshot's Seq covers every event of the changes before it.
type Event struct {
	Room    Key
	Seq     uint64
	Kind    EventKind
	Member  Member
	Old     *Member // Replaced: the earlier session; RoleChanged: the member before
	Reason  Reason
	Members []Member // Dismissed: everyone who was in the room
	Time    time.Time
}

// Domain errors; the transports map them to their own codes.
var (
	ErrRoomNotFound = errors.New("rooms: the room does not exist")
	ErrUnavailable  = errors.New("rooms: the registry is unavailable")
	ErrDraining     = errors.New("rooms: this node is shutting down")
	ErrNotMember    = errors.New("rooms: the session is not a member of the room")
	ErrSameRole     = errors.New("rooms: the member already has that role")
	ErrNotMediaType = errors.New("rooms: not a media event type")
)

// MediaTypes are the event types LogMedia records (TRTC's 201-206).
var MediaTypes = []eventlog.Type{
	eventlog.TypeVideoStart, eventlog.TypeVideoStop,
	eventlog.TypeAudioStart, eventlog.TypeAudioStop,
	eventlog.TypeSubStart, eventlog.TypeSubStop,
}

// IsMediaType says whether typ is one of MediaTypes.
func IsMediaType(typ eventlog.Type) bool {
	for _, t := range MediaTypes {
		if t == typ {
			return true
		}
	}
	return false
}

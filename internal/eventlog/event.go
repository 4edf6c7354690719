// Package eventlog is the room event log: every committed room change is one
// Event, appended in the same atomic step as the change, and read by named
// consumer groups (callbacks, history, ...) that each see every event once
// among the nodes running them, in room order, at least once.
//
// Two implementations share one contract (eventlogtest.Run): Memory for a
// single node and Redis (Redis Streams, sharded) for a cluster. The package
// does not import internal/rooms: rooms builds Events, dependencies point
// one way. docs/eventlog.md describes the design and its policies.
package eventlog

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Type is what happened. The log carries any type: new ones (media) need no
// change to the log, only producers and readers that know them.
type Type string

const (
	TypeEnter      Type = "enter"       // User entered the room with Role
	TypeLeave      Type = "leave"       // User left for Reason
	TypeRoomOpen   Type = "room_open"   // the first member (User) entered: the room exists
	TypeRoomClose  Type = "room_close"  // the last member left or the room was dismissed (Reason)
	TypeRoleSwitch Type = "role_switch" // User's role is now Role

	// Reserved for the media plane; no producer yet. Ext["stream"] names
	// the stream ("main", "sub") where it matters.
	TypeAudioStart Type = "audio_start"
	TypeAudioStop  Type = "audio_stop"
	TypeVideoStart Type = "video_start"
	TypeVideoStop  Type = "video_stop"
	TypeSubStart   Type = "substream_start"
	TypeSubStop    Type = "substream_stop"
)

// Reasons for TypeLeave and TypeRoomClose (the same words as rooms.Reason).
const (
	ReasonLeft      = "left"
	ReasonRemoved   = "removed"
	ReasonDismissed = "dismissed"
	ReasonDuplicate = "duplicate"
	ReasonTimeout   = "timeout"
)

// Roles (the same words as rooms.Role.String).
const (
	RoleAnchor   = "anchor"
	RoleAudience = "audience"
)

// Limits that Validate and the decoder enforce.
const (
	MaxExt       = 16  // extension fields per event
	MaxFieldLen  = 256 // bytes of any text field but the room
	MaxRoomLen   = 96  // bytes of the room key string
	MaxExtKeyLen = 32  // bytes of an extension field's name: [a-z0-9_]
)

// Event is one committed room change.
type Event struct {
	App     uint64 // SdkAppId
	Room    string // the room key, rooms.Key.String(): "1400000001:n:1234" or "1400000001:s:<room>"
	StrRoom bool   // a string room (RoomStr), else a numeric one (RoomNum)
	RoomNum uint64 // numeric RoomId (callbacks send it as a number)
	RoomStr string // string RoomId
	Seq     uint64 // the room's sequence number: increasing per room
	TimeMs  int64  // commit time, Unix milliseconds (Redis's clock in a cluster)
	Type    Type
	User    string // UserId, "" when the type has none
	Role    string // RoleAnchor or RoleAudience, "" when the type has none
	Reason  string // why (leave, room_close), "" otherwise
	Session string // the member's session id, "" when the type has none

	// Ext holds extra typed fields, names of [a-z0-9_]: those of newer
	// event types (media), and an enter's client details (ExtClientIP,
	// ExtDevice, ExtSdkVersion, each only when known); nil otherwise.
	Ext map[string]string
}

// ErrInvalid is wrapped by every validation and decoding error; the message
// names the field.
var ErrInvalid = errors.New("eventlog: invalid event")

func invalid(field, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrInvalid, field, fmt.Sprintf(format, args...))
}

// SetRoom fills App, Room, StrRoom, RoomNum and RoomStr consistently from a
// room's parts: a string room when str != "", else numeric room num.
func (e *Event) SetRoom(app, num uint64, str string) {
	e.App, e.RoomNum, e.RoomStr, e.StrRoom = app, num, str, str != ""
	if e.StrRoom {
		e.RoomNum = 0
		e.Room = strconv.FormatUint(app, 10) + ":s:" + str
	} else {
		e.Room = strconv.FormatUint(app, 10) + ":n:" + strconv.FormatUint(num, 10)
	}
}

// ParseRoom reads a room key string ("<app>:n:<num>" or "<app>:s:<str>").
func ParseRoom(key string) (app, num uint64, str string, err error) {
	if key == "" {
		return 0, 0, "", invalid("room", "missing")
	}
	if len(key) > MaxRoomLen {
		return 0, 0, "", invalid("room", "longer than %d bytes", MaxRoomLen)
	}
	a, rest, ok := strings.Cut(key, ":")
	if !ok || len(rest) < 3 || rest[1] != ':' {
		return 0, 0, "", invalid("room", "%q is not <app>:n:<num> or <app>:s:<str>", key)
	}
	app, err = strconv.ParseUint(a, 10, 64)
	if err != nil || a[0] == '+' || (len(a) > 1 && a[0] == '0') {
		return 0, 0, "", invalid("room", "bad app id in %q", key)
	}
	id := rest[2:]
	switch rest[0] {
	case 'n':
		num, err = strconv.ParseUint(id, 10, 64)
		if err != nil || num == 0 || id[0] == '+' || id[0] == '0' {
			return 0, 0, "", invalid("room", "bad room number in %q", key)
		}
		return app, num, "", nil
	case 's':
		return app, 0, id, nil
	}
	return 0, 0, "", invalid("room", "%q is not <app>:n:<num> or <app>:s:<str>", key)
}

// Validate checks what the log relies on: a well-formed room whose parts
// agree with Room, a sequence number, a type, and the size limits.
func (e *Event) Validate() error {
	app, num, str, err := ParseRoom(e.Room)
	if err != nil {
		return err
	}
	if app != e.App || num != e.RoomNum || str != e.RoomStr || e.StrRoom != (str != "") {
		return invalid("room", "%q disagrees with app/room fields", e.Room)
	}
	if e.Seq == 0 {
		return invalid("seq", "missing")
	}
	if e.Type == "" {
		return invalid("type", "missing")
	}
	for _, f := range [...]struct{ name, v string }{{"type", string(e.Type)}, {"user", e.User}, {"role", e.Role}, {"reason", e.Reason}, {"session", e.Session}} {
		if len(f.v) > MaxFieldLen {
			return invalid(f.name, "longer than %d bytes", MaxFieldLen)
		}
	}
	if len(e.Ext) > MaxExt {
		return invalid("ext", "more than %d fields", MaxExt)
	}
	for k, v := range e.Ext {
		if !validExtKey(k) {
			return invalid("ext", "bad field name %q", k)
		}
		if len(v) > MaxFieldLen {
			return invalid("ext."+k, "longer than %d bytes", MaxFieldLen)
		}
	}
	return nil
}

func validExtKey(k string) bool {
	if k == "" || len(k) > MaxExtKeyLen {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

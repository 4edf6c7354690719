// Package protocol is trtcd's client protocol on the wire: the frames a
// client sends, the messages the server answers with, their JSON, and the
// error and close codes. The server (trtcd's signalling) and the Go client
// (package client) are both built on these types, so they cannot drift
// apart. docs/protocol.md describes the protocol in prose.
//
// Every message is one JSON object in a WebSocket text frame at Path. A
// client sends ClientFrame values (join, ping, leave, switch_role); the
// server sends ServerMessage values (joined, room events, role_switched,
// pong, error).
package protocol

import (
	"encoding/json"
	"strconv"
)

// Path is where clients connect (ws:// or wss://).
const Path = "/v1/ws"

// DefaultMaxFrame is the largest client frame a server accepts, in bytes,
// unless configured otherwise; a larger one is refused with FrameTooLarge.
const DefaultMaxFrame = 4096

// Frame types a client sends.
const (
	TypeJoin       = "join"
	TypePing       = "ping"
	TypeLeave      = "leave"
	TypeSwitchRole = "switch_role" // after joining: become Role ("anchor" or "audience")
)

// Message types the server sends.
const (
	TypeJoined       = "joined"        // the answer to a join: the session and the members
	TypeUserEntered  = "user_entered"  // an anchor entered
	TypeUserLeft     = "user_left"     // an anchor left; Reason says how
	TypeKicked       = "kicked"        // this client is out of the room; Reason says why
	TypeRoleSwitched = "role_switched" // the answer to switch_role: this client's Role is now that, from Seq on
	TypePong         = "pong"          // the answer to a ping
	TypeError        = "error"         // a refused join or a bad frame; the connection closes next
	TypeUserBlocked  = "user_blocked"  // SetUserBlocked: userId's audio and video are blocked or not
)

// Roles in a room; a join without one is an anchor.
const (
	RoleAnchor   = "anchor"
	RoleAudience = "audience"
)

// Reasons of user_left and kicked.
const (
	ReasonLeft      = "left"      // it left, or its node shut down
	ReasonRemoved   = "removed"   // RemoveUser
	ReasonDismissed = "dismissed" // DismissRoom
	ReasonDuplicate = "duplicate" // the same userId entered again elsewhere (kicked only)
	ReasonTimeout   = "timeout"   // heartbeats stopped, the connection dropped, or too slow to read
	// ReasonRoleSwitch (user_left only): the anchor became audience, so it
	// left the others' view; it is still in the room.
	ReasonRoleSwitch = "role_switch"
)

// The heartbeat frames, as sent on the wire.
const (
	PingFrame = `{"type":"ping"}`
	PongFrame = `{"type":"pong"}`
)

// ClientFrame is any frame a client sends. SdkAppID and RoomID are kept as
// the JSON text that was sent, so that a server can refuse a quoted or
// fractional number with the field's own error code (see PositiveInt); a
// client sets them with Number. Unknown fields are ignored, so that newer
// clients can talk to older servers; empty fields are not sent.
type ClientFrame struct {
	Type          string          `json:"type"`
	SdkAppID      json.RawMessage `json:"sdkAppId,omitempty"`
	UserID        string          `json:"userId,omitempty"`
	UserSig       string          `json:"userSig,omitempty"`
	PrivateMapKey string          `json:"privateMapKey,omitempty"`
	RoomID        json.RawMessage `json:"roomId,omitempty"`
	StrRoomID     *string         `json:"strRoomId,omitempty"`
	Role          string          `json:"role,omitempty"`
	// Device and SdkVersion (join, optional) describe the client, as the
	// TRTC SDKs report them (e.g. "Android 14; Pixel 8", "11.8.0"): kept in
	// the room's history and sent in the enter-room callback. At most
	// MaxClientInfoLen bytes without control characters each.
	Device     string `json:"device,omitempty"`
	SdkVersion string `json:"sdkVersion,omitempty"`
}

// MaxClientInfoLen is the longest device or sdkVersion a join may carry, in
// bytes; a longer one is refused with InvalidFrame.
const MaxClientInfoLen = 128

// Member is a room member as listed in a joined message.
type Member struct {
	UserID string `json:"userId"`
	Role   string `json:"role"`
}

// ServerMessage is every message the server sends; fields a type does not
// use are empty and not sent. Members is sent (possibly as []) exactly when
// it is not nil, that is in joined messages.
type ServerMessage struct {
	Type      string   `json:"type"`
	Seq       uint64   `json:"seq,omitempty"` // strictly increasing within a room
	RoomID    uint64   `json:"roomId,omitempty"`
	StrRoomID string   `json:"strRoomId,omitempty"`
	SessionID string   `json:"sessionId,omitempty"`
	UserID    string   `json:"userId,omitempty"`
	Role      string   `json:"role,omitempty"`
	Reason    string   `json:"reason,omitempty"`
	Members   []Member `json:"members,omitzero"`
	Ts        int64    `json:"ts,omitempty"` // Unix milliseconds
	Code      string   `json:"code,omitempty"`
	Message   string   `json:"message,omitempty"`
	TRTCCode  int      `json:"trtcCode,omitempty"`
	Audio     *bool    `json:"audio,omitempty"` // user_blocked: whether userId's audio is blocked
	Video     *bool    `json:"video,omitempty"` // user_blocked: whether userId's video (and screen share) is blocked
}

// AsError is an error message's content; nil for other types.
func (m ServerMessage) AsError() *Error {
	if m.Type != TypeError {
		return nil
	}
	return &Error{Code: m.Code, Message: m.Message, Reason: m.Reason, TRTCCode: m.TRTCCode}
}

// Number is n as a JSON number, for ClientFrame.SdkAppID and RoomID.
func Number(n uint64) json.RawMessage { return json.RawMessage(strconv.AppendUint(nil, n, 10)) }

package signal

import (
	"bytes"
	"encoding/json"
	"strconv"

	"github.com/trtcd/trtcd/internal/rooms"
)

// clientFrame is any frame a client sends. Unknown fields are ignored so that
// newer clients can talk to older servers.
type clientFrame struct {
	Type          string          `json:"type"`
	SdkAppID      json.RawMessage `json:"sdkAppId"`
	UserID        string          `json:"userId"`
	UserSig       string          `json:"userSig"`
	PrivateMapKey string          `json:"privateMapKey"`
	RoomID        json.RawMessage `json:"roomId"`
	StrRoomID     *string         `json:"strRoomId"`
	Role          string          `json:"role"`
}

// Frame types a client may send.
const (
	TypeJoin  = "join"
	TypePing  = "ping"
	TypeLeave = "leave"
)

// decodeFrame parses one client frame; it never panics.
func decodeFrame(b []byte) (clientFrame, *protoError) {
	var f clientFrame
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '{' {
		return f, perr(CodeInvalidFrame, "a frame must be one JSON object")
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return f, perr(CodeInvalidFrame, "malformed frame: %v", err)
	}
	switch f.Type {
	case TypeJoin, TypePing, TypeLeave:
		return f, nil
	case "":
		return f, perr(CodeInvalidFrame, "the frame has no type")
	}
	return f, perr(CodeUnknownType, "unknown frame type %q", f.Type)
}

// joinRequest is a join frame that passed the format checks.
type joinRequest struct {
	room          rooms.Key
	userID        string
	role          rooms.Role
	userSig       string
	privateMapKey string
}

// parseJoin checks a join frame's fields, in the order sdkAppId, userId,
// room, role. Credentials are checked by the server afterwards.
func parseJoin(f clientFrame) (joinRequest, *protoError) {
	var j joinRequest
	app, ok := positiveInt(f.SdkAppID)
	if !ok || app > 1<<32-1 {
		return j, perr(CodeInvalidSdkAppID, "sdkAppId must be a positive integer")
	}
	if !rooms.ValidUserID(f.UserID) {
		return j, perr(CodeInvalidUserID, "userId must be 1-32 characters of A-Z a-z 0-9 _ -")
	}
	switch {
	case f.RoomID != nil && f.StrRoomID != nil:
		return j, perr(CodeInvalidRoomID, "give roomId or strRoomId, not both")
	case f.StrRoomID != nil:
		if !rooms.ValidStrRoom(*f.StrRoomID) {
			return j, perr(CodeInvalidRoomID, "strRoomId must be 1-64 bytes of letters, digits, space and !#$%%&()+-:;<=.>?@[]^_{}|~,")
		}
		j.room = rooms.StrRoom(app, *f.StrRoomID)
	case f.RoomID != nil:
		n, ok := positiveInt(f.RoomID)
		if !ok || !rooms.ValidRoomNum(n) {
			return j, perr(CodeInvalidRoomID, "roomId must be an integer from 1 to 4294967294")
		}
		j.room = rooms.NumRoom(app, n)
	default:
		return j, perr(CodeInvalidRoomID, "roomId or strRoomId is required")
	}
	role, ok := rooms.ParseRole(f.Role)
	if !ok {
		return j, perr(CodeInvalidRole, "role must be anchor or audience")
	}
	j.userID, j.role, j.userSig, j.privateMapKey = f.UserID, role, f.UserSig, f.PrivateMapKey
	return j, nil
}

// positiveInt reads a JSON number made of digits only.
func positiveInt(raw json.RawMessage) (uint64, bool) {
	s := string(bytes.TrimSpace(raw))
	if s == "" || s[0] < '0' || s[0] > '9' {
		return 0, false
	}
	n, err := strconv.ParseUint(s, 10, 64)
	return n, err == nil && n > 0
}

// wireMember is a member as clients see it.
type wireMember struct {
	UserID string `json:"userId"`
	Role   string `json:"role"`
}

// serverMsg is every message the server sends; empty fields are omitted.
type serverMsg struct {
	Type      string        `json:"type"`
	Seq       uint64        `json:"seq,omitempty"`
	RoomID    uint64        `json:"roomId,omitempty"`
	StrRoomID string        `json:"strRoomId,omitempty"`
	SessionID string        `json:"sessionId,omitempty"`
	UserID    string        `json:"userId,omitempty"`
	Role      string        `json:"role,omitempty"`
	Reason    string        `json:"reason,omitempty"`
	Members   *[]wireMember `json:"members,omitempty"`
	Ts        int64         `json:"ts,omitempty"` // Unix milliseconds
	Code      string        `json:"code,omitempty"`
	Message   string        `json:"message,omitempty"`
	TRTCCode  int           `json:"trtcCode,omitempty"`
}

var noticeTypes = map[rooms.NoticeType]string{
	rooms.Joined:      "joined",
	rooms.UserEntered: "user_entered",
	rooms.UserLeft:    "user_left",
	rooms.Kicked:      "kicked",
}

// encodeNotice is the wire form of a notice; the hub shares notices between
// sessions, and Notice.Encoded keeps this result for all of them.
func encodeNotice(n *rooms.Notice) []byte {
	m := serverMsg{Type: noticeTypes[n.Type], Seq: n.Seq, SessionID: n.SessionID, Reason: string(n.Reason), Ts: n.Time.UnixMilli()}
	if n.Room.IsStr() {
		m.StrRoomID = n.Room.Str
	} else {
		m.RoomID = n.Room.Num
	}
	switch n.Type {
	case rooms.Joined:
		ms := make([]wireMember, len(n.Members))
		for i, x := range n.Members {
			ms[i] = wireMember{UserID: x.UserID, Role: x.Role.String()}
		}
		m.Members = &ms
	case rooms.UserEntered, rooms.UserLeft:
		m.UserID, m.Role = n.UserID, n.Role.String()
	}
	b, _ := json.Marshal(m)
	return b
}

func encodeError(e *protoError) []byte {
	b, _ := json.Marshal(serverMsg{Type: "error", Code: e.Code, Message: e.Message, Reason: e.Reason, TRTCCode: e.TRTCCode})
	return b
}

var (
	pongFrame = []byte(`{"type":"pong"}`)
	pingFrame = []byte(`{"type":"ping"}`)
)

// isPing recognises the heartbeat as clients send it.
func isPing(b []byte) bool { return bytes.Equal(bytes.TrimSpace(b), pingFrame) }

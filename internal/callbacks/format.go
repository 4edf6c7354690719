package callbacks

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
)

// TRTC event groups.
const (
	GroupRoom  = 1 // EVENT_GROUP_ROOM
	GroupMedia = 2 // EVENT_GROUP_MEDIA
)

// TRTC event types.
const (
	EventCreateRoom  = 101
	EventDismissRoom = 102
	EventEnterRoom   = 103
	EventExitRoom    = 104
	EventChangeRole  = 105
	EventStartVideo  = 201
	EventStopVideo   = 202
	EventStartAudio  = 203
	EventStopAudio   = 204
	EventStartAssist = 205 // the cloud's EVENT_TYPE_START_ASSIT: substream
	EventStopAssist  = 206
)

// eventTypes maps the room-event log's types to TRTC EventTypes. Every other
// type has no callback and is skipped.
var eventTypes = map[string]int{
	TypeRoomOpened: EventCreateRoom, TypeRoomClosed: EventDismissRoom,
	TypeEnter: EventEnterRoom, TypeLeave: EventExitRoom, TypeRoleSwitch: EventChangeRole,
	TypeVideoStart: EventStartVideo, TypeVideoStop: EventStopVideo,
	TypeAudioStart: EventStartAudio, TypeAudioStop: EventStopAudio,
	TypeSubstreamStart: EventStartAssist, TypeSubstreamStop: EventStopAssist,
}

// EventType is the TRTC EventType of a log type, 0 when it has none.
func EventType(logType string) int { return eventTypes[logType] }

// GroupOf is the EventGroupId of an EventType (101 → 1, 201 → 2).
func GroupOf(eventType int) int { return eventType / 100 }

// Role numbers on 103, 104 and 105.
const (
	RoleAnchor   = 20 // MEMBER_TRTC_ANCHOR
	RoleAudience = 21 // MEMBER_TRTC_VIEWER
)

// Reasons on 103 (enter) and 104 (exit).
const (
	EnterNormal  = 1
	ExitNormal   = 1
	ExitTimeout  = 2
	ExitRemoved  = 3
	TerminalWin  = 1
	TerminalAnd  = 2
	TerminalIOS  = 3
	TerminalLin  = 4
	TerminalElse = 100
	UserWebRTC   = 1
	UserMiniProg = 2
	UserNative   = 3
)

// exitReasons: a dismissal and a duplicate login are both the server ending
// that session, like a removal: 3. Anything unknown is a normal exit.
var exitReasons = map[string]int{
	"left": ExitNormal, "timeout": ExitTimeout, "removed": ExitRemoved,
	"dismissed": ExitRemoved, "duplicate": ExitRemoved,
}

// ExitReason is the 104 Reason for a leave reason of the log.
func ExitReason(reason string) int {
	if r, ok := exitReasons[reason]; ok {
		return r
	}
	return ExitNormal
}

func roleNumber(role string) int {
	switch role {
	case "anchor":
		return RoleAnchor
	case "audience":
		return RoleAudience
	}
	return 0 // unknown: Role is left out
}

// TerminalType reads a client's device description.
func TerminalType(device string) int {
	d := strings.ToLower(device)
	switch {
	case strings.Contains(d, "android"):
		return TerminalAnd
	case strings.Contains(d, "ios") || strings.Contains(d, "iphone") || strings.Contains(d, "ipad"):
		return TerminalIOS
	case strings.Contains(d, "windows"):
		return TerminalWin
	case strings.Contains(d, "linux"):
		return TerminalLin
	}
	return TerminalElse
}

// UserType: 1 for browsers ("web" in the device or SDK version), 2 for mini
// programs ("miniprogram"), 3 (native SDK) for everything else.
func UserType(device, sdkVersion string) int {
	s := strings.ToLower(device + " " + sdkVersion)
	switch {
	case strings.Contains(s, "miniprogram"):
		return UserMiniProg
	case strings.Contains(s, "web"):
		return UserWebRTC
	}
	return UserNative
}

// eventInfo is EventInfo, fields in the order of the cloud's samples.
type eventInfo struct {
	RoomID       any    `json:"RoomId"` // a number for numeric rooms, a string for string rooms
	EventTs      int64  `json:"EventTs"`
	EventMsTs    int64  `json:"EventMsTs"`
	UserID       string `json:"UserId,omitempty"`
	Role         int    `json:"Role,omitempty"`
	TerminalType int    `json:"TerminalType,omitempty"`
	UserType     int    `json:"UserType,omitempty"`
	Reason       int    `json:"Reason,omitempty"`
}

var (
	errSkip       = errors.New("no callback for this event type")
	errBadEvent   = errors.New("invalid event")
	errNoCallback = errors.New("app has no callback url")
)

// Render is an event's TRTC EventType and EventInfo JSON. It fails with
// errSkip for a log type without a callback, errBadEvent for an event that
// breaks the contract.
func Render(ev Event) (int, []byte, error) {
	typ := eventTypes[ev.Type]
	if typ == 0 {
		return 0, nil, errSkip
	}
	if ev.App == 0 || ev.Room == "" || ev.TimeMs <= 0 || (ev.RoomNum == 0) == (ev.RoomStr == "") {
		return 0, nil, errBadEvent
	}
	info := eventInfo{EventTs: ev.TimeMs / 1000, EventMsTs: ev.TimeMs}
	if ev.RoomStr != "" {
		info.RoomID = ev.RoomStr
	} else {
		info.RoomID = ev.RoomNum
	}
	if typ != EventDismissRoom {
		info.UserID = ev.User
	}
	switch typ {
	case EventEnterRoom:
		info.Role, info.Reason = roleNumber(ev.Role), EnterNormal
		info.TerminalType, info.UserType = TerminalType(ev.Device), UserType(ev.Device, ev.SdkVersion)
	case EventExitRoom:
		info.Role, info.Reason = roleNumber(ev.Role), ExitReason(ev.Reason)
	case EventChangeRole:
		info.Role = roleNumber(ev.Role)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // string rooms may hold < > &: send them as they are
	if err := enc.Encode(info); err != nil {
		return 0, nil, err
	}
	return typ, bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// Body is the exact bytes that are signed and sent.
func Body(eventType int, callbackTsMs int64, info []byte) []byte {
	b := make([]byte, 0, 64+len(info))
	b = append(b, `{"EventGroupId":`...)
	b = strconv.AppendInt(b, int64(GroupOf(eventType)), 10)
	b = append(b, `,"EventType":`...)
	b = strconv.AppendInt(b, int64(eventType), 10)
	b = append(b, `,"CallbackTs":`...)
	b = strconv.AppendInt(b, callbackTsMs, 10)
	b = append(b, `,"EventInfo":`...)
	b = append(b, info...)
	return append(b, '}')
}

// Sign is the Sign header: standard base64 of HMAC-SHA256 over the body
// bytes with the app's callback key.
func Sign(key string, body []byte) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write(body)
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// EventID is the X-Trtcd-Event-Id header: room key, sequence number,
// EventType and event time in ms, separated by "/" (which no room key
// holds). Unique per event, the same on every attempt.
func EventID(room string, seq uint64, eventType int, eventMs int64) string {
	return room + "/" + strconv.FormatUint(seq, 10) + "/" + strconv.Itoa(eventType) + "/" + strconv.FormatInt(eventMs, 10)
}

package protocol

import (
	"bytes"
	"encoding/json"
	"strconv"
	"unicode"
)

// PositiveInt reads a JSON number made of digits only, greater than 0 and
// at most 2^64-1: not a quoted number, a fraction, an exponent or a sign.
// It answers 0, false for anything else.
func PositiveInt(raw json.RawMessage) (uint64, bool) {
	s := string(bytes.TrimSpace(raw))
	if s == "" || s[0] < '0' || s[0] > '9' {
		return 0, false
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n == 0 {
		return 0, false
	}
	return n, true
}

// clientFrame is ClientFrame under the name the decoder's error messages
// have always used ("Go struct field clientFrame.userId"), so that the
// messages sent to clients are unchanged.
type clientFrame ClientFrame

// Decode parses one client frame of at most max bytes (DefaultMaxFrame when
// max <= 0): one JSON object with a known type. It never panics; a refusal
// is an *Error with the code to send (InvalidFrame, FrameTooLarge or
// UnknownType). A join's identity fields are not checked here, only
// its optional device and sdkVersion (checkClientInfo).
func Decode(b []byte, max int) (ClientFrame, *Error) {
	if max <= 0 {
		max = DefaultMaxFrame
	}
	if len(b) > max {
		return ClientFrame{}, FrameTooLarge(max)
	}
	var f clientFrame
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '{' {
		return ClientFrame(f), NewError(CodeInvalidFrame, "a frame must be one JSON object")
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return ClientFrame(f), NewError(CodeInvalidFrame, "malformed frame: %v", err)
	}
	switch f.Type {
	case TypeJoin:
		if e := checkClientInfo("device", f.Device); e != nil {
			return ClientFrame(f), e
		}
		if e := checkClientInfo("sdkVersion", f.SdkVersion); e != nil {
			return ClientFrame(f), e
		}
		return ClientFrame(f), nil
	case TypePing, TypeLeave, TypeSwitchRole:
		return ClientFrame(f), nil
	case "":
		return ClientFrame(f), NewError(CodeInvalidFrame, "the frame has no type")
	}
	return ClientFrame(f), NewError(CodeUnknownType, "unknown frame type %q", f.Type)
}

// checkClientInfo refuses a join's device or sdkVersion that is longer than
// MaxClientInfoLen bytes or holds a control character. (The JSON decoder has
// already replaced invalid UTF-8 with U+FFFD.)
func checkClientInfo(field, v string) *Error {
	if len(v) > MaxClientInfoLen {
		return NewError(CodeInvalidFrame, "%s is longer than %d bytes", field, MaxClientInfoLen)
	}
	for _, r := range v {
		if unicode.IsControl(r) {
			return NewError(CodeInvalidFrame, "%s holds a control character", field)
		}
	}
	return nil
}

// FrameTooLarge is the error for a frame over max bytes.
func FrameTooLarge(max int) *Error {
	return NewError(CodeFrameTooLarge, "frames are limited to %d bytes", max)
}

// IsPing recognises the heartbeat as clients send it ({"type":"ping"},
// possibly with surrounding white space), without a JSON decoder.
func IsPing(b []byte) bool { return string(bytes.TrimSpace(b)) == PingFrame }

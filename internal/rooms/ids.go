package rooms

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Identity rules from the TRTC client SDKs (decisions: Rooms and identities).
const (
	MaxRoomNum    = 4294967294
	MaxStrRoomLen = 64
	MaxUserIDLen  = 32
)

// Key names one room of one app. Numeric room 1234 and string room "1234" are
// different rooms: exactly one of Num and Str is set.
type Key struct {
	App uint64
	Num uint64
	Str string
}

func NumRoom(app, num uint64) Key      { return Key{App: app, Num: num} }
func StrRoom(app uint64, s string) Key { return Key{App: app, Str: s} }

func (k Key) IsStr() bool { return k.Str != "" }

// String is a stable, unambiguous text form: "1400000001:n:1234" or
// "1400000001:s:<room>".
func (k Key) String() string {
	if k.IsStr() {
		return strconv.FormatUint(k.App, 10) + ":s:" + k.Str
	}
	return strconv.FormatUint(k.App, 10) + ":n:" + strconv.FormatUint(k.Num, 10)
}

// ValidUserID: 1–32 bytes of A-Z a-z 0-9 _ -.
func ValidUserID(s string) bool {
	if len(s) == 0 || len(s) > MaxUserIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// ValidRoomNum: 1..4294967294.
func ValidRoomNum(n uint64) bool { return n >= 1 && n <= MaxRoomNum }

// strRoomPunct holds the 27 punctuation characters (and space) that a string
// room may use besides letters and digits: 89 characters in all.
const strRoomPunct = " !#$%&()+-:;<=.>?@[]^_{}|~,"

// ValidStrRoom: 1–64 bytes of the 89 allowed characters.
func ValidStrRoom(s string) bool {
	if len(s) == 0 || len(s) > MaxStrRoomLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte(strRoomPunct, c) >= 0) {
			return false
		}
	}
	return true
}

// ErrBadKey is ParseKey's error.
var ErrBadKey = errors.New("rooms: not a room key")

// ParseKey reads Key.String's form back: "<app>:n:<num>" with a valid room
// number or "<app>:s:<room>" with a valid string room. Anything else is
// refused with an error wrapping ErrBadKey.
func ParseKey(s string) (Key, error) {
	parts := strings.SplitN(s, ":", 3)
	if len(parts) != 3 {
		return Key{}, fmt.Errorf("%w: %q", ErrBadKey, s)
	}
	app, err := strconv.ParseUint(parts[0], 10, 64)
	if err != nil || strconv.FormatUint(app, 10) != parts[0] {
		return Key{}, fmt.Errorf("%w: app %q", ErrBadKey, parts[0])
	}
	switch parts[1] {
	case "n":
		n, err := strconv.ParseUint(parts[2], 10, 64)
		if err != nil || !ValidRoomNum(n) || strconv.FormatUint(n, 10) != parts[2] {
			return Key{}, fmt.Errorf("%w: room number %q", ErrBadKey, parts[2])
		}
		return NumRoom(app, n), nil
	case "s":
		if !ValidStrRoom(parts[2]) {
			return Key{}, fmt.Errorf("%w: string room %q", ErrBadKey, parts[2])
		}
		return StrRoom(app, parts[2]), nil
	}
	return Key{}, fmt.Errorf("%w: kind %q", ErrBadKey, parts[1])
}

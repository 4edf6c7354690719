package eventlog

import (
	"strconv"
	"strings"
)

// Stream entry layout (encoding version 1). Every value is text; empty
// fields are left out. The Lua append writes the same layout.
//
//	v   "1"            encoding version (required)
//	n   shard offset   set by the append: 1, 2, ... per shard (Redis only)
//	r   room key       rooms.Key.String() form
//	q   seq            decimal
//	t   time           Unix ms, decimal
//	k   type           "enter", "leave", ...
//	u   user id
//	o   role           "anchor", "audience"
//	w   reason         "left", "removed", ...
//	s   session id
//	x.<name>           one extension field (Ext)
//
// Readers ignore other fields, so a later version may add typed fields.
const (
	EncodingVersion = "1"
	extPrefix       = "x."
)

// Fields is the event as stream field/value pairs, without "v" and "n",
// which the append adds.
func (e Event) Fields() []string {
	f := make([]string, 0, 16+2*len(e.Ext))
	f = append(f, "r", e.Room, "q", strconv.FormatUint(e.Seq, 10), "t", strconv.FormatInt(e.TimeMs, 10), "k", string(e.Type))
	for _, p := range [...][2]string{{"u", e.User}, {"o", e.Role}, {"w", e.Reason}, {"s", e.Session}} {
		if p[1] != "" {
			f = append(f, p[0], p[1])
		}
	}
	for k, v := range e.Ext {
		f = append(f, extPrefix+k, v)
	}
	return f
}

// DecodeFields reads an event from stream field/value pairs (as Fields
// gives them, plus "v"; "n" is ignored). Errors wrap ErrInvalid and name
// the field.
func DecodeFields(kv []string) (Event, error) {
	if len(kv)%2 != 0 {
		return Event{}, invalid("fields", "odd number of field/value items (%d)", len(kv))
	}
	var e Event
	var seen [256]bool
	version := false
	for i := 0; i < len(kv); i += 2 {
		k, v := kv[i], kv[i+1]
		if strings.HasPrefix(k, extPrefix) {
			name := k[len(extPrefix):]
			if !validExtKey(name) {
				return Event{}, invalid("ext", "bad field name %q", name)
			}
			if _, dup := e.Ext[name]; dup {
				return Event{}, invalid("ext."+name, "repeated")
			}
			if len(e.Ext) == MaxExt {
				return Event{}, invalid("ext", "more than %d fields", MaxExt)
			}
			if e.Ext == nil {
				e.Ext = map[string]string{}
			}
			e.Ext[name] = v
			continue
		}
		if len(k) != 1 {
			continue // a later version's field
		}
		if seen[k[0]] {
			return Event{}, invalid(k, "repeated")
		}
		seen[k[0]] = true
		var err error
		switch k {
		case "v":
			if v != EncodingVersion {
				return Event{}, invalid("v", "unknown encoding version %q", v)
			}
			version = true
		case "r":
			e.Room = v
			e.App, e.RoomNum, e.RoomStr, err = ParseRoom(v)
			e.StrRoom = e.RoomStr != ""
		case "q":
			e.Seq, err = parseDecimal("q", v)
		case "t":
			var t uint64
			t, err = parseDecimal("t", v)
			if err == nil && t > 1<<62 {
				err = invalid("t", "out of range")
			}
			e.TimeMs = int64(t)
		case "k":
			e.Type = Type(v)
		case "u":
			e.User = v
		case "o":
			e.Role = v
		case "w":
			e.Reason = v
		case "s":
			e.Session = v
		}
		if err != nil {
			return Event{}, err
		}
	}
	if !version {
		return Event{}, invalid("v", "missing")
	}
	if !seen['t'] {
		return Event{}, invalid("t", "missing")
	}
	if err := e.Validate(); err != nil {
		return Event{}, err
	}
	return e, nil
}

// parseDecimal reads a plain decimal (no sign, no leading zeros).
func parseDecimal(field, v string) (uint64, error) {
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil || v[0] == '+' || (len(v) > 1 && v[0] == '0') {
		return 0, invalid(field, "%q is not a decimal number", v)
	}
	return n, nil
}

package rooms_test

import (
	"errors"
	"testing"

	"github.com/trtcd/trtcd/internal/rooms"
)

func TestParseKey(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want rooms.Key
		ok   bool
	}{
		{"1400000001:n:1234", rooms.NumRoom(1400000001, 1234), true},
		{"1400000001:s:room-1", rooms.StrRoom(1400000001, "room-1"), true},
		{"1400000001:s:a:b c", rooms.StrRoom(1400000001, "a:b c"), true},
		{"1400000001:n:4294967294", rooms.NumRoom(1400000001, 4294967294), true},
		{"1400000001:n:0", rooms.Key{}, false},
		{"1400000001:n:4294967295", rooms.Key{}, false},
		{"1400000001:n:01", rooms.Key{}, false},
		{"1400000001:n:+1", rooms.Key{}, false},
		{"1400000001:n:", rooms.Key{}, false},
		{"1400000001:s:", rooms.Key{}, false},
		{"1400000001:s:bad\"quote", rooms.Key{}, false},
		{"1400000001:x:1", rooms.Key{}, false},
		{"01400000001:n:1", rooms.Key{}, false},
		{"x:n:1", rooms.Key{}, false},
		{"1400000001:n", rooms.Key{}, false},
		{"", rooms.Key{}, false},
	} {
		got, err := rooms.ParseKey(tc.in)
		if tc.ok && (err != nil || got != tc.want) {
			t.Errorf("ParseKey(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
		if !tc.ok && (err == nil || !errors.Is(err, rooms.ErrBadKey) || got != (rooms.Key{})) {
			t.Errorf("ParseKey(%q) = %+v, %v; want ErrBadKey", tc.in, got, err)
		}
	}
}

// FuzzParseKey: never panics, and whatever it accepts prints back to itself.
func FuzzParseKey(f *testing.F) {
	for _, s := range []string{"1400000001:n:1234", "1400000001:s:room-1", "1:s:a:b", "1:n:0", "::", "1:x:1", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k, err := rooms.ParseKey(s)
		if err != nil {
			if !errors.Is(err, rooms.ErrBadKey) {
				t.Fatalf("ParseKey(%q): error %v does not wrap ErrBadKey", s, err)
			}
			return
		}
		if k.String() != s {
			t.Fatalf("ParseKey(%q) = %+v, which prints as %q", s, k, k.String())
		}
	})
}

package eventlog_test

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/trtcd/trtcd/internal/eventlog"
)

func sample() eventlog.Event {
	e := eventlog.Event{Seq: 1732630000000001, TimeMs: 1732630000123, Type: eventlog.TypeLeave, User: "alice",
		Role: eventlog.RoleAudience, Reason: eventlog.ReasonRemoved, Session: "7f3a", Ext: map[string]string{"stream": "sub"}}
	e.SetRoom(1400000001, 0, "room: a{b}")
	return e
}

func withVersion(f []string) []string { return append([]string{"v", eventlog.EncodingVersion}, f...) }

func TestEncodingRoundTrip(t *testing.T) {
	for _, e := range []eventlog.Event{sample(), func() eventlog.Event {
		e := eventlog.Event{Seq: 1, Type: eventlog.TypeRoomOpen, User: "u"}
		e.SetRoom(1400000001, 4294967294, "")
		return e
	}()} {
		got, err := eventlog.DecodeFields(withVersion(e.Fields()))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, e) {
			t.Fatalf("round trip: %+v, want %+v", got, e)
		}
	}
	num := eventlog.Event{}
	num.SetRoom(7, 1234, "")
	if num.Room != "7:n:1234" || num.StrRoom || num.RoomNum != 1234 {
		t.Fatalf("numeric room %+v", num)
	}
}

// Bad input: a clear error that names the field.
func TestDecodeRejects(t *testing.T) {
	good := withVersion(sample().Fields())
	set := func(k, v string) []string {
		out := append([]string(nil), good...)
		for i := 0; i < len(out); i += 2 {
			if out[i] == k {
				out[i+1] = v
				return out
			}
		}
		return append(out, k, v)
	}
	drop := func(k string) []string {
		var out []string
		for i := 0; i < len(good); i += 2 {
			if good[i] != k {
				out = append(out, good[i], good[i+1])
			}
		}
		return out
	}
	cases := map[string][]string{
		"fields": good[:3],
		"v":      set("v", "2"),
		"room":   set("r", "1400000001:x:1"),
		"q":      set("q", "-1"),
		"t":      set("t", "01"),
		"type":   drop("k"),
		"seq":    drop("q"),
		"user":   set("u", strings.Repeat("a", eventlog.MaxFieldLen+1)),
		"ext":    set("x.Bad", "1"),
	}
	cases["q "] = set("q", "18446744073709551616")
	cases["room "] = set("r", "1400000001:n:0")
	cases["v "] = drop("v")
	cases["t "] = drop("t")
	for field, kv := range cases {
		_, err := eventlog.DecodeFields(kv)
		if !errors.Is(err, eventlog.ErrInvalid) || !strings.Contains(err.Error(), strings.TrimSpace(field)) {
			t.Errorf("%s: %v, want ErrInvalid naming %q", field, err, strings.TrimSpace(field))
		}
	}
	// Fields of a later version are ignored.
	if _, err := eventlog.DecodeFields(append(good, "zz", "later")); err != nil {
		t.Fatalf("unknown field: %v", err)
	}
}

func TestValidateRoomAgreement(t *testing.T) {
	e := sample()
	e.App++
	if err := e.Validate(); !errors.Is(err, eventlog.ErrInvalid) || !strings.Contains(err.Error(), "room") {
		t.Fatalf("got %v", err)
	}
}

// The shard function is part of the data layout: pin a few values.
func TestShardIsStable(t *testing.T) {
	got := fmt.Sprint(eventlog.Shard("1400000001:n:1234"), eventlog.Shard("1400000001:s:abc"), eventlog.Shard(""))
	if got != fmt.Sprint(shardPins...) {
		t.Fatalf("Shard changed: %s (rooms would move between streams)", got)
	}
	if k := eventlog.StreamKey(7); k != "trtcd:{ev:07}:stream" || eventlog.HashTag(63) != "{ev:63}" {
		t.Fatalf("keys %q %q", k, eventlog.HashTag(63))
	}
	seen := map[int]bool{}
	for i := 0; i < 10000; i++ {
		s := eventlog.Shard(fmt.Sprintf("1400000001:n:%d", i))
		if s < 0 || s >= eventlog.Shards {
			t.Fatalf("shard %d", s)
		}
		seen[s] = true
	}
	if len(seen) != eventlog.Shards {
		t.Fatalf("10 000 rooms use %d of %d shards", len(seen), eventlog.Shards)
	}
}

var shardPins = []any{7, 58, 5}

func FuzzDecodeFields(f *testing.F) {
	f.Add(strings.Join(withVersion(sample().Fields()), "\x00"))
	f.Add("v\x001\x00r\x001:n:1\x00q\x001\x00t\x000\x00k\x00enter")
	f.Add("v\x001\x00r\x001:s:\x00q\x001\x00t\x000\x00k\x00enter\x00x.a\x00b\x00x.a\x00c")
	f.Add("v\x001\x00n\x0012\x00r\x0099999999999999999999:n:1\x00q\x00+1\x00t\x00-5\x00k\x00")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		kv := strings.Split(s, "\x00")
		e, err := eventlog.DecodeFields(kv)
		if err != nil {
			if !errors.Is(err, eventlog.ErrInvalid) {
				t.Fatalf("error not ErrInvalid: %v", err)
			}
			return
		}
		if err := e.Validate(); err != nil {
			t.Fatalf("decoded an invalid event: %v", err)
		}
		again, err := eventlog.DecodeFields(withVersion(e.Fields()))
		if err != nil || !reflect.DeepEqual(again, e) {
			t.Fatalf("re-encoding changed %+v into %+v (%v)", e, again, err)
		}
	})
}

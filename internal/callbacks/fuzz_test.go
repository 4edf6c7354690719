package callbacks

import (
	"encoding/json"
	"testing"
	"unicode/utf8"
)

// FuzzRender: any event renders to a body that is valid JSON with the
// cloud's fields and types, or is refused; it never panics.
func FuzzRender(f *testing.F) {
	f.Add(uint64(1400000001), uint64(1234), "", uint64(1), int64(1700000000100), "enter", "alice", "anchor", "", "Android", "web")
	f.Add(uint64(1400000001), uint64(0), "room <&>\"\\\x00", uint64(7), int64(1), "leave", "u\u2028", "audience", "duplicate", "", "")
	f.Add(uint64(1), uint64(0), "s", uint64(0), int64(-5), "room_closed", "", "", "dismissed", "", "")
	f.Add(uint64(1), uint64(5), "", uint64(3), int64(9), "video_start", "x", "", "", "", "")
	f.Fuzz(func(t *testing.T, app, num uint64, str string, seq uint64, ms int64, typ, user, role, reason, device, sdk string) {
		ev := Event{App: app, Room: RoomKey(app, num, str), RoomNum: num, RoomStr: str, Seq: seq, TimeMs: ms,
			Type: typ, User: user, Role: role, Reason: reason, Device: device, SdkVersion: sdk}
		etype, info, err := Render(ev)
		if err != nil {
			return
		}
		body := Body(etype, 1700000000999, info)
		var got struct {
			EventGroupId, EventType int
			CallbackTs              int64
			EventInfo               struct {
				RoomId    any
				EventMsTs int64
				UserId    string
			}
		}
		if err := json.Unmarshal(body, &got); err != nil {
			t.Fatalf("body %q: %v", body, err)
		}
		if got.EventType != etype || got.EventGroupId != etype/100 || got.CallbackTs != 1700000000999 || got.EventInfo.EventMsTs != ms {
			t.Fatalf("body %s", body)
		}
		switch id := got.EventInfo.RoomId.(type) {
		case string:
			if (id != str && utf8.ValidString(str)) || str == "" {
				t.Fatalf("RoomId %q for string room %q", id, str)
			}
		case float64:
			if str != "" || num == 0 {
				t.Fatalf("RoomId %v for room %d/%q", id, num, str)
			}
		default:
			t.Fatalf("RoomId %T", id)
		}
		if etype != EventDismissRoom && utf8.ValidString(user) && got.EventInfo.UserId != user {
			t.Fatalf("UserId %q, want %q", got.EventInfo.UserId, user)
		}
	})
}

package signal

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/trtcd/trtcd/internal/rooms"
)

func TestEncodeNoticeShapes(t *testing.T) {
	ts := time.UnixMilli(1700000000123)
	cases := []struct {
		n    *rooms.Notice
		want string
	}{
		{&rooms.Notice{Type: rooms.Joined, Room: rooms.NumRoom(1, 1234), Seq: 5, SessionID: "s", Time: ts,
			Members: []rooms.Member{{UserID: "a", Role: rooms.Anchor}, {UserID: "v", Role: rooms.Audience}}},
			`{"type":"joined","seq":5,"roomId":1234,"sessionId":"s","members":[{"userId":"a","role":"anchor"},{"userId":"v","role":"audience"}],"ts":1700000000123}`},
		{&rooms.Notice{Type: rooms.UserEntered, Room: rooms.StrRoom(1, "r 1"), Seq: 6, UserID: "b", Role: rooms.Anchor, Time: ts},
			`{"type":"user_entered","seq":6,"strRoomId":"r 1","userId":"b","role":"anchor","ts":1700000000123}`},
		{&rooms.Notice{Type: rooms.UserLeft, Room: rooms.NumRoom(1, 7), Seq: 8, UserID: "b", Role: rooms.Anchor, Reason: rooms.ReasonRemoved, Time: ts},
			`{"type":"user_left","seq":8,"roomId":7,"userId":"b","role":"anchor","reason":"removed","ts":1700000000123}`},
		{&rooms.Notice{Type: rooms.Kicked, Room: rooms.NumRoom(1, 7), Seq: 9, Reason: rooms.ReasonDismissed, Time: ts},
			`{"type":"kicked","seq":9,"roomId":7,"reason":"dismissed","ts":1700000000123}`},
	}
	for _, c := range cases {
		if got := string(encodeNotice(c.n)); got != c.want {
			t.Errorf("got  %s\nwant %s", got, c.want)
		}
		var v map[string]any
		if json.Unmarshal(encodeNotice(c.n), &v) != nil {
			t.Error("not JSON")
		}
	}
}

package protocol_test

import (
	"bytes"
	"encoding/json"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/trtcd/trtcd/protocol"
)

// The bytes the server sends for each message type: the wire format the
// server has always produced (field order, omitted fields, members as []).
func TestServerMessageBytes(t *testing.T) {
	cases := []struct {
		m    protocol.ServerMessage
		want string
	}{
		{protocol.ServerMessage{Type: protocol.TypeJoined, Seq: 5, RoomID: 1234, SessionID: "s", Ts: 1700000000123,
			Members: []protocol.Member{{UserID: "a", Role: protocol.RoleAnchor}, {UserID: "v", Role: protocol.RoleAudience}}},
			`{"type":"joined","seq":5,"roomId":1234,"sessionId":"s","members":[{"userId":"a","role":"anchor"},{"userId":"v","role":"audience"}],"ts":1700000000123}`},
		{protocol.ServerMessage{Type: protocol.TypeJoined, Seq: 1, StrRoomID: "r 1", SessionID: "s", Members: []protocol.Member{}},
			`{"type":"joined","seq":1,"strRoomId":"r 1","sessionId":"s","members":[]}`},
		{protocol.ServerMessage{Type: protocol.TypeUserLeft, Seq: 8, RoomID: 7, UserID: "b", Role: protocol.RoleAnchor, Reason: protocol.ReasonRemoved, Ts: 1},
			`{"type":"user_left","seq":8,"roomId":7,"userId":"b","role":"anchor","reason":"removed","ts":1}`},
		{protocol.ServerMessage{Type: protocol.TypeKicked, Seq: 9, RoomID: 7, Reason: protocol.ReasonDismissed, Ts: 1},
			`{"type":"kicked","seq":9,"roomId":7,"reason":"dismissed","ts":1}`},
		{protocol.NewError(protocol.CodeUserSig, "userSig verification failed: %s", "expired").WithReason("expired").AsMessage(),
			`{"type":"error","reason":"expired","code":"AuthFailure.UserSig","message":"userSig verification failed: expired","trtcCode":-3320}`},
		{protocol.NewError(protocol.CodeNotJoined, "the first frame must be a join").AsMessage(),
			`{"type":"error","code":"NotJoined","message":"the first frame must be a join"}`},
		{protocol.ServerMessage{Type: protocol.TypePong}, protocol.PongFrame},
	}
	for _, c := range cases {
		b, err := json.Marshal(c.m)
		if err != nil || string(b) != c.want {
			t.Errorf("got  %s (%v)\nwant %s", b, err, c.want)
		}
		var back protocol.ServerMessage
		if err := json.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(back, c.m) {
			t.Errorf("%s decoded as %+v (%v)", b, back, err)
		}
	}
}

// A client's frames: the join as docs/protocol.md shows it, and the
// heartbeat as the server's fast path recognises it.
func TestClientFrameBytes(t *testing.T) {
	role := protocol.RoleAnchor
	join := protocol.ClientFrame{Type: protocol.TypeJoin, SdkAppID: protocol.Number(1400000001), UserID: "alice", UserSig: "eJy…", RoomID: protocol.Number(1234), Role: role}
	b, _ := json.Marshal(join)
	if want := `{"type":"join","sdkAppId":1400000001,"userId":"alice","userSig":"eJy…","roomId":1234,"role":"anchor"}`; string(b) != want {
		t.Errorf("join\ngot  %s\nwant %s", b, want)
	}
	str := "a b"
	b, _ = json.Marshal(protocol.ClientFrame{Type: protocol.TypeJoin, SdkAppID: protocol.Number(1), UserID: "u", PrivateMapKey: "k", StrRoomID: &str})
	if want := `{"type":"join","sdkAppId":1,"userId":"u","privateMapKey":"k","strRoomId":"a b"}`; string(b) != want {
		t.Errorf("string-room join\ngot  %s\nwant %s", b, want)
	}
	b, _ = json.Marshal(protocol.ClientFrame{Type: protocol.TypePing})
	if string(b) != protocol.PingFrame || !protocol.IsPing(append(b, '\n')) || protocol.IsPing([]byte(`{"type":"ping","x":1}`)) {
		t.Errorf("ping %s", b)
	}
}

func TestDecode(t *testing.T) {
	cases := []struct {
		in, code, msg string
	}{
		{`hello`, protocol.CodeInvalidFrame, "a frame must be one JSON object"},
		{`  `, protocol.CodeInvalidFrame, "a frame must be one JSON object"},
		{`[1]`, protocol.CodeInvalidFrame, "a frame must be one JSON object"},
		{`{"type":"join"`, protocol.CodeInvalidFrame, "malformed frame: unexpected end of JSON input"},
		{`{"type":"join","userId":5}`, protocol.CodeInvalidFrame, "malformed frame: json: cannot unmarshal number into Go struct field clientFrame.userId of type string"},
		{`{"userId":"a"}`, protocol.CodeInvalidFrame, "the frame has no type"},
		{`{"type":"teleport"}`, protocol.CodeUnknownType, `unknown frame type "teleport"`},
		{`{"type":"ping","pad":"` + strings.Repeat("x", 4100) + `"}`, protocol.CodeFrameTooLarge, "frames are limited to 4096 bytes"},
		{`{"type":"join","device":"` + strings.Repeat("d", protocol.MaxClientInfoLen+1) + `"}`, protocol.CodeInvalidFrame, "device is longer than 128 bytes"},
		{`{"type":"join","sdkVersion":"` + strings.Repeat("1", protocol.MaxClientInfoLen+1) + `"}`, protocol.CodeInvalidFrame, "sdkVersion is longer than 128 bytes"},
		{`{"type":"join","device":"Pixel\n8"}`, protocol.CodeInvalidFrame, "device holds a control character"},
		{`{"type":"join","sdkVersion":"1.0\u0000"}`, protocol.CodeInvalidFrame, "sdkVersion holds a control character"},
		{`{"type":"join","device":7}`, protocol.CodeInvalidFrame, "malformed frame: json: cannot unmarshal number into Go struct field clientFrame.device of type string"},
	}
	for _, c := range cases {
		_, e := protocol.Decode([]byte(c.in), 0)
		if e == nil || e.Code != c.code || e.Message != c.msg || e.CloseCode() != protocol.CloseBadFrame {
			t.Errorf("%.40s: got %+v, want %s %q", c.in, e, c.code, c.msg)
		}
	}
	f, e := protocol.Decode([]byte(` {"type":"join","sdkAppId":"1400000001","roomId":12.5,"strRoomId":null,"extra":[1]} `), 100)
	if e != nil || f.Type != protocol.TypeJoin || string(f.SdkAppID) != `"1400000001"` || string(f.RoomID) != `12.5` || f.StrRoomID != nil {
		t.Fatalf("join decoded as %+v, %v", f, e)
	}
	long := strings.Repeat("é", protocol.MaxClientInfoLen/2) // exactly the limit in bytes
	f, e = protocol.Decode([]byte(`{"type":"join","device":"iPhone 15; iOS 17.2 ✓","sdkVersion":"`+long+`"}`), 0)
	if e != nil || f.Device != "iPhone 15; iOS 17.2 ✓" || f.SdkVersion != long {
		t.Fatalf("join with client details decoded as %+v, %v", f, e)
	}
	if _, e := protocol.Decode([]byte(`{"type":"leave","pad":"`+strings.Repeat("x", 100)+`"}`), 100); e == nil || e.Message != "frames are limited to 100 bytes" {
		t.Fatalf("limit 100: %v", e)
	}
}

func TestPositiveInt(t *testing.T) {
	for raw, want := range map[string]uint64{"1": 1, " 1234 ": 1234, "18446744073709551615": 1<<64 - 1} {
		if n, ok := protocol.PositiveInt(json.RawMessage(raw)); !ok || n != want {
			t.Errorf("%q: %d %v", raw, n, ok)
		}
	}
	for _, raw := range []string{"", "0", "-1", "1.5", "1e3", `"5"`, "null", "18446744073709551616", "01x"} {
		if n, ok := protocol.PositiveInt(json.RawMessage(raw)); ok {
			t.Errorf("%q accepted as %d", raw, n)
		}
	}
	if n, ok := protocol.PositiveInt(protocol.Number(4294967294)); !ok || n != 4294967294 {
		t.Errorf("Number round trip %d", n)
	}
}

// Every code has its row, and docs/protocol.md's error table lists each
// code with the same TRTC code and close code.
func TestErrorTableMatchesDocs(t *testing.T) {
	doc, err := os.ReadFile("../docs/protocol.md")
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("(?m)^\\| `([A-Za-z.]+)` \\|.*\\| *(-?\\d*) *\\| *(\\d+) *\\|$")
	documented := map[string][2]string{}
	for _, m := range row.FindAllStringSubmatch(string(doc), -1) {
		documented[m[1]] = [2]string{m[2], m[3]}
	}
	codes := protocol.Codes()
	if len(codes) != 19 || len(documented) != len(codes) {
		t.Fatalf("%d codes, %d documented: %v", len(codes), len(documented), documented)
	}
	for _, c := range codes {
		e := protocol.NewError(c, "x")
		trtc := ""
		if e.TRTCCode != 0 {
			trtc = strconv.Itoa(e.TRTCCode)
		}
		if d, ok := documented[c]; !ok || d != [2]string{trtc, strconv.Itoa(e.CloseCode())} {
			t.Errorf("%s: code has trtc %q close %d; docs say %v", c, trtc, e.CloseCode(), d)
		}
	}
}

// Every JSON example in docs/protocol.md is a frame or message of these
// types: no field the types lack, and nothing lost on the way back.
func TestDocsExamplesDecode(t *testing.T) {
	doc, err := os.ReadFile("../docs/protocol.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```json\n(.*?)```").FindAllSubmatch(doc, -1)
	if len(blocks) < 3 {
		t.Fatalf("found %d examples", len(blocks))
	}
	for _, blk := range blocks {
		ex := bytes.TrimSpace(blk[1])
		var v any
		if strings.Contains(string(ex), `"type":"join"`) {
			f, e := protocol.Decode(ex, 0)
			if e != nil {
				t.Fatalf("%s: %v", ex, e)
			}
			v = f
		} else {
			var m protocol.ServerMessage
			d := json.NewDecoder(bytes.NewReader(ex))
			d.DisallowUnknownFields()
			if err := d.Decode(&m); err != nil {
				t.Fatalf("%s: %v", ex, err)
			}
			v = m
		}
		again, _ := json.Marshal(v)
		var want, got map[string]any
		json.Unmarshal(ex, &want)
		json.Unmarshal(again, &got)
		if !reflect.DeepEqual(want, got) {
			t.Errorf("example %s\ncomes back as %s", ex, again)
		}
	}
}

func TestAsError(t *testing.T) {
	var m protocol.ServerMessage
	json.Unmarshal([]byte(`{"type":"error","code":"AuthFailure.PrivateMapKey","message":"m","reason":"privatemapkey required","trtcCode":-100006}`), &m)
	e := m.AsError()
	if e == nil || *e != (protocol.Error{Code: protocol.CodePrivateMapKey, Message: "m", Reason: "privatemapkey required", TRTCCode: -100006}) ||
		e.Error() != "trtcd: AuthFailure.PrivateMapKey: m" || e.CloseCode() != protocol.CloseJoinRefused {
		t.Fatalf("got %+v", e)
	}
	if (protocol.ServerMessage{Type: protocol.TypeJoined}).AsError() != nil {
		t.Fatal("joined is not an error")
	}
	if (&protocol.Error{Code: "Some.FutureCode"}).CloseCode() != protocol.CloseBadFrame {
		t.Fatal("unknown code")
	}
}

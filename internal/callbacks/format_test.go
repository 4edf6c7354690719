package callbacks

import (
	"encoding/json"
	"testing"
)

// The vector of docs/callbacks.md (computed independently).
func TestSignVector(t *testing.T) {
	body := []byte(`{"EventGroupId":1,"EventType":104,"CallbackTs":1700000000123,"EventInfo":{"RoomId":1234,"EventTs":1700000000,"EventMsTs":1700000000100,"UserId":"alice","Role":20,"Reason":3}}`)
	if got := Sign("testKey", body); got != "MBp/nIe6ZEVfYcPbvG00gSOIGqAwarrR3T4DjlfNTvM=" {
		t.Fatalf("Sign = %s", got)
	}
	// The same body built from an event: a removal of alice from room 1234.
	typ, info, err := Render(Event{App: 1400000001, Room: "1400000001:n:1234", RoomNum: 1234, Seq: 9,
		TimeMs: 1700000000100, Type: TypeLeave, User: "alice", Role: "anchor", Reason: "removed"})
	if err != nil {
		t.Fatal(err)
	}
	if got := Body(typ, 1700000000123, info); string(got) != string(body) {
		t.Fatalf("body\n got %s\nwant %s", got, body)
	}
}

func TestRenderEachType(t *testing.T) {
	const ms = 1700000000100
	num := Event{App: 1400000001, Room: "1400000001:n:1234", RoomNum: 1234, Seq: 1, TimeMs: ms, User: "u1"}
	str := Event{App: 1400000001, Room: "1400000001:s:room <&>", RoomStr: "room <&>", Seq: 1, TimeMs: ms, User: "u1"}
	with := func(e Event, typ, role, reason, device, sdk string) Event {
		e.Type, e.Role, e.Reason, e.Device, e.SdkVersion = typ, role, reason, device, sdk
		return e
	}
	for _, c := range []struct {
		ev   Event
		typ  int
		info string
	}{
		{with(num, TypeRoomOpened, "", "", "", ""), 101, `{"RoomId":1234,"EventTs":1700000000,"EventMsTs":1700000000100,"UserId":"u1"}`},
		{with(num, TypeRoomClosed, "", "empty", "", ""), 102, `{"RoomId":1234,"EventTs":1700000000,"EventMsTs":1700000000100}`},
		{with(str, TypeRoomClosed, "", "dismissed", "", ""), 102, `{"RoomId":"room <&>","EventTs":1700000000,"EventMsTs":1700000000100}`},
		{with(num, TypeEnter, "anchor", "", "Android 14", "trtcd-go/1"), 103, `{"RoomId":1234,"EventTs":1700000000,"EventMsTs":1700000000100,"UserId":"u1","Role":20,"TerminalType":2,"UserType":3,"Reason":1}`},
		{with(str, TypeEnter, "audience", "", "", "web 5.4"), 103, `{"RoomId":"room <&>","EventTs":1700000000,"EventMsTs":1700000000100,"UserId":"u1","Role":21,"TerminalType":100,"UserType":1,"Reason":1}`},
		{with(num, TypeLeave, "anchor", "left", "", ""), 104, `{"RoomId":1234,"EventTs":1700000000,"EventMsTs":1700000000100,"UserId":"u1","Role":20,"Reason":1}`},
		{with(num, TypeLeave, "anchor", "timeout", "", ""), 104, `{"RoomId":1234,"EventTs":1700000000,"EventMsTs":1700000000100,"UserId":"u1","Role":20,"Reason":2}`},
		{with(num, TypeLeave, "audience", "removed", "", ""), 104, `{"RoomId":1234,"EventTs":1700000000,"EventMsTs":1700000000100,"UserId":"u1","Role":21,"Reason":3}`},
		{with(num, TypeLeave, "anchor", "dismissed", "", ""), 104, `{"RoomId":1234,"EventTs":1700000000,"EventMsTs":1700000000100,"UserId":"u1","Role":20,"Reason":3}`},
		{with(num, TypeLeave, "anchor", "duplicate", "", ""), 104, `{"RoomId":1234,"EventTs":1700000000,"EventMsTs":1700000000100,"UserId":"u1","Role":20,"Reason":3}`},
		{with(num, TypeRoleSwitch, "audience", "", "", ""), 105, `{"RoomId":1234,"EventTs":1700000000,"EventMsTs":1700000000100,"UserId":"u1","Role":21}`},
		{with(num, TypeVideoStart, "", "", "", ""), 201, `{"RoomId":1234,"EventTs":1700000000,"EventMsTs":1700000000100,"UserId":"u1"}`},
		{with(num, TypeVideoStop, "", "", "", ""), 202, `{"RoomId":1234,"EventTs":1700000000,"EventMsTs":1700000000100,"UserId":"u1"}`},
		{with(num, TypeAudioStart, "", "", "", ""), 203, `{"RoomId":1234,"EventTs":1700000000,"EventMsTs":1700000000100,"UserId":"u1"}`},
		{with(num, TypeAudioStop, "", "", "", ""), 204, `{"RoomId":1234,"EventTs":1700000000,"EventMsTs":1700000000100,"UserId":"u1"}`},
		{with(str, TypeSubstreamStart, "", "", "", ""), 205, `{"RoomId":"room <&>","EventTs":1700000000,"EventMsTs":1700000000100,"UserId":"u1"}`},
		{with(num, TypeSubstreamStop, "", "", "", ""), 206, `{"RoomId":1234,"EventTs":1700000000,"EventMsTs":1700000000100,"UserId":"u1"}`},
	} {
		typ, info, err := Render(c.ev)
		if err != nil || typ != c.typ || string(info) != c.info {
			t.Errorf("%s/%s: got %d %s %v\nwant %d %s", c.ev.Type, c.ev.Reason, typ, info, err, c.typ, c.info)
		}
		body := Body(typ, 1700000000999, info)
		var parsed struct{ EventGroupId, EventType int }
		if err := json.Unmarshal(body, &parsed); err != nil || parsed.EventGroupId != typ/100 || parsed.EventType != typ {
			t.Errorf("body %s: %+v %v", body, parsed, err)
		}
	}
}

func TestRenderRefusesAndSkips(t *testing.T) {
	good := Event{App: 1, Room: "1:n:5", RoomNum: 5, Seq: 1, TimeMs: 1, Type: TypeEnter, User: "u"}
	if _, _, err := Render(good); err != nil {
		t.Fatal(err)
	}
	for name, mutate := range map[string]func(*Event){
		"no app":     func(e *Event) { e.App = 0 },
		"no room":    func(e *Event) { e.Room = "" },
		"both ids":   func(e *Event) { e.RoomStr = "x" },
		"neither id": func(e *Event) { e.RoomNum = 0 },
		"no time":    func(e *Event) { e.TimeMs = 0 },
	} {
		e := good
		mutate(&e)
		if _, _, err := Render(e); err != errBadEvent {
			t.Errorf("%s: %v, want errBadEvent", name, err)
		}
	}
	e := good
	e.Type = "hand_raised"
	if _, _, err := Render(e); err != errSkip {
		t.Errorf("unknown type: %v, want errSkip", err)
	}
}

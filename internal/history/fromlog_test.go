package history

import (
	"testing"

	"github.com/trtcd/trtcd/internal/eventlog"
)

func TestFromLogMapsTypesReasonsAndRooms(t *testing.T) {
	num := eventlog.Event{Seq: 7, TimeMs: 1700000000123, Type: eventlog.TypeRoomClose, Reason: eventlog.ReasonRemoved}
	num.SetRoom(1400000001, 1234, "")
	str := eventlog.Event{Seq: 3, Type: eventlog.TypeEnter, User: "u1", Role: eventlog.RoleAudience, Session: "s1",
		Ext: map[string]string{ExtClientIP: "127.0.0.1", ExtDevice: "Linux", ExtSdkVersion: "go/1"}}
	str.SetRoom(1400000001, 0, "room-a")
	for _, tc := range []struct {
		in   eventlog.Event
		want Event
	}{
		{num, Event{App: 1400000001, Room: "1400000001:n:1234", RoomNum: 1234, Seq: 7, TimeMs: 1700000000123, Type: TypeRoomClosed, Reason: ReasonEmpty}},
		{str, Event{App: 1400000001, Room: "1400000001:s:room-a", RoomStr: "room-a", Seq: 3, Type: TypeEnter, User: "u1", Role: "audience",
			SessionID: "s1", ClientIP: "127.0.0.1", Device: "Linux", SdkVersion: "go/1"}},
	} {
		if got := FromLog(tc.in); got != tc.want {
			t.Errorf("FromLog(%+v)\n got %+v\nwant %+v", tc.in, got, tc.want)
		}
	}
	dismissed := num
	dismissed.Reason = eventlog.ReasonDismissed
	if got := FromLog(dismissed); got.Reason != ReasonDismissed {
		t.Errorf("a dismissal closes the room with reason %q", got.Reason)
	}
	for in, want := range map[eventlog.Type]string{eventlog.TypeRoomOpen: TypeRoomOpened, eventlog.TypeSubStart: TypeSubstreamStart,
		eventlog.TypeSubStop: TypeSubstreamStop, eventlog.TypeVideoStart: TypeVideoStart, eventlog.TypeLeave: TypeLeave} {
		ev := num
		ev.Type = in
		if got := FromLog(ev).Type; got != want {
			t.Errorf("%s → %s, want %s", in, got, want)
		}
	}
}

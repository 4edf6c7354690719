package eventlog

import "testing"

func TestRecordMapsTypesReasonsAndRooms(t *testing.T) {
	num := Event{Seq: 7, TimeMs: 1700000000123, Type: TypeRoomClose, Reason: ReasonRemoved}
	num.SetRoom(1400000001, 1234, "")
	str := Event{Seq: 3, Type: TypeEnter, User: "u1", Role: RoleAudience, Session: "s1",
		Ext: map[string]string{ExtClientIP: "127.0.0.1", ExtDevice: "Linux", ExtSdkVersion: "go/1"}}
	str.SetRoom(1400000001, 0, "room-a")
	for _, tc := range []struct {
		in   Event
		want Record
	}{
		{num, Record{App: 1400000001, Room: "1400000001:n:1234", RoomNum: 1234, Seq: 7, TimeMs: 1700000000123, Type: RecordRoomClosed, Reason: RecordReasonEmpty}},
		{str, Record{App: 1400000001, Room: "1400000001:s:room-a", RoomStr: "room-a", Seq: 3, Type: string(TypeEnter), User: "u1", Role: "audience",
			SessionID: "s1", ClientIP: "127.0.0.1", Device: "Linux", SdkVersion: "go/1"}},
	} {
		if got := tc.in.Record(); got != tc.want {
			t.Errorf("%+v.Record()\n got %+v\nwant %+v", tc.in, got, tc.want)
		}
	}
	dismissed := num
	dismissed.Reason = ReasonDismissed
	if got := dismissed.Record(); got.Reason != ReasonDismissed {
		t.Errorf("a dismissal closes the room with reason %q", got.Reason)
	}
	for in, want := range map[Type]string{TypeRoomOpen: RecordRoomOpened, TypeSubStart: RecordSubstreamStart,
		TypeSubStop: RecordSubstreamStop, TypeVideoStart: string(TypeVideoStart), TypeLeave: string(TypeLeave)} {
		ev := num
		ev.Type = in
		if got := ev.Record().Type; got != want {
			t.Errorf("%s → %s, want %s", in, got, want)
		}
	}
}

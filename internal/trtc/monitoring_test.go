package trtc_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"reflect"
	"testing"
	"time"

	"github.com/trtcd/trtcd/internal/history"
	ht "github.com/trtcd/trtcd/internal/history/historytest"
	tk "github.com/trtcd/trtcd/internal/testkit"
	"github.com/trtcd/trtcd/internal/trtc"
)

const hour, day = time.Hour, 24 * time.Hour

func same(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		g, _ := json.Marshal(got)
		w, _ := json.Marshal(want)
		t.Fatalf("%s:\n got  %s\n want %s", what, g, w)
	}
}

// scriptStore is a store of backend b holding the scripted activity, with
// its clock at historytest.Now.
func scriptStore(t *testing.T, b ht.Backend) *history.Store {
	s, _ := ht.Open(t, b, history.Options{Now: ht.NewClock(ht.Now).Now})
	ht.Feed(t, s, ht.Script())
	return s
}

// TestMonitoringActionsAnswerTheScript: after the scripted activity (joins,
// a removal, duplicate logins, a dismissal, a room that opens twice) each
// action answers exactly the expected rows over signed HTTP, with paging
// and filters, on SQLite and on PostgreSQL.
func TestMonitoringActionsAnswerTheScript(t *testing.T) {
	for _, b := range ht.Backends {
		t.Run(b.Name, func(t *testing.T) {
			m := startMonitoring(t, scriptStore(t, b), nil, nil)
			S := ht.S

			// DescribeRoomInfo
			r := m.call(t, "DescribeRoomInfo", map[string]any{"SdkAppId": ht.App, "StartTime": S(-hour), "EndTime": S(hour)})
			var total int
			var roomList []trtc.RoomState
			r.field(t, "Total", &total)
			r.field(t, "RoomList", &roomList)
			same(t, "rooms", fmt.Sprint(total), "3")
			same(t, "room list", roomList, []trtc.RoomState{
				{CommId: ht.CommA1, RoomString: "1234", CreateTime: S(0), DestroyTime: S(100 * time.Second), IsFinished: true, UserId: "alice"},
				{CommId: ht.CommStr, RoomString: "1234", CreateTime: S(50 * time.Second), UserId: "erin"},
				{CommId: ht.CommA2, RoomString: "1234", CreateTime: S(200 * time.Second), DestroyTime: S(260 * time.Second), IsFinished: true, UserId: "dave"},
			})
			r = m.call(t, "DescribeRoomInfo", map[string]any{"SdkAppId": ht.App, "StartTime": S(-hour), "EndTime": S(hour), "PageNumber": 1, "PageSize": 2})
			r.field(t, "Total", &total)
			r.field(t, "RoomList", &roomList)
			same(t, "second page of two", fmt.Sprint(total, len(roomList), roomList[0].CommId), fmt.Sprint(3, 1, ht.CommA2))
			r = m.call(t, "DescribeRoomInfo", map[string]any{"SdkAppId": ht.App, "StartTime": S(day - hour), "EndTime": S(day + hour), "RoomId": "555"})
			r.field(t, "RoomList", &roomList)
			same(t, "room 555 the next day", len(roomList) == 1 && roomList[0].CommId == ht.Comm555, true)
			r = m.call(t, "DescribeRoomInfo", map[string]any{"SdkAppId": ht.App2, "StartTime": S(-hour), "EndTime": S(hour)})
			r.field(t, "RoomList", &roomList)
			same(t, "the other app's rooms", len(roomList) == 1 && roomList[0].CommId == ht.Comm77, true)

			// DescribeUserInfo
			r = m.call(t, "DescribeUserInfo", map[string]any{"CommId": ht.CommA1, "StartTime": S(-hour), "EndTime": S(hour), "SdkAppId": ht.App})
			var users []trtc.UserInformation
			r.field(t, "Total", &total)
			r.field(t, "UserList", &users)
			same(t, "users of the first session", fmt.Sprint(total), "4")
			same(t, "user list", users, []trtc.UserInformation{
				{RoomStr: "1234", UserId: "alice", JoinTs: S(0), LeaveTs: S(40 * time.Second), DeviceType: "Android", SdkVersion: "11.8", ClientIp: "10.0.0.1", Finished: true},
				{RoomStr: "1234", UserId: "bob", JoinTs: S(10 * time.Second), LeaveTs: S(30 * time.Second), DeviceType: "iOS", SdkVersion: "11.7", ClientIp: "10.0.0.2", Finished: true},
				{RoomStr: "1234", UserId: "carol", JoinTs: S(20 * time.Second), LeaveTs: S(100 * time.Second), ClientIp: "10.0.0.3", Finished: true},
				{RoomStr: "1234", UserId: "alice", JoinTs: S(40 * time.Second), LeaveTs: S(100 * time.Second), DeviceType: "Web", SdkVersion: "5.0", ClientIp: "10.0.0.9", Finished: true},
			})
			r = m.call(t, "DescribeUserInfo", map[string]any{"CommId": ht.CommA1, "StartTime": S(-hour), "EndTime": S(hour), "SdkAppId": ht.App, "PageNumber": 2, "PageSize": 1})
			r.field(t, "UserList", &users)
			same(t, "third page of one", len(users) == 1 && users[0].UserId == "carol", true)
			// The same through signature v1 and form encoding, with a user filter.
			r = m.form(t, "DescribeUserInfo", url.Values{"CommId": {ht.CommA1}, "StartTime": {fmt.Sprint(S(-hour))},
				"EndTime": {fmt.Sprint(S(hour))}, "SdkAppId": {fmt.Sprint(ht.App)}, "UserIds.0": {"alice"}, "UserIds.1": {"nobody"}})
			r.field(t, "Total", &total)
			r.field(t, "UserList", &users)
			same(t, "alice's stays", fmt.Sprint(total, users[0].LeaveTs, users[1].JoinTs), fmt.Sprint(2, S(40*time.Second), S(40*time.Second)))
			// A user still in the room: LeaveTs is now, Finished false.
			r = m.call(t, "DescribeUserInfo", map[string]any{"CommId": ht.CommStr, "StartTime": S(-hour), "EndTime": S(hour), "SdkAppId": ht.App})
			r.field(t, "UserList", &users)
			same(t, "erin", users, []trtc.UserInformation{{RoomStr: "1234", UserId: "erin", JoinTs: S(50 * time.Second),
				LeaveTs: ht.Now.Unix(), DeviceType: "Windows", SdkVersion: "11.0", ClientIp: "10.0.1.1"}})
			// Another app's CommId answers nothing.
			r = m.call(t, "DescribeUserInfo", map[string]any{"CommId": ht.Comm77, "StartTime": S(-hour), "EndTime": S(hour), "SdkAppId": ht.App})
			r.field(t, "Total", &total)
			same(t, "another app's session", total, 0)

			// DescribeUserEvent
			ev := map[string]any{"CommId": ht.CommA1, "StartTime": S(-hour), "EndTime": S(hour), "UserId": "alice", "RoomId": "1234", "SdkAppId": ht.App}
			var data []trtc.EventList
			m.call(t, "DescribeUserEvent", ev).field(t, "Data", &data)
			ms := func(d time.Duration) int64 { return ht.Ms(d) }
			same(t, "alice's events", data, []trtc.EventList{{PeerId: "alice", Content: []trtc.EventMessage{
				{Type: 0, Time: ms(0), EventId: 103, ParamOne: 20, ParamTwo: -1},
				{Type: 0, Time: ms(40 * time.Second), EventId: 104, ParamOne: 5, ParamTwo: -1},
				{Type: 0, Time: ms(40 * time.Second), EventId: 103, ParamOne: 20, ParamTwo: -1},
				{Type: 2, Time: ms(60 * time.Second), EventId: 201, ParamOne: -1, ParamTwo: -1},
				{Type: 0, Time: ms(100 * time.Second), EventId: 104, ParamOne: 4, ParamTwo: -1},
			}}})
			ev["UserId"] = "bob"
			m.call(t, "DescribeUserEvent", ev).field(t, "Data", &data)
			same(t, "bob's removal", data[0].Content[1], trtc.EventMessage{Time: ms(30 * time.Second), EventId: 104, ParamOne: 3, ParamTwo: -1})
			ev["RoomId"] = "555"
			m.call(t, "DescribeUserEvent", ev).field(t, "Data", &data)
			same(t, "a CommId of another room", data, []trtc.EventList{})
			ev["RoomId"], ev["CommId"] = "1234", "1400000001_1234_1_1"
			m.call(t, "DescribeUserEvent", ev).field(t, "Data", &data)
			same(t, "an unknown CommId", data, []trtc.EventList{})

			// DescribeScaleInfo: the three whole days from T0's day; today
			// (not over yet) is left out.
			var scale []trtc.ScaleInfomation
			r = m.call(t, "DescribeScaleInfo", map[string]any{"SdkAppId": ht.App, "StartTime": S(-10 * hour), "EndTime": S(3 * day)})
			r.field(t, "Total", &total)
			r.field(t, "ScaleList", &scale)
			d := ht.Days()
			same(t, "scale", scale, []trtc.ScaleInfomation{
				{Time: d[0][0] / 1000, UserNumber: 5, UserCount: 6, RoomNumbers: 2},
				{Time: d[1][0] / 1000, UserNumber: 2, UserCount: 3, RoomNumbers: 1},
				{Time: d[2][0] / 1000},
			})
			same(t, "scale total", total, 3)
		})
	}
}

// TestMonitoringNotConfigured: without a store (cluster mode without
// PostgreSQL) the actions still check their parameters, then answer
// FailedOperation.HistoryNotConfigured.
func TestMonitoringNotConfigured(t *testing.T) {
	var typedNil *history.Store
	for name, store := range map[string]history.Reader{"nil": nil, "typed nil": typedNil} {
		t.Run(name, func(t *testing.T) {
			m := startMonitoring(t, store, nil, nil)
			for action, body := range validBodies() {
				if r := m.call(t, action, body); r.Code != trtc.CodeHistoryNotConfigured {
					t.Fatalf("%s: %s %s", action, r.Code, r.Message)
				}
				delete(body, "SdkAppId")
				if r := m.call(t, action, body); r.Code != "MissingParameter.SdkAppId" {
					t.Fatalf("%s without SdkAppId: %s", action, r.Code)
				}
			}
		})
	}
}

// TestMonitoringFrontDoor: signing, regions, ownership and the per-action
// rate limit of 20 calls per second (counted on a frozen clock).
func TestMonitoringFrontDoor(t *testing.T) {
	frozen := time.Now()
	m := startMonitoring(t, scriptStore(t, ht.SQLite), nil, func() time.Time { return frozen })
	for action, body := range validBodies() {
		if r := m.callAs(t, tk.OtherID, tk.OtherKey, "ap-guangzhou", action, body); r.Code != "UnauthorizedOperation.SdkAppId" {
			t.Fatalf("%s by another account: %s", action, r.Code)
		}
		if r := m.callAs(t, tk.AcmeID, "wrong-key", "ap-guangzhou", action, body); r.Code != "AuthFailure.SignatureFailure" {
			t.Fatalf("%s badly signed: %s", action, r.Code)
		}
		if r := m.callAs(t, tk.AcmeID, tk.AcmeKey, "eu-frankfurt", action, body); r.Code != "UnsupportedRegion" {
			t.Fatalf("%s in eu-frankfurt: %s", action, r.Code)
		}
		// None of the calls above counts against acme: the rate limit comes
		// after authentication, per account.
		served := 0
		for i := 0; i < 25; i++ {
			r := m.call(t, action, body)
			switch r.Code {
			case "":
				served++
			case "RequestLimitExceeded":
			default:
				t.Fatalf("%s: %s", action, r.Code)
			}
		}
		if served != trtc.DefaultRateLimit {
			t.Fatalf("%s: %d calls served in one second, want %d", action, served, trtc.DefaultRateLimit)
		}
	}
}

// validBodies are one valid request per action (a fresh map each time).
func validBodies() map[string]map[string]any {
	S := ht.S
	return map[string]map[string]any{
		"DescribeRoomInfo":  {"SdkAppId": ht.App, "StartTime": S(-hour), "EndTime": S(hour)},
		"DescribeUserInfo":  {"CommId": ht.CommA1, "StartTime": S(-hour), "EndTime": S(hour), "SdkAppId": ht.App},
		"DescribeUserEvent": {"CommId": ht.CommA1, "StartTime": S(-hour), "EndTime": S(hour), "UserId": "alice", "RoomId": "1234", "SdkAppId": ht.App},
		"DescribeScaleInfo": {"SdkAppId": ht.App, "StartTime": S(-10 * hour), "EndTime": S(3 * day)},
	}
}

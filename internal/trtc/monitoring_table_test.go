package trtc_test

import (
	"encoding/json"
	"strings"
	"testing"

	ht "github.com/trtcd/trtcd/internal/history/historytest"
	tk "github.com/trtcd/trtcd/internal/testkit"
)

// TestMonitoringBadInputs: every parameter of every action, missing, of the
// wrong type, out of range, and time ranges reversed or too long, answers
// exactly its code; parameters are checked in the SDK models' field order.
func TestMonitoringBadInputs(t *testing.T) {
	limits := map[string]int{"DescribeRoomInfo": 1e6, "DescribeUserInfo": 1e6, "DescribeUserEvent": 1e6, "DescribeScaleInfo": 1e6}
	m := startMonitoring(t, scriptStore(t, ht.SQLite), limits, nil)
	S := ht.S
	old := ht.Now.Add(-15 * day).Unix() // beyond the 14 days kept
	raw := func(s string) json.RawMessage { return json.RawMessage(s) }
	users := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = tk.Name("u", i)
		}
		return out
	}
	type row struct {
		name    string
		actions string // initials of the actions the row applies to: R U E S
		over    map[string]any
		want    string
	}
	rows := []row{
		{"SdkAppId absent", "RUES", map[string]any{"SdkAppId": "-"}, "MissingParameter.SdkAppId"},
		{"SdkAppId null", "RUES", map[string]any{"SdkAppId": nil}, "MissingParameter.SdkAppId"},
		{"SdkAppId a string", "RUES", map[string]any{"SdkAppId": "1400000001"}, "InvalidParameter.SdkAppId"},
		{"SdkAppId a float", "RUES", map[string]any{"SdkAppId": raw("1400000001.5")}, "InvalidParameter.SdkAppId"},
		{"SdkAppId zero", "RUES", map[string]any{"SdkAppId": 0}, "InvalidParameter.SdkAppId"},
		{"SdkAppId negative", "RUES", map[string]any{"SdkAppId": -1}, "InvalidParameter.SdkAppId"},
		{"SdkAppId beyond 64 bits", "RUES", map[string]any{"SdkAppId": raw("99999999999999999999999")}, "InvalidParameter.SdkAppId"},
		{"SdkAppId of another account", "RUES", map[string]any{"SdkAppId": tk.OtherApp}, "UnauthorizedOperation.SdkAppId"},
		{"SdkAppId unknown", "RUES", map[string]any{"SdkAppId": 1234}, "UnauthorizedOperation.SdkAppId"},

		{"StartTime absent", "RUES", map[string]any{"StartTime": "-"}, "MissingParameter.StartTs"},
		{"StartTime a string", "RUES", map[string]any{"StartTime": "1590065777"}, "InvalidParameter.StartTs"},
		{"StartTime negative", "RUES", map[string]any{"StartTime": -5}, "InvalidParameter.StartTs"},
		{"StartTime beyond year 9999", "RUES", map[string]any{"StartTime": int64(253402300800)}, "InvalidParameter.StartTs"},
		{"StartTime beyond 64 bits", "RUES", map[string]any{"StartTime": raw("1e30")}, "InvalidParameter.StartTs"},
		{"StartTime older than 14 days", "RUES", map[string]any{"StartTime": old, "EndTime": old + 60}, "InvalidParameter.StartTsOversize"},
		{"StartTime zero", "RUES", map[string]any{"StartTime": 0}, "InvalidParameter.StartTsOversize"},

		{"EndTime absent", "RUES", map[string]any{"EndTime": "-"}, "MissingParameter.EndTs"},
		{"EndTime a string", "RUES", map[string]any{"EndTime": "x"}, "InvalidParameter.EndTs"},
		{"EndTime negative", "RUES", map[string]any{"EndTime": -1}, "InvalidParameter.EndTs"},
		{"EndTime beyond year 9999", "RUES", map[string]any{"EndTime": int64(253402300800)}, "InvalidParameter.EndTs"},
		{"EndTime before StartTime", "RUES", map[string]any{"StartTime": S(hour), "EndTime": S(hour) - 1}, "InvalidParameter.EndTs"},
		{"range of 24 h 1 s", "R", map[string]any{"StartTime": S(-hour), "EndTime": S(23*hour) + 1}, "InvalidParameter.QueryScaleOversize"},
		{"range of exactly 24 h", "R", map[string]any{"StartTime": S(-hour), "EndTime": S(23 * hour)}, ""},
		{"range of 4 h 1 s", "U", map[string]any{"StartTime": S(-hour), "EndTime": S(3*hour) + 1}, "InvalidParameter.QueryScaleOversize"},
		{"range of exactly 4 h", "U", map[string]any{"StartTime": S(-hour), "EndTime": S(3 * hour)}, ""},
		{"range of 3 days", "ES", map[string]any{"StartTime": S(-hour), "EndTime": S(3*day - hour)}, ""},
		{"StartTime equal to EndTime", "RUES", map[string]any{"StartTime": S(0), "EndTime": S(0)}, ""},

		{"RoomId a number", "RE", map[string]any{"RoomId": 1234}, "InvalidParameter.RoomId"},
		{"RoomId with a slash", "RE", map[string]any{"RoomId": "a/b"}, "InvalidParameterValue.RoomId"},
		{"RoomId of 65 bytes", "RE", map[string]any{"RoomId": strings.Repeat("r", 65)}, "InvalidParameterValue.RoomId"},
		{"RoomId empty (no filter)", "R", map[string]any{"RoomId": ""}, ""},
		{"RoomId empty", "E", map[string]any{"RoomId": ""}, "InvalidParameterValue.RoomId"},
		{"RoomId absent", "E", map[string]any{"RoomId": "-"}, "MissingParameter.RoomId"},

		{"PageNumber a string", "RU", map[string]any{"PageNumber": "1", "PageSize": 10}, "InvalidParameter.PageNumber"},
		{"PageNumber negative", "RU", map[string]any{"PageNumber": -1, "PageSize": 10}, "InvalidParameter.PageNumber"},
		{"PageNumber huge", "RU", map[string]any{"PageNumber": raw("18446744073709551615"), "PageSize": 100}, ""},
		{"PageSize zero", "RU", map[string]any{"PageNumber": 0, "PageSize": 0}, "InvalidParameter.PageSize"},
		{"PageSize negative", "RU", map[string]any{"PageSize": -3}, "InvalidParameter.PageSize"},
		{"PageSize a string", "RU", map[string]any{"PageSize": "10"}, "InvalidParameter.PageSize"},
		{"PageSize 101", "RU", map[string]any{"PageNumber": 0, "PageSize": 101}, "InvalidParameter.PageSizeOversize"},
		{"PageSize 100", "RU", map[string]any{"PageNumber": 0, "PageSize": 100}, ""},

		{"CommId absent", "UE", map[string]any{"CommId": "-"}, "MissingParameter.CommId"},
		{"CommId a number", "UE", map[string]any{"CommId": 5}, "InvalidParameter.CommId"},
		{"CommId empty", "UE", map[string]any{"CommId": ""}, "InvalidParameter.CommId"},
		{"CommId of 257 bytes", "UE", map[string]any{"CommId": strings.Repeat("c", 257)}, "InvalidParameter.CommId"},
		{"CommId unknown", "UE", map[string]any{"CommId": "1400000001_9_9_9"}, ""},

		{"UserIds a string", "U", map[string]any{"UserIds": "alice"}, "InvalidParameter.UserIds"},
		{"UserIds empty", "U", map[string]any{"UserIds": []string{}}, "InvalidParameter.UserIds"},
		{"UserIds 101 entries", "U", map[string]any{"UserIds": users(101)}, "InvalidParameter.UserIds"},
		{"UserIds 100 entries", "U", map[string]any{"UserIds": users(100)}, ""},
		{"UserIds with a number", "U", map[string]any{"UserIds": raw(`["alice", 1]`)}, "InvalidParameter.UserIds"},
		{"UserIds with a space", "U", map[string]any{"UserIds": []string{"a b"}}, "InvalidParameter.UserIds"},
		{"UserIds with 33 bytes", "U", map[string]any{"UserIds": []string{strings.Repeat("u", 33)}}, "InvalidParameter.UserIds"},

		{"UserId absent", "E", map[string]any{"UserId": "-"}, "MissingParameter.UserId"},
		{"UserId a number", "E", map[string]any{"UserId": 5}, "InvalidParameter.UserId"},
		{"UserId empty", "E", map[string]any{"UserId": ""}, "InvalidParameter.UserId"},
		{"UserId with a space", "E", map[string]any{"UserId": "a b"}, "InvalidParameter.UserId"},
		{"UserId of 33 bytes", "E", map[string]any{"UserId": strings.Repeat("u", 33)}, "InvalidParameter.UserId"},

		{"an unknown parameter", "RUES", map[string]any{"Foo": 1}, "UnknownParameter"},
		{"a parameter of another action", "S", map[string]any{"RoomId": "1"}, "UnknownParameter"},
		// Field order: the first failing field wins.
		{"SdkAppId and StartTime absent", "RS", map[string]any{"SdkAppId": "-", "StartTime": "-"}, "MissingParameter.SdkAppId"},
		{"CommId and SdkAppId absent", "UE", map[string]any{"CommId": "-", "SdkAppId": "-"}, "MissingParameter.CommId"},
		{"EndTime reversed and SdkAppId foreign", "U", map[string]any{"EndTime": S(-2 * hour), "SdkAppId": tk.OtherApp}, "InvalidParameter.EndTs"},
		{"UserId bad and RoomId absent", "E", map[string]any{"UserId": "", "RoomId": "-"}, "InvalidParameter.UserId"},
		{"PageSize bad and RoomId bad", "R", map[string]any{"PageSize": 0, "RoomId": "a/b"}, "InvalidParameterValue.RoomId"},
	}
	initials := map[string]string{"R": "DescribeRoomInfo", "U": "DescribeUserInfo", "E": "DescribeUserEvent", "S": "DescribeScaleInfo"}
	for _, r := range rows {
		for _, a := range r.actions {
			action := initials[string(a)]
			t.Run(action+"/"+r.name, func(t *testing.T) {
				body := validBodies()[action]
				for k, v := range r.over {
					if v == "-" {
						delete(body, k)
					} else {
						body[k] = v
					}
				}
				got := m.call(t, action, body)
				if got.Code != r.want {
					t.Fatalf("got %q (%s), want %q", got.Code, got.Message, r.want)
				}
			})
		}
	}
}

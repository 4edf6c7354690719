package trtc_test

import (
	"bytes"
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/trtcd/trtcd/client"
	tk "github.com/trtcd/trtcd/internal/testkit"
	"github.com/trtcd/trtcd/internal/testkit/await"
)

// blockBody is a valid SetUserBlocked(ByStrRoomId) body with overrides; a
// "-" value removes the field.
func blockBody(str bool, over map[string]any) string {
	f := map[string]any{"SdkAppId": tk.App, "RoomId": 4321, "UserId": "alice", "IsMute": 1}
	if str {
		delete(f, "RoomId")
		f["StrRoomId"] = "room-4321"
	}
	for k, v := range over {
		if v == "-" {
			delete(f, k)
		} else {
			f[k] = v
		}
	}
	var b bytes.Buffer
	json.NewEncoder(&b).Encode(f)
	return b.String()
}

// TestSetUserBlockedTable: bad inputs answer their codes in field order
// (SdkAppId, RoomId/StrRoomId, UserId, IsMute), and change nothing: no
// member is told of a block.
func TestSetUserBlockedTable(t *testing.T) {
	cfg := tk.Config()
	cfg.RateLimits = map[string]int{"SetUserBlocked": 1e6, "SetUserBlockedByStrRoomId": 1e6}
	n := tk.Start(t, cfg)
	addr := n.Addr()
	alice := tk.Join(t, addr, tk.App, tk.AppKey, "alice", 4321, "")
	strAlice := tk.Join(t, addr, tk.App, tk.AppKey, "alice", 0, "room-4321")

	type row struct {
		name string
		over map[string]any
		want string
	}
	common := []row{
		{"SdkAppId absent", map[string]any{"SdkAppId": "-"}, "MissingParameter.SdkAppId"},
		{"SdkAppId a string", map[string]any{"SdkAppId": "1400000001"}, "InvalidParameter.SdkAppId"},
		{"SdkAppId of another account", map[string]any{"SdkAppId": tk.OtherApp}, "UnauthorizedOperation.SdkAppId"},
		{"SdkAppId checked before UserId", map[string]any{"SdkAppId": 0, "UserId": "-"}, "InvalidParameter.SdkAppId"},
		{"UserId absent", map[string]any{"UserId": "-"}, "MissingParameter.UserId"},
		{"UserId a number", map[string]any{"UserId": 5}, "InvalidParameter.UserId"},
		{"UserId empty", map[string]any{"UserId": ""}, "InvalidParameter.UserId"},
		{"UserId with a dot", map[string]any{"UserId": "a.b"}, "InvalidParameter.UserId"},
		{"UserId 33 bytes", map[string]any{"UserId": strings.Repeat("u", 33)}, "InvalidParameter.UserId"},
		{"UserId checked before IsMute", map[string]any{"UserId": "-", "IsMute": "-"}, "MissingParameter.UserId"},
		{"IsMute absent", map[string]any{"IsMute": "-"}, "MissingParameter.IsMute"},
		{"IsMute null", map[string]any{"IsMute": nil}, "MissingParameter.IsMute"},
		{"IsMute a string", map[string]any{"IsMute": "1"}, "InvalidParameter.IsMute"},
		{"IsMute a float", map[string]any{"IsMute": 1.5}, "InvalidParameter.IsMute"},
		{"IsMute a bool", map[string]any{"IsMute": true}, "InvalidParameter.IsMute"},
		{"IsMute 4", map[string]any{"IsMute": 4}, "InvalidParameterValue.IsMute"},
		{"IsMute negative", map[string]any{"IsMute": -1}, "InvalidParameterValue.IsMute"},
		{"IsMute checked before the room exists", map[string]any{"IsMute": 9, "UserId": "nobody"}, "InvalidParameterValue.IsMute"},
		{"user not in the room", map[string]any{"UserId": "nobody"}, "FailedOperation.UserNotExist"},
		{"unknown parameter", map[string]any{"UserIds": []string{"alice"}}, "UnknownParameter"},
	}
	numeric := []row{
		{"RoomId absent", map[string]any{"RoomId": "-"}, "MissingParameter.RoomId"},
		{"RoomId a string", map[string]any{"RoomId": "4321"}, "InvalidParameter.RoomId"},
		{"RoomId zero", map[string]any{"RoomId": 0}, "InvalidParameterValue.RoomId"},
		{"RoomId checked before UserId", map[string]any{"RoomId": 0, "UserId": "-"}, "InvalidParameterValue.RoomId"},
		{"room with no members", map[string]any{"RoomId": 4294967294}, "FailedOperation.RoomNotExist"},
		{"StrRoomId is not its parameter", map[string]any{"StrRoomId": "room-4321"}, "UnknownParameter"},
	}
	str := []row{
		{"StrRoomId absent", map[string]any{"StrRoomId": "-"}, "MissingParameter.StrRoomId"},
		{"StrRoomId a number", map[string]any{"StrRoomId": 4321}, "InvalidParameter.StrRoomId"},
		{"StrRoomId empty", map[string]any{"StrRoomId": ""}, "InvalidParameterValue.StrRoomId"},
		{"StrRoomId 65 bytes", map[string]any{"StrRoomId": strings.Repeat("r", 65)}, "InvalidParameterValue.StrRoomId"},
		{"StrRoomId checked before UserId", map[string]any{"StrRoomId": "", "UserId": "-"}, "InvalidParameterValue.StrRoomId"},
		{"room with no members", map[string]any{"StrRoomId": "empty room"}, "FailedOperation.RoomNotExist"},
		{"numeric room's digits as a string room", map[string]any{"StrRoomId": "4321"}, "FailedOperation.RoomNotExist"},
		{"RoomId is not its parameter", map[string]any{"RoomId": "room-4321"}, "UnknownParameter"},
	}
	for _, a := range []struct {
		name string
		str  bool
		rows []row
	}{{"SetUserBlocked", false, append(common, numeric...)}, {"SetUserBlockedByStrRoomId", true, append(append([]row{}, common...), str...)}} {
		for _, r := range a.rows {
			t.Run(a.name+"/"+r.name, func(t *testing.T) {
				if got := callJSON(t, addr, a.name, blockBody(a.str, r.over)); got != r.want {
					t.Fatalf("code %q, want %q", got, r.want)
				}
			})
		}
	}
	t.Run("form/IsMute not decimal", func(t *testing.T) {
		p := url.Values{"SdkAppId": {"1400000001"}, "RoomId": {"4321"}, "UserId": {"alice"}, "IsMute": {"x"}}
		if got := callForm(t, addr, "SetUserBlocked", p); got != "InvalidParameter.IsMute" {
			t.Fatalf("code %q", got)
		}
	})
	// Nothing above blocked anyone: the first notice each member gets is
	// the one of a valid call (IsMute 2: audio blocked).
	for _, c := range []struct {
		action string
		str    bool
		conn   *client.Conn
	}{{"SetUserBlocked", false, alice}, {"SetUserBlockedByStrRoomId", true, strAlice}} {
		if got := callJSON(t, addr, c.action, blockBody(c.str, map[string]any{"IsMute": 2})); got != "" {
			t.Fatalf("%s: %s", c.action, got)
		}
		ev := await.Next(t, c.conn)
		if ev.Type != "user_blocked" || ev.UserID != "alice" || ev.Audio == nil || !*ev.Audio || ev.Video == nil || *ev.Video {
			t.Fatalf("%s: first notice %+v, want user_blocked alice audio=true video=false", c.action, ev)
		}
	}
}

package trtc_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/trtcd/trtcd/internal/cloudapi"
	tk "github.com/trtcd/trtcd/internal/testkit"
)

// callJSON sends a TC3-signed JSON request and returns Error.Code ("" on success).
func callJSON(t *testing.T, addr, action, body string) string {
	t.Helper()
	r, _ := http.NewRequest("POST", "http://"+addr+"/", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("X-TC-Action", action)
	r.Header.Set("X-TC-Version", "2019-07-22")
	r.Header.Set("X-TC-Region", "ap-guangzhou")
	cloudapi.SignTC3(r, []byte(body), tk.AcmeID, tk.AcmeKey, "trtc", time.Now())
	return send(t, r)
}

// callForm sends a v1-signed form request.
func callForm(t *testing.T, addr, action string, p url.Values) string {
	t.Helper()
	p.Set("Action", action)
	p.Set("Version", "2019-07-22")
	p.Set("Region", "ap-guangzhou")
	cloudapi.SignV1(p, "POST", addr, tk.AcmeID, tk.AcmeKey, "HmacSHA256", time.Now())
	r, _ := http.NewRequest("POST", "http://"+addr+"/", strings.NewReader(p.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return send(t, r)
}

func send(t *testing.T, r *http.Request) string {
	t.Helper()
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out struct {
		Response struct {
			Error     *struct{ Code, Message string }
			RequestId string
		}
	}
	if resp.StatusCode != 200 || json.Unmarshal(b, &out) != nil || out.Response.RequestId == "" {
		t.Fatalf("status %d body %s", resp.StatusCode, b)
	}
	if out.Response.Error == nil {
		return ""
	}
	if out.Response.Error.Message == "" {
		t.Fatalf("no message in %s", b)
	}
	return out.Response.Error.Code
}

// body builds a JSON body from the default valid fields with overrides;
// a "-" value removes the field, a json.RawMessage is sent as is.
func body(str bool, users bool, over map[string]any) string {
	f := map[string]any{"SdkAppId": tk.App, "RoomId": 4321}
	if str {
		f["RoomId"] = "room-4321"
	}
	if users {
		f["UserIds"] = []string{"alice"}
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

func raw(s string) json.RawMessage { return json.RawMessage(s) }

// TestDecisionsTable: every row of the parameter table in docs/api.md ("TRTC
// room actions"), for every action it applies to, answers exactly its code.
func TestDecisionsTable(t *testing.T) {
	cfg := tk.Config()
	cfg.RateLimits = map[string]int{"RemoveUser": 1e6, "RemoveUserByStrRoomId": 1e6, "DismissRoom": 1e6, "DismissRoomByStrRoomId": 1e6}
	n := tk.Start(t, cfg)
	addr := n.Addr()
	// Rooms that exist, so that valid requests reach the room.
	tk.Join(t, addr, tk.App, tk.AppKey, "alice", 4321, "")
	tk.Join(t, addr, tk.App, tk.AppKey, "keeper", 4321, "")
	tk.Join(t, addr, tk.App, tk.AppKey, "alice", 0, "room-4321")
	tk.Join(t, addr, tk.App, tk.AppKey, "keeper", 0, "room-4321")

	eleven := []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k"}
	elevenDup := []string{"a", "a", "a", "a", "a", "a", "a", "a", "a", "a", "a"}
	tenDup := []string{"nobody", "nobody", "x", "y", "z", "x", "y", "z", "q", "q"}
	type row struct {
		name  string
		over  map[string]any
		want  string
		users bool // the row is about UserIds: only for the Remove actions
	}
	common := []row{
		{"SdkAppId absent", map[string]any{"SdkAppId": "-"}, "MissingParameter.SdkAppId", false},
		{"SdkAppId JSON string", map[string]any{"SdkAppId": "1400000001"}, "InvalidParameter.SdkAppId", false},
		{"SdkAppId float", map[string]any{"SdkAppId": raw("1400000001.5")}, "InvalidParameter.SdkAppId", false},
		{"SdkAppId bool", map[string]any{"SdkAppId": true}, "InvalidParameter.SdkAppId", false},
		{"SdkAppId negative", map[string]any{"SdkAppId": -1}, "InvalidParameter.SdkAppId", false},
		{"SdkAppId zero", map[string]any{"SdkAppId": 0}, "InvalidParameter.SdkAppId", false},
		{"SdkAppId beyond 64 bits", map[string]any{"SdkAppId": raw("18446744073709551617")}, "InvalidParameter.SdkAppId", false},
		{"SdkAppId null", map[string]any{"SdkAppId": nil}, "MissingParameter.SdkAppId", false},
		{"SdkAppId of another account", map[string]any{"SdkAppId": tk.OtherApp}, "UnauthorizedOperation.SdkAppId", false},
		{"SdkAppId unknown", map[string]any{"SdkAppId": 1499999999}, "UnauthorizedOperation.SdkAppId", false},
		{"SdkAppId unauthorized before RoomId checked", map[string]any{"SdkAppId": tk.OtherApp, "RoomId": "-"}, "UnauthorizedOperation.SdkAppId", false},
		{"SdkAppId missing before RoomId missing", map[string]any{"SdkAppId": "-", "RoomId": "-"}, "MissingParameter.SdkAppId", false},
		{"RoomId absent", map[string]any{"RoomId": "-"}, "MissingParameter.RoomId", false},
		{"UserIds absent", map[string]any{"UserIds": "-"}, "MissingParameter.UserIds", true},
		{"UserIds empty", map[string]any{"UserIds": []string{}}, "InvalidParameter.UserIds", true},
		{"UserIds 11 entries", map[string]any{"UserIds": eleven}, "InvalidParameter.UserIds", true},
		{"UserIds 11 duplicates counted before merging", map[string]any{"UserIds": elevenDup}, "InvalidParameter.UserIds", true},
		{"UserIds entry not a string", map[string]any{"UserIds": []any{"alice", 5}}, "InvalidParameter.UserIds", true},
		{"UserIds entry empty", map[string]any{"UserIds": []string{""}}, "InvalidParameter.UserIds", true},
		{"UserIds entry with a dot", map[string]any{"UserIds": []string{"a.b"}}, "InvalidParameter.UserIds", true},
		{"UserIds entry 33 bytes", map[string]any{"UserIds": []string{strings.Repeat("u", 33)}}, "InvalidParameter.UserIds", true},
		{"UserIds a string, not an array", map[string]any{"UserIds": "alice"}, "InvalidParameter.UserIds", true},
		{"UserIds null", map[string]any{"UserIds": nil}, "MissingParameter.UserIds", true},
		{"some UserIds absent: success", map[string]any{"UserIds": []string{"nobody", "ghost"}}, "", true},
		{"10 entries with duplicates: success", map[string]any{"UserIds": tenDup}, "", true},
		{"unknown parameter", map[string]any{"Force": true}, "UnknownParameter", false},
	}
	numeric := []row{
		{"RoomId a JSON string", map[string]any{"RoomId": "4321"}, "InvalidParameter.RoomId", false},
		{"RoomId float", map[string]any{"RoomId": 12.5}, "InvalidParameter.RoomId", false},
		{"RoomId bool", map[string]any{"RoomId": false}, "InvalidParameter.RoomId", false},
		{"RoomId zero", map[string]any{"RoomId": 0}, "InvalidParameterValue.RoomId", false},
		{"RoomId negative", map[string]any{"RoomId": -5}, "InvalidParameterValue.RoomId", false},
		{"RoomId 2^32-1", map[string]any{"RoomId": uint64(4294967295)}, "InvalidParameterValue.RoomId", false},
		{"RoomId 2^32", map[string]any{"RoomId": uint64(4294967296)}, "InvalidParameterValue.RoomId", false},
		{"RoomId beyond 64 bits", map[string]any{"RoomId": raw("99999999999999999999999")}, "InvalidParameterValue.RoomId", false},
		{"RoomId invalid before UserIds invalid", map[string]any{"RoomId": 0, "UserIds": []string{}}, "InvalidParameterValue.RoomId", true},
		{"room with no members", map[string]any{"RoomId": 4294967294}, "FailedOperation.RoomNotExist", false},
	}
	str := []row{
		{"RoomId a number", map[string]any{"RoomId": 4321}, "InvalidParameter.RoomId", false},
		{"RoomId an array", map[string]any{"RoomId": []string{"x"}}, "InvalidParameter.RoomId", false},
		{"RoomId empty", map[string]any{"RoomId": ""}, "InvalidParameterValue.RoomId", false},
		{"RoomId 65 bytes", map[string]any{"RoomId": strings.Repeat("r", 65)}, "InvalidParameterValue.RoomId", false},
		{"RoomId with a slash", map[string]any{"RoomId": "a/b"}, "InvalidParameterValue.RoomId", false},
		{"RoomId with a non-ASCII letter", map[string]any{"RoomId": "café"}, "InvalidParameterValue.RoomId", false},
		{"room with no members", map[string]any{"RoomId": "empty room"}, "FailedOperation.RoomNotExist", false},
		{"numeric room's digits as a string room", map[string]any{"RoomId": "4321"}, "FailedOperation.RoomNotExist", false},
	}
	actions := []struct {
		name       string
		str, users bool
	}{{"RemoveUser", false, true}, {"RemoveUserByStrRoomId", true, true}, {"DismissRoom", false, false}, {"DismissRoomByStrRoomId", true, false}}
	count := 0
	for _, a := range actions {
		rows := append(append([]row{}, common...), numeric...)
		if a.str {
			rows = append(append([]row{}, common...), str...)
		}
		for _, r := range rows {
			if r.users && !a.users {
				continue
			}
			over := r.over
			if !a.users {
				if _, ok := over["UserIds"]; ok {
					continue
				}
			}
			count++
			t.Run(a.name+"/"+r.name, func(t *testing.T) {
				if got := callJSON(t, addr, a.name, body(a.str, a.users, over)); got != r.want {
					t.Fatalf("code %q, want %q", got, r.want)
				}
			})
		}
	}
	// Form encoding (signature v1) has rows of its own.
	form := []struct {
		name, action string
		p            url.Values
		want         string
	}{
		{"SdkAppId not decimal", "RemoveUser", url.Values{"SdkAppId": {"14x"}, "RoomId": {"4321"}, "UserIds.0": {"a"}}, "InvalidParameter.SdkAppId"},
		{"RoomId not decimal", "RemoveUser", url.Values{"SdkAppId": {"1400000001"}, "RoomId": {"12a"}, "UserIds.0": {"a"}}, "InvalidParameter.RoomId"},
		{"RoomId negative", "DismissRoom", url.Values{"SdkAppId": {"1400000001"}, "RoomId": {"-3"}}, "InvalidParameterValue.RoomId"},
		{"UserIds not indexed", "RemoveUser", url.Values{"SdkAppId": {"1400000001"}, "RoomId": {"4321"}, "UserIds": {"a"}}, "InvalidParameter.UserIds"},
		{"UserIds with a gap", "RemoveUser", url.Values{"SdkAppId": {"1400000001"}, "RoomId": {"4321"}, "UserIds.0": {"a"}, "UserIds.2": {"b"}}, "InvalidParameter.UserIds"},
		{"UserIds missing", "RemoveUserByStrRoomId", url.Values{"SdkAppId": {"1400000001"}, "RoomId": {"room-4321"}}, "MissingParameter.UserIds"},
		{"string room with space in form", "RemoveUserByStrRoomId", url.Values{"SdkAppId": {"1400000001"}, "RoomId": {"a b"}, "UserIds.0": {"a"}}, "FailedOperation.RoomNotExist"},
		{"valid", "RemoveUser", url.Values{"SdkAppId": {"1400000001"}, "RoomId": {"4321"}, "UserIds.0": {"nobody"}}, ""},
	}
	for _, f := range form {
		count++
		t.Run("form/"+f.name, func(t *testing.T) {
			if got := callForm(t, addr, f.action, f.p); got != f.want {
				t.Fatalf("code %q, want %q", got, f.want)
			}
		})
	}
	// Nothing above removed the members: every request was refused or a no-op.
	if got := callJSON(t, addr, "RemoveUser", body(false, true, map[string]any{"UserIds": []string{"alice"}})); got != "" {
		t.Fatalf("final RemoveUser: %s", got)
	}
	t.Logf("%d rows", count)
	if count < 100 {
		t.Fatalf("only %d rows ran", count)
	}
}

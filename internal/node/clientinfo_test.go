package node_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/trtcd/trtcd/client"
	"github.com/trtcd/trtcd/internal/callbacks"
	"github.com/trtcd/trtcd/internal/config"
	tk "github.com/trtcd/trtcd/internal/testkit"
	"github.com/trtcd/trtcd/internal/testkit/await"
	"github.com/trtcd/trtcd/usersig"
)

// joinAs joins with the client details a TRTC SDK would report.
func joinAs(t *testing.T, addr, user string, room uint64, device, sdk string) *client.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := client.Join(ctx, "http://"+addr, client.JoinParams{SdkAppID: tk.App, UserID: user, RoomID: room,
		UserSig: usersig.Generate(tk.App, tk.AppKey, user, time.Hour, time.Now(), nil), Device: device, SdkVersion: sdk}, client.Options{})
	if err != nil {
		t.Fatalf("join %s: %v", user, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestClientDetailsReachHistoryAndCallbacks: the device and SDK version a
// client sends in its join, and the address it connects from, are in
// DescribeUserInfo's DeviceType, SdkVersion and ClientIp, and decide the
// enter-room callback's (103) TerminalType and UserType.
func TestClientDetailsReachHistoryAndCallbacks(t *testing.T) {
	var mu sync.Mutex
	enters := map[string][2]int{} // user → TerminalType, UserType of its 103
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var cb struct {
			EventType int
			EventInfo struct {
				UserId                 string
				TerminalType, UserType int
			}
		}
		if json.Unmarshal(body, &cb) == nil && cb.EventType == callbacks.EventEnterRoom {
			mu.Lock()
			enters[cb.EventInfo.UserId] = [2]int{cb.EventInfo.TerminalType, cb.EventInfo.UserType}
			mu.Unlock()
		}
	}))
	defer recv.Close()
	cfg := tk.Config()
	cfg.History, cfg.DataDir = "", t.TempDir()
	cfg.Accounts[0].Apps[0].Callback = &config.Callback{URL: recv.URL, Key: "clientDetailsKey"}
	n := tk.Start(t, cfg)

	const num = 6262
	start := time.Now().Add(-time.Minute).Unix()
	alice := joinAs(t, n.Addr(), "alice", num, "Android 14; Pixel 8", "TRTC-Android 11.8.0")
	bob := joinAs(t, n.Addr(), "bob", num, "Windows 11; Chrome 120", "TRTC-Web 5.4.0")
	await.Expect(t, await.Next(t, alice), "user_entered", "bob", "")
	carol := joinAs(t, n.Addr(), "carol", num, "", "") // says nothing about itself
	await.Expect(t, await.Next(t, alice), "user_entered", "carol", "")
	for _, c := range []*client.Conn{carol, bob, alice} {
		c.Leave(context.Background())
	}

	want := map[string][2]int{
		"alice": {callbacks.TerminalAnd, callbacks.UserNative},
		"bob":   {callbacks.TerminalWin, callbacks.UserWebRTC},
		"carol": {callbacks.TerminalElse, callbacks.UserNative},
	}
	deadline := time.Now().Add(logWait)
	for {
		mu.Lock()
		got := fmt.Sprint(enters)
		mu.Unlock()
		if got == fmt.Sprint(want) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("enter callbacks' TerminalType/UserType %s, want %s", got, fmt.Sprint(want))
		}
		time.Sleep(50 * time.Millisecond)
	}

	var rooms struct {
		Total    int
		RoomList []struct {
			CommId     string
			IsFinished bool
		}
		Error *struct{ Code, Message string }
	}
	end := time.Now().Add(time.Minute).Unix()
	for deadline = time.Now().Add(logWait); ; time.Sleep(50 * time.Millisecond) {
		describe(t, n.Addr(), "DescribeRoomInfo", map[string]any{"SdkAppId": tk.App, "StartTime": start, "EndTime": end,
			"RoomId": fmt.Sprint(num)}, &rooms)
		if rooms.Error != nil {
			t.Fatalf("DescribeRoomInfo: %+v", rooms.Error)
		}
		if rooms.Total == 1 && rooms.RoomList[0].IsFinished {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the room's session is not in the history as finished: %+v", rooms)
		}
	}
	var users struct {
		Total    int
		UserList []struct{ UserId, DeviceType, SdkVersion, ClientIp string }
		Error    *struct{ Code, Message string }
	}
	describe(t, n.Addr(), "DescribeUserInfo", map[string]any{"SdkAppId": tk.App, "CommId": rooms.RoomList[0].CommId,
		"StartTime": start, "EndTime": end}, &users)
	if users.Error != nil || users.Total != 3 {
		t.Fatalf("DescribeUserInfo: %+v", users)
	}
	var got []string
	for _, u := range users.UserList {
		got = append(got, fmt.Sprintf("%s|%s|%s|%s", u.UserId, u.DeviceType, u.SdkVersion, u.ClientIp))
	}
	sort.Strings(got)
	wantRows := []string{
		"alice|Android 14; Pixel 8|TRTC-Android 11.8.0|127.0.0.1",
		"bob|Windows 11; Chrome 120|TRTC-Web 5.4.0|127.0.0.1",
		"carol|||127.0.0.1",
	}
	if fmt.Sprint(got) != fmt.Sprint(wantRows) {
		t.Fatalf("DescribeUserInfo rows\n%v\nwant\n%v", got, wantRows)
	}
}

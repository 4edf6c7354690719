package node_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/trtcd/trtcd/internal/cloudapi"
	"github.com/trtcd/trtcd/internal/node"
	tk "github.com/trtcd/trtcd/internal/testkit"
	"github.com/trtcd/trtcd/internal/testkit/await"
	"github.com/trtcd/trtcd/internal/trtc"
)

// describe calls a monitoring action signed as the acme account and
// decodes its Response into out.
func describe(t *testing.T, addr, action string, params map[string]any, out any) {
	t.Helper()
	body, _ := json.Marshal(params)
	r, _ := http.NewRequest("POST", "http://"+addr+"/", strings.NewReader(string(body)))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("X-TC-Action", action)
	r.Header.Set("X-TC-Version", trtc.Version)
	r.Header.Set("X-TC-Region", trtc.DefaultClientRegion)
	cloudapi.SignTC3(r, body, tk.AcmeID, tk.AcmeKey, trtc.Service, time.Now())
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var env struct{ Response json.RawMessage }
	if err := json.Unmarshal(b, &env); err != nil {
		t.Fatalf("%s: %s", action, b)
	}
	if err := json.Unmarshal(env.Response, out); err != nil {
		t.Fatalf("%s: %v: %s", action, err, b)
	}
}

// TestHistoryFromTheRunningNode: what happens in a room on a node with the
// default embedded history reaches the monitoring actions through the
// node's history consumer group.
func TestHistoryFromTheRunningNode(t *testing.T) {
	cfg := tk.Config()
	cfg.History, cfg.DataDir = "", t.TempDir() // SQLite in data_dir, as `trtcd serve` does
	n := tk.Start(t, cfg)
	if n.History == nil || len(n.Groups()) != 1 || n.Groups()[0].Name() != node.HistoryGroup {
		t.Fatal("no history store and group on a single node with data_dir")
	}
	const num = 4242
	start := time.Now().Add(-time.Minute).Unix()
	alice := tk.Join(t, n.Addr(), tk.App, tk.AppKey, "alice", num, "")
	tk.Join(t, n.Addr(), tk.App, tk.AppKey, "bob", num, "")
	await.Expect(t, await.Next(t, alice), "user_entered", "bob", "")
	if _, err := tk.SDK(t, n.Addr(), tk.AcmeID, tk.AcmeKey, tk.Modes[0]).RemoveUser(removeReq(num, "bob")); err != nil {
		t.Fatal(err)
	}
	await.Expect(t, await.Next(t, alice), "user_left", "bob", "removed")
	alice.Leave(context.Background())

	type room struct {
		CommId, RoomString, UserId string
		IsFinished                 bool
	}
	var rooms struct {
		Total    int
		RoomList []room
		Error    *struct{ Code, Message string }
	}
	end := time.Now().Add(time.Minute).Unix()
	deadline := time.Now().Add(logWait)
	for {
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
		time.Sleep(50 * time.Millisecond)
	}
	got := rooms.RoomList[0]
	if got.RoomString != fmt.Sprint(num) || got.UserId != "alice" {
		t.Fatalf("room session %+v: want room %d created by alice", got, num)
	}
	var users struct {
		Total    int
		UserList []struct {
			UserId   string
			Finished bool
		}
		Error *struct{ Code, Message string }
	}
	describe(t, n.Addr(), "DescribeUserInfo", map[string]any{"SdkAppId": tk.App, "CommId": got.CommId, "StartTime": start, "EndTime": end}, &users)
	if users.Error != nil || users.Total != 2 {
		t.Fatalf("DescribeUserInfo: %+v", users)
	}
	for _, u := range users.UserList {
		if !u.Finished || (u.UserId != "alice" && u.UserId != "bob") {
			t.Fatalf("member sessions %+v: want alice and bob, both finished", users.UserList)
		}
	}
}

// TestHistoryOffAnswersNotConfigured: with history off (as in cluster mode
// without PostgreSQL) the node works and the monitoring actions say that
// history is not configured.
func TestHistoryOffAnswersNotConfigured(t *testing.T) {
	n := tk.Start(t, tk.Config()) // history: off
	if n.History != nil {
		t.Fatal("a history store although history is off")
	}
	var out struct {
		Error *struct{ Code, Message string }
	}
	describe(t, n.Addr(), "DescribeScaleInfo", map[string]any{"SdkAppId": tk.App, "StartTime": time.Now().Add(-time.Hour).Unix(),
		"EndTime": time.Now().Unix()}, &out)
	if out.Error == nil || out.Error.Code != trtc.CodeHistoryNotConfigured {
		t.Fatalf("DescribeScaleInfo with history off: %+v", out.Error)
	}
}

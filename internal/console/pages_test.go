package console_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	trtcsdk "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/trtc/v20190722"

	"github.com/trtcd/trtcd/internal/callbacks"
	"github.com/trtcd/trtcd/internal/config"
	tk "github.com/trtcd/trtcd/internal/testkit"
	"github.com/trtcd/trtcd/internal/testkit/await"
)

// eventually polls cond until it holds, failing after a generous deadline.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 60 s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func historyConfig() config.Config {
	cfg := devConfig()
	cfg.History = "" // SQLite in the test's data_dir
	return cfg
}

type stay struct {
	UserID      string `json:"userId"`
	Role        string `json:"role"`
	JoinMs      int64  `json:"joinMs"`
	LeaveMs     int64  `json:"leaveMs"`
	LeaveReason string `json:"leaveReason"`
}

type historyRoomAnswer struct {
	Enabled bool
	Room    struct {
		CommID      string `json:"commId"`
		Room        string `json:"room"`
		DestroyedMs int64  `json:"destroyedMs"`
		CloseReason string `json:"closeReason"`
	}
	Members []stay
}

type historyRoomsAnswer struct {
	Enabled bool
	Total   int
	Rooms   []struct {
		CommID string `json:"commId"`
		Room   string `json:"room"`
	}
}

// TestHistoryPages: the rooms of a time range and one room session's
// stays come from the history store, with each leave's reason (a removal
// from the console included); bad ranges and CommIds are refused naming
// the field; another account's app is 404.
func TestHistoryPages(t *testing.T) {
	n := tk.Start(t, historyConfig())
	b := newBrowser(t, n)
	b.signIn(tk.AcmeID, tk.AcmeKey)
	alice := tk.Join(t, n.Addr(), tk.App, tk.AppKey, "alice", 51, "")
	bob := tk.Join(t, n.Addr(), tk.App, tk.AppKey, "bob", 51, "")
	await.Expect(t, await.Next(t, alice), "user_entered", "bob", "")
	if r := b.call("RemoveUser", map[string]any{"SdkAppId": tk.App, "RoomId": 51, "UserIds": []string{"bob"}}); tk.ErrCode(r) != "" {
		t.Fatalf("RemoveUser: %v", r)
	}
	await.Expect(t, await.Next(t, bob), "kicked", "", "removed")
	var rooms historyRoomsAnswer
	eventually(t, "room 51 in history", func() bool {
		return b.getJSON("api/history/rooms?app=1400000001", &rooms) == 200 && rooms.Enabled && len(rooms.Rooms) == 1 && rooms.Rooms[0].Room == "51"
	})
	comm := rooms.Rooms[0].CommID
	var room historyRoomAnswer
	eventually(t, "bob's removal in the timeline", func() bool {
		if b.getJSON("api/history/room?app=1400000001&comm="+comm, &room) != 200 {
			return false
		}
		for _, m := range room.Members {
			if m.UserID == "bob" && m.LeaveReason == "removed" && m.LeaveMs >= m.JoinMs {
				return true
			}
		}
		return false
	})
	if len(room.Members) != 2 || room.Members[0].UserID != "alice" || room.Members[0].LeaveMs != 0 || room.Room.DestroyedMs != 0 {
		t.Fatalf("timeline %+v", room)
	}
	// a range that ends before the room opened lists nothing
	if b.getJSON("api/history/rooms?app=1400000001&from=0&to=1000", &rooms) != 200 || rooms.Total != 0 || len(rooms.Rooms) != 0 {
		t.Fatalf("old range %+v", rooms)
	}
	for p, field := range map[string]string{
		"api/history/rooms?app=1400000001&from=x":               "from",
		"api/history/rooms?app=1400000001&from=5&to=4":          "from",
		"api/history/rooms?app=1400000001&to=-1":                "to",
		"api/history/rooms?app=1400000001&offset=-1":            "offset",
		"api/history/room?app=1400000001&comm=":                 "comm",
		"api/history/room?app=1400000001&comm=1400000003_5_1_1": "comm",
		"api/history/rooms?app=0":                               "app",
	} {
		if code, _, body := b.do("GET", p, "", nil); code != 400 || !strings.HasPrefix(body, `{"error":"`+field+`:`) {
			t.Errorf("%s: %d %s", p, code, body)
		}
	}
	if code, _, _ := b.do("GET", "api/history/room?app=1400000001&comm=1400000001_51_0_0", "", nil); code != 404 {
		t.Errorf("unknown CommId: %d", code)
	}
	for _, p := range []string{"api/history/rooms?app=1400000003", "api/history/room?app=1400000003&comm=1400000003_5_1_1"} {
		if code, _, _ := b.do("GET", p, "", nil); code != 404 {
			t.Errorf("%s: %d", p, code)
		}
	}
}

// TestHistoryOff: with history off the endpoints say so.
func TestHistoryOff(t *testing.T) {
	n := tk.Start(t, devConfig())
	b := newBrowser(t, n)
	b.signIn(tk.AcmeID, tk.AcmeKey)
	for _, p := range []string{"api/history/rooms?app=1400000001", "api/history/room?app=1400000001&comm=1400000001_1_1_1"} {
		if code, _, body := b.do("GET", p, "", nil); code != 200 || body != "{\"enabled\":false}\n" {
			t.Fatalf("%s: %d %s", p, code, body)
		}
	}
}

// receiver is a loopback callback receiver that answers 500 while failing
// is set and 200 otherwise; it counts what it accepted.
type receiver struct {
	failing  atomic.Bool
	mu       sync.Mutex
	accepted []string // X-Trtcd-Event-Id
	url      string
}

func newReceiver(t *testing.T) *receiver {
	rv := &receiver{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if rv.failing.Load() {
			w.WriteHeader(500)
			return
		}
		rv.mu.Lock()
		rv.accepted = append(rv.accepted, r.Header.Get(callbacks.HeaderEventID))
		rv.mu.Unlock()
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	rv.url = "http://" + ln.Addr().String() + "/cb"
	return rv
}

const callbackKey = "consoleTestKey42"

func callbackConfigFor(url string) config.Config {
	cfg := devConfig()
	cfg.Accounts[0].Apps[0].Callback = &config.Callback{URL: url, Key: callbackKey}
	cfg.Callbacks = config.Callbacks{RetryInterval: config.Duration{Duration: 5 * time.Millisecond},
		RetryMaxInterval: config.Duration{Duration: 10 * time.Millisecond}, RetryHorizon: config.Duration{Duration: 50 * time.Millisecond}}
	return cfg
}

type callbacksAnswer struct {
	Configured  bool
	URL         string
	Pending     int64
	DeadCount   int64
	Recent      []callbacks.Delivery
	DeadLetters []struct {
		ID        int64  `json:"id"`
		Room      string `json:"room"`
		Seq       uint64 `json:"seq"`
		EventType int    `json:"eventType"`
		EventMs   int64  `json:"eventMsTs"`
		LastError string `json:"lastError"`
	}
}

// deadEventID is the X-Trtcd-Event-Id of the answer's dead letter id.
func (a callbacksAnswer) deadEventID(t *testing.T, id int64) string {
	for _, d := range a.DeadLetters {
		if d.ID == id {
			return callbacks.EventID(d.Room, d.Seq, d.EventType, d.EventMs)
		}
	}
	t.Fatalf("no dead letter %d in %+v", id, a.DeadLetters)
	return ""
}

func (rv *receiver) got(eventID string) bool {
	rv.mu.Lock()
	defer rv.mu.Unlock()
	return slices.Contains(rv.accepted, eventID)
}

// TestCallbacksPage: the page shows the app's receiver (never its key),
// deliveries to a real loopback receiver with their latency, the dead
// letters of a failing receiver, and replays them (CSRF enforced); an app
// without a callback says so.
func TestCallbacksPage(t *testing.T) {
	rv := newReceiver(t)
	rv.failing.Store(true)
	n := tk.Start(t, callbackConfigFor(rv.url))
	b := newBrowser(t, n)
	b.signIn(tk.AcmeID, tk.AcmeKey)
	tk.Join(t, n.Addr(), tk.App, tk.AppKey, "zed", 91, "")
	var cb callbacksAnswer
	eventually(t, "dead letters", func() bool {
		return b.getJSON("api/callbacks?app=1400000001", &cb) == 200 && cb.DeadCount >= 2 && len(cb.DeadLetters) == int(cb.DeadCount)
	})
	code, _, raw := b.do("GET", "api/callbacks?app=1400000001", "", nil)
	if code != 200 || !cb.Configured || cb.URL != rv.url || strings.Contains(raw, callbackKey) || cb.DeadLetters[0].LastError != "HTTP 500" ||
		cb.DeadLetters[0].Room != "1400000001:n:91" {
		t.Fatalf("callbacks %d %s", code, raw)
	}
	dead := cb.DeadCount
	rv.failing.Store(false)
	tk.Join(t, n.Addr(), tk.App, tk.AppKey, "yan", 92, "")
	eventually(t, "a delivery", func() bool {
		if b.getJSON("api/callbacks?app=1400000001", &cb) != 200 {
			return false
		}
		for _, d := range cb.Recent {
			if d.Delivered && d.Room == "1400000001:n:92" && d.DoneMs >= d.EventMs {
				return true
			}
		}
		return false
	})
	id := cb.DeadLetters[0].ID
	eventID := cb.deadEventID(t, id)
	if rv.got(eventID) {
		t.Fatal("the receiver has the dead letter's event already")
	}
	body := fmt.Sprintf(`{"app":1400000001,"ids":[%d]}`, id)
	for _, hdr := range []map[string]string{nil, {"X-CSRF-Token": "wrong"}} {
		if code, _, _ := b.do("POST", "api/callbacks/replay", body, hdr); code != 403 {
			t.Fatalf("replay %v: %d", hdr, code)
		}
	}
	if b.getJSON("api/callbacks?app=1400000001", &cb); cb.DeadCount != dead {
		t.Fatalf("a refused replay changed the dead letters: %d → %d", dead, cb.DeadCount)
	}
	for _, c := range []struct{ body, want string }{
		{`{"app":1400000001}`, "ids"}, {`{"app":1400000001,"ids":[1],"all":true}`, "ids"}, {`{"app":0,"all":true}`, "app"},
		{`{"app":1400000001,"ids":[0]}`, "ids"}, {`{"app":1400000001,"x":1}`, "unknown"}, {`[]`, "JSON"},
	} {
		if code, _, got := b.do("POST", "api/callbacks/replay", c.body, map[string]string{"X-CSRF-Token": b.csrf}); code != 400 || !strings.Contains(got, c.want) {
			t.Errorf("%s: %d %s", c.body, code, got)
		}
	}
	if code, _, _ := b.do("POST", "api/callbacks/replay", `{"app":1400000003,"all":true}`, map[string]string{"X-CSRF-Token": b.csrf}); code != 404 {
		t.Errorf("another account's app: %d", code)
	}
	if code, _, got := b.do("POST", "api/callbacks/replay", body, map[string]string{"X-CSRF-Token": b.csrf}); code != 200 || got != "{\"replayed\":1}\n" {
		t.Fatalf("replay: %d %s", code, got)
	}
	eventually(t, "the replayed event delivered", func() bool {
		return rv.got(eventID) && b.getJSON("api/callbacks?app=1400000001", &cb) == 200 && cb.DeadCount == dead-1
	})
	if code, _, got := b.do("POST", "api/callbacks/replay", `{"app":1400000001,"all":true}`, map[string]string{"X-CSRF-Token": b.csrf}); code != 200 ||
		got != fmt.Sprintf("{\"replayed\":%d}\n", dead-1) {
		t.Fatalf("replay all: %d %s", code, got)
	}
	if st := n.Console.Stats(); st.Replayed != uint64(dead) {
		t.Fatalf("replayed counter %d, want %d", st.Replayed, dead)
	}
	var none callbacksAnswer
	if b.getJSON("api/callbacks?app=1400000002", &none) != 200 || none.Configured || none.URL != "" {
		t.Fatalf("app without a callback: %+v", none)
	}
	if code, _, _ := b.do("POST", "api/callbacks/replay", `{"app":1400000002,"all":true}`, map[string]string{"X-CSRF-Token": b.csrf}); code != 409 {
		t.Fatalf("replay on an app without a callback: %d", code)
	}
}

type mediaMember struct {
	UserID string `json:"userId"`
	Media  *struct {
		Audio, Video, Screen       bool
		BlockedAudio, BlockedVideo bool
	} `json:"media"`
}

// TestMediaState: a member's blocked audio and video follow the console's
// SetUserBlocked calls, in the room answer and its live view.
func TestMediaState(t *testing.T) {
	n := tk.Start(t, devConfig())
	b := newBrowser(t, n)
	b.signIn(tk.AcmeID, tk.AcmeKey)
	c := tk.Join(t, n.Addr(), tk.App, tk.AppKey, "mia", 61, "")
	var room struct{ Members []mediaMember }
	if b.getJSON("api/room?app=1400000001&room=n:61", &room) != 200 || len(room.Members) != 1 || room.Members[0].Media == nil ||
		room.Members[0].Media.BlockedVideo || room.Members[0].Media.Video {
		t.Fatalf("room %+v", room)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ev := b.stream(ctx, "api/live/room?app=1400000001&room=n:61")
	next := func() mediaMember {
		select {
		case d := <-ev:
			var x struct{ Members []mediaMember }
			if json.Unmarshal([]byte(d), &x) != nil || len(x.Members) != 1 || x.Members[0].Media == nil {
				t.Fatalf("live %s", d)
			}
			return x.Members[0]
		case <-time.After(30 * time.Second):
			t.Fatal("no live event within 30 s")
		}
		return mediaMember{}
	}
	if m := next(); m.Media.BlockedVideo {
		t.Fatalf("first %+v", m.Media)
	}
	if r := b.call("SetUserBlocked", map[string]any{"SdkAppId": tk.App, "RoomId": 61, "UserId": "mia", "IsMute": 3}); tk.ErrCode(r) != "" {
		t.Fatalf("block video: %v", r)
	}
	if m := next(); !m.Media.BlockedVideo || m.Media.BlockedAudio {
		t.Fatalf("after blocking video %+v", m.Media)
	}
	await.Expect(t, await.Skipping(t, c, ""), "user_blocked", "mia", "")
	if r := b.call("SetUserBlocked", map[string]any{"SdkAppId": tk.App, "RoomId": 61, "UserId": "mia", "IsMute": 0}); tk.ErrCode(r) != "" {
		t.Fatalf("unblock: %v", r)
	}
	if m := next(); m.Media.BlockedVideo || m.Media.BlockedAudio {
		t.Fatalf("after unblocking %+v", m.Media)
	}
}

// newerSDKActions are TRTC actions that the SDK this module's tests pin
// (tencentcloud-sdk-go v1.0.162) predates; the current SDK module
// (tencentcloud-sdk-go/tencentcloud/trtc) has them. Their snippets are
// checked for shape only.
var newerSDKActions = map[string]bool{"DescribeRoomInfo": true, "DescribeScaleInfo": true, "DescribeUserEvent": true,
	"DescribeUserInfo": true, "SetUserBlocked": true, "SetUserBlockedByStrRoomId": true}

// TestGoSnippet: the explorer's Go snippet of every TRTC action calls the
// official SDK's client method of that action and type-checks against the
// pinned SDK (the few actions it predates apart); admin actions have none.
func TestGoSnippet(t *testing.T) {
	n := tk.Start(t, devConfig())
	b := newBrowser(t, n)
	b.signIn(tk.AcmeID, tk.AcmeKey)
	var cat struct {
		Actions []struct {
			Name, Service string
		}
	}
	if b.getJSON("api/actions", &cat) != 200 {
		t.Fatal("actions")
	}
	client := reflect.TypeOf(&trtcsdk.Client{})
	dir, err := os.MkdirTemp(".", "_gosnippet")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	var pkgs []string
	for _, a := range cat.Actions {
		p, _ := json.Marshal(map[string]any{"action": a.Name, "params": map[string]any{"SdkAppId": tk.App}})
		code, _, body := b.do("POST", "api/call", string(p), map[string]string{"X-CSRF-Token": b.csrf})
		var out struct{ Go string }
		if code != 200 || json.Unmarshal([]byte(body), &out) != nil {
			t.Fatalf("%s: %d %s", a.Name, code, body)
		}
		if a.Service != "trtc" {
			if out.Go != "" {
				t.Errorf("%s (%s) has a Go snippet", a.Name, a.Service)
			}
			continue
		}
		_, inSDK := client.MethodByName(a.Name)
		if inSDK == newerSDKActions[a.Name] {
			t.Errorf("%s: in the pinned SDK %v, listed as newer %v", a.Name, inSDK, newerSDKActions[a.Name])
		}
		if !strings.Contains(out.Go, "client."+a.Name+"(req)") || !strings.Contains(out.Go, "trtc.New"+a.Name+"Request()") ||
			!strings.Contains(out.Go, "`{\"SdkAppId\":1400000001}`") || !strings.Contains(out.Go, `"`+n.Addr()+`"`) {
			t.Errorf("%s: snippet\n%s", a.Name, out.Go)
		}
		if !inSDK {
			continue
		}
		d := filepath.Join(dir, a.Name)
		os.Mkdir(d, 0o755)
		os.WriteFile(filepath.Join(d, "main.go"), []byte(out.Go), 0o644)
		pkgs = append(pkgs, "./"+filepath.ToSlash(d))
	}
	if len(pkgs) == 0 {
		t.Fatal("no TRTC actions")
	}
	if out, err := exec.Command("go", append([]string{"vet"}, pkgs...)...).CombinedOutput(); err != nil {
		t.Fatalf("go vet of the snippets: %v\n%s", err, out)
	}
}

package node_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	trtcsdk "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/trtc/v20190722"

	"github.com/trtcd/trtcd/client"
	"github.com/trtcd/trtcd/internal/cloudapi"
	"github.com/trtcd/trtcd/internal/config"
	"github.com/trtcd/trtcd/internal/eventlog"
	"github.com/trtcd/trtcd/internal/metrics"
	"github.com/trtcd/trtcd/internal/node"
	"github.com/trtcd/trtcd/internal/rooms"
	"github.com/trtcd/trtcd/internal/signal"
	tk "github.com/trtcd/trtcd/internal/testkit"
	"github.com/trtcd/trtcd/internal/testkit/await"
	"github.com/trtcd/trtcd/internal/trtc"
	"github.com/trtcd/trtcd/usersig"
)

// waitMetric waits up to 30 s for a sample of /metrics to reach at least min.
func waitMetric(t *testing.T, addr, name string, min float64) {
	t.Helper()
	var got float64
	until(t, fmt.Sprintf("%s >= %v", name, min), func() bool {
		got = scrape(t, addr)[name]
		return got >= min
	})
}

// signedPost sends a TC3 POST with the acme account and returns the code.
func signedPost(t *testing.T, addr, action, body string) string {
	t.Helper()
	r, _ := http.NewRequest("POST", "http://"+addr+"/", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("X-TC-Action", action)
	r.Header.Set("X-TC-Version", trtc.Version)
	r.Header.Set("X-TC-Region", "ap-guangzhou")
	cloudapi.SignTC3(r, []byte(body), tk.AcmeID, tk.AcmeKey, "trtc", time.Now())
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if i := bytes.Index(b, []byte(`"Code":"`)); i >= 0 {
		rest := b[i+8:]
		return string(rest[:bytes.IndexByte(rest, '"')])
	}
	return "OK"
}

// TestMetricsCountSessionsAndAPICalls: joins, refused joins by code, leaves
// and kicks by reason (removed, duplicate, dismissed), the live gauges, and
// API calls by action and code with their latency, read over HTTP.
func TestMetricsCountSessionsAndAPICalls(t *testing.T) {
	n := tk.Start(t, tk.Config())
	addr := n.Addr()
	alice := tk.Join(t, addr, tk.App, tk.AppKey, "alice", 10, "")
	bob := tk.Join(t, addr, tk.App, tk.AppKey, "bob", 10, "")
	tk.Join(t, addr, tk.App, tk.AppKey, "carol", 11, "")
	await.Expect(t, await.Next(t, alice), "user_entered", "bob", "")
	m := scrape(t, addr)
	for name, want := range map[string]float64{"trtcd_joins_total": 3, "trtcd_sessions": 3, "trtcd_rooms": 2, "trtcd_connections": 3} {
		if m[name] != want {
			t.Errorf("%s = %v, want %v", name, m[name], want)
		}
	}

	sdk := tk.SDK(t, addr, tk.AcmeID, tk.AcmeKey, tk.Modes[0])
	if _, err := sdk.RemoveUser(removeReq(10, "bob")); err != nil {
		t.Fatal(err)
	}
	await.Expect(t, await.Next(t, bob), "kicked", "", "removed")
	await.Expect(t, await.Next(t, alice), "user_left", "bob", "removed")
	if _, err := sdk.RemoveUser(removeReq(99, "nobody")); tk.Code(err) != "FailedOperation.RoomNotExist" {
		t.Fatalf("RemoveUser on an empty room: %v", err)
	}
	alice2 := tk.Join(t, addr, tk.App, tk.AppKey, "alice", 10, "")
	await.Expect(t, await.Next(t, alice), "kicked", "", "duplicate")
	req := trtcsdk.NewDismissRoomRequest()
	req.SdkAppId, req.RoomId = tk.U64(tk.App), tk.U64(10)
	if _, err := sdk.DismissRoom(req); err != nil {
		t.Fatal(err)
	}
	await.Expect(t, await.Next(t, alice2), "kicked", "", "dismissed")
	dave := tk.Join(t, addr, tk.App, tk.AppKey, "dave", 12, "")
	if err := dave.Leave(context.Background()); err != nil {
		t.Fatal(err)
	}
	_, err := join(addr, tk.App, "not-the-key", "eve", 12)
	var ce *client.Error
	if !errors.As(err, &ce) || ce.Code != "AuthFailure.UserSig" {
		t.Fatalf("join with a bad UserSig: %v", err)
	}

	waitMetric(t, addr, `trtcd_leaves_total{reason="left"}`, 1)
	m = scrape(t, addr)
	for name, want := range map[string]float64{
		`trtcd_kicks_total{reason="removed"}`:                                               1,
		`trtcd_kicks_total{reason="duplicate"}`:                                             1,
		`trtcd_kicks_total{reason="dismissed"}`:                                             1,
		`trtcd_joins_refused_total{code="AuthFailure.UserSig"}`:                             1,
		`trtcd_client_errors_total{code="AuthFailure.UserSig"}`:                             1,
		`trtcd_api_requests_total{action="RemoveUser",code="OK"}`:                           1,
		`trtcd_api_requests_total{action="RemoveUser",code="FailedOperation.RoomNotExist"}`: 1,
		`trtcd_api_requests_total{action="DismissRoom",code="OK"}`:                          1,
		`trtcd_api_request_duration_seconds_count{action="RemoveUser"}`:                     2,
		`trtcd_joins_total`: 5,
	} {
		if m[name] != want {
			t.Errorf("%s = %v, want %v", name, m[name], want)
		}
	}
	if m[`trtcd_api_request_duration_seconds_sum{action="RemoveUser"}`] <= 0 {
		t.Errorf("RemoveUser's latency sum is %v", m[`trtcd_api_request_duration_seconds_sum{action="RemoveUser"}`])
	}
	// The standard collectors, in place of the hand-written gauges.
	for _, name := range []string{"go_goroutines", "process_resident_memory_bytes", "process_cpu_seconds_total", "go_memstats_heap_inuse_bytes"} {
		if _, ok := m[name]; !ok {
			t.Errorf("no %s", name)
		}
	}
}

// TestMetricsFrontDoorPolicies: the rate limit, the parameter decoding
// limits and echo truncation each move their counter; a made-up action
// name is counted as "unknown", never as a label of its own.
func TestMetricsFrontDoorPolicies(t *testing.T) {
	cfg := tk.Config()
	cfg.RateLimits = map[string]int{"DismissRoom": 1}
	n := tk.Start(t, cfg)
	addr := n.Addr()

	body := fmt.Sprintf(`{"SdkAppId":%d,"RoomId":77}`, tk.App)
	limited := 0
	for i := 0; i < 50 && limited == 0; i++ {
		if signedPost(t, addr, "DismissRoom", body) == "RequestLimitExceeded" {
			limited++
		}
	}
	if limited == 0 {
		t.Fatal("no call was rate-limited at 1 a second in 50 calls")
	}
	if got := metric(t, addr, `trtcd_api_requests_total{action="DismissRoom",code="RequestLimitExceeded"}`); got != 1 {
		t.Fatalf("rate-limited calls counted %d", got)
	}

	nested := strings.Repeat(`{"a":`, 100) + "1" + strings.Repeat("}", 100)
	if code := signedPost(t, addr, "RemoveUser", nested); code != "InvalidParameter" {
		t.Fatalf("a body nested 100 deep: %s", code)
	}
	if got := metric(t, addr, "trtcd_api_params_refused_total"); got != 1 {
		t.Fatalf("trtcd_api_params_refused_total = %d", got)
	}

	before := metric(t, addr, "trtcd_api_echo_truncations_total")
	long := strings.Repeat("X", 300)
	if code := signedPost(t, addr, long, "{}"); code != "InvalidAction" {
		t.Fatalf("a 300-byte action: %s", code)
	}
	if got := metric(t, addr, "trtcd_api_echo_truncations_total"); got <= before {
		t.Fatalf("trtcd_api_echo_truncations_total stayed at %d", got)
	}
	m := scrape(t, addr)
	if m[`trtcd_api_requests_total{action="unknown",code="InvalidAction"}`] != 1 {
		t.Fatalf("the made-up action was not counted as unknown")
	}
	for k := range m {
		if strings.Contains(k, long[:20]) {
			t.Fatalf("client input became a label: %s", k)
		}
	}
}

// TestMetricsIdleTimeoutAndSlowClient: a client that stops pinging is
// removed by the idle timeout, and one that stops reading is dropped as
// slow; each moves its counter and is counted as a leave with reason timeout.
func TestMetricsIdleTimeoutAndSlowClient(t *testing.T) {
	cfg := tk.Config()
	cfg.IdleTimeout = config.Duration{Duration: config.MinIdleTimeout}
	cfg.ClientQueue = 4
	n := tk.Start(t, cfg)
	addr := n.Addr()

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	silent, err := client.Join(ctx, "http://"+addr, client.JoinParams{SdkAppID: tk.App, UserID: "silent",
		UserSig: usersig.Generate(tk.App, tk.AppKey, "silent", time.Hour, time.Now(), nil), RoomID: 20}, client.Options{Heartbeat: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	waitMetric(t, addr, "trtcd_client_idle_timeouts_total", 1)
	waitMetric(t, addr, `trtcd_leaves_total{reason="timeout"}`, 1)

	// The slow member: a small socket buffer, and it never reads.
	d := &websocket.Dialer{NetDialContext: func(ctx context.Context, network, a string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, a)
		if tc, ok := c.(*net.TCPConn); ok {
			tc.SetReadBuffer(4096)
		}
		return c, err
	}}
	slow, _, err := d.Dial("ws://"+addr+signal.Path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	sig := usersig.Generate(tk.App, tk.AppKey, "slow", time.Hour, time.Now(), nil)
	slow.WriteMessage(websocket.TextMessage, []byte(fmt.Sprintf(`{"type":"join","sdkAppId":%d,"userId":"slow","userSig":%q,"roomId":21}`, tk.App, sig)))
	room := rooms.NumRoom(tk.App, 21)
	until(t, "the slow member to join", func() bool { return len(members(t, n, 21)) > len("[]") })
	// Members come and go in process until the slow one is dropped.
	for i := 0; scrape(t, addr)["trtcd_client_slow_drops_total"] < 1; i++ {
		if i == 20 {
			t.Fatal("the slow client was not dropped after 20 000 events")
		}
		for j := 0; j < 500; j++ {
			s := inert{tk.Name("m", i*500+j)}
			if err := n.Hub.Join(ctx, room, s.id, rooms.Anchor, s); err != nil {
				t.Fatal(err)
			}
			n.Hub.Leave(ctx, room, s, rooms.ReasonLeft)
		}
	}
	waitMetric(t, addr, `trtcd_leaves_total{reason="timeout"}`, 2)
}

// inert is an in-process member that produces room events without a
// connection.
type inert struct{ id string }

func (s inert) ID() string            { return s.id }
func (s inert) Deliver(*rooms.Notice) {}

// eventLog stands in for a node's event log with a group: it only reports
// figures, so that every event-log metric is served.
type eventLog struct{}

func (eventLog) Appended() uint64 { return 42 }
func (eventLog) Groups() []metrics.GroupLag {
	return []metrics.GroupLag{{Group: "callbacks", Consumed: 40, Lag: 2}}
}

// TestMetricsEventLog: /metrics shows the node's event log: the events
// its changes appended, and each group's consumed count and lag.
func TestMetricsEventLog(t *testing.T) {
	n, err := node.New(tk.Config(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.AddGroup("callbacks", func(context.Context, eventlog.Event) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if err := n.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Shutdown(context.Background()) })
	if m := scrape(t, n.Addr()); m["trtcd_events_appended_total"] != 0 {
		t.Fatalf("appended before any change: %v", m["trtcd_events_appended_total"])
	}
	tk.Join(t, n.Addr(), tk.App, tk.AppKey, "alice", 5, "") // room_open, enter
	deadline := time.Now().Add(30 * time.Second)
	for {
		m := scrape(t, n.Addr())
		if m["trtcd_events_appended_total"] == 2 && m[`trtcd_events_consumed_total{group="callbacks"}`] == 2 {
			if _, ok := m[`trtcd_event_group_lag{group="callbacks"}`]; !ok {
				t.Fatal("no lag metric for the group")
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("appended %v, consumed %v", m["trtcd_events_appended_total"], m[`trtcd_events_consumed_total{group="callbacks"}`])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestMetricsAreDocumented: every trtcd metric a cluster node serves (with
// an API call made and the event log wired) has a line in docs/metrics.md.
func TestMetricsAreDocumented(t *testing.T) {
	n := startCluster(t, tk.StartRedis(t), 1)[0]
	n.Metrics.SetEventLog(eventLog{})
	signedPost(t, n.Addr(), "RemoveUser", "{}")
	if families := documentedFamilies(t, n.Addr(), "trtcd_"); families < 30 {
		t.Fatalf("only %d trtcd metric families served", families)
	}
}

// documentedFamilies reads addr's /metrics and fails t for every metric
// family named with prefix that has no row in docs/metrics.md; it returns
// how many such families were served.
func documentedFamilies(t *testing.T, addr, prefix string) int {
	t.Helper()
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "metrics.md"))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	families := 0
	for _, line := range strings.Split(string(body), "\n") {
		f := strings.Fields(line)
		if len(f) < 4 || f[0] != "#" || f[1] != "TYPE" || !strings.HasPrefix(f[2], prefix) {
			continue
		}
		families++
		if !bytes.Contains(doc, []byte("| `"+f[2]+"` | "+f[3]+" |")) {
			t.Errorf("docs/metrics.md has no row for %s (%s)", f[2], f[3])
		}
	}
	return families
}

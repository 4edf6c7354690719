package node_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	trtcsdk "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/trtc/v20190722"

	"github.com/trtcd/trtcd/client"
	"github.com/trtcd/trtcd/internal/config"
	"github.com/trtcd/trtcd/internal/node"
	tk "github.com/trtcd/trtcd/internal/testkit"
	"github.com/trtcd/trtcd/internal/testkit/await"
	"github.com/trtcd/trtcd/usersig"
)

// TestCallbacksFromTheRunningNode: a room's life on a node reaches the app's
// callback receiver as TRTC's room events, in order, each body signed with
// the app's callback key (checked here with an independent HMAC).
func TestCallbacksFromTheRunningNode(t *testing.T) {
	const key = "nodeTestCallbackKey1"
	var mu sync.Mutex
	var got []string // "EventType/UserId"
	var bad []string
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mac := hmac.New(sha256.New, []byte(key))
		mac.Write(body)
		var cb struct {
			EventGroupId, EventType int
			EventInfo               struct {
				RoomId any
				UserId string
			}
		}
		mu.Lock()
		defer mu.Unlock()
		if r.Header.Get("Sign") != base64.StdEncoding.EncodeToString(mac.Sum(nil)) || json.Unmarshal(body, &cb) != nil {
			bad = append(bad, string(body))
		} else {
			got = append(got, strconv.Itoa(cb.EventType)+"/"+cb.EventInfo.UserId)
		}
	}))
	defer recv.Close()

	cfg := tk.Config()
	cfg.Accounts[0].Apps[0].Callback = &config.Callback{URL: recv.URL, Key: key}
	n := tk.Start(t, cfg)
	if n.Callbacks == nil {
		t.Fatal("no callback sender although an app has a callback")
	}
	const num = 5151
	alice := tk.Join(t, n.Addr(), tk.App, tk.AppKey, "alice", num, "")
	bob := tk.Join(t, n.Addr(), tk.App, tk.AppKey, "bob", num, "")
	await.Expect(t, await.Next(t, alice), "user_entered", "bob", "")
	bob.Leave(context.Background())
	await.Expect(t, await.Next(t, alice), "user_left", "bob", "left")
	alice.Leave(context.Background())

	want := "[101/alice 103/alice 103/bob 104/bob 104/alice 102/]"
	deadline := time.Now().Add(logWait)
	for {
		mu.Lock()
		s, b := fmt.Sprint(got), len(bad)
		mu.Unlock()
		if b > 0 {
			t.Fatalf("callbacks with a wrong Sign or body: %v", bad)
		}
		if s == want {
			checkCallbackMetrics(t, n.Addr())
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("callbacks %s, want %s", s, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// checkCallbackMetrics: after the six callbacks of
// TestCallbacksFromTheRunningNode were answered 200, /metrics counts them,
// the outbox is empty, and every trtcd_callback_ family is in docs/metrics.md.
func checkCallbackMetrics(t *testing.T, addr string) {
	t.Helper()
	const app = `app="1400000001"`
	until(t, "callback metrics", func() bool {
		m := scrape(t, addr)
		return m[`trtcd_callback_deliveries_total{`+app+`,event_type="103",result="ok"}`] == 2 &&
			m[`trtcd_callback_deliveries_total{`+app+`,event_type="102",result="ok"}`] == 1 &&
			m[`trtcd_callback_delivery_latency_seconds_count{`+app+`}`] == 6 &&
			m[`trtcd_callback_events_accepted_total`] == 6 &&
			m[`trtcd_callback_outbox_depth`] == 0 && m[`trtcd_callback_dead_letters`] == 0
	})
	if families := documentedFamilies(t, addr, "trtcd_callback_"); families < 7 { // retries, dead_lettered and skipped appear once they count something
		t.Fatalf("only %d trtcd_callback_ metric families served", families)
	}
}

// TestClusterCallbacksEndToEnd: on three nodes sharing one Redis, joins, a
// role switch, a removal, a duplicate login, a timeout and a dismissal give
// the app's receiver exactly the documented callbacks of the room, in
// order, each Sign checked with an independent HMAC over the raw body.
func TestClusterCallbacksEndToEnd(t *testing.T) {
	const key = "clusterCallbackKey1"
	const num = 6100
	var mu sync.Mutex
	var got, bad []string
	seen := map[string]bool{}
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mac := hmac.New(sha256.New, []byte(key))
		mac.Write(body)
		var cb struct {
			EventGroupId, EventType int
			EventInfo               struct {
				RoomId       any
				UserId       string
				Role, Reason int
			}
		}
		mu.Lock()
		defer mu.Unlock()
		id := r.Header.Get("X-Trtcd-Event-Id")
		switch {
		case r.Header.Get("Sign") != base64.StdEncoding.EncodeToString(mac.Sum(nil)) || json.Unmarshal(body, &cb) != nil ||
			r.Header.Get("SdkAppId") != strconv.Itoa(tk.App):
			bad = append(bad, string(body))
		case cb.EventInfo.RoomId != float64(num):
			bad = append(bad, "RoomId not the number: "+string(body))
		case !seen[id]: // at least once: a repeat is allowed, and ignored
			seen[id] = true
			got = append(got, fmt.Sprintf("%d/%s/%d/%d", cb.EventType, cb.EventInfo.UserId, cb.EventInfo.Role, cb.EventInfo.Reason))
		}
	}))
	defer recv.Close()

	srv := tk.StartRedis(t)
	var nodes []*node.Node
	for i := 0; i < 3; i++ {
		cfg := tk.Config()
		cfg.Redis = srv.URL()
		cfg.NodeID = fmt.Sprintf("cb-node%d", i)
		cfg.IdleTimeout = config.Duration{Duration: config.MinIdleTimeout}
		cfg.Accounts[0].Apps[0].Callback = &config.Callback{URL: recv.URL, Key: key}
		nodes = append(nodes, tk.Start(t, cfg))
	}
	ctx := context.Background()
	alice := tk.Join(t, nodes[0].Addr(), tk.App, tk.AppKey, "alice", num, "")
	bob := tk.Join(t, nodes[1].Addr(), tk.App, tk.AppKey, "bob", num, "")
	if _, err := bob.SwitchRole(ctx, "audience"); err != nil {
		t.Fatal(err)
	}
	if _, err := tk.SDK(t, nodes[2].Addr(), tk.AcmeID, tk.AcmeKey, tk.Modes[0]).RemoveUser(removeReq(num, "bob")); err != nil {
		t.Fatal(err)
	}
	await.Expect(t, untilType(t, bob, "kicked"), "kicked", "", "removed")
	alice2 := tk.Join(t, nodes[1].Addr(), tk.App, tk.AppKey, "alice", num, "") // duplicate login
	await.Expect(t, untilType(t, alice, "kicked"), "kicked", "", "duplicate")
	silent, err := client.Join(ctx, "http://"+nodes[2].Addr(), client.JoinParams{SdkAppID: tk.App, UserID: "tim",
		UserSig: usersig.Generate(tk.App, tk.AppKey, "tim", time.Hour, time.Now(), nil), RoomID: num}, client.Options{Heartbeat: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	await.Expect(t, untilType(t, alice2, "user_left"), "user_left", "tim", "timeout")
	req := trtcsdk.NewDismissRoomRequest()
	req.SdkAppId, req.RoomId = tk.U64(tk.App), tk.U64(num)
	if _, err := tk.SDK(t, nodes[0].Addr(), tk.AcmeID, tk.AcmeKey, tk.Modes[0]).DismissRoom(req); err != nil {
		t.Fatal(err)
	}

	want := fmt.Sprint([]string{"101/alice/0/0", "103/alice/20/1", "103/bob/20/1", "105/bob/21/0", "104/bob/21/3",
		"104/alice/20/3", "103/alice/20/1", "103/tim/20/1", "104/tim/20/2", "104/alice/20/3", "102//0/0"})
	deadline := time.Now().Add(logWait)
	for {
		mu.Lock()
		s, b := fmt.Sprint(got), fmt.Sprint(bad)
		mu.Unlock()
		if b != "[]" {
			t.Fatalf("callbacks with a wrong Sign, header or body: %v", b)
		}
		if s == want {
			// Every shard's outbox is delivered by exactly one node.
			until(t, "64 shards owned among the nodes", func() bool {
				sum := 0.0
				for _, n := range nodes {
					sum += scrape(t, n.Addr())["trtcd_callback_outbox_shards_owned"]
				}
				return sum == 64
			})
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("callbacks\n%s\nwant\n%s", s, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// untilType skips c's events until one of type typ (within logWait: a
// timeout takes the idle timeout).
func untilType(t *testing.T, c *client.Conn, typ string) client.Event {
	t.Helper()
	deadline := time.After(logWait)
	for {
		select {
		case ev, ok := <-c.Events():
			if !ok {
				t.Fatalf("connection ended waiting for %s: %v", typ, c.Err())
			}
			if ev.Type == typ {
				return ev
			}
		case <-deadline:
			t.Fatalf("no %s within %v", typ, logWait)
		}
	}
}

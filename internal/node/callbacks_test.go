package node_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trtcd/trtcd/internal/config"
	tk "github.com/trtcd/trtcd/internal/testkit"
	"github.com/trtcd/trtcd/internal/testkit/await"
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
		if len(f) < 4 || f[0] != "#" || f[1] != "TYPE" || !strings.HasPrefix(f[2], "trtcd_callback_") {
			continue
		}
		families++
		if !bytes.Contains(doc, []byte("| `"+f[2]+"` | "+f[3]+" |")) {
			t.Errorf("docs/metrics.md has no row for %s (%s)", f[2], f[3])
		}
	}
	if families < 7 { // retries, dead_lettered and skipped appear once they count something
		t.Fatalf("only %d trtcd_callback_ metric families served", families)
	}
}

package signal_test

import (
	"bytes"
	"compress/zlib"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/trtcd/trtcd/client"
	"github.com/trtcd/trtcd/internal/signal"
	"github.com/trtcd/trtcd/protocol"
	"github.com/trtcd/trtcd/usersig"
)

// readError reads the error message and the close frame that follows it.
func readError(t *testing.T, ws *websocket.Conn) (msg map[string]any, close int) {
	t.Helper()
	ws.SetReadDeadline(time.Now().Add(20 * time.Second))
	_, b, err := ws.ReadMessage()
	if err != nil {
		t.Fatalf("no error message: %v", err)
	}
	if err := json.Unmarshal(b, &msg); err != nil || msg["type"] != "error" {
		t.Fatalf("got %s, want an error", b)
	}
	_, _, err = ws.ReadMessage()
	ce, ok := err.(*websocket.CloseError)
	if !ok {
		t.Fatalf("after the error: %v, want a close frame", err)
	}
	return msg, ce.Code
}

func (e *env) rawJoin(user string) *websocket.Conn {
	e.t.Helper()
	ws := e.rawDial()
	e.t.Cleanup(func() { ws.Close() })
	ws.WriteMessage(websocket.TextMessage, []byte(joinJSON(map[string]any{"userId": user, "userSig": userSig(user)})))
	ws.SetReadDeadline(time.Now().Add(20 * time.Second))
	if _, b, err := ws.ReadMessage(); err != nil || !strings.Contains(string(b), `"joined"`) {
		e.t.Fatalf("join: %s %v", b, err)
	}
	ws.SetReadDeadline(time.Time{})
	return ws
}

func TestFutureUserSigIsRefusedWithItsReason(t *testing.T) {
	e := newEnv(t, signal.Config{})
	observer := e.join(e.params("observer"))
	cases := []struct {
		name, sig, reason string
	}{
		{"dated a year ahead", usersig.Generate(app, appKey, "mallory", time.Hour, time.Now().Add(365*24*time.Hour), nil), string(usersig.ReasonFuture)},
		{"dated ten minutes ahead", usersig.Generate(app, appKey, "mallory", time.Hour, time.Now().Add(10*time.Minute), nil), string(usersig.ReasonFuture)},
		{"expire of 2^62", bigExpireSig("mallory"), string(usersig.ReasonExpireRange)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ws := e.rawDial()
			defer ws.Close()
			ws.WriteMessage(websocket.TextMessage, []byte(joinJSON(map[string]any{"userSig": c.sig})))
			msg, close := readError(t, ws)
			if msg["code"] != protocol.CodeUserSig || msg["reason"] != c.reason || msg["trtcCode"] != -3320.0 || close != protocol.CloseJoinRefused {
				t.Fatalf("got %v close %d, want %s reason %q", msg, close, protocol.CodeUserSig, c.reason)
			}
		})
	}
	// A smaller configured skew refuses what the default would let through.
	strict := newEnv(t, signal.Config{MaxSkew: time.Second})
	ws := strict.rawDial()
	defer ws.Close()
	ws.WriteMessage(websocket.TextMessage, []byte(joinJSON(map[string]any{"userSig": usersig.Generate(app, appKey, "mallory", time.Hour, time.Now().Add(time.Minute), nil)})))
	if msg, _ := readError(t, ws); msg["reason"] != string(usersig.ReasonFuture) {
		t.Fatalf("1s skew: %v", msg)
	}
	if got := fmt.Sprint(e.members(e.room)); got != "[observer/anchor]" {
		t.Fatalf("members %s", got)
	}
	quiet(t, observer)
}

// bigExpireSig is a correctly signed UserSig whose TLS.expire is 2^62
// seconds, which no time.Duration holds, so it is built here by hand
// (TLSSigAPIv2: HMAC-SHA256 of the fields, JSON, zlib, URL-safe base64).
func bigExpireSig(user string) string {
	now, expire := time.Now().Unix(), int64(1)<<62
	content := fmt.Sprintf("TLS.identifier:%s\nTLS.sdkappid:%d\nTLS.time:%d\nTLS.expire:%d\n", user, app, now, expire)
	h := hmac.New(sha256.New, []byte(appKey))
	h.Write([]byte(content))
	js, _ := json.Marshal(map[string]any{"TLS.ver": "2.0", "TLS.identifier": user, "TLS.sdkappid": app,
		"TLS.time": now, "TLS.expire": expire, "TLS.sig": base64.StdEncoding.EncodeToString(h.Sum(nil))})
	var buf bytes.Buffer
	w := zlib.NewWriter(&buf)
	w.Write(js)
	w.Close()
	enc := base64.StdEncoding.EncodeToString(buf.Bytes())
	return strings.NewReplacer("+", "*", "/", "-", "=", "_").Replace(enc)
}

func TestRequirePrivateMapKey(t *testing.T) {
	e := newEnv(t, signal.Config{})
	sig := usersig.Generate(pmkApp, appKey, "alice", time.Hour, time.Now(), nil)
	join := func(fields map[string]any) *websocket.Conn {
		f := map[string]any{"sdkAppId": pmkApp, "userId": "alice", "userSig": sig}
		for k, v := range fields {
			f[k] = v
		}
		ws := e.rawDial()
		t.Cleanup(func() { ws.Close() })
		ws.WriteMessage(websocket.TextMessage, []byte(joinJSON(f)))
		return ws
	}
	msg, close := readError(t, join(nil))
	if msg["code"] != protocol.CodePrivateMapKey || msg["reason"] != string(usersig.ReasonMapRequired) || msg["trtcCode"] != -100006.0 || close != protocol.CloseJoinRefused {
		t.Fatalf("join without a PrivateMapKey: %v close %d", msg, close)
	}
	pmk := usersig.GeneratePrivateMapKey(pmkApp, appKey, "alice", time.Hour, time.Now(), 1234, "", usersig.PrivAll)
	ws := join(map[string]any{"privateMapKey": pmk})
	ws.SetReadDeadline(time.Now().Add(20 * time.Second))
	if _, b, err := ws.ReadMessage(); err != nil || !strings.Contains(string(b), `"joined"`) {
		t.Fatalf("join with a PrivateMapKey: %s %v", b, err)
	}
	// an app without the requirement still admits joins without one
	e.join(e.params("bob"))
	if n := e.sig.ErrorsSent()[protocol.CodePrivateMapKey]; n != 1 {
		t.Fatalf("PrivateMapKey refusals counted %d, want 1", n)
	}
}

func TestBinaryFramesAreRefused(t *testing.T) {
	e := newEnv(t, signal.Config{})
	observer := e.join(e.params("observer"))

	// as the join: refused, nothing changes
	ws := e.rawDial()
	defer ws.Close()
	ws.WriteMessage(websocket.BinaryMessage, []byte(joinJSON(nil)))
	msg, close := readError(t, ws)
	if msg["code"] != protocol.CodeBinaryFrame || close != protocol.CloseUnsupported {
		t.Fatalf("binary join: %v close %d", msg, close)
	}
	if got := fmt.Sprint(e.members(e.room)); got != "[observer/anchor]" {
		t.Fatalf("members %s", got)
	}

	// after a join: the error, close 1003, and the session leaves the room
	ws = e.rawJoin("mallory")
	if ev := next(t, observer); ev.Type != "user_entered" || ev.UserID != "mallory" {
		t.Fatalf("observer got %+v", ev)
	}
	ws.WriteMessage(websocket.BinaryMessage, []byte(`{"type":"ping"}`))
	msg, close = readError(t, ws)
	if msg["code"] != protocol.CodeBinaryFrame || close != protocol.CloseUnsupported {
		t.Fatalf("binary frame after join: %v close %d", msg, close)
	}
	if ev := next(t, observer); ev.Type != "user_left" || ev.UserID != "mallory" || ev.Reason != "left" {
		t.Fatalf("observer got %+v", ev)
	}
	if n := e.sig.ErrorsSent()[protocol.CodeBinaryFrame]; n != 2 {
		t.Fatalf("BinaryFrame errors counted %d, want 2", n)
	}
}

// TestWebSocketPingsAreHeartbeats: a client that sends only WebSocket ping
// control frames, for several idle timeouts, stays in the room and gets
// pongs; once it stops, the idle timeout removes it.
func TestWebSocketPingsAreHeartbeats(t *testing.T) {
	const idle = 2 * time.Second
	e := newEnv(t, signal.Config{IdleTimeout: idle})
	observer, err := client.Join(e.ctx, e.srv.URL, e.params("observer"), client.Options{Heartbeat: idle / 10})
	if err != nil {
		t.Fatal(err)
	}
	defer observer.Close()
	ws := e.rawJoin("pinger")
	next(t, observer) // pinger entered

	pongs := make(chan struct{}, 1000)
	ws.SetPongHandler(func(string) error { pongs <- struct{}{}; return nil })
	ended := make(chan error, 1)
	go func() {
		for {
			if _, _, err := ws.ReadMessage(); err != nil {
				ended <- err
				return
			}
		}
	}()
	stop := time.After(3 * idle)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
pinging:
	for {
		select {
		case <-tick.C:
			if err := ws.WriteControl(websocket.PingMessage, []byte("hb"), time.Now().Add(5*time.Second)); err != nil {
				t.Fatalf("ping: %v", err)
			}
		case err := <-ended:
			t.Fatalf("closed while pinging: %v", err)
		case <-stop:
			break pinging
		}
	}
	if len(pongs) == 0 {
		t.Fatal("no pong for the pings")
	}
	if got := fmt.Sprint(e.members(e.room)); got != "[observer/anchor pinger/anchor]" {
		t.Fatalf("members after %s of pings only: %s", 3*idle, got)
	}
	quiet(t, observer)
	// silence now ends the session as an idle timeout
	select {
	case err := <-ended:
		if ce, ok := err.(*websocket.CloseError); !ok || ce.Code != protocol.CloseIdle {
			t.Fatalf("ended with %v, want close %d", err, protocol.CloseIdle)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("not closed after going silent")
	}
	if ev := next(t, observer); ev.Type != "user_left" || ev.UserID != "pinger" || ev.Reason != "timeout" {
		t.Fatalf("observer got %+v", ev)
	}
}

type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// find waits for a log line with msg and user, and returns it.
func (l *logBuf) find(t *testing.T, msg, user string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		for _, line := range strings.Split(l.String(), "\n") {
			var m map[string]any
			if json.Unmarshal([]byte(line), &m) == nil && m["msg"] == msg && m["user"] == user {
				return m
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no log line %q for user %q in:\n%s", msg, user, l.String())
	return nil
}

func TestRefusalsLeavesKicksAndTimeoutsAreLogged(t *testing.T) {
	logs := &logBuf{}
	e := newEnv(t, signal.Config{IdleTimeout: 3 * time.Second, Log: slog.New(slog.NewJSONHandler(logs, nil))})
	room := e.room.String()
	check := func(m map[string]any, reason string) {
		t.Helper()
		if m["level"] != "INFO" || m["room"] != room || m["reason"] != reason {
			t.Fatalf("log line %v, want level INFO room %s reason %q", m, room, reason)
		}
	}

	future := usersig.Generate(app, appKey, "mallory", time.Hour, time.Now().Add(365*24*time.Hour), nil)
	ws := e.rawDial()
	defer ws.Close()
	ws.WriteMessage(websocket.TextMessage, []byte(joinJSON(map[string]any{"userSig": future})))
	readError(t, ws)
	m := logs.find(t, "join refused", "mallory")
	check(m, string(usersig.ReasonFuture))
	if m["code"] != protocol.CodeUserSig {
		t.Fatalf("refusal logged as %v", m)
	}

	alice := e.join(e.params("alice"))
	alice.Leave(e.ctx)
	check(logs.find(t, "left", "alice"), "left")

	bob := e.join(e.params("bob"))
	if err := e.svc.Remove(e.ctx, e.room, []string{"bob"}); err != nil {
		t.Fatal(err)
	}
	if ev := next(t, bob); ev.Type != "kicked" {
		t.Fatalf("bob got %+v", ev)
	}
	ended(t, bob)
	check(logs.find(t, "kicked", "bob"), "removed")

	e.rawJoin("sleepy") // never pings
	check(logs.find(t, "idle timeout", "sleepy"), "timeout")
	if n := e.sig.IdleTimeouts(); n != 1 {
		t.Fatalf("idle timeouts counted %d, want 1", n)
	}

	all := logs.String()
	for _, secret := range []string{future, userSig("alice")[:40], appKey} {
		if strings.Contains(all, secret) {
			t.Fatalf("a credential is in the logs:\n%s", all)
		}
	}
	if strings.Contains(all, "TLS.sig") || strings.Contains(all, "userSig\":") {
		t.Fatalf("signature material in the logs:\n%s", all)
	}
}

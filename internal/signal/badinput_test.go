package signal_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/trtcd/trtcd/internal/signal"
	"github.com/trtcd/trtcd/protocol"
	"github.com/trtcd/trtcd/usersig"
)

// rawDial opens a WebSocket without the client package, to send anything.
func (e *env) rawDial() *websocket.Conn {
	e.t.Helper()
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(e.srv.URL, "http")+signal.Path, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return ws
}

type errorMsg struct {
	Type, Code, Message string
	TrtcCode            int
}

// expectError reads the error message and then the close frame.
func expectError(t *testing.T, ws *websocket.Conn, wantCode string, wantClose int) {
	t.Helper()
	ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, b, err := ws.ReadMessage()
	if err != nil {
		t.Fatalf("no error message: %v", err)
	}
	var m errorMsg
	if json.Unmarshal(b, &m) != nil || m.Type != "error" || m.Code != wantCode || m.Message == "" {
		t.Fatalf("got %s, want error %s", b, wantCode)
	}
	_, _, err = ws.ReadMessage()
	ce, ok := err.(*websocket.CloseError)
	if !ok || ce.Code != wantClose {
		t.Fatalf("closed with %v, want %d", err, wantClose)
	}
}

func joinJSON(fields map[string]any) string {
	f := map[string]any{"type": "join", "sdkAppId": app, "userId": "mallory", "userSig": userSig("mallory"), "roomId": 1234}
	for k, v := range fields {
		if v == nil {
			delete(f, k)
		} else {
			f[k] = v
		}
	}
	b, _ := json.Marshal(f)
	return string(b)
}

// TestBadJoinsAndFrames: each bad join or frame gets its error code and close
// code; the room's members and the events others see are unchanged.
func TestBadJoinsAndFrames(t *testing.T) {
	e := newEnv(t, signal.Config{MaxFrame: 2048})
	observer := e.join(e.params("observer"))
	e.join(e.params("stay"))
	next(t, observer) // stay entered
	before := fmt.Sprint(e.members(e.room))
	now := time.Now()
	expired := usersig.Generate(app, appKey, "mallory", time.Second, now.Add(-time.Hour), nil)
	otherKey := usersig.Generate(app, "wrong-key", "mallory", time.Hour, now, nil)
	forBob := userSig("bob")
	pmkOtherRoom := usersig.GeneratePrivateMapKey(app, appKey, "mallory", time.Hour, now, 999, "", usersig.PrivAll)
	pmkNoEnter := usersig.GeneratePrivateMapKey(app, appKey, "mallory", time.Hour, now, 1234, "", usersig.PrivCreateRoom)

	joinCases := []struct {
		name, frame, code string
		close             int
	}{
		{"not JSON", `hello`, protocol.CodeInvalidFrame, protocol.CloseBadFrame},
		{"truncated JSON", `{"type":"join"`, protocol.CodeInvalidFrame, protocol.CloseBadFrame},
		{"JSON array", `[1]`, protocol.CodeInvalidFrame, protocol.CloseBadFrame},
		{"no type", `{"userId":"a"}`, protocol.CodeInvalidFrame, protocol.CloseBadFrame},
		{"unknown type", `{"type":"teleport"}`, protocol.CodeUnknownType, protocol.CloseBadFrame},
		{"ping before join", `{"type":"ping"}`, protocol.CodeNotJoined, protocol.CloseBadFrame},
		{"userId of wrong JSON type", joinJSON(map[string]any{"userId": 5}), protocol.CodeInvalidFrame, protocol.CloseBadFrame},
		{"device over 128 bytes", joinJSON(map[string]any{"device": strings.Repeat("d", protocol.MaxClientInfoLen+1)}), protocol.CodeInvalidFrame, protocol.CloseBadFrame},
		{"sdkVersion with a newline", joinJSON(map[string]any{"sdkVersion": "11.8\n"}), protocol.CodeInvalidFrame, protocol.CloseBadFrame},
		{"device of wrong JSON type", joinJSON(map[string]any{"device": 5}), protocol.CodeInvalidFrame, protocol.CloseBadFrame},
		{"frame over the limit", joinJSON(map[string]any{"pad": strings.Repeat("x", 3000)}), protocol.CodeFrameTooLarge, protocol.CloseBadFrame},
		{"missing sdkAppId", joinJSON(map[string]any{"sdkAppId": nil}), protocol.CodeInvalidSdkAppID, protocol.CloseJoinRefused},
		{"sdkAppId zero", joinJSON(map[string]any{"sdkAppId": 0}), protocol.CodeInvalidSdkAppID, protocol.CloseJoinRefused},
		{"sdkAppId negative", joinJSON(map[string]any{"sdkAppId": -1}), protocol.CodeInvalidSdkAppID, protocol.CloseJoinRefused},
		{"sdkAppId as string", joinJSON(map[string]any{"sdkAppId": "1400000001"}), protocol.CodeInvalidSdkAppID, protocol.CloseJoinRefused},
		{"unknown app", joinJSON(map[string]any{"sdkAppId": 1400000999}), protocol.CodeSdkAppIDNotExist, protocol.CloseJoinRefused},
		{"empty userId", joinJSON(map[string]any{"userId": ""}), protocol.CodeInvalidUserID, protocol.CloseJoinRefused},
		{"userId 33 bytes", joinJSON(map[string]any{"userId": strings.Repeat("a", 33)}), protocol.CodeInvalidUserID, protocol.CloseJoinRefused},
		{"userId with a dot", joinJSON(map[string]any{"userId": "a.b"}), protocol.CodeInvalidUserID, protocol.CloseJoinRefused},
		{"no room", joinJSON(map[string]any{"roomId": nil}), protocol.CodeInvalidRoomID, protocol.CloseJoinRefused},
		{"both rooms", joinJSON(map[string]any{"strRoomId": "x"}), protocol.CodeInvalidRoomID, protocol.CloseJoinRefused},
		{"roomId zero", joinJSON(map[string]any{"roomId": 0}), protocol.CodeInvalidRoomID, protocol.CloseJoinRefused},
		{"roomId 4294967295", joinJSON(map[string]any{"roomId": 4294967295}), protocol.CodeInvalidRoomID, protocol.CloseJoinRefused},
		{"roomId fractional", joinJSON(map[string]any{"roomId": 12.5}), protocol.CodeInvalidRoomID, protocol.CloseJoinRefused},
		{"strRoomId empty", joinJSON(map[string]any{"roomId": nil, "strRoomId": ""}), protocol.CodeInvalidRoomID, protocol.CloseJoinRefused},
		{"strRoomId 65 bytes", joinJSON(map[string]any{"roomId": nil, "strRoomId": strings.Repeat("r", 65)}), protocol.CodeInvalidRoomID, protocol.CloseJoinRefused},
		{"strRoomId with a slash", joinJSON(map[string]any{"roomId": nil, "strRoomId": "a/b"}), protocol.CodeInvalidRoomID, protocol.CloseJoinRefused},
		{"bad role", joinJSON(map[string]any{"role": "admin"}), protocol.CodeInvalidRole, protocol.CloseJoinRefused},
		{"no userSig", joinJSON(map[string]any{"userSig": nil}), protocol.CodeUserSig, protocol.CloseJoinRefused},
		{"garbage userSig", joinJSON(map[string]any{"userSig": "abc"}), protocol.CodeUserSig, protocol.CloseJoinRefused},
		{"expired userSig", joinJSON(map[string]any{"userSig": expired}), protocol.CodeUserSig, protocol.CloseJoinRefused},
		{"userSig of another key", joinJSON(map[string]any{"userSig": otherKey}), protocol.CodeUserSig, protocol.CloseJoinRefused},
		{"userSig of another user", joinJSON(map[string]any{"userSig": forBob}), protocol.CodeUserSig, protocol.CloseJoinRefused},
		{"privateMapKey for another room", joinJSON(map[string]any{"privateMapKey": pmkOtherRoom}), protocol.CodePrivateMapKey, protocol.CloseJoinRefused},
		{"privateMapKey without enter bit", joinJSON(map[string]any{"privateMapKey": pmkNoEnter}), protocol.CodePrivateMapKey, protocol.CloseJoinRefused},
		{"privateMapKey garbage", joinJSON(map[string]any{"privateMapKey": "zzz"}), protocol.CodePrivateMapKey, protocol.CloseJoinRefused},
	}
	for _, c := range joinCases {
		t.Run(c.name, func(t *testing.T) {
			ws := e.rawDial()
			defer ws.Close()
			if err := ws.WriteMessage(websocket.TextMessage, []byte(c.frame)); err != nil {
				t.Fatal(err)
			}
			expectError(t, ws, c.code, c.close)
			if got := fmt.Sprint(e.members(e.room)); got != before {
				t.Fatalf("members changed: %s", got)
			}
		})
	}

	// Bad frames after a good join: error, close, and the session leaves
	// the room (others see a normal leave).
	frameCases := []struct {
		name, frame, code string
	}{
		{"garbage after join", `}{`, protocol.CodeInvalidFrame},
		{"unknown type after join", `{"type":"dance"}`, protocol.CodeUnknownType},
		{"second join", joinJSON(nil), protocol.CodeAlreadyJoined},
		{"oversized frame after join", `{"type":"ping","pad":"` + strings.Repeat("y", 4000) + `"}`, protocol.CodeFrameTooLarge},
	}
	for _, c := range frameCases {
		t.Run(c.name, func(t *testing.T) {
			ws := e.rawDial()
			defer ws.Close()
			ws.WriteMessage(websocket.TextMessage, []byte(joinJSON(nil)))
			ws.SetReadDeadline(time.Now().Add(5 * time.Second))
			if _, b, err := ws.ReadMessage(); err != nil || !strings.Contains(string(b), `"joined"`) {
				t.Fatalf("join: %s %v", b, err)
			}
			if ev := next(t, observer); ev.Type != "user_entered" || ev.UserID != "mallory" {
				t.Fatalf("observer got %+v", ev)
			}
			ws.WriteMessage(websocket.TextMessage, []byte(c.frame))
			expectError(t, ws, c.code, protocol.CloseBadFrame)
			if ev := next(t, observer); ev.Type != "user_left" || ev.UserID != "mallory" || ev.Reason != "left" {
				t.Fatalf("observer got %+v", ev)
			}
			if got := fmt.Sprint(e.members(e.room)); got != before {
				t.Fatalf("members %s, want %s", got, before)
			}
		})
	}
	quiet(t, observer)
	if len(joinCases)+len(frameCases) < 20 {
		t.Fatal("too few cases")
	}
}

func TestJoinTimeout(t *testing.T) {
	e := newEnv(t, signal.Config{IdleTimeout: 200 * time.Millisecond})
	ws := e.rawDial()
	defer ws.Close()
	expectError(t, ws, protocol.CodeJoinTimeout, protocol.CloseIdle)
}

func TestNonWebSocketRequestIsRefused(t *testing.T) {
	e := newEnv(t, signal.Config{})
	resp, err := e.srv.Client().Get(e.srv.URL + signal.Path)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Fatalf("status %d", resp.StatusCode)
	}
}

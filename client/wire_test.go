package client_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/trtcd/trtcd/client"
	"github.com/trtcd/trtcd/protocol"
)

// fakeServer answers the join with answer after recording the frames the
// client sent (the join, then whatever comes within the heartbeat).
func fakeServer(t *testing.T, answer string, frames chan<- string) *httptest.Server {
	up := websocket.Upgrader{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != protocol.Path {
			http.NotFound(w, r)
			return
		}
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		for i := 0; ; i++ {
			_, b, err := ws.ReadMessage()
			if err != nil {
				return
			}
			frames <- string(b)
			if i == 0 {
				ws.WriteMessage(websocket.TextMessage, []byte(answer))
			}
			if string(b) == `{"type":"leave"}`+"\n" {
				ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(protocol.CloseNormal, "left"), time.Now().Add(time.Second))
				return
			}
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// The frames the client sends are the protocol's, byte for byte: the join
// as docs/protocol.md shows it, the heartbeat the server's fast path
// recognises, and leave.
func TestClientFramesOnTheWire(t *testing.T) {
	frames := make(chan string, 4096) // never full: the 10 ms heartbeat runs until the leave
	srv := fakeServer(t, `{"type":"joined","seq":1,"roomId":1234,"sessionId":"s","members":[{"userId":"alice","role":"anchor"}],"ts":1}`, frames)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := client.Join(ctx, srv.URL, client.JoinParams{SdkAppID: 1400000001, UserID: "alice", UserSig: "eJy…", RoomID: 1234, Role: "anchor"}, client.Options{Heartbeat: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := <-frames, `{"type":"join","sdkAppId":1400000001,"userId":"alice","userSig":"eJy…","roomId":1234,"role":"anchor"}`+"\n"; got != want {
		t.Fatalf("join\ngot  %q\nwant %q", got, want)
	}
	if j := c.Joined(); j.SessionID != "s" || len(j.Members) != 1 || j.Members[0] != (client.Member{UserID: "alice", Role: protocol.RoleAnchor}) {
		t.Fatalf("joined %+v", j)
	}
	if got := <-frames; got != protocol.PingFrame+"\n" || !protocol.IsPing([]byte(got)) {
		t.Fatalf("heartbeat %q", got)
	}
	if err := c.Leave(ctx); err != nil {
		t.Fatal(err)
	}
	for f := range frames {
		if f == `{"type":"leave"}`+"\n" {
			break
		}
		if f != protocol.PingFrame+"\n" {
			t.Fatalf("unexpected frame %q", f)
		}
	}

	srv = fakeServer(t, `{"type":"joined"}`, frames)
	str := client.JoinParams{SdkAppID: 1, UserID: "u", UserSig: "s", PrivateMapKey: "k", StrRoomID: "r 1"}
	c, err = client.Join(ctx, srv.URL, str, client.Options{Heartbeat: -1})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := <-frames, `{"type":"join","sdkAppId":1,"userId":"u","userSig":"s","privateMapKey":"k","strRoomId":"r 1"}`+"\n"; got != want {
		t.Fatalf("string-room join\ngot  %q\nwant %q", got, want)
	}
	c.Close()
}

// A refused join is a *client.Error with every field of the error message,
// the reason included.
func TestRefusalCarriesReason(t *testing.T) {
	frames := make(chan string, 4)
	srv := fakeServer(t, `{"type":"error","reason":"expired","code":"AuthFailure.UserSig","message":"userSig verification failed: expired","trtcCode":-3320}`, frames)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err := client.Join(ctx, srv.URL, client.JoinParams{SdkAppID: 1, UserID: "u", RoomID: 1}, client.Options{})
	var e *client.Error
	if !errors.As(err, &e) || *e != (client.Error{Code: protocol.CodeUserSig, Message: "userSig verification failed: expired", Reason: "expired", TRTCCode: -3320}) ||
		err.Error() != "trtcd: AuthFailure.UserSig: userSig verification failed: expired" {
		t.Fatalf("got %#v", err)
	}
}

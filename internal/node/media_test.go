package node_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/trtcd/trtcd/client"
	mc "github.com/trtcd/trtcd/client/media"
	"github.com/trtcd/trtcd/client/media/wire"
	"github.com/trtcd/trtcd/internal/node"
	"github.com/trtcd/trtcd/internal/rooms"
	tk "github.com/trtcd/trtcd/internal/testkit"
	"github.com/trtcd/trtcd/internal/testkit/await"
	"github.com/trtcd/trtcd/usersig"
)

// mediaWait is the generous deadline for anything media to happen on a
// busy machine.
const mediaWait = 30 * time.Second

var loopbackOnly = client.MediaOptions{Networks: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}

// mediaMember is a client joined over the room WebSocket with its media.
type mediaMember struct {
	conn  *client.Conn
	media *mc.Client
}

func joinMedia(t *testing.T, n *node.Node, user string, room uint64, role string) mediaMember {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), mediaWait)
	defer cancel()
	c, err := client.Join(ctx, "http://"+n.Addr(), client.JoinParams{SdkAppID: tk.App, UserID: user, RoomID: room, Role: role,
		UserSig: usersig.Generate(tk.App, tk.AppKey, user, time.Hour, time.Now(), nil)}, client.Options{})
	if err != nil {
		t.Fatalf("join %s: %v", user, err)
	}
	t.Cleanup(func() { c.Close() })
	m, err := c.Media(loopbackOnly)
	if err != nil {
		t.Fatal(err)
	}
	return mediaMember{c, m}
}

func packets(m *mc.Client, user string, k wire.Kind) func() uint64 {
	return func() uint64 { return m.Received(user, k).Packets }
}

// grows waits until f() is more than n above its value now.
func grows(t *testing.T, what string, f func() uint64, n uint64) {
	t.Helper()
	start := f()
	until(t, what, func() bool { return f() > start+n })
}

// stoppedFor checks that f grows by at most 20 packets (those in flight)
// while the publisher sends 2 s of audio, however long that takes.
func stoppedFor(t *testing.T, what string, pub *mc.Client, f func() uint64) {
	t.Helper()
	before := f()
	grows(t, "the publisher to send 2 s of audio", func() uint64 { return pub.Sent(wire.Audio) }, 100)
	if after := f(); after > before+20 {
		t.Fatalf("%s: still arriving: %d -> %d packets", what, before, after)
	}
}

func publishAV(t *testing.T, m mediaMember) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), mediaWait)
	defer cancel()
	if err := m.media.Publish(ctx, mc.TrackSpec{Kind: wire.Audio}, mc.TrackSpec{Kind: wire.Video}); err != nil {
		t.Fatalf("publish: %v", err)
	}
}

// receiving waits until b gets user's audio and video.
func receiving(t *testing.T, b mediaMember, user string) {
	t.Helper()
	grows(t, "audio to arrive", packets(b.media, user, wire.Audio), 10)
	grows(t, "video to arrive", packets(b.media, user, wire.Video), 10)
}

// nextOf waits for c's next event of type typ, skipping others.
func nextOf(t *testing.T, c *client.Conn, typ string) client.Event {
	t.Helper()
	deadline := time.After(mediaWait)
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
			t.Fatalf("no %s within %s", typ, mediaWait)
		}
	}
}

func setUserBlocked(t *testing.T, n *node.Node, room uint64, user string, mute int) {
	t.Helper()
	body := fmt.Sprintf(`{"SdkAppId":%d,"RoomId":%d,"UserId":%q,"IsMute":%d}`, tk.App, room, user, mute)
	if code, msg := tk.Call(t, n.Addr(), "SetUserBlocked", body); code != "" {
		t.Fatalf("SetUserBlocked: %s %s", code, msg)
	}
}

// TestMediaRemoveUserCutsTheMedia: over the real server, alice publishes and
// bob receives her audio and video; when RemoveUser returns, alice's media
// peer is gone from the server; bob is told her tracks are unpublished and
// her packets stop; alice is kicked.
func TestMediaRemoveUserCutsTheMedia(t *testing.T) {
	n := tk.Start(t, tk.Config())
	const roomID = 7001
	alice := joinMedia(t, n, "alice", roomID, "")
	bob := joinMedia(t, n, "bob", roomID, "")
	publishAV(t, alice)
	receiving(t, bob, "alice")
	room := n.Media.Room(rooms.NumRoom(tk.App, roomID).String())
	if !room.Joined("alice") {
		t.Fatal("alice has no media peer on the server")
	}

	if _, err := tk.SDK(t, n.Addr(), tk.AcmeID, tk.AcmeKey, tk.Modes[0]).RemoveUser(removeReq(roomID, "alice")); err != nil {
		t.Fatal(err)
	}
	if room.Joined("alice") {
		t.Fatal("RemoveUser answered while alice's media peer was still joined")
	}
	until(t, "bob to be told alice's video is unpublished", func() bool { return !bob.media.Announced("alice", wire.Video) })
	until(t, "bob to be told alice's audio is unpublished", func() bool { return !bob.media.Announced("alice", wire.Audio) })
	await.Expect(t, nextOf(t, alice.conn, "kicked"), "kicked", "", "removed")
	stoppedFor(t, "alice's audio after RemoveUser", alice.media, packets(bob.media, "alice", wire.Audio))
}

// TestMediaSetUserBlocked: IsMute 3 stops alice's video for bob while her
// audio goes on, and tells alice and bob (user_blocked); IsMute 0 lets her
// video through again.
func TestMediaSetUserBlocked(t *testing.T) {
	n := tk.Start(t, tk.Config())
	const roomID = 7002
	alice := joinMedia(t, n, "alice", roomID, "")
	bob := joinMedia(t, n, "bob", roomID, "")
	publishAV(t, alice)
	receiving(t, bob, "alice")

	setUserBlocked(t, n, roomID, "alice", 3)
	for _, c := range []*client.Conn{alice.conn, bob.conn} {
		ev := nextOf(t, c, "user_blocked")
		if ev.UserID != "alice" || ev.Audio == nil || *ev.Audio || ev.Video == nil || !*ev.Video || ev.Ts < time.Now().Add(-time.Hour).UnixMilli() {
			t.Fatalf("user_blocked %+v, want alice audio=false video=true and a ts of now", ev)
		}
	}
	stoppedFor(t, "alice's blocked video", alice.media, packets(bob.media, "alice", wire.Video))
	grows(t, "alice's audio to go on", packets(bob.media, "alice", wire.Audio), 20)

	setUserBlocked(t, n, roomID, "alice", 0)
	ev := nextOf(t, bob.conn, "user_blocked")
	if ev.Audio == nil || *ev.Audio || ev.Video == nil || *ev.Video {
		t.Fatalf("user_blocked %+v, want audio=false video=false", ev)
	}
	grows(t, "alice's video to resume", packets(bob.media, "alice", wire.Video), 10)
}

// TestMediaDismissRoomClosesTheMedia: DismissRoom kicks both and closes the
// room's media before it answers.
func TestMediaDismissRoomClosesTheMedia(t *testing.T) {
	n := tk.Start(t, tk.Config())
	const roomID = 7003
	alice := joinMedia(t, n, "alice", roomID, "")
	bob := joinMedia(t, n, "bob", roomID, "")
	publishAV(t, alice)
	receiving(t, bob, "alice")
	room := n.Media.Room(rooms.NumRoom(tk.App, roomID).String())

	if code, msg := tk.Call(t, n.Addr(), "DismissRoom", fmt.Sprintf(`{"SdkAppId":%d,"RoomId":%d}`, tk.App, roomID)); code != "" {
		t.Fatalf("DismissRoom: %s %s", code, msg)
	}
	if !room.Closed() || room.Joined("alice") || room.Joined("bob") {
		t.Fatal("DismissRoom answered while the room's media was open")
	}
	for _, m := range []mediaMember{alice, bob} {
		await.Expect(t, nextOf(t, m.conn, "kicked"), "kicked", "", "dismissed")
	}
	stoppedFor(t, "alice's audio after DismissRoom", alice.media, packets(bob.media, "alice", wire.Audio))
}

// TestMediaAudienceCannotPublish: an audience member's offer is refused
// with FailedOperation.PublishNotAllowed; it still receives.
func TestMediaAudienceCannotPublish(t *testing.T) {
	n := tk.Start(t, tk.Config())
	const roomID = 7004
	alice := joinMedia(t, n, "alice", roomID, "")
	carol := joinMedia(t, n, "carol", roomID, "audience")
	ctx, cancel := context.WithTimeout(context.Background(), mediaWait)
	defer cancel()
	err := carol.media.Publish(ctx, mc.TrackSpec{Kind: wire.Audio})
	var we *wire.Error
	if !errors.As(err, &we) || we.Code != wire.CodePublishNotAllowed {
		t.Fatalf("audience publish: %v, want %s", err, wire.CodePublishNotAllowed)
	}
	publishAV(t, alice)
	receiving(t, carol, "alice")
}

// rawJoin joins over a bare WebSocket and reads the joined message.
func rawJoin(t *testing.T, n *node.Node, user string, room uint64) *websocket.Conn {
	t.Helper()
	ws, _, err := websocket.DefaultDialer.Dial("ws://"+n.Addr()+"/v1/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	sig := usersig.Generate(tk.App, tk.AppKey, user, time.Hour, time.Now(), nil)
	ws.WriteMessage(websocket.TextMessage, []byte(fmt.Sprintf(`{"type":"join","sdkAppId":%d,"userId":%q,"userSig":%q,"roomId":%d}`, tk.App, user, sig, room)))
	if m := readMsg(t, ws); m["type"] != "joined" {
		t.Fatalf("join answer %v", m)
	}
	return ws
}

func readMsg(t *testing.T, ws *websocket.Conn) map[string]any {
	t.Helper()
	ws.SetReadDeadline(time.Now().Add(mediaWait))
	_, b, err := ws.ReadMessage()
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("not JSON: %s", b)
	}
	return m
}

// TestMediaFramesOnTheRoomWebSocket: a media_ frame may be larger than the
// 4096-byte limit of other frames and a refused one is answered with a
// media_error, the session going on; a non-media frame of the same size
// still ends the session with FrameTooLarge.
func TestMediaFramesOnTheRoomWebSocket(t *testing.T) {
	n := tk.Start(t, tk.Config())
	ws := rawJoin(t, n, "alice", 7005)
	big := `{"type":"media_offer","pc":"pub","sdp":"` + strings.Repeat("x", 10000) + `"}`
	ws.WriteMessage(websocket.TextMessage, []byte(big))
	if m := readMsg(t, ws); m["type"] != "media_error" || m["code"] != wire.CodeInvalidSDP || m["ref"] != "media_offer" {
		t.Fatalf("answer to a bad 10 KB offer: %v", m)
	}
	ws.WriteMessage(websocket.TextMessage, []byte(`{"type":"media_subscribe","userId":"a.b","kind":"video"}`))
	if m := readMsg(t, ws); m["type"] != "media_error" || m["code"] != wire.CodeInvalidMessage {
		t.Fatalf("answer to a bad subscribe: %v", m)
	}
	ws.WriteMessage(websocket.TextMessage, []byte(`{"type":"ping"}`))
	if m := readMsg(t, ws); m["type"] != "pong" {
		t.Fatalf("the session did not go on: %v", m)
	}
	ws.WriteMessage(websocket.TextMessage, []byte(`{"type":"ping","pad":"`+strings.Repeat("x", 10000)+`"}`))
	if m := readMsg(t, ws); m["type"] != "error" || m["code"] != "FrameTooLarge" {
		t.Fatalf("answer to a 10 KB ping: %v", m)
	}
}

// TestMediaDisabled: with media.enabled false the server runs no SFU and
// answers media_ messages with FailedOperation.MediaDisabled.
func TestMediaDisabled(t *testing.T) {
	cfg := tk.Config()
	off := false
	cfg.Media.Enabled = &off
	n := tk.Start(t, cfg)
	if n.Media != nil {
		t.Fatal("media server built although disabled")
	}
	ws := rawJoin(t, n, "alice", 7006)
	ws.WriteMessage(websocket.TextMessage, []byte(`{"type":"media_renegotiate","pc":"sub"}`))
	if m := readMsg(t, ws); m["type"] != "media_error" || m["code"] != wire.CodeMediaDisabled || m["ref"] != "media_renegotiate" {
		t.Fatalf("answer: %v", m)
	}
}

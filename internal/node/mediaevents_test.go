package node_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trtcd/trtcd/client/media/wire"
	"github.com/trtcd/trtcd/internal/config"
	"github.com/trtcd/trtcd/internal/media"
	"github.com/trtcd/trtcd/internal/node"
	"github.com/trtcd/trtcd/internal/rooms"
	tk "github.com/trtcd/trtcd/internal/testkit"
)

// callbackLog is a loopback callback receiver that keeps "EventType/UserId"
// of every callback, in arrival order (the sender delivers a room's events
// one at a time, in room order).
type callbackLog struct {
	mu  sync.Mutex
	got []string
	srv *httptest.Server
}

func newCallbackLog(t *testing.T) *callbackLog {
	c := &callbackLog{}
	c.srv = tk.CallbackReceiver(t, func(_, event string) {
		c.mu.Lock()
		c.got = append(c.got, event)
		c.mu.Unlock()
	})
	return c
}

func (c *callbackLog) list() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.got...)
}

// waitFor waits until the receiver has n callbacks and returns them.
func (c *callbackLog) waitFor(t *testing.T, what string, n int) []string {
	t.Helper()
	until(t, what, func() bool { return len(c.list()) >= n })
	return c.list()
}

// TestMediaEventsReachCallbacksAndHistory: on one node with media, a
// callback receiver and the embedded history, alice publishes audio and
// video over real WebRTC on loopback. The room-event log then carries her
// audio and video start after her enter, so the app gets 203 and 201 after
// her 103; taking her video away gives 202; her leaving gives only 104, as
// TRTC sends no stop events for a user who leaves (docs/callbacks.md).
// DescribeUserEvent shows the same events, in the same order.
func TestMediaEventsReachCallbacksAndHistory(t *testing.T) {
	recv := newCallbackLog(t)
	cfg := tk.Config()
	cfg.Accounts[0].Apps[0].Callback = &config.Callback{URL: recv.srv.URL, Key: "mediaEventsCallbackKey"}
	cfg.History, cfg.DataDir = "", t.TempDir()
	n := tk.Start(t, cfg)
	if n.Media == nil || n.Callbacks == nil || n.History == nil {
		t.Fatal("the node has no media, callbacks or history")
	}
	const roomID = 7020
	start := time.Now().Add(-time.Minute).Unix()
	alice := joinMedia(t, n, "alice", roomID, "")
	bob := joinMedia(t, n, "bob", roomID, "")
	nextOf(t, alice.conn, "user_entered")
	publishAV(t, alice)
	receiving(t, bob, "alice")
	got := recv.waitFor(t, "the start callbacks", 5)
	if strings.Join(got[:3], " ") != "101/alice 103/alice 103/bob" {
		t.Fatalf("callbacks %v: want 101/alice 103/alice 103/bob first", got)
	}
	if s := strings.Join(sortedPair(got[3], got[4]), " "); s != "201/alice 203/alice" {
		t.Fatalf("callbacks %v: want 201/alice and 203/alice after the enters", got)
	}

	ctx, cancel := context.WithTimeout(context.Background(), mediaWait)
	defer cancel()
	if err := alice.media.Unpublish(ctx, wire.Video); err != nil {
		t.Fatal(err)
	}
	if got := recv.waitFor(t, "the video stop callback", 6); got[5] != "202/alice" {
		t.Fatalf("callbacks %v: want 202/alice after the starts", got)
	}
	if err := alice.conn.Leave(ctx); err != nil {
		t.Fatal(err)
	}
	nextOf(t, bob.conn, "user_left")
	if err := bob.conn.Leave(ctx); err != nil {
		t.Fatal(err)
	}
	got = recv.waitFor(t, "the leave and close callbacks", 9)
	if s := strings.Join(got[5:], " "); s != "202/alice 104/alice 104/bob 102/" {
		t.Fatalf("callbacks %v: want 202/alice 104/alice 104/bob 102/ at the end", got)
	}

	// The history shows alice's media events between her enter and leave.
	var info struct {
		Total    int
		RoomList []struct {
			CommId     string
			IsFinished bool
		}
	}
	end := time.Now().Add(time.Minute).Unix()
	until(t, "the room in the history, finished", func() bool {
		describe(t, n.Addr(), "DescribeRoomInfo", map[string]any{"SdkAppId": tk.App, "StartTime": start, "EndTime": end,
			"RoomId": fmt.Sprint(roomID)}, &info)
		return info.Total == 1 && info.RoomList[0].IsFinished
	})
	var events struct {
		Data []struct {
			PeerId  string
			Content []struct {
				Type    int64
				Time    int64
				EventId int64
			}
		}
		Error *struct{ Code, Message string }
	}
	var ids []string
	until(t, "alice's events in the history", func() bool {
		describe(t, n.Addr(), "DescribeUserEvent", map[string]any{"SdkAppId": tk.App, "CommId": info.RoomList[0].CommId,
			"StartTime": start, "EndTime": end, "UserId": "alice", "RoomId": fmt.Sprint(roomID)}, &events)
		if events.Error != nil {
			t.Fatalf("DescribeUserEvent: %+v", events.Error)
		}
		ids = nil
		for _, d := range events.Data {
			for _, e := range d.Content {
				ids = append(ids, strconv.FormatInt(e.EventId, 10))
			}
		}
		return len(ids) >= 5
	})
	if len(ids) != 5 || ids[0] != "103" || ids[4] != "104" || ids[3] != "202" ||
		strings.Join(sortedPair(ids[1], ids[2]), " ") != "201 203" {
		t.Fatalf("DescribeUserEvent for alice: event ids %v, want 103, 201 and 203 (any order), 202, 104", ids)
	}
	m := scrape(t, n.Addr())
	if m["trtcd_media_events_total"] < 3 {
		t.Fatalf("trtcd_media_events_total %v, want at least 3", m["trtcd_media_events_total"])
	}
}

func sortedPair(a, b string) []string {
	if b < a {
		return []string{b, a}
	}
	return []string{a, b}
}

// TestMediaEventNotLoggedIsCounted: a media event that cannot be recorded
// (its user is not in the room, a bad room key, an unknown type) appends
// nothing and is counted in trtcd_media_events_unlogged_total by reason,
// while one of a member is recorded.
func TestMediaEventNotLoggedIsCounted(t *testing.T) {
	n := tk.Start(t, tk.Config())
	const roomID = 7021
	key := rooms.NumRoom(tk.App, roomID)
	tk.Join(t, n.Addr(), tk.App, tk.AppKey, "alice", roomID, "")
	before := n.EventsAppended()
	now := time.Now()
	node.OnMediaEvent(n, media.MediaEvent{Type: media.EventStartAudio, Room: key.String(), User: "bob", Time: now})
	node.OnMediaEvent(n, media.MediaEvent{Type: media.EventStartAudio, Room: "1400000001:n:0", User: "alice", Time: now})
	node.OnMediaEvent(n, media.MediaEvent{Type: 299, Room: key.String(), User: "alice", Time: now})
	if got := n.EventsAppended(); got != before {
		t.Fatalf("refused media events appended %d events", got-before)
	}
	node.OnMediaEvent(n, media.MediaEvent{Type: media.EventStartAudio, Room: key.String(), User: "alice", Time: now})
	if got := n.EventsAppended(); got != before+1 {
		t.Fatalf("alice's media event appended %d events, want 1", got-before)
	}
	m := scrape(t, n.Addr())
	if m[`trtcd_media_events_unlogged_total{reason="not_member"}`] != 1 || m[`trtcd_media_events_unlogged_total{reason="failed"}`] != 2 ||
		m["trtcd_media_events_total"] != 4 {
		t.Fatalf("metrics: unlogged not_member %v, failed %v, events %v; want 1, 2, 4",
			m[`trtcd_media_events_unlogged_total{reason="not_member"}`], m[`trtcd_media_events_unlogged_total{reason="failed"}`], m["trtcd_media_events_total"])
	}
}

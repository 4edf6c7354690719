package signal_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/trtcd/trtcd/client"
	"github.com/trtcd/trtcd/internal/rooms"
	"github.com/trtcd/trtcd/internal/signal"
	"github.com/trtcd/trtcd/protocol"
)

func sorted(s []string) []string { sort.Strings(s); return s }

func TestJoinAnnouncesAndListsMembers(t *testing.T) {
	e := newEnv(t, signal.Config{})
	alice := e.join(e.params("alice"))
	if j := alice.Joined(); j.Type != "joined" || j.SessionID == "" || j.RoomID != 1234 || fmt.Sprint(j.Members) != "[{alice anchor}]" {
		t.Fatalf("alice joined %+v", j)
	}
	bob := e.join(e.params("bob"))
	if got := fmt.Sprint(sortMembers(bob.Joined().Members)); got != "[{alice anchor} {bob anchor}]" {
		t.Fatalf("bob's member list %s", got)
	}
	ev := next(t, alice)
	if ev.Type != "user_entered" || ev.UserID != "bob" || ev.Role != "anchor" || ev.Seq <= alice.Joined().Seq || ev.Ts == 0 {
		t.Fatalf("alice saw %+v", ev)
	}
	if err := bob.Leave(e.ctx); err != nil {
		t.Fatal(err)
	}
	ev = next(t, alice)
	if ev.Type != "user_left" || ev.UserID != "bob" || ev.Reason != "left" {
		t.Fatalf("alice saw %+v", ev)
	}
	if got := e.members(e.room); fmt.Sprint(got) != "[alice/anchor]" {
		t.Fatalf("members %v", got)
	}
}

func sortMembers(ms []client.Member) []client.Member {
	sort.Slice(ms, func(i, j int) bool { return ms[i].UserID < ms[j].UserID })
	return ms
}

func TestRemoveKicksAndTellsOthers(t *testing.T) {
	e := newEnv(t, signal.Config{})
	alice := e.join(e.params("alice"))
	bob := e.join(e.params("bob"))
	next(t, alice) // bob entered
	if err := e.svc.Remove(e.ctx, e.room, []string{"bob"}); err != nil {
		t.Fatal(err)
	}
	if got := e.members(e.room); fmt.Sprint(got) != "[alice/anchor]" {
		t.Fatalf("right after Remove: %v", got)
	}
	ev := next(t, bob)
	if ev.Type != "kicked" || ev.Reason != "removed" {
		t.Fatalf("bob got %+v", ev)
	}
	ended(t, bob)
	if !errors.Is(bob.Err(), client.ErrKicked) {
		t.Fatalf("bob's error %v", bob.Err())
	}
	ev = next(t, alice)
	if ev.Type != "user_left" || ev.UserID != "bob" || ev.Reason != "removed" {
		t.Fatalf("alice got %+v", ev)
	}
	// a removed user may enter again at once
	bob2 := e.join(e.params("bob"))
	if ev := next(t, alice); ev.Type != "user_entered" || ev.UserID != "bob" {
		t.Fatalf("alice got %+v", ev)
	}
	bob2.Leave(e.ctx)
}

func TestDismissKicksEveryone(t *testing.T) {
	e := newEnv(t, signal.Config{})
	alice := e.join(e.params("alice"))
	bob := e.join(e.params("bob"))
	p := e.params("carol")
	p.Role = "audience"
	carol := e.join(p)
	next(t, alice) // bob entered
	if err := e.svc.Dismiss(e.ctx, e.room); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*client.Conn{alice, bob, carol} {
		if ev := next(t, c); ev.Type != "kicked" || ev.Reason != "dismissed" {
			t.Fatalf("got %+v", ev)
		}
		ended(t, c)
	}
	if got := e.members(e.room); len(got) != 0 {
		t.Fatalf("members after dismiss %v", got)
	}
	if err := e.svc.Dismiss(e.ctx, e.room); !errors.Is(err, rooms.ErrRoomNotFound) {
		t.Fatalf("room still there: %v", err)
	}
}

func TestDuplicateUserIDReplacesEarlierSession(t *testing.T) {
	e := newEnv(t, signal.Config{})
	bob := e.join(e.params("bob"))
	alice1 := e.join(e.params("alice"))
	next(t, bob) // alice entered
	alice2 := e.join(e.params("alice"))
	if ev := next(t, alice1); ev.Type != "kicked" || ev.Reason != "duplicate" {
		t.Fatalf("first alice got %+v", ev)
	}
	ended(t, alice1)
	quiet(t, bob) // no leave, no second enter
	if got := e.members(e.room); fmt.Sprint(got) != "[alice/anchor bob/anchor]" {
		t.Fatalf("members %v", got)
	}
	// the old session's end must not remove the new one
	e.join(e.params("carol"))
	if ev := next(t, bob); ev.Type != "user_entered" || ev.UserID != "carol" {
		t.Fatalf("bob got %+v", ev)
	}
	if ev := next(t, alice2); ev.Type != "user_entered" || ev.UserID != "carol" {
		t.Fatalf("second alice got %+v", ev)
	}
}

func TestAudienceIsNotAnnounced(t *testing.T) {
	e := newEnv(t, signal.Config{})
	alice := e.join(e.params("alice"))
	p := e.params("viewer")
	p.Role = "audience"
	viewer := e.join(p)
	if got := fmt.Sprint(sortMembers(viewer.Joined().Members)); got != "[{alice anchor} {viewer audience}]" {
		t.Fatalf("viewer's list %s", got)
	}
	quiet(t, alice)
	bob := e.join(e.params("bob"))
	if got := fmt.Sprint(sortMembers(bob.Joined().Members)); got != "[{alice anchor} {bob anchor}]" {
		t.Fatalf("bob's list shows the audience: %s", got)
	}
	if ev := next(t, viewer); ev.Type != "user_entered" || ev.UserID != "bob" {
		t.Fatalf("audience must receive room events, got %+v", ev)
	}
	next(t, alice) // bob entered
	viewer.Leave(e.ctx)
	quiet(t, alice)
	// but RemoveUser applies to audience members
	v2 := e.join(p)
	if err := e.svc.Remove(e.ctx, e.room, []string{"viewer"}); err != nil {
		t.Fatal(err)
	}
	if ev := next(t, v2); ev.Type != "kicked" || ev.Reason != "removed" {
		t.Fatalf("audience got %+v", ev)
	}
	quiet(t, alice)
}

func TestIdleTimeoutRemovesSilentClient(t *testing.T) {
	e := newEnv(t, signal.Config{IdleTimeout: 300 * time.Millisecond})
	alice, err := client.Join(e.ctx, e.srv.URL, e.params("alice"), client.Options{Heartbeat: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer alice.Close()
	silent, err := client.Join(e.ctx, e.srv.URL, e.params("silent"), client.Options{Heartbeat: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	next(t, alice) // silent entered
	ev := next(t, alice)
	if ev.Type != "user_left" || ev.UserID != "silent" || ev.Reason != "timeout" {
		t.Fatalf("alice got %+v", ev)
	}
	ended(t, silent)
	var ce *websocket.CloseError
	if !errors.As(silent.Err(), &ce) || ce.Code != protocol.CloseIdle {
		t.Fatalf("silent closed with %v", silent.Err())
	}
	// alice, who pings, is still there
	if got := e.members(e.room); fmt.Sprint(got) != "[alice/anchor]" {
		t.Fatalf("members %v", got)
	}
}

func TestEventsArriveInRoomOrder(t *testing.T) {
	e := newEnv(t, signal.Config{})
	watcher := e.join(e.params("watcher"))
	for i := 0; i < 20; i++ {
		c := e.join(e.params(fmt.Sprintf("u%d", i)))
		c.Leave(e.ctx)
	}
	last := watcher.Joined().Seq
	for i := 0; i < 40; i++ {
		ev := next(t, watcher)
		want := "user_entered"
		if i%2 == 1 {
			want = "user_left"
		}
		if ev.Type != want || ev.UserID != fmt.Sprintf("u%d", i/2) || ev.Seq <= last {
			t.Fatalf("event %d: %+v after seq %d", i, ev, last)
		}
		last = ev.Seq
	}
}

func TestShutdownLeavesAndClosesClients(t *testing.T) {
	e := newEnv(t, signal.Config{})
	alice := e.join(e.params("alice"))
	bob := e.join(e.params("bob"))
	next(t, alice)
	if err := e.sig.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*client.Conn{alice, bob} {
		for range c.Events() {
		}
		var ce *websocket.CloseError
		if !errors.As(c.Err(), &ce) || ce.Code != protocol.CloseGoingAway {
			t.Fatalf("closed with %v", c.Err())
		}
	}
	if got := e.members(e.room); len(got) != 0 {
		t.Fatalf("members after shutdown %v", got)
	}
	if e.sig.Connections() != 0 || e.hub.Sessions() != 0 {
		t.Fatalf("%d connections, %d sessions left", e.sig.Connections(), e.hub.Sessions())
	}
	// joins are refused from now on
	_, err := client.Join(e.ctx, e.srv.URL, e.params("carol"), client.Options{})
	var ce *client.Error
	if !errors.As(err, &ce) || ce.Code != protocol.CodeServiceUnavailable {
		t.Fatalf("join after shutdown: %v", err)
	}
}

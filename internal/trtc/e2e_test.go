package trtc_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"testing"

	"go.uber.org/goleak"

	trtcsdk "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/trtc/v20190722"

	"github.com/trtcd/trtcd/client"
	"github.com/trtcd/trtcd/internal/rooms"
	tk "github.com/trtcd/trtcd/internal/testkit"
	"github.com/trtcd/trtcd/internal/testkit/await"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func members(t *testing.T, svc *rooms.Service, room rooms.Key) string {
	ms, err := svc.Members(context.Background(), room)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, m := range ms {
		ids = append(ids, m.UserID)
	}
	sort.Strings(ids)
	return fmt.Sprint(ids)
}

func removeUser(room uint64, users ...string) *trtcsdk.RemoveUserRequest {
	r := trtcsdk.NewRemoveUserRequest()
	r.SdkAppId, r.RoomId, r.UserIds = tk.U64(tk.App), tk.U64(room), tk.Users(users...)
	return r
}

func TestRemoveUserEndToEnd(t *testing.T) {
	n := tk.Start(t, tk.Config())
	for i, mode := range tk.Modes {
		t.Run(mode.Name, func(t *testing.T) {
			roomID := uint64(1000 + i)
			room := rooms.NumRoom(tk.App, roomID)
			alice := tk.Join(t, n.Addr(), tk.App, tk.AppKey, "alice", roomID, "")
			bob := tk.Join(t, n.Addr(), tk.App, tk.AppKey, "bob", roomID, "")
			carol := tk.Join(t, n.Addr(), tk.App, tk.AppKey, "carol", roomID, "")
			await.Expect(t, await.Next(t, alice), "user_entered", "bob", "")
			await.Expect(t, await.Next(t, alice), "user_entered", "carol", "")
			await.Expect(t, await.Next(t, bob), "user_entered", "carol", "")
			sdk := tk.SDK(t, n.Addr(), tk.AcmeID, tk.AcmeKey, mode)

			resp, err := sdk.RemoveUser(removeUser(roomID, "bob", "carol", "bob", "nobody"))
			if err != nil {
				t.Fatalf("RemoveUser: %v", err)
			}
			if resp.Response.RequestId == nil || *resp.Response.RequestId == "" {
				t.Fatal("no RequestId")
			}
			// Committed before the answer: a read right after no longer shows them.
			if got := members(t, n.Rooms, room); got != "[alice]" {
				t.Fatalf("members right after RemoveUser: %s", got)
			}
			// Removals happen in the order given: carol sees bob go first.
			await.Expect(t, await.Next(t, carol), "user_left", "bob", "removed")
			for _, c := range []*client.Conn{bob, carol} {
				await.Expect(t, await.Next(t, c), "kicked", "", "removed")
				await.Ended(t, c)
				if !errors.Is(c.Err(), client.ErrKicked) {
					t.Fatalf("ended with %v", c.Err())
				}
			}
			left := map[string]bool{}
			for k := 0; k < 2; k++ {
				ev := await.Next(t, alice)
				if ev.Type != "user_left" || ev.Reason != "removed" {
					t.Fatalf("alice got %+v", ev)
				}
				left[ev.UserID] = true
			}
			if !left["bob"] || !left["carol"] {
				t.Fatalf("alice saw %v leave", left)
			}
			// Removing them again is a successful no-op.
			if _, err := sdk.RemoveUser(removeUser(roomID, "bob")); err != nil {
				t.Fatalf("second RemoveUser: %v", err)
			}
			// A removed user can enter again at once.
			bob2 := tk.Join(t, n.Addr(), tk.App, tk.AppKey, "bob", roomID, "")
			await.Expect(t, await.Next(t, alice), "user_entered", "bob", "")
			bob2.Leave(context.Background())
			alice.Leave(context.Background())
		})
	}
}

func TestRemoveUserByStrRoomIdEndToEnd(t *testing.T) {
	n := tk.Start(t, tk.Config())
	for _, mode := range []tk.Mode{tk.Modes[0], tk.Modes[3]} {
		t.Run(mode.Name, func(t *testing.T) {
			alice := tk.Join(t, n.Addr(), tk.App, tk.AppKey, "alice", 0, "my room!")
			bob := tk.Join(t, n.Addr(), tk.App, tk.AppKey, "bob", 0, "my room!")
			await.Next(t, alice)
			req := trtcsdk.NewRemoveUserByStrRoomIdRequest()
			req.SdkAppId, req.RoomId, req.UserIds = tk.U64(tk.App), tk.S("my room!"), tk.Users("bob")
			if _, err := tk.SDK(t, n.Addr(), tk.AcmeID, tk.AcmeKey, mode).RemoveUserByStrRoomId(req); err != nil {
				t.Fatal(err)
			}
			if got := members(t, n.Rooms, rooms.StrRoom(tk.App, "my room!")); got != "[alice]" {
				t.Fatalf("members %s", got)
			}
			await.Expect(t, await.Next(t, bob), "kicked", "", "removed")
			await.Ended(t, bob)
			await.Expect(t, await.Next(t, alice), "user_left", "bob", "removed")
			alice.Leave(context.Background())
		})
	}
}

func TestDismissRoomEndToEnd(t *testing.T) {
	n := tk.Start(t, tk.Config())
	for _, mode := range []tk.Mode{tk.Modes[0], tk.Modes[1], tk.Modes[4]} {
		t.Run(mode.Name, func(t *testing.T) {
			sdk := tk.SDK(t, n.Addr(), tk.AcmeID, tk.AcmeKey, mode)
			var conns []*client.Conn
			for i := 0; i < 4; i++ {
				conns = append(conns, tk.Join(t, n.Addr(), tk.App, tk.AppKey, tk.Name("u", i), 77, ""))
			}
			req := trtcsdk.NewDismissRoomRequest()
			req.SdkAppId, req.RoomId = tk.U64(tk.App), tk.U64(77)
			if _, err := sdk.DismissRoom(req); err != nil {
				t.Fatal(err)
			}
			if got := members(t, n.Rooms, rooms.NumRoom(tk.App, 77)); got != "[]" {
				t.Fatalf("members after dismiss %s", got)
			}
			for _, c := range conns {
				await.Expect(t, await.Skipping(t, c, "user_entered"), "kicked", "", "dismissed")
				await.Ended(t, c)
			}
			_, err := sdk.DismissRoom(req)
			if tk.Code(err) != "FailedOperation.RoomNotExist" {
				t.Fatalf("dismiss of a gone room: %v", err)
			}

			s := tk.Join(t, n.Addr(), tk.App, tk.AppKey, "s1", 0, "77")
			sreq := trtcsdk.NewDismissRoomByStrRoomIdRequest()
			sreq.SdkAppId, sreq.RoomId = tk.U64(tk.App), tk.S("77")
			if _, err := sdk.DismissRoomByStrRoomId(sreq); err != nil {
				t.Fatal(err)
			}
			await.Expect(t, await.Next(t, s), "kicked", "", "dismissed")
			await.Ended(t, s)
		})
	}
}

func TestNumericAndStringRoomsAreDistinct(t *testing.T) {
	n := tk.Start(t, tk.Config())
	num := tk.Join(t, n.Addr(), tk.App, tk.AppKey, "alice", 1234, "")
	str := tk.Join(t, n.Addr(), tk.App, tk.AppKey, "alice", 0, "1234")
	sdk := tk.SDK(t, n.Addr(), tk.AcmeID, tk.AcmeKey, tk.Modes[0])
	if _, err := sdk.RemoveUser(removeUser(1234, "alice")); err != nil {
		t.Fatal(err)
	}
	await.Expect(t, await.Next(t, num), "kicked", "", "removed")
	if got := members(t, n.Rooms, rooms.StrRoom(tk.App, "1234")); got != "[alice]" {
		t.Fatalf("the string room was touched: %s", got)
	}
	// Asking for the wrong kind of room answers RoomNotExist.
	req := trtcsdk.NewRemoveUserByStrRoomIdRequest()
	req.SdkAppId, req.RoomId, req.UserIds = tk.U64(tk.App), tk.S("999"), tk.Users("alice")
	_, err := sdk.RemoveUserByStrRoomId(req)
	if tk.Code(err) != "FailedOperation.RoomNotExist" {
		t.Fatalf("got %v", err)
	}
	select {
	case ev := <-str.Events():
		t.Fatalf("the string room's member got %+v", ev)
	default:
	}
	str.Leave(context.Background())
}

package joinauth_test

import (
	"testing"
	"time"

	"github.com/trtcd/trtcd/internal/joinauth"
	"github.com/trtcd/trtcd/internal/rooms"
	"github.com/trtcd/trtcd/protocol"
	"github.com/trtcd/trtcd/usersig"
)

// FuzzAuthorize: any request is granted or refused, never a panic; a refusal
// has a join-refusal code; a grant names a valid identity, and only a
// request whose UserSig verifies is granted.
func FuzzAuthorize(f *testing.F) {
	pmk := usersig.GeneratePrivateMapKey(app, appKey, "alice", time.Hour, now, 1234, "", usersig.PrivAll)
	f.Add(uint64(app), "alice", uint64(1234), "", uint8(1), "anchor", sig(app, "alice"), "")
	f.Add(uint64(app), "alice", uint64(1234), "", uint8(1), "audience", sig(app, "alice"), pmk)
	f.Add(uint64(pmkApp), "bob", uint64(0), "r 1", uint8(2), "", sig(pmkApp, "bob"), "")
	f.Add(uint64(0), "", uint64(0), "", uint8(0), "admin", "abc", "zzz")
	f.Add(uint64(app), "a", uint64(1), "x", uint8(3), "", "eJyrVgrxCdYrSy1SslIy0jNQ0gHzM1NS80oy0zLBwhWZiflZpXlQqeKU7MSCgswUJStDEwMogMiUZOamKlkZmqOKplYUZBaBxE1NTY3gosWZ6UpWSj5ljuYp", "")
	a := newAuth()
	f.Fuzz(func(t *testing.T, sdkAppID uint64, user string, roomID uint64, strRoom string, which uint8, role, userSig, privateMapKey string) {
		req := joinauth.Request{SdkAppID: sdkAppID, UserID: user, Role: role, UserSig: userSig, PrivateMapKey: privateMapKey}
		if which&1 != 0 {
			req.RoomID = &roomID
		}
		if which&2 != 0 {
			req.StrRoomID = &strRoom
		}
		g, r := a.Authorize(req)
		if r != nil {
			if r.Code == "" || r.Message == "" || r.CloseCode() != protocol.CloseJoinRefused || g != (joinauth.Grant{}) {
				t.Fatalf("refusal %+v grant %+v", r, g)
			}
			return
		}
		if !rooms.ValidUserID(g.UserID) || g.UserID != user || g.Room.App != sdkAppID || g.Privilege&usersig.PrivEnterRoom == 0 {
			t.Fatalf("granted %+v", g)
		}
		if (g.Room.IsStr() && (!rooms.ValidStrRoom(g.Room.Str) || req.StrRoomID == nil)) || (!g.Room.IsStr() && (!rooms.ValidRoomNum(g.Room.Num) || req.RoomID == nil)) {
			t.Fatalf("granted room %+v for %+v", g.Room, req)
		}
		if _, err := usersig.Verify(userSig, sdkAppID, appKey, user, now); err != nil {
			t.Fatalf("granted with a UserSig that fails: %v", err)
		}
	})
}

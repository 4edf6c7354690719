package joinauth_test

import (
	"strings"
	"testing"
	"time"

	"github.com/trtcd/trtcd/internal/joinauth"
	"github.com/trtcd/trtcd/internal/rooms"
	"github.com/trtcd/trtcd/protocol"
	"github.com/trtcd/trtcd/usersig"
)

const (
	app    = 1400000001
	pmkApp = 1400000002 // requires a PrivateMapKey
	appKey = "test-app-key"
)

var now = time.Unix(1700000000, 0)

func apps(a uint64) (joinauth.App, bool) {
	switch a {
	case app:
		return joinauth.App{Key: appKey}, true
	case pmkApp:
		return joinauth.App{Key: appKey, RequirePrivateMapKey: true}, true
	}
	return joinauth.App{}, false
}

func newAuth() *joinauth.Authorizer {
	return joinauth.New(apps, joinauth.Config{Now: func() time.Time { return now }})
}

func num(n uint64) *uint64 { return &n }
func str(s string) *string { return &s }

func sig(a uint64, user string) string { return usersig.Generate(a, appKey, user, time.Hour, now, nil) }

// good is a valid join of mallory to numeric room 1234 of app.
func good() joinauth.Request {
	return joinauth.Request{SdkAppID: app, UserID: "mallory", RoomID: num(1234), UserSig: sig(app, "mallory")}
}

// Each bad request is refused with its code, message and reason, the
// checks running in the order sdkAppId, userId, room, role, app, UserSig,
// PrivateMapKey (each case also breaks everything checked after it).
func TestRefusals(t *testing.T) {
	pmk := func(room uint64, s string, priv uint32, at time.Time) string {
		return usersig.GeneratePrivateMapKey(app, appKey, "mallory", time.Hour, at, uint32(room), s, priv)
	}
	cases := []struct {
		name         string
		edit         func(r *joinauth.Request)
		code, msg    string
		reason       string
		namesTheRoom bool
	}{
		{"no sdkAppId", func(r *joinauth.Request) { r.SdkAppID, r.UserID, r.RoomID = 0, "", nil }, protocol.CodeInvalidSdkAppID, "sdkAppId must be a positive integer", "", false},
		{"sdkAppId over 32 bits", func(r *joinauth.Request) { r.SdkAppID, r.UserID = 1<<32, "a.b" }, protocol.CodeInvalidSdkAppID, "sdkAppId must be a positive integer", "", false},
		{"empty userId", func(r *joinauth.Request) { r.UserID, r.RoomID = "", nil }, protocol.CodeInvalidUserID, "userId must be 1-32 characters of A-Z a-z 0-9 _ -", "", false},
		{"userId 33 bytes", func(r *joinauth.Request) { r.UserID = strings.Repeat("a", 33) }, protocol.CodeInvalidUserID, "userId must be 1-32 characters of A-Z a-z 0-9 _ -", "", false},
		{"userId with a dot", func(r *joinauth.Request) { r.UserID, r.Role = "a.b", "admin" }, protocol.CodeInvalidUserID, "userId must be 1-32 characters of A-Z a-z 0-9 _ -", "", false},
		{"no room", func(r *joinauth.Request) { r.RoomID, r.Role = nil, "admin" }, protocol.CodeInvalidRoomID, "roomId or strRoomId is required", "", false},
		{"both rooms", func(r *joinauth.Request) { r.StrRoomID = str("x") }, protocol.CodeInvalidRoomID, "give roomId or strRoomId, not both", "", false},
		{"roomId zero (or not an integer)", func(r *joinauth.Request) { r.RoomID = num(0) }, protocol.CodeInvalidRoomID, "roomId must be an integer from 1 to 4294967294", "", false},
		{"roomId 4294967295", func(r *joinauth.Request) { r.RoomID = num(4294967295) }, protocol.CodeInvalidRoomID, "roomId must be an integer from 1 to 4294967294", "", false},
		{"strRoomId empty", func(r *joinauth.Request) { r.RoomID, r.StrRoomID = nil, str("") }, protocol.CodeInvalidRoomID, "strRoomId must be 1-64 bytes of letters, digits, space and !#$%&()+-:;<=.>?@[]^_{}|~,", "", false},
		{"strRoomId with a slash", func(r *joinauth.Request) { r.RoomID, r.StrRoomID = nil, str("a/b") }, protocol.CodeInvalidRoomID, "strRoomId must be 1-64 bytes of letters, digits, space and !#$%&()+-:;<=.>?@[]^_{}|~,", "", false},
		{"bad role", func(r *joinauth.Request) { r.Role, r.SdkAppID = "admin", 1400000999 }, protocol.CodeInvalidRole, "role must be anchor or audience", "", false},
		{"unknown app", func(r *joinauth.Request) { r.SdkAppID, r.UserSig = 1400000999, "" }, protocol.CodeSdkAppIDNotExist, "sdkAppId 1400000999 is not configured on this server", "", true},
		{"no userSig", func(r *joinauth.Request) { r.UserSig = "" }, protocol.CodeUserSig, "userSig verification failed: zlib inflate failed", "zlib inflate failed", true},
		{"garbage userSig", func(r *joinauth.Request) { r.UserSig = "abc" }, protocol.CodeUserSig, "userSig verification failed: base64 decode failed", "base64 decode failed", true},
		{"expired userSig", func(r *joinauth.Request) {
			r.UserSig = usersig.Generate(app, appKey, "mallory", time.Second, now.Add(-time.Hour), nil)
		},
			protocol.CodeUserSig, "userSig verification failed: expired", "expired", true},
		{"userSig dated ten minutes ahead", func(r *joinauth.Request) {
			r.UserSig = usersig.Generate(app, appKey, "mallory", time.Hour, now.Add(10*time.Minute), nil)
		}, protocol.CodeUserSig, "userSig verification failed: TLS.time is in the future", "TLS.time is in the future", true},
		{"userSig of another key", func(r *joinauth.Request) {
			r.UserSig = usersig.Generate(app, "wrong-key", "mallory", time.Hour, now, nil)
		},
			protocol.CodeUserSig, "userSig verification failed: sig not match", "sig not match", true},
		{"userSig of another user", func(r *joinauth.Request) { r.UserSig, r.PrivateMapKey = sig(app, "bob"), "zzz" },
			protocol.CodeUserSig, "userSig verification failed: identifier not match", "identifier not match", true},
		{"app requires a privateMapKey", func(r *joinauth.Request) { r.SdkAppID, r.UserSig = pmkApp, sig(pmkApp, "mallory") },
			protocol.CodePrivateMapKey, "this app requires a privateMapKey to enter a room", "privatemapkey required", true},
		{"privateMapKey garbage", func(r *joinauth.Request) { r.PrivateMapKey = "zzz" },
			protocol.CodePrivateMapKey, "privateMapKey verification failed: base64 decode failed", "base64 decode failed", true},
		{"privateMapKey for another room", func(r *joinauth.Request) { r.PrivateMapKey = pmk(999, "", usersig.PrivAll, now) },
			protocol.CodePrivateMapKey, "privateMapKey verification failed: privatemapkey is for another room", "privatemapkey is for another room", true},
		{"privateMapKey for the string room of the same name", func(r *joinauth.Request) { r.PrivateMapKey = pmk(0, "1234", usersig.PrivAll, now) },
			protocol.CodePrivateMapKey, "privateMapKey verification failed: privatemapkey is for another room", "privatemapkey is for another room", true},
		{"privateMapKey without enter bit", func(r *joinauth.Request) { r.PrivateMapKey = pmk(1234, "", usersig.PrivCreateRoom, now) },
			protocol.CodePrivateMapKey, "privateMapKey verification failed: privatemapkey lacks the enter-room privilege", "privatemapkey lacks the enter-room privilege", true},
		{"privateMapKey expired", func(r *joinauth.Request) { r.PrivateMapKey = pmk(1234, "", usersig.PrivAll, now.Add(-2*time.Hour)) },
			protocol.CodePrivateMapKey, "privateMapKey verification failed: expired", "expired", true},
		{"privateMapKey plain UserSig", func(r *joinauth.Request) { r.PrivateMapKey = sig(app, "mallory") },
			protocol.CodePrivateMapKey, "privateMapKey verification failed: userbuf not match", "userbuf not match", true},
	}
	a := newAuth()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req := good()
			c.edit(&req)
			g, r := a.Authorize(req)
			if r == nil {
				t.Fatalf("granted %+v", g)
			}
			if r.Code != c.code || r.Message != c.msg || r.Reason != c.reason || g != (joinauth.Grant{}) {
				t.Fatalf("got %+v (grant %+v)\nwant %s %q reason %q", r, g, c.code, c.msg, c.reason)
			}
			if r.TRTCCode != protocol.NewError(c.code, "").TRTCCode || r.CloseCode() != protocol.CloseJoinRefused || r.Error.Error() != "trtcd: "+c.code+": "+c.msg {
				t.Fatalf("row of %+v", r)
			}
			named := r.UserID == req.UserID && r.Room == rooms.NumRoom(req.SdkAppID, 1234)
			if c.namesTheRoom != named || (!named && (r.UserID != "" || r.Room != rooms.Key{})) {
				t.Fatalf("refusal names %q in %v; want named=%v", r.UserID, r.Room, c.namesTheRoom)
			}
		})
	}
}

// The identity is checked before the app is looked up: a malformed join
// costs no lookup (and no HMAC).
func TestFieldsCheckedBeforeTheApp(t *testing.T) {
	lookups := 0
	a := joinauth.New(func(x uint64) (joinauth.App, bool) { lookups++; return apps(x) }, joinauth.Config{Now: func() time.Time { return now }})
	req := good()
	req.Role = "admin"
	if _, r := a.Authorize(req); r == nil || r.Code != protocol.CodeInvalidRole || lookups != 0 {
		t.Fatalf("refusal %+v after %d lookups", r, lookups)
	}
	if _, r := a.Authorize(good()); r != nil || lookups != 1 {
		t.Fatalf("refusal %+v after %d lookups", r, lookups)
	}
}

func TestGrants(t *testing.T) {
	a := newAuth()
	g, r := a.Authorize(good())
	if r != nil || g != (joinauth.Grant{Room: rooms.NumRoom(app, 1234), UserID: "mallory", Role: rooms.Anchor, Privilege: usersig.PrivAll}) || !g.Can(usersig.PrivSendVideo) {
		t.Fatalf("plain join: %+v %v", g, r)
	}

	bits := uint32(usersig.PrivEnterRoom | usersig.PrivRecvAudio | usersig.PrivRecvVideo)
	req := joinauth.Request{SdkAppID: pmkApp, UserID: "viewer", StrRoomID: str("room 1"), Role: protocol.RoleAudience, UserSig: sig(pmkApp, "viewer"),
		PrivateMapKey: usersig.GeneratePrivateMapKey(pmkApp, appKey, "viewer", time.Hour, now, 0, "room 1", bits)}
	g, r = a.Authorize(req)
	if r != nil || g != (joinauth.Grant{Room: rooms.StrRoom(pmkApp, "room 1"), UserID: "viewer", Role: rooms.Audience, Privilege: bits}) {
		t.Fatalf("privatemapkey join: %+v %v", g, r)
	}
	if !g.Can(usersig.PrivRecvAudio|usersig.PrivRecvVideo) || g.Can(usersig.PrivSendAudio) || g.Can(usersig.PrivRecvVideo|usersig.PrivSendVideo) {
		t.Fatalf("privileges %b", g.Privilege)
	}
}

// usersig_max_skew: a UserSig dated ahead is accepted within MaxSkew, refused
// beyond it; the default is usersig.DefaultMaxSkew.
func TestMaxSkew(t *testing.T) {
	ahead := good()
	ahead.UserSig = usersig.Generate(app, appKey, "mallory", time.Hour, now.Add(2*time.Minute), nil)
	if _, r := newAuth().Authorize(ahead); r != nil {
		t.Fatalf("2 min ahead with the default skew: %+v", r)
	}
	strict := joinauth.New(apps, joinauth.Config{MaxSkew: time.Minute, Now: func() time.Time { return now }})
	if _, r := strict.Authorize(ahead); r == nil || r.Reason != string(usersig.ReasonFuture) {
		t.Fatalf("2 min ahead with a 1 min skew: %+v", r)
	}
}

// FromFrame turns a decoded join frame into a Request; what is not a JSON
// positive integer becomes 0 and is refused with that field's code.
func TestFromFrame(t *testing.T) {
	cases := []struct {
		frame, code string
	}{
		{`{"type":"join","sdkAppId":"1400000001","userId":"a","roomId":1}`, protocol.CodeInvalidSdkAppID},
		{`{"type":"join","sdkAppId":-1,"userId":"a","roomId":1}`, protocol.CodeInvalidSdkAppID},
		{`{"type":"join","sdkAppId":1400000001,"userId":"a","roomId":12.5}`, protocol.CodeInvalidRoomID},
		{`{"type":"join","sdkAppId":1400000001,"userId":"a","roomId":null}`, protocol.CodeInvalidRoomID},
		{`{"type":"join","sdkAppId":1400000001,"userId":"a","roomId":99999999999999999999}`, protocol.CodeInvalidRoomID},
		{`{"type":"join","sdkAppId":1400000001,"userId":"a","roomId":1,"strRoomId":null}`, protocol.CodeUserSig},
		{`{"type":"join","sdkAppId":1400000001,"userId":"a","strRoomId":"r","role":"audience"}`, protocol.CodeUserSig},
	}
	for _, c := range cases {
		f, e := protocol.Decode([]byte(c.frame), 0)
		if e != nil {
			t.Fatal(e)
		}
		if _, r := newAuth().Authorize(joinauth.FromFrame(f)); r == nil || r.Code != c.code {
			t.Errorf("%s: %+v, want %s", c.frame, r, c.code)
		}
	}
	f, _ := protocol.Decode([]byte(`{"type":"join","sdkAppId":1400000001,"userId":"a","userSig":"s","privateMapKey":"p","roomId":7,"role":"audience"}`), 0)
	req := joinauth.FromFrame(f)
	if req.SdkAppID != app || req.UserID != "a" || *req.RoomID != 7 || req.StrRoomID != nil || req.Role != "audience" || req.UserSig != "s" || req.PrivateMapKey != "p" {
		t.Fatalf("request %+v", req)
	}
}

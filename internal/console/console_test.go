package console_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/trtcd/trtcd/client"
	"github.com/trtcd/trtcd/internal/console"
	tk "github.com/trtcd/trtcd/internal/testkit"
	"github.com/trtcd/trtcd/internal/testkit/await"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestSignIn: a wrong SecretKey or an unknown SecretId cannot sign in and
// gets no cookie; the right pair gets an HttpOnly, SameSite=Strict session
// cookie with an expiry; sign-out ends the session.
func TestSignIn(t *testing.T) {
	n := tk.Start(t, devConfig())
	b := newBrowser(t, n)
	for _, c := range [][2]string{{tk.AcmeID, tk.AcmeKey + "x"}, {tk.AcmeID, tk.OtherKey}, {"AKIDnobody", tk.AcmeKey}} {
		if code, _ := b.signIn(c[0], c[1]); code != 401 {
			t.Fatalf("%v: HTTP %d", c, code)
		}
	}
	if code := b.getJSON("api/session", &struct{}{}); code != 401 {
		t.Fatalf("session after refused sign-ins: %d", code)
	}
	code, hdr, body := b.do("POST", "api/signin", `{"secretId":"`+tk.AcmeID+`","secretKey":"`+tk.AcmeKey+`"}`, nil)
	ck := hdr.Get("Set-Cookie")
	if code != 200 || !strings.Contains(ck, console.CookieName+"=") || !strings.Contains(ck, "HttpOnly") ||
		!strings.Contains(ck, "SameSite=Strict") || !strings.Contains(ck, "Path=/console/") || !strings.Contains(ck, "Max-Age=28800") ||
		!strings.Contains(ck, "Expires=") {
		t.Fatalf("sign-in: %d %q %s", code, ck, body)
	}
	if strings.Contains(body, tk.AcmeKey) {
		t.Fatal("the answer holds the key")
	}
	b.signIn(tk.AcmeID, tk.AcmeKey)
	var s struct {
		Account string
		Apps    []uint64
	}
	if b.getJSON("api/session", &s) != 200 || s.Account != "acme" || fmt.Sprint(s.Apps) != fmt.Sprint([]uint64{tk.App, tk.App2}) {
		t.Fatalf("session %+v", s)
	}
	if code, _, _ := b.do("POST", "api/signout", "{}", map[string]string{"X-CSRF-Token": b.csrf}); code != 204 {
		t.Fatalf("signout %d", code)
	}
	if code := b.getJSON("api/session", &s); code != 401 {
		t.Fatalf("session after sign-out: %d", code)
	}
}

// TestSignInRateLimited: attempts beyond the burst from one address are
// refused with 429, even with the right key.
func TestSignInRateLimited(t *testing.T) {
	n := tk.Start(t, devConfig())
	b := newBrowser(t, n)
	for i := 0; i < console.SignInBurst; i++ {
		b.signIn(tk.AcmeID, "wrong")
	}
	if code, _ := b.signIn(tk.AcmeID, tk.AcmeKey); code != 429 {
		t.Fatalf("attempt %d: HTTP %d", console.SignInBurst+1, code)
	}
}

// TestNoSession401: every endpoint but sign-in answers 401 with no body
// without a valid session (a made-up cookie included).
func TestNoSession401(t *testing.T) {
	n := tk.Start(t, devConfig())
	b := newBrowser(t, n)
	for _, p := range []struct{ m, path string }{{"GET", "api/session"}, {"GET", "api/actions"}, {"GET", "api/rooms?app=1400000001"},
		{"GET", "api/room?app=1400000001&room=n:1"}, {"GET", "api/live/rooms?app=1400000001"}, {"POST", "api/call"}, {"POST", "api/signout"},
		{"GET", "api/history/rooms?app=1400000001"}, {"GET", "api/history/room?app=1400000001&comm=1400000001_1_1_1"},
		{"GET", "api/callbacks?app=1400000001"}, {"POST", "api/callbacks/replay"}} {
		for _, cookie := range []string{"", console.CookieName + "=forged"} {
			code, _, body := b.do(p.m, p.path, "{}", map[string]string{"Cookie": cookie})
			if code != 401 || body != "" {
				t.Fatalf("%s %s (cookie %q): %d %q", p.m, p.path, cookie, code, body)
			}
		}
	}
}

// TestCSRF: a state-changing request without the session's CSRF token (or
// with a wrong one, or from another origin) is refused and changes nothing.
func TestCSRF(t *testing.T) {
	n := tk.Start(t, devConfig())
	b := newBrowser(t, n)
	b.signIn(tk.AcmeID, tk.AcmeKey)
	c := tk.Join(t, n.Addr(), tk.App, tk.AppKey, "alice", 31, "")
	body := `{"action":"RemoveUser","params":{"SdkAppId":1400000001,"RoomId":31,"UserIds":["alice"]}}`
	for _, hdr := range []map[string]string{nil, {"X-CSRF-Token": "wrong"}, {"X-CSRF-Token": b.csrf, "Origin": "http://evil.example"}} {
		if code, _, _ := b.do("POST", "api/call", body, hdr); code != 403 {
			t.Fatalf("%v: HTTP %d", hdr, code)
		}
	}
	if code, _, _ := b.do("POST", "api/call", body, map[string]string{"X-CSRF-Token": b.csrf, "Content-Type": "text/plain"}); code != 415 {
		t.Fatalf("text/plain: HTTP %d", code)
	}
	if code, _, _ := b.do("POST", "api/signout", "{}", nil); code != 403 {
		t.Fatalf("signout without token: %d", code)
	}
	ms, _ := n.Rooms.Members(context.Background(), roomKey(31))
	if len(ms) != 1 {
		t.Fatalf("a refused request changed the room: %v", ms)
	}
	// with the token it works
	if r := b.call("RemoveUser", map[string]any{"SdkAppId": tk.App, "RoomId": 31, "UserIds": []string{"alice"}}); tk.ErrCode(r) != "" {
		t.Fatalf("with the token: %v", r)
	}
	await.Expect(t, await.Next(t, c), "kicked", "", "removed")
}

// TestOtherAccountsApps: an account sees only its own apps; another
// account's app answers 404 like an unknown one, and API calls on it
// answer the API's own refusal.
func TestOtherAccountsApps(t *testing.T) {
	n := tk.Start(t, devConfig())
	other := tk.Join(t, n.Addr(), tk.OtherApp, tk.OtherAppK, "secret-user", 5, "")
	b := newBrowser(t, n)
	b.signIn(tk.AcmeID, tk.AcmeKey)
	for _, p := range []string{"api/rooms?app=1400000003", "api/room?app=1400000003&room=n:5", "api/live/rooms?app=1400000003", "api/rooms?app=1400000099"} {
		code, _, body := b.do("GET", p, "", nil)
		if code != 404 || strings.Contains(body, "secret-user") {
			t.Fatalf("%s: %d %s", p, code, body)
		}
	}
	if r := b.call("RemoveUser", map[string]any{"SdkAppId": tk.OtherApp, "RoomId": 5, "UserIds": []string{"secret-user"}}); tk.ErrCode(r) != "UnauthorizedOperation.SdkAppId" {
		t.Fatalf("RemoveUser on another account's app: %v", r)
	}
	await.Quiet(t, other)
}

// TestRoomsLiveAndRemove: the rooms list and a room's members come from the
// registry; the live view shows a member and then, after the console's
// RemoveUser, the empty room; the client is kicked; the journal has the call.
func TestRoomsLiveAndRemove(t *testing.T) {
	n := tk.Start(t, devConfig())
	b := newBrowser(t, n)
	b.signIn(tk.AcmeID, tk.AcmeKey)
	c := tk.Join(t, n.Addr(), tk.App, tk.AppKey, "bob", 77, "")
	tk.Join(t, n.Addr(), tk.App, tk.AppKey, "s1", 0, "room-x")
	var list struct {
		Rooms []struct {
			Ref              string
			Members, Anchors int
		}
	}
	if b.getJSON("api/rooms?app=1400000001", &list) != 200 || fmt.Sprint(list.Rooms) != "[{n:77 1 1} {s:room-x 1 1}]" {
		t.Fatalf("rooms %+v", list)
	}
	var room struct {
		Members []struct {
			UserId, Role string
			JoinedAt     time.Time
		}
	}
	if b.getJSON("api/room?app=1400000001&room=n:77", &room) != 200 || len(room.Members) != 1 || room.Members[0].UserId != "bob" ||
		room.Members[0].Role != "anchor" || time.Since(room.Members[0].JoinedAt) > time.Hour {
		t.Fatalf("room %+v", room)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ev := b.stream(ctx, "api/live/room?app=1400000001&room=n:77")
	next := func() string {
		select {
		case d := <-ev:
			return d
		case <-time.After(30 * time.Second):
			t.Fatal("no live event within 30 s")
		}
		return ""
	}
	if d := next(); !strings.Contains(d, `"userId":"bob"`) {
		t.Fatalf("first live event %s", d)
	}
	if r := b.call("RemoveUser", map[string]any{"SdkAppId": tk.App, "RoomId": 77, "UserIds": []string{"bob"}}); tk.ErrCode(r) != "" {
		t.Fatalf("RemoveUser: %v", r)
	}
	await.Expect(t, await.Next(t, c), "kicked", "", "removed")
	if !errors.Is(func() error { await.Ended(t, c); return c.Err() }(), client.ErrKicked) {
		t.Fatal("not kicked")
	}
	if d := next(); !strings.Contains(d, `"members":[]`) {
		t.Fatalf("live event after removal %s", d)
	}
	cancel()
	if e := journalOf(t, b); !strings.Contains(e, `"Action":"RemoveUser"`) || !strings.Contains(e, `"Code":"OK"`) {
		t.Fatalf("journal %s", e)
	}
}

func journalOf(t *testing.T, b *browser) string {
	r := b.call("DescribeApiJournal", map[string]any{"Action": "RemoveUser"})
	return fmt.Sprint(mustJSON(r["Entries"]))
}

// TestCallBadInput: bad call requests are refused with 400 naming the
// field; nothing is called.
func TestCallBadInput(t *testing.T) {
	n := tk.Start(t, devConfig())
	b := newBrowser(t, n)
	b.signIn(tk.AcmeID, tk.AcmeKey)
	for _, c := range []struct{ body, want string }{
		{`{"params":{}}`, "action"},
		{`{"action":"NoSuch"}`, "action"},
		{`{"action":"RemoveUser","params":[1]}`, "params"},
		{`{"action":"RemoveUser","extra":1}`, "extra"},
		{`{"action":5}`, "action"},
		{`not json`, "JSON"},
		{`{"action":"RemoveUser"} {}`, "after"},
		{`{"action":"RemoveUser","params":"` + strings.Repeat("x", console.MaxCallBody) + `"}`, "larger"},
	} {
		code, _, body := b.do("POST", "api/call", c.body, map[string]string{"X-CSRF-Token": b.csrf})
		if code != 400 || !strings.Contains(body, c.want) {
			t.Errorf("%.60s: %d %s", c.body, code, body)
		}
	}
	for p, field := range map[string]string{"api/rooms?app=x": "app", "api/rooms?app=0": "app", "api/room?app=1400000001&room=77": "room",
		"api/room?app=1400000001&room=n:0": "room", "api/room?app=1400000001&room=s:": "room"} {
		if code, _, body := b.do("GET", p, "", nil); code != 400 || !strings.HasPrefix(body, `{"error":"`+field+`:`) {
			t.Errorf("%s: %d %s", p, code, body)
		}
	}
	if code, _ := b.signIn(strings.Repeat("x", 300), "k"); code != 400 {
		t.Errorf("long secretId: %d", code)
	}
}

// TestCSPAndAssets: every page and asset carries the CSP; no asset has an
// inline script, inline style or inline event handler, nor loads anything
// from another origin.
func TestCSPAndAssets(t *testing.T) {
	n := tk.Start(t, devConfig())
	b := newBrowser(t, n)
	err := filepath.WalkDir("assets", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		src, _ := os.ReadFile(p)
		// The SVG namespace is a name, not a location: nothing is loaded from it.
		scan := strings.ReplaceAll(string(src), "'http://www.w3.org/2000/svg'", "'svg-namespace'")
		code, hdr, body := b.do("GET", strings.TrimPrefix(p, "assets/"), "", nil)
		if code != 200 || body != string(src) || hdr.Get("Content-Security-Policy") != console.CSP {
			t.Errorf("%s: %d, CSP %q", p, code, hdr.Get("Content-Security-Policy"))
		}
		for _, tag := range regexp.MustCompile(`<script[^>]*>`).FindAll(src, -1) {
			if !strings.Contains(string(tag), ` src="`) {
				t.Errorf("%s: inline script %s", p, tag)
			}
		}
		for _, bad := range []*regexp.Regexp{regexp.MustCompile(`<script(?:\s[^>]*)?>[^<]`),
			regexp.MustCompile(`\sstyle=`), regexp.MustCompile(`\son[a-z]+=`), regexp.MustCompile(`(?:src|href)="(?:https?:)?//`),
			regexp.MustCompile(`innerHTML`), regexp.MustCompile(`https?://`), regexp.MustCompile(`\beval\(|new Function`)} {
			if strings.HasSuffix(p, ".html") || strings.HasSuffix(p, ".js") {
				if loc := bad.FindStringIndex(scan); loc != nil {
					t.Errorf("%s holds %q", p, scan[loc[0]:min(loc[1]+20, len(scan))])
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(console.CSP, "script-src 'self'") || strings.Contains(console.CSP, "unsafe") {
		t.Fatal(console.CSP)
	}
}

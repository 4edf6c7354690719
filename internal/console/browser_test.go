package console_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	trtcsdk "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/trtc/v20190722"

	"github.com/trtcd/trtcd/client"
	tk "github.com/trtcd/trtcd/internal/testkit"
	"github.com/trtcd/trtcd/internal/testkit/await"
	"github.com/trtcd/trtcd/usersig"
)

// chromium finds Debian's Chromium (scripts/test.sh installs it); the
// browser tests are skipped without it, except in CI.
func chromium(t *testing.T) string {
	for _, p := range []string{os.Getenv("TRTCD_TEST_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if p != "" {
			if _, err := os.Stat(p); err == nil {
				return p
			}
		}
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("Chromium is required in CI (scripts/test.sh installs it)")
	}
	t.Skip("no Chromium: run scripts/test.sh, which installs it")
	return ""
}

func headless(t *testing.T) (context.Context, context.CancelFunc) {
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium(t)),
		chromedp.Flag("headless", true), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.NoFirstRun, chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 860),
	}
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	ctx, tcancel := context.WithTimeout(ctx, 3*time.Minute)
	return ctx, func() { tcancel(); cancel(); acancel() }
}

// shot saves a screenshot of the page as docs/img/console-<name>.png when
// TRTCD_SCREENSHOTS=1.
func shot(name string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		if os.Getenv("TRTCD_SCREENSHOTS") != "1" {
			return nil
		}
		buf, err := chromedp.FullScreenshot(100)(ctx, t)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join("..", "..", "docs", "img", "console-"+name+".png"), buf, 0o644)
	})
}

func joinAs(t *testing.T, addr, user string, room uint64, role string) *client.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := client.Join(ctx, "http://"+addr, client.JoinParams{SdkAppID: tk.App, UserID: user, Role: role, RoomID: room,
		UserSig: usersig.Generate(tk.App, tk.AppKey, user, time.Hour, time.Now(), nil)}, client.Options{})
	if err != nil {
		t.Fatalf("join %s: %v", user, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// badSignature sends a RemoveUser signed over another content-type than it
// sends, and answers the canonical request the client built.
func badSignature(t *testing.T, addr string) string {
	body := `{"SdkAppId":1400000001,"RoomId":4321,"UserIds":["bob"]}`
	now := time.Now()
	ts, date := strconv.FormatInt(now.Unix(), 10), now.UTC().Format("2006-01-02")
	h := sha256.Sum256([]byte(body))
	canon := "POST\n/\n\ncontent-type:application/json; charset=utf-8\nhost:" + addr + "\n\ncontent-type;host\n" + hex.EncodeToString(h[:])
	ch := sha256.Sum256([]byte(canon))
	sts := "TC3-HMAC-SHA256\n" + ts + "\n" + date + "/trtc/tc3_request\n" + hex.EncodeToString(ch[:])
	mac := func(k []byte, m string) []byte { x := hmac.New(sha256.New, k); x.Write([]byte(m)); return x.Sum(nil) }
	k := mac(mac(mac([]byte("TC3"+tk.AcmeKey), date), "trtc"), "tc3_request")
	r, _ := http.NewRequest("POST", "http://"+addr+"/", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("X-TC-Action", "RemoveUser")
	r.Header.Set("X-TC-Version", "2019-07-22")
	r.Header.Set("X-TC-Region", "ap-guangzhou")
	r.Header.Set("X-TC-Timestamp", ts)
	r.Header.Set("Authorization", "TC3-HMAC-SHA256 Credential="+tk.AcmeID+"/"+date+"/trtc/tc3_request, SignedHeaders=content-type;host, Signature="+hex.EncodeToString(mac(k, sts)))
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(raw), "SignatureFailure") {
		t.Fatalf("bad signature answered %s", raw)
	}
	return canon
}

// TestBrowser drives the console in headless Chromium: sign in; see the
// members Go clients put in a room; remove one with a confirmation, which
// kicks that client and takes the row off the page without a reload; set a
// fault that the official SDK's next call answers; the journal's signature
// diagnostics highlight the differing line; the API explorer calls an
// action and shows the command line.
func TestBrowser(t *testing.T) {
	n := tk.Start(t, devConfig())
	alice := joinAs(t, n.Addr(), "alice", 4321, "anchor")
	joinAs(t, n.Addr(), "bob", 4321, "anchor")
	joinAs(t, n.Addr(), "carol", 4321, "audience")
	joinAs(t, n.Addr(), "dave", 1001, "anchor")
	canon := badSignature(t, n.Addr())
	ctx, cancel := headless(t)
	defer cancel()
	base := "http://" + n.Addr() + "/console/"
	run := func(step string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
	}
	text := func(id string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID(id)))
		if err != nil {
			t.Fatalf("text of #%s: %v", id, err)
		}
		return v
	}
	eval := func(js string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[string](js))
		if err != nil {
			t.Fatalf("%s: %v", js, err)
		}
		return v
	}
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	id := func(s string) chromedp.ID { return chromedp.ID(s) }

	run("sign-in page", chromedp.Navigate(base), chromedp.WaitVisible(id("secret-id")), shot("signin"))
	run("wrong key", chromedp.SendKeys(id("secret-id"), tk.AcmeID), chromedp.SendKeys(id("secret-key"), "wrong"),
		chromedp.Click(id("signin-submit")), chromedp.WaitVisible(chromedp.Search(`//p[@id="signin-error" and contains(., "do not match")]`)))
	run("sign in", chromedp.SendKeys(id("secret-key"), tk.AcmeKey), chromedp.Click(id("signin-submit")),
		chromedp.WaitVisible(css(`#rooms-table tr[data-room="n:4321"] td.members`)), chromedp.WaitVisible(css(`#rooms-table tr[data-room="n:1001"]`)),
		shot("rooms"))
	run("room page", chromedp.Click(css(`#rooms-table tr[data-room="n:4321"] a`)), chromedp.WaitVisible(css(`#members tr[data-user="alice"]`)),
		chromedp.WaitVisible(css(`#members tr[data-user="carol"]`)), shot("room"))
	eval(`window.noReload = "still here"`)
	run("remove alice", chromedp.Click(css(`button.remove[data-user="alice"]`)), chromedp.WaitVisible(id("confirm-yes")),
		shot("confirm"), chromedp.Click(id("confirm-yes")))
	for ev := await.Next(t, alice); ev.Type != "kicked"; ev = await.Next(t, alice) {
		if ev.Type != "user_entered" {
			t.Fatalf("alice got %+v before being kicked", ev)
		}
	}
	await.Ended(t, alice)
	run("alice's row goes", chromedp.WaitNotPresent(css(`#members tr[data-user="alice"]`)), chromedp.WaitVisible(css(`#members tr[data-user="bob"]`)),
		chromedp.WaitVisible(chromedp.Search(`//div[@id="result"]//span[@class="code-ok"]`)))
	if m := eval(`String(window.noReload)`); m != "still here" {
		t.Fatalf("the page was reloaded (%q)", m)
	}

	run("set a fault", chromedp.Navigate(base+"#/faults"), chromedp.WaitVisible(id("fault-set")),
		chromedp.SetValue(id("fault-action"), "RemoveUser"), chromedp.SetValue(id("fault-code"), "InternalError"),
		chromedp.SetValue(id("fault-mode"), "count"), chromedp.SetValue(id("fault-n"), "1"),
		chromedp.Click(id("fault-set")), chromedp.WaitVisible(css(`#faults-table tr[data-fault]`)), shot("faults"))
	sdk := tk.SDK(t, n.Addr(), tk.AcmeID, tk.AcmeKey, tk.Modes[0])
	req := trtcsdk.NewRemoveUserRequest()
	req.SdkAppId, req.RoomId, req.UserIds = tk.U64(tk.App), tk.U64(4321), tk.Users("bob")
	if _, err := sdk.RemoveUser(req); tk.Code(err) != "InternalError" {
		t.Fatalf("SDK after the console set a fault: %v", err)
	}

	run("journal", chromedp.Navigate(base+"#/journal"), chromedp.WaitVisible(css(`#journal tr.clickable`)))
	run("journal: the refused call", chromedp.Click(css(`#journal tr.sigfail`)), chromedp.WaitVisible(id("paste-canonical")))
	run("journal: compare", chromedp.SetValue(id("paste-canonical"), canon), chromedp.Click(id("compare")), chromedp.WaitVisible(css(`#server-canonical .diff`)))
	verdict := text("diff-verdict")
	run("journal shot", chromedp.WaitVisible(id("string-to-sign")), shot("journal"))
	if !strings.Contains(verdict, "Line 4 differs") || !strings.Contains(verdict, "content-type:application/json") {
		t.Fatalf("verdict %q", verdict)
	}

	run("explorer", chromedp.Navigate(base+"#/explorer/RemoveUser"), chromedp.WaitVisible(id("param-SdkAppId")),
		chromedp.SendKeys(id("param-SdkAppId"), "1400000001"), chromedp.SendKeys(id("param-RoomId"), "1001"),
		chromedp.SendKeys(id("param-UserIds"), "nobody"), chromedp.Click(id("send")), chromedp.WaitVisible(id("cli")), shot("explorer"))
	cli, answer, gosdk := text("cli"), text("response"), text("go-sdk")
	if !strings.HasPrefix(cli, "trtcd api RemoveUser '{\"SdkAppId\":1400000001,\"RoomId\":1001,\"UserIds\":[\"nobody\"]}'") || !strings.Contains(answer, "RequestId") {
		t.Fatalf("explorer: cli %q answer %q", cli, answer)
	}
	if !strings.Contains(gosdk, "client.RemoveUser(req)") || !strings.Contains(gosdk, "req.FromJsonString(`{\"SdkAppId\":1400000001,\"RoomId\":1001,\"UserIds\":[\"nobody\"]}`)") {
		t.Fatalf("explorer: Go snippet %q", gosdk)
	}

	// this server keeps no history and App2 has no callback: the pages say so
	run("history off", chromedp.Navigate(base+"#/history"), chromedp.WaitVisible(id("history-off")))
	run("no callback", chromedp.Navigate(base+"#/callbacks/1400000002"), chromedp.WaitVisible(id("cb-none")))
}

// TestBrowserPages drives the History, Callbacks and room media pages in
// headless Chromium: a `trtcd join` process removed from the console exits
// 3; blocking a member's video shows on the room page without a reload;
// the room's timeline in History shows the removal with its reason; the
// Callbacks page shows a delivery to a real loopback receiver and replays
// a dead letter that the receiver then gets.
func TestBrowserPages(t *testing.T) {
	rv := newReceiver(t)
	rv.failing.Store(true) // the first events become dead letters
	cfg := callbackConfigFor(rv.url)
	cfg.History = ""
	n := tk.Start(t, cfg)
	bin := tk.BuildTrtcd(t)
	join := exec.Command(bin, "join", "--server", "http://"+n.Addr(), "--sdkappid", strconv.FormatUint(tk.App, 10), "--key", tk.AppKey,
		"--userid", "erin", "--roomid", "4321")
	join.Stdout, join.Stderr = io.Discard, io.Discard
	if err := join.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan int, 1)
	go func() {
		join.Wait()
		exited <- join.ProcessState.ExitCode()
	}()
	t.Cleanup(func() { join.Process.Kill(); <-exited })
	frank := joinAs(t, n.Addr(), "frank", 4321, "anchor")
	api := newBrowser(t, n) // reads the state the page is checked against
	api.signIn(tk.AcmeID, tk.AcmeKey)
	var cb callbacksAnswer
	eventually(t, "dead letters", func() bool { return api.getJSON("api/callbacks?app=1400000001", &cb) == 200 && cb.DeadCount >= 2 })
	rv.failing.Store(false)

	ctx, cancel := headless(t)
	defer cancel()
	base := "http://" + n.Addr() + "/console/"
	run := func(step string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
	}
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	id := func(s string) chromedp.ID { return chromedp.ID(s) }
	run("sign in", chromedp.Navigate(base), chromedp.WaitVisible(id("secret-id")), chromedp.SendKeys(id("secret-id"), tk.AcmeID),
		chromedp.SendKeys(id("secret-key"), tk.AcmeKey), chromedp.Click(id("signin-submit")), chromedp.WaitVisible(css(`#rooms-table tr[data-room="n:4321"]`)))

	// the room page: frank's video blocked, then erin removed
	run("room page", chromedp.Navigate(base+"#/room/1400000001/n:4321"), chromedp.WaitVisible(css(`#members tr[data-user="erin"]`)),
		chromedp.WaitVisible(css(`#members tr[data-user="frank"] td.media[data-blocked-video="false"]`)))
	run("block frank's video", chromedp.Click(css(`button.block-video[data-user="frank"]`)), chromedp.WaitVisible(id("confirm-yes")),
		chromedp.Click(id("confirm-yes")), chromedp.WaitVisible(id("blocked-video-frank")),
		chromedp.WaitVisible(css(`#members tr[data-user="frank"] td.media[data-blocked-video="true"][data-blocked-audio="false"]`)),
		chromedp.WaitVisible(css(`button.unblock[data-user="frank"]`)), shot("room-media"))
	for ev := await.Next(t, frank); ev.Type != "user_blocked"; ev = await.Next(t, frank) {
	}
	run("remove erin", chromedp.Click(css(`button.remove[data-user="erin"]`)), chromedp.WaitVisible(id("confirm-yes")), chromedp.Click(id("confirm-yes")),
		chromedp.WaitNotPresent(css(`#members tr[data-user="erin"]`)))
	select {
	case code := <-exited:
		exited <- code // for the cleanup
		if code != 3 {
			t.Fatalf("trtcd join exited %d after Remove from the console, want 3", code)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("trtcd join did not exit after Remove from the console")
	}

	// History: the room's timeline has erin's removal
	var rooms historyRoomsAnswer
	eventually(t, "room 4321 in history", func() bool {
		return api.getJSON("api/history/rooms?app=1400000001", &rooms) == 200 && len(rooms.Rooms) == 1
	})
	comm := rooms.Rooms[0].CommID
	var room historyRoomAnswer
	eventually(t, "erin's removal in history", func() bool {
		if api.getJSON("api/history/room?app=1400000001&comm="+comm, &room) != 200 {
			return false
		}
		for _, m := range room.Members {
			if m.UserID == "erin" && m.LeaveReason == "removed" {
				return true
			}
		}
		return false
	})
	run("history rooms", chromedp.Navigate(base+"#/history"), chromedp.WaitVisible(css(`#history-rooms tr[data-room="4321"]`)), shot("history"))
	run("timeline", chromedp.Click(css(`#history-rooms tr[data-room="4321"] a`)),
		chromedp.WaitVisible(css(`#timeline g.stay[data-user="erin"][data-reason="removed"]`)),
		chromedp.WaitVisible(css(`#timeline g.stay[data-user="frank"][data-reason="present"]`)),
		chromedp.WaitVisible(chromedp.Search(`//table[@id="timeline-table"]//tr[@data-user="erin"]/td[@class="reason" and .="removed"]`)), shot("timeline"))

	// Callbacks: a delivery to the receiver, and a dead letter replayed
	run("callbacks", chromedp.Navigate(base+"#/callbacks"), chromedp.WaitVisible(id("cb-url")),
		chromedp.WaitVisible(css(`#deliveries tr[data-state="delivered"] td.latency`)), chromedp.WaitVisible(css(`#deadletters tr[data-dead]`)))
	url, err := chromedp.Run(ctx, chromedp.Text(id("cb-url")))
	if err != nil || url != rv.url {
		t.Fatalf("receiver shown %q %v, want %q", url, err, rv.url)
	}
	if html, _ := chromedp.Run(ctx, chromedp.OuterHTML(css("main"))); strings.Contains(html, callbackKey) {
		t.Fatal("the page shows the callback key")
	}
	first, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('#deadletters tr[data-dead]').dataset.dead`))
	if err != nil {
		t.Fatal(err)
	}
	api.getJSON("api/callbacks?app=1400000001", &cb)
	firstID, _ := strconv.ParseInt(first, 10, 64)
	dead, eventID := cb.DeadCount, cb.deadEventID(t, firstID)
	if rv.got(eventID) {
		t.Fatal("the receiver has the dead letter's event already")
	}
	run("callbacks shot", shot("callbacks"))
	run("replay", chromedp.Click(css(`button.replay[data-dead="`+first+`"]`)), chromedp.WaitVisible(id("confirm-yes")), chromedp.Click(id("confirm-yes")),
		chromedp.WaitVisible(chromedp.Search(`//div[@id="cb-result"]/p[contains(., "1 dead letter(s) moved back")]`)),
		chromedp.WaitNotPresent(css(`#deadletters tr[data-dead="`+first+`"]`)))
	eventually(t, "the replayed event at the receiver", func() bool {
		return rv.got(eventID) && api.getJSON("api/callbacks?app=1400000001", &cb) == 200 && cb.DeadCount == dead-1
	})
}

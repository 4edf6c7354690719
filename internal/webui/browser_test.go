package webui_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/trtcd/trtcd/internal/cloudapi"
	"github.com/trtcd/trtcd/internal/config"
	"github.com/trtcd/trtcd/internal/node"
	tk "github.com/trtcd/trtcd/internal/testkit"
)

// The browser tests drive headless Chromium (Debian's chromium package;
// TRTCD_CHROMIUM names another binary) through the demo page. Without it
// they are skipped, except under CI=true, where a missing browser fails.

// chromium is the browser binary, or "" after skipping the test.
func chromium(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("TRTCD_CHROMIUM"), "/usr/bin/chromium"} {
		if p == "" {
			continue
		}
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium is required in CI (apt-get install chromium, or set TRTCD_CHROMIUM)")
	}
	t.Skip("no chromium (/usr/bin/chromium, or TRTCD_CHROMIUM): the browser tests are skipped; scripts/test.sh installs it when run as root")
	return ""
}

// browser is one headless Chromium with a fresh profile.
type browser struct {
	t       *testing.T
	ctx     context.Context
	mu      sync.Mutex
	log     bytes.Buffer   // console messages and exceptions of every page
	readers sync.WaitGroup // the console readers, done when their tab closes
	pages   []*page
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	path := chromium(t)
	profile := t.TempDir()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.UserDataDir(profile),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("allow-loopback-in-peer-connection", true),
		chromedp.Flag("disable-features", "WebRtcHideLocalIpsWithMdns"),
		chromedp.Flag("use-fake-device-for-media-stream", true),
		chromedp.Flag("use-fake-ui-for-media-stream", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.NoFirstRun,
		// Two tabs of one browser both stay in the foreground; /dev/shm
		// may be small in a container.
		chromedp.Flag("disable-background-timer-throttling", true),
		chromedp.Flag("disable-renderer-backgrounding", true),
		chromedp.Flag("disable-backgrounding-occluded-windows", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1200, 820),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	b := &browser{t: t, ctx: ctx}
	t.Cleanup(func() {
		if t.Failed() {
			for _, p := range b.pages { // the demo's own event list, newest first
				ctx, cancel := context.WithTimeout(p.ctx, 5*time.Second)
				text, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById('log').innerText`))
				cancel()
				t.Logf("%s's events:\n%s", p.name, text)
			}
		}
		cancel()
		cancelAlloc()
		b.readers.Wait()
		b.mu.Lock()
		violated := strings.Contains(b.log.String(), "Content Security Policy")
		b.mu.Unlock()
		if violated {
			t.Error("the page broke its Content-Security-Policy (see the console below)")
		}
		if t.Failed() {
			b.mu.Lock()
			t.Logf("browser console:\n%s", b.log.String())
			b.mu.Unlock()
		}
	})
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting %s: %v", path, err)
	}
	return b
}

// page is one tab.
type page struct {
	b    *browser
	name string
	ctx  context.Context
}

// open opens url in a new tab.
func (b *browser) open(name, url string) *page {
	b.t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx) // closed with the browser
	_ = cancel
	if err := chromedp.Do(ctx); err != nil { // opens the tab
		b.t.Fatalf("%s: opening a tab: %v", name, err)
	}
	messages := chromedp.Console(ctx)
	b.readers.Add(1)
	go func() {
		defer b.readers.Done()
		for m, err := range messages {
			if err != nil {
				return
			}
			b.mu.Lock()
			fmt.Fprintf(&b.log, "%s %s: %s\n", name, m.Type, m.Text)
			b.mu.Unlock()
		}
	}()
	p := &page{b: b, name: name, ctx: ctx}
	b.pages = append(b.pages, p)
	p.run(chromedp.Navigate(url), chromedp.WaitVisible(chromedp.ID("join-button")))
	return p
}

// timeout bounds one browser action.
const timeout = 60 * time.Second

func (p *page) run(steps ...chromedp.Action[chromedp.Void]) {
	p.b.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, timeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		p.b.t.Fatalf("%s: %v", p.name, err)
	}
}

// eval evaluates a JavaScript expression (awaiting a promise) into out.
func (p *page) eval(expr string, out any) {
	p.b.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, timeout)
	defer cancel()
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		p.b.t.Fatalf("%s: %s: %v", p.name, expr, err)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		p.b.t.Fatalf("%s: %s: %s: %v", p.name, expr, raw, err)
	}
}

// join clicks Join and waits until the page says it is in the room.
func (p *page) join() {
	p.b.t.Helper()
	p.run(chromedp.Click(chromedp.ID("join-button")))
	p.waitStatus("joined", "")
}

// status is the status line's state, reason and text.
func (p *page) status() (state, reason, text string) {
	p.b.t.Helper()
	var s struct{ State, Reason, Text string }
	p.eval(`(() => { const s = document.getElementById('status'); return {state: s.dataset.state, reason: s.dataset.reason, text: s.textContent}; })()`, &s)
	return s.State, s.Reason, s.Text
}

// waitStatus waits until the status line is in state (and reason, if given).
func (p *page) waitStatus(state, reason string) string {
	p.b.t.Helper()
	var text string
	poll(p.b.t, fmt.Sprintf("%s shows %s %s", p.name, state, reason), func() (bool, string) {
		s, r, tx := p.status()
		text = tx
		if s == "error" && state != "error" {
			p.b.t.Fatalf("%s: %s", p.name, tx)
		}
		return s == state && (reason == "" || r == reason), fmt.Sprintf("%s/%s %q", s, r, tx)
	})
	return text
}

// tiles are the users whose tiles the page shows.
func (p *page) tiles() []string {
	p.b.t.Helper()
	var users []string
	p.eval(`[...document.querySelectorAll('figure.remote')].map((f) => f.dataset.user)`, &users)
	return users
}

// badge is the text of the badge on user's tile ("" when none).
func (p *page) badge(user string) string {
	p.b.t.Helper()
	var text string
	p.eval(`(() => { const b = document.querySelector('figure[data-user="`+user+`"] .badge'); return b ? b.textContent : ''; })()`, &text)
	return text
}

// counters are what the page receives, by "user/kind".
type counter struct {
	UserID          string
	Kind            string
	PacketsReceived float64
	FramesDecoded   float64
}

func (p *page) received() map[string]counter {
	p.b.t.Helper()
	var list []counter
	p.eval(`trtcdDemo.room ? trtcdDemo.room.receivedStats() : []`, &list)
	m := map[string]counter{}
	for _, c := range list {
		m[c.UserID+"/"+c.Kind] = c
	}
	return m
}

// pollEvery is the pause between two polls; deadline the most a wait takes.
const (
	pollEvery = 500 * time.Millisecond
	deadline  = 40 * time.Second
)

// poll calls f until it reports true, failing the test after the deadline
// with f's last description.
func poll(t *testing.T, what string, f func() (bool, string)) {
	t.Helper()
	end := time.Now().Add(deadline)
	for {
		ok, last := f()
		if ok {
			return
		}
		if time.Now().After(end) {
			t.Fatalf("%s: not within %s; last: %s", what, deadline, last)
		}
		time.Sleep(pollEvery)
	}
}

// value reads one counter: frames decoded for video, packets for audio.
func value(c counter) float64 {
	if c.Kind == "audio" {
		return c.PacketsReceived
	}
	return c.FramesDecoded
}

// growing waits until each key's counter has grown by more than minGrowth
// since the first poll.
func growing(t *testing.T, p *page, minGrowth float64, keys ...string) {
	t.Helper()
	start := p.received()
	poll(t, fmt.Sprintf("%s receives %v", p.name, keys), func() (bool, string) {
		now := p.received()
		for _, k := range keys {
			if _, ok := now[k]; !ok || value(now[k])-value(start[k]) <= minGrowth {
				return false, fmt.Sprintf("%s: %v then %v", k, start[k], now[k])
			}
		}
		return true, ""
	})
}

// Window of the "stopped" check: a counter has stopped when it grows by at
// most stopSlack over stopPolls consecutive polls.
const (
	stopPolls = 6
	stopSlack = 2
)

// stopped waits until each key's counter stays within stopSlack over
// stopPolls polls (a missing counter counts as stopped), and returns then.
func stopped(t *testing.T, p *page, keys ...string) {
	t.Helper()
	var hist []map[string]counter
	poll(t, fmt.Sprintf("%s stops receiving %v", p.name, keys), func() (bool, string) {
		hist = append(hist, p.received())
		if len(hist) < stopPolls {
			return false, "too few polls"
		}
		first, last := hist[len(hist)-stopPolls], hist[len(hist)-1]
		for _, k := range keys {
			if value(last[k])-value(first[k]) > stopSlack {
				return false, fmt.Sprintf("%s: %v then %v", k, first[k], last[k])
			}
		}
		return true, ""
	})
}

// api calls an action of the server's API, signed with the development account.
func api(t *testing.T, n *node.Node, action string, params any) {
	t.Helper()
	body, _ := json.Marshal(params)
	req, _ := http.NewRequest(http.MethodPost, "http://"+n.Addr()+"/", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-TC-Action", action)
	req.Header.Set("X-TC-Version", "2019-07-22")
	req.Header.Set("X-TC-Region", "ap-guangzhou")
	cloudapi.SignTC3(req, body, config.DevSecretID, config.DevSecretKey, "trtc", time.Now())
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	raw, _ := io.ReadAll(r.Body)
	var env struct {
		Response struct {
			Error *struct{ Code, Message string }
		}
	}
	if err := json.Unmarshal(raw, &env); err != nil || env.Response.Error != nil {
		t.Fatalf("%s %s: %s", action, body, raw)
	}
}

// startDev starts a node in development mode whose media uses loopback only.
func startDev(t *testing.T) *node.Node {
	c := devConfig()
	c.Media.Networks = []string{"127.0.0.0/8"}
	return tk.Start(t, c)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Room events in the browser, without media: entering, leaving, removal
// and dismissal reach the demo page, and a refused join is shown.
func TestBrowserRoomEvents(t *testing.T) {
	n := startDev(t)
	b := newBrowser(t)
	base := "http://" + n.Addr() + "/demo?room=hall-7&publish=0"
	a := b.open("A", base+"&user=alice")
	a.join()
	bob := b.open("B", base+"&user=bob")
	bob.join()
	poll(t, "A shows bob", func() (bool, string) { u := a.tiles(); return contains(u, "bob"), fmt.Sprint(u) })
	poll(t, "B shows alice", func() (bool, string) { u := bob.tiles(); return contains(u, "alice"), fmt.Sprint(u) })

	api(t, n, "RemoveUserByStrRoomId", map[string]any{"SdkAppId": config.DevSdkAppID, "RoomId": "hall-7", "UserIds": []string{"alice"}})
	if text := a.waitStatus("kicked", "removed"); !strings.Contains(text, "removed") {
		t.Errorf("A's message %q does not say removed", text)
	}
	poll(t, "B drops alice", func() (bool, string) { u := bob.tiles(); return !contains(u, "alice"), fmt.Sprint(u) })

	a.join() // enter again
	poll(t, "B shows alice again", func() (bool, string) { u := bob.tiles(); return contains(u, "alice"), fmt.Sprint(u) })
	api(t, n, "DismissRoomByStrRoomId", map[string]any{"SdkAppId": config.DevSdkAppID, "RoomId": "hall-7"})
	for _, p := range []*page{a, bob} {
		if text := p.waitStatus("kicked", "dismissed"); !strings.Contains(text, "dismissed") {
			t.Errorf("%s's message %q does not say dismissed", p.name, text)
		}
	}

	bad := b.open("C", "http://"+n.Addr()+"/demo?room=bad%2Aroom&user=carol&publish=0")
	bad.run(chromedp.Click(chromedp.ID("join-button")))
	text := bad.waitStatus("error", "InvalidParameter.RoomId")
	if !strings.Contains(text, "Could not join") {
		t.Errorf("a refused join shows %q", text)
	}
}

// Media in the browser: A publishes its fake camera and microphone and B
// receives them; SetUserBlocked withholds A's video and releases it;
// RemoveUser stops what B receives of A; DismissRoom ends both pages.
func TestBrowserMedia(t *testing.T) {
	n := startDev(t)
	b := newBrowser(t)
	base := "http://" + n.Addr() + "/demo?room=4321"
	a := b.open("A", base+"&user=alice")
	a.join()
	bob := b.open("B", base+"&user=bob")
	bob.join()

	// B decodes A's video and receives A's audio, and the other way round.
	growing(t, bob, 5, "alice/video", "alice/audio")
	growing(t, a, 5, "bob/video", "bob/audio")
	if os.Getenv("TRTCD_SCREENSHOTS") == "1" {
		screenshot(t, bob, filepath.Join("..", "..", "docs", "img", "demo.png"))
	}

	// A member who does not publish receives too.
	carol := b.open("C", base+"&user=carol&role=audience&publish=0")
	carol.join()
	growing(t, carol, 5, "alice/video", "alice/audio", "bob/video", "bob/audio")
	carol.run(chromedp.Click(chromedp.ID("leave-button")))
	carol.waitStatus("left", "")

	// IsMute 3 blocks A's video only: B's video from A stops, audio goes
	// on; both pages say so.
	api(t, n, "SetUserBlocked", map[string]any{"SdkAppId": config.DevSdkAppID, "RoomId": 4321, "UserId": "alice", "IsMute": 3})
	a.waitStatus("blocked", "video blocked")
	poll(t, "B marks alice's video blocked", func() (bool, string) { b := bob.badge("alice"); return b == "video blocked", b })
	stopped(t, bob, "alice/video")
	growing(t, bob, 5, "alice/audio")
	stopped(t, bob, "alice/video") // still stopped while the audio flowed
	// IsMute 0 releases it.
	api(t, n, "SetUserBlocked", map[string]any{"SdkAppId": config.DevSdkAppID, "RoomId": 4321, "UserId": "alice", "IsMute": 0})
	growing(t, bob, 5, "alice/video", "alice/audio")
	a.waitStatus("joined", "")
	if b := bob.badge("alice"); b != "" {
		t.Errorf("B still marks alice: %q", b)
	}

	// RemoveUser A: A's page says removed and its camera and microphone
	// are released; B stops receiving A and drops A's tracks.
	api(t, n, "RemoveUser", map[string]any{"SdkAppId": config.DevSdkAppID, "RoomId": 4321, "UserIds": []string{"alice"}})
	a.waitStatus("kicked", "removed")
	var states []string
	a.eval(`trtcdDemo.room.localStream ? trtcdDemo.room.localStream.getTracks().map((t) => t.readyState) : ['none']`, &states)
	if len(states) != 2 || states[0] != "ended" || states[1] != "ended" {
		t.Errorf("A's local tracks after removal: %v, want both ended", states)
	}
	stopped(t, bob, "alice/video", "alice/audio")
	poll(t, "B drops A's tracks and tile", func() (bool, string) {
		var has bool
		bob.eval(`trtcdDemo.room.remoteStream('alice') !== null`, &has)
		u := bob.tiles()
		return !has && !contains(u, "alice"), fmt.Sprintf("stream %v tiles %v", has, u)
	})

	// DismissRoom: both pages say so.
	a.join()
	poll(t, "B shows alice again", func() (bool, string) { u := bob.tiles(); return contains(u, "alice"), fmt.Sprint(u) })
	api(t, n, "DismissRoom", map[string]any{"SdkAppId": config.DevSdkAppID, "RoomId": 4321})
	a.waitStatus("kicked", "dismissed")
	bob.waitStatus("kicked", "dismissed")
}

// screenshot saves the page as a PNG once its remote video is playing.
func screenshot(t *testing.T, p *page, path string) {
	t.Helper()
	poll(t, p.name+" plays the remote video", func() (bool, string) {
		var w float64
		p.eval(`(() => { const v = document.querySelector('figure.remote video'); return v ? v.videoWidth : 0; })()`, &w)
		return w > 0, fmt.Sprint("videoWidth ", w)
	})
	ctx, cancel := context.WithTimeout(p.ctx, timeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot saved to %s", path)
}

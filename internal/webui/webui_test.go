package webui_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trtcd/trtcd/internal/config"
	"github.com/trtcd/trtcd/internal/node"
	tk "github.com/trtcd/trtcd/internal/testkit"
	"github.com/trtcd/trtcd/internal/webui"
	"github.com/trtcd/trtcd/usersig"
)

// devConfig is the configuration of `trtcd serve` without a file, on a free
// loopback port.
func devConfig() config.Config {
	c := tk.Config()
	c.Accounts = config.Defaults().Accounts
	return c
}

func get(t *testing.T, url string) (*http.Response, []byte) {
	t.Helper()
	r, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	return r, b
}

func postSig(t *testing.T, n *node.Node, contentType, body string) (*http.Response, map[string]any) {
	t.Helper()
	r, err := http.Post("http://"+n.Addr()+webui.UserSigPath, contentType, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
		t.Fatalf("answer is not JSON: %v", err)
	}
	return r, m
}

func metric(t *testing.T, n *node.Node, line string) bool {
	t.Helper()
	_, b := get(t, "http://"+n.Addr()+"/metrics")
	return strings.Contains(string(b), line+"\n")
}

// The SDK is served on every server, byte for byte the files in web/sdk,
// loadable as a module script from other origins.
func TestSDKServed(t *testing.T) {
	n := tk.Start(t, tk.Config())
	for path, file := range map[string]string{webui.SDKPath: "../../web/sdk/trtcd.js", webui.TypesPath: "../../web/sdk/trtcd.d.ts"} {
		want, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		r, b := get(t, "http://"+n.Addr()+path)
		if r.StatusCode != 200 || !bytes.Equal(b, want) {
			t.Fatalf("%s: %d, %d bytes; want 200 and %s (%d bytes)", path, r.StatusCode, len(b), file, len(want))
		}
		if r.Header.Get("Access-Control-Allow-Origin") != "*" {
			t.Errorf("%s: no CORS header, so pages of other origins cannot import it", path)
		}
		if path == webui.SDKPath && r.Header.Get("Content-Type") != "text/javascript; charset=utf-8" {
			t.Errorf("%s: Content-Type %q", path, r.Header.Get("Content-Type"))
		}
		req, _ := http.NewRequest(http.MethodGet, "http://"+n.Addr()+path, nil)
		req.Header.Set("If-None-Match", r.Header.Get("ETag"))
		r2, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		r2.Body.Close()
		if r2.StatusCode != http.StatusNotModified {
			t.Errorf("%s with its ETag: %d, want 304", path, r2.StatusCode)
		}
	}
	r, err := http.Post("http://"+n.Addr()+webui.SDKPath, "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != http.StatusMethodNotAllowed || r.Header.Get("Allow") != "GET, HEAD" {
		t.Errorf("POST %s: %d Allow=%q, want 405 GET, HEAD", webui.SDKPath, r.StatusCode, r.Header.Get("Allow"))
	}
}

// With a configuration of its own (not the development account) the server
// serves no demo and mints no UserSig.
func TestDemoOnlyInDevelopmentMode(t *testing.T) {
	n := tk.Start(t, tk.Config())
	if n.WebUI.Dev() {
		t.Fatal("a configured server is in development mode")
	}
	for _, p := range []string{webui.DemoPath, "/demo/", "/demo/demo.js", "/demo/demo.css"} {
		if r, _ := get(t, "http://"+n.Addr()+p); r.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404 outside development mode", p, r.StatusCode)
		}
	}
	r, err := http.Post("http://"+n.Addr()+webui.UserSigPath, "application/json", strings.NewReader(`{"userId":"alice"}`))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(r.Body)
	r.Body.Close()
	if r.StatusCode != http.StatusNotFound || strings.Contains(string(b), "userSig") {
		t.Fatalf("POST %s: %d %s, want a plain 404", webui.UserSigPath, r.StatusCode, b)
	}

	// The development app configured with another key is not development mode either.
	c := tk.Config()
	c.Accounts[0].Apps[0] = config.App{SdkAppID: config.DevSdkAppID, Key: "a-real-secret-key"}
	if webui.DevMode(c.Apps()) {
		t.Fatal("app 1400000001 with a key of its own counts as development mode")
	}
	d := config.Defaults()
	if !webui.DevMode(d.Apps()) {
		t.Fatal("the defaults are not development mode")
	}
}

// The demo page: no inline script or style, under a strict CSP.
func TestDemoPageAndCSP(t *testing.T) {
	n := tk.Start(t, devConfig())
	for _, p := range []string{webui.DemoPath, "/demo/", "/demo/demo.js", "/demo/demo.css", webui.UserSigPath} {
		var r *http.Response
		if p == webui.UserSigPath {
			r, _ = postSig(t, n, "application/json", `{"userId":"alice"}`)
		} else {
			r, _ = get(t, "http://"+n.Addr()+p)
		}
		if r.StatusCode != 200 {
			t.Fatalf("%s: %d", p, r.StatusCode)
		}
		csp := r.Header.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'none'", "script-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: CSP %q lacks %q", p, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe") {
			t.Errorf("%s: CSP allows something unsafe: %q", p, csp)
		}
	}
	_, page := get(t, "http://"+n.Addr()+webui.DemoPath)
	html := string(page)
	for _, m := range regexp.MustCompile(`<script[^>]*>`).FindAllString(html, -1) {
		if !strings.Contains(m, ` src="/`) {
			t.Errorf("inline script %q", m)
		}
	}
	if regexp.MustCompile(`(?i)\son[a-z]+=|<style|\sstyle=`).MatchString(html) {
		t.Error("the page has inline handlers or styles, which the CSP forbids")
	}
	if !strings.Contains(html, "/demo/demo.js") || !strings.Contains(html, "Development only") {
		t.Error("the page does not load its script or does not say it is for development only")
	}
	_, js := get(t, "http://"+n.Addr()+"/demo/demo.js")
	if !strings.Contains(string(js), "from '/sdk/trtcd.js'") {
		t.Error("the demo does not use the SDK the server serves")
	}
}

// POST /demo/usersig mints a UserSig of the development app that the
// server's own check accepts; bad requests are refused with a code naming
// the field, mint nothing, and are counted.
func TestDemoUserSig(t *testing.T) {
	n := tk.Start(t, devConfig())
	r, m := postSig(t, n, "application/json", `{"userId":"alice_1"}`)
	if r.StatusCode != 200 || m["sdkAppId"] != float64(config.DevSdkAppID) || m["userId"] != "alice_1" {
		t.Fatalf("answer %d %v", r.StatusCode, m)
	}
	if r.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control %q, want no-store", r.Header.Get("Cache-Control"))
	}
	sig, _ := m["userSig"].(string)
	c, err := usersig.Verify(sig, config.DevSdkAppID, config.DevAppKey, "alice_1", time.Now())
	if err != nil {
		t.Fatalf("the minted UserSig does not verify: %v", err)
	}
	if c.Expire != webui.DemoUserSigExpire || m["expireSeconds"] != c.Expire.Seconds() {
		t.Errorf("expire %s (answer %v), want %s", c.Expire, m["expireSeconds"], webui.DemoUserSigExpire)
	}
	if !metric(t, n, `trtcd_demo_usersigs_total{outcome="minted"} 1`) {
		t.Error("the mint is not counted")
	}

	bad := []struct {
		name, ct, body string
		status         int
		code           string
	}{
		{"bad userId", "application/json", `{"userId":"al ice"}`, 400, webui.CodeUserID},
		{"no userId", "application/json", `{}`, 400, webui.CodeUserID},
		{"long userId", "application/json", `{"userId":"` + strings.Repeat("a", 33) + `"}`, 400, webui.CodeUserID},
		{"not JSON", "application/json", `userId=alice`, 400, webui.CodeBody},
		{"userId a number", "application/json", `{"userId":7}`, 400, webui.CodeBody},
		{"too large", "application/json", `{"userId":"alice","x":"` + strings.Repeat("x", webui.MaxUserSigRequestBytes) + `"}`, 413, webui.CodeBody},
		{"form", "application/x-www-form-urlencoded", `userId=alice`, 415, webui.CodeContentType},
	}
	for _, b := range bad {
		r, m := postSig(t, n, b.ct, b.body)
		if r.StatusCode != b.status || m["code"] != b.code || m["userSig"] != nil {
			t.Errorf("%s: %d %v, want %d %s", b.name, r.StatusCode, m, b.status, b.code)
		}
	}
	req, _ := http.NewRequest(http.MethodGet, "http://"+n.Addr()+webui.UserSigPath+"?userId=alice", nil)
	g, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	g.Body.Close()
	if g.StatusCode != http.StatusMethodNotAllowed || g.Header.Get("Allow") != "POST" {
		t.Errorf("GET: %d Allow=%q, want 405 POST", g.StatusCode, g.Header.Get("Allow"))
	}
	if !metric(t, n, `trtcd_demo_usersigs_total{outcome="minted"} 1`) || !metric(t, n, `trtcd_demo_usersigs_total{outcome="refused"} 8`) {
		t.Error("refusals minted something or were not counted")
	}
}

// Every export of trtcd.js is declared in trtcd.d.ts and the other way
// round, and the package.json points at both.
func TestSDKTypesMatchModule(t *testing.T) {
	js, err := os.ReadFile("../../web/sdk/trtcd.js")
	if err != nil {
		t.Fatal(err)
	}
	dts, err := os.ReadFile("../../web/sdk/trtcd.d.ts")
	if err != nil {
		t.Fatal(err)
	}
	names := func(re string, src []byte) map[string]bool {
		m := map[string]bool{}
		for _, g := range regexp.MustCompile(re).FindAllSubmatch(src, -1) {
			m[string(g[1])] = true
		}
		return m
	}
	exported := names(`(?m)^export (?:async function|function|class|const) ([A-Za-z_]+)`, js)
	declared := names(`(?m)^export declare (?:function|class|const) ([A-Za-z_]+)`, dts)
	if len(exported) < 5 {
		t.Fatalf("found only %v in trtcd.js", exported)
	}
	for n := range exported {
		if !declared[n] {
			t.Errorf("trtcd.js exports %s, trtcd.d.ts does not declare it", n)
		}
	}
	for n := range declared {
		if !exported[n] {
			t.Errorf("trtcd.d.ts declares %s, trtcd.js does not export it", n)
		}
	}
	// The methods of Room.
	methods := names(`(?m)^  (?:async )?([a-z][A-Za-z]+)\(`, js)
	for _, m := range []string{"join", "leave", "publish", "unpublish", "subscribe", "unsubscribe", "remoteStream", "receivedStats", "getStats", "on", "off"} {
		if !methods[m] || !strings.Contains(string(dts), "  "+m+"(") && !strings.Contains(string(dts), "  "+m+"<") {
			t.Errorf("Room.%s: in trtcd.js %v, declared in trtcd.d.ts %v", m, methods[m], strings.Contains(string(dts), "  "+m))
		}
	}
	var pkg struct {
		Type, Main, Types string
		Files             []string
	}
	b, err := os.ReadFile("../../web/sdk/package.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &pkg); err != nil {
		t.Fatalf("package.json: %v", err)
	}
	if pkg.Type != "module" || pkg.Main != "./trtcd.js" || pkg.Types != "./trtcd.d.ts" || !slices.Contains(pkg.Files, "trtcd.js") || !slices.Contains(pkg.Files, "trtcd.d.ts") {
		t.Errorf("package.json: %+v", pkg)
	}
}

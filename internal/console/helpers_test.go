package console_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"
	"time"

	"github.com/trtcd/trtcd/internal/config"
	"github.com/trtcd/trtcd/internal/node"
	tk "github.com/trtcd/trtcd/internal/testkit"
)

func devConfig() config.Config {
	cfg := tk.Config()
	cfg.DevTools = config.DevTools{Journal: true, JournalSize: 100, Faults: true}
	return cfg
}

// browser is a cookie-keeping HTTP client of one node's console.
type browser struct {
	t    testing.TB
	base string
	hc   *http.Client
	csrf string
}

func newBrowser(t testing.TB, n *node.Node) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, base: "http://" + n.Addr() + "/console/", hc: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
}

func (b *browser) do(method, path, body string, hdr map[string]string) (int, http.Header, string) {
	b.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	r, _ := http.NewRequest(method, b.base+path, rd)
	if method == http.MethodPost {
		r.Header.Set("Content-Type", "application/json")
	}
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	resp, err := b.hc.Do(r)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(raw)
}

func (b *browser) signIn(id, key string) (int, string) {
	b.t.Helper()
	code, _, body := b.do("POST", "api/signin", `{"secretId":"`+id+`","secretKey":"`+key+`"}`, nil)
	if code == 200 {
		var s struct{ CSRF string }
		json.Unmarshal([]byte(body), &s)
		b.csrf = s.CSRF
	}
	return code, body
}

// call runs an action through the console (with the CSRF token) and
// answers the API's Response.
func (b *browser) call(action string, params any) map[string]any {
	b.t.Helper()
	p, _ := json.Marshal(params)
	code, _, body := b.do("POST", "api/call", `{"action":"`+action+`","params":`+string(p)+`}`, map[string]string{"X-CSRF-Token": b.csrf})
	if code != 200 {
		b.t.Fatalf("call %s: HTTP %d %s", action, code, body)
	}
	var out struct {
		Response struct{ Response map[string]any }
		CLI      string
	}
	if err := json.Unmarshal([]byte(body), &out); err != nil {
		b.t.Fatal(err)
	}
	return out.Response.Response
}

func (b *browser) getJSON(path string, v any) int {
	b.t.Helper()
	code, _, body := b.do("GET", path, "", nil)
	if code == 200 {
		if err := json.Unmarshal([]byte(body), v); err != nil {
			b.t.Fatalf("%s: %v: %s", path, err, body)
		}
	}
	return code
}

// stream opens a live view and answers its data events.
func (b *browser) stream(ctx context.Context, path string) <-chan string {
	b.t.Helper()
	r, _ := http.NewRequestWithContext(ctx, "GET", b.base+path, nil)
	hc := *b.hc
	hc.Timeout = 0
	resp, err := hc.Do(r)
	if err != nil {
		b.t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		b.t.Fatalf("stream %s: HTTP %d", path, resp.StatusCode)
	}
	ch := make(chan string, 16)
	go func() {
		defer resp.Body.Close()
		defer close(ch)
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if d, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				select {
				case ch <- d:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return ch
}

package trtc_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/trtcd/trtcd/internal/cloudapi"
	"github.com/trtcd/trtcd/internal/history"
	"github.com/trtcd/trtcd/internal/history/historytest"
	tk "github.com/trtcd/trtcd/internal/testkit"
	"github.com/trtcd/trtcd/internal/trtc"
)

// monServer is a front door with only the monitoring actions, on a real
// loopback listener. limits overrides the rate limits (nil: the defaults);
// limiterNow is the rate limiter's clock (nil: time.Now).
type monServer struct {
	addr   string
	client *http.Client
}

func startMonitoring(t testing.TB, store history.Reader, limits map[string]int, limiterNow func() time.Time) *monServer {
	t.Helper()
	owners := map[uint64]string{tk.App: "acme", tk.App2: "acme", tk.OtherApp: "other"}
	cat := cloudapi.NewCatalog()
	trtc.RegisterMonitoring(cat, store, func(app uint64) (string, bool) { a, ok := owners[app]; return a, ok },
		trtc.MonitoringOptions{Now: func() time.Time { return historytest.Now }})
	api := &cloudapi.Server{
		Catalog: cat,
		Credentials: func(id string) (string, string, bool) {
			switch id {
			case tk.AcmeID:
				return "acme", tk.AcmeKey, true
			case tk.OtherID:
				return "other", tk.OtherKey, true
			}
			return "", "", false
		},
		Limiter:    cloudapi.NewMemoryLimiter(limiterNow),
		RateLimits: limits,
	}
	srv := httptest.NewServer(api)
	c := &http.Client{Timeout: 30 * time.Second}
	t.Cleanup(func() { c.CloseIdleConnections(); srv.Close() })
	return &monServer{addr: strings.TrimPrefix(srv.URL, "http://"), client: c}
}

// reply is a decoded answer: the Error code ("" on success) and the output.
type reply struct {
	Code, Message string
	Out           map[string]json.RawMessage
}

func (m *monServer) do(t testing.TB, r *http.Request) reply {
	t.Helper()
	resp, err := m.client.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var env struct{ Response map[string]json.RawMessage }
	if resp.StatusCode != 200 || json.Unmarshal(b, &env) != nil || env.Response["RequestId"] == nil {
		t.Fatalf("status %d body %s", resp.StatusCode, b)
	}
	var out reply
	if e, ok := env.Response["Error"]; ok {
		var ee struct{ Code, Message string }
		json.Unmarshal(e, &ee)
		if ee.Message == "" {
			t.Fatalf("no message in %s", b)
		}
		out.Code, out.Message = ee.Code, ee.Message
		return out
	}
	out.Out = env.Response
	return out
}

// call sends a TC3-signed JSON request as acme (or as id/key).
func (m *monServer) call(t testing.TB, action string, body any) reply {
	return m.callAs(t, tk.AcmeID, tk.AcmeKey, "ap-guangzhou", action, body)
}

func (m *monServer) callAs(t testing.TB, id, key, region, action string, body any) reply {
	t.Helper()
	var b []byte
	switch v := body.(type) {
	case string:
		b = []byte(v)
	default:
		b, _ = json.Marshal(v)
	}
	r, _ := http.NewRequestWithContext(context.Background(), "POST", "http://"+m.addr+"/", bytes.NewReader(b))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("X-TC-Action", action)
	r.Header.Set("X-TC-Version", "2019-07-22")
	r.Header.Set("X-TC-Region", region)
	cloudapi.SignTC3(r, b, id, key, "trtc", time.Now())
	return m.do(t, r)
}

// form sends a v1-signed (HmacSHA256) form request.
func (m *monServer) form(t testing.TB, action string, p url.Values) reply {
	t.Helper()
	p.Set("Action", action)
	p.Set("Version", "2019-07-22")
	p.Set("Region", "ap-guangzhou")
	cloudapi.SignV1(p, "POST", m.addr, tk.AcmeID, tk.AcmeKey, "HmacSHA256", time.Now())
	r, _ := http.NewRequest("POST", "http://"+m.addr+"/", strings.NewReader(p.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return m.do(t, r)
}

// field decodes one output field into v.
func (r reply) field(t testing.TB, name string, v any) {
	t.Helper()
	if r.Code != "" {
		t.Fatalf("error %s: %s", r.Code, r.Message)
	}
	raw, ok := r.Out[name]
	if !ok {
		t.Fatalf("no %s in %v", name, r.Out)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("%s: %v (%s)", name, err, raw)
	}
}

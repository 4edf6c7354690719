package cloudapi

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

const (
	testSecretID  = "AKIDtestaccount000000000000000000001"
	testSecretKey = "testSecretKey0000000000000000001"
)

// testEnv is a front door on a real loopback listener with two test actions:
// RemoveUser (the trtc shape, answering a fixed success) and an internal Ping,
// proving that the door is generic.
type testEnv struct {
	srv   *httptest.Server
	api   *Server
	calls atomic.Int64
}

func newTestEnv(t testing.TB) *testEnv {
	env := &testEnv{}
	cat := NewCatalog()
	cat.Register(Action{
		Service: "trtc", Version: "2019-07-22", Name: "RemoveUser",
		Regions: []string{"ap-beijing", "ap-guangzhou", "ap-singapore"}, RateLimit: 20,
		Params: []Param{{"SdkAppId", Integer}, {"RoomId", Integer}, {"UserIds", StringArray}},
		Handle: func(ctx context.Context, c *Call) (any, error) {
			env.calls.Add(1)
			return nil, nil
		},
	})
	cat.Register(Action{
		Service: "internal", Version: "2020-01-01", Name: "Ping",
		Params: []Param{{"Echo", String}},
		Handle: func(ctx context.Context, c *Call) (any, error) {
			env.calls.Add(1)
			echo, _ := c.Params.String("Echo")
			return map[string]any{"Echo": echo, "Account": c.Account}, nil
		},
	})
	cat.Register(Action{
		Service: "internal", Version: "2020-01-01", Name: "Panic",
		Handle: func(ctx context.Context, c *Call) (any, error) { panic("boom") },
	})
	env.api = &Server{
		Catalog: cat,
		Credentials: func(id string) (string, string, bool) {
			switch id {
			case testSecretID:
				return "acme", testSecretKey, true
			case "AKIDother":
				return "other", "otherKey", true
			}
			return "", "", false
		},
		Limiter: NewMemoryLimiter(nil),
		Log:     slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	env.srv = httptest.NewServer(env.api)
	t.Cleanup(env.srv.Close)
	return env
}

func (e *testEnv) host() string { return strings.TrimPrefix(e.srv.URL, "http://") }

// tc3 builds and signs a TC3 request the way the Go SDK does.
type tc3Spec struct {
	method, action, version, region, ctype, query, body, id, key, service string
	ts                                                                    int64
	unsigned                                                              bool
	extra                                                                 map[string]string
}

func (e *testEnv) tc3(s tc3Spec) *http.Request {
	if s.method == "" {
		s.method = "POST"
	}
	if s.action == "" {
		s.action = "RemoveUser"
	}
	if s.version == "" {
		s.version = "2019-07-22"
	}
	if s.region == "" {
		s.region = "ap-guangzhou"
	}
	if s.ctype == "" {
		s.ctype = "application/json"
		if s.method == "GET" {
			s.ctype = "application/x-www-form-urlencoded"
		}
	}
	if s.id == "" {
		s.id, s.key = testSecretID, testSecretKey
	}
	if s.service == "" {
		s.service = "trtc"
	}
	if s.ts == 0 {
		s.ts = time.Now().Unix()
	}
	u := e.srv.URL + "/"
	if s.query != "" {
		u += "?" + s.query
	}
	r, _ := http.NewRequest(s.method, u, strings.NewReader(s.body))
	r.Header.Set("Content-Type", s.ctype)
	r.Header.Set("X-TC-Action", s.action)
	r.Header.Set("X-TC-Version", s.version)
	if s.region != "-" {
		r.Header.Set("X-TC-Region", s.region)
	}
	ts := strconv.FormatInt(s.ts, 10)
	r.Header.Set("X-TC-Timestamp", ts)
	hash := sha256Hex([]byte(s.body))
	if s.unsigned {
		r.Header.Set("X-TC-Content-SHA256", unsignedPayload)
		hash = sha256Hex([]byte(unsignedPayload))
	}
	date := time.Unix(s.ts, 0).UTC().Format("2006-01-02")
	a := tc3Auth{SecretID: s.id, Date: date, Service: s.service, SignedHeaders: []string{"content-type", "host"}}
	q := ""
	if s.method == "GET" {
		q = s.query
	}
	sig := tc3Sign(s.key, a, tc3Request{Method: s.method, RawQuery: q, Timestamp: ts, PayloadHash: hash,
		Headers: map[string]string{"content-type": s.ctype, "host": e.host()}})
	r.Header.Set("Authorization", "TC3-HMAC-SHA256 Credential="+s.id+"/"+a.scope()+", SignedHeaders=content-type;host, Signature="+hex.EncodeToString(sig))
	for k, v := range s.extra {
		r.Header.Set(k, v)
	}
	return r
}

// v1 builds and signs a v1 request; params are the business parameters.
func (e *testEnv) v1(method, sigMethod string, params url.Values, mutate func(url.Values)) *http.Request {
	p := url.Values{"Action": {"RemoveUser"}, "Version": {"2019-07-22"}, "Region": {"ap-guangzhou"},
		"Timestamp": {strconv.FormatInt(time.Now().Unix(), 10)}, "Nonce": {"11886"}, "SecretId": {testSecretID}}
	if sigMethod != "" {
		p.Set("SignatureMethod", sigMethod)
	}
	for k, vs := range params {
		p[k] = vs
	}
	if mutate != nil {
		mutate(p)
	}
	if p.Get("Signature") == "" {
		p.Set("Signature", v1Sign(testSecretKey, sigMethod, v1StringToSign(method, e.host(), p)))
	}
	if p.Get("Signature") == "-" {
		p.Del("Signature")
	}
	var r *http.Request
	if method == "GET" {
		r, _ = http.NewRequest("GET", e.srv.URL+"/?"+p.Encode(), nil)
	} else {
		r, _ = http.NewRequest("POST", e.srv.URL+"/", strings.NewReader(p.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	return r
}

type apiResponse struct {
	Response struct {
		Error *struct {
			Code    string
			Message string
		}
		RequestId string
		Echo      string
		Account   string
	}
}

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// do sends a request and checks the envelope invariants every answer keeps.
func do(t testing.TB, r *http.Request) apiResponse {
	t.Helper()
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatalf("request failed: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d, body %s", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("content type %q", ct)
	}
	var out apiResponse
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatalf("body is not JSON: %s", body)
	}
	if !uuidRE.MatchString(out.Response.RequestId) {
		t.Fatalf("RequestId %q is not a UUID v4; body %s", out.Response.RequestId, body)
	}
	return out
}

func code(r apiResponse) string {
	if r.Response.Error == nil {
		return ""
	}
	return r.Response.Error.Code
}

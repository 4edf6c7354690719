package cloudapi

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// FuzzReadRequest: whatever arrives, the answer is HTTP 200 with the
// envelope and a RequestId, and a bad request never reaches the action.
func FuzzReadRequest(f *testing.F) {
	env := newTestEnv(f)
	good := env.tc3(tc3Spec{body: goodBody})
	f.Add("POST", "application/json", good.Header.Get("Authorization"), "", goodBody, "RemoveUser")
	f.Add("GET", "application/x-www-form-urlencoded", "TC3-HMAC-SHA256 Credential=a/2023-11-14/trtc/tc3_request, SignedHeaders=content-type;host, Signature=00", "RoomId=1&UserIds.0=a", "", "RemoveUser")
	f.Add("POST", "application/x-www-form-urlencoded", "", "", "Action=RemoveUser&Version=2019-07-22&Timestamp=1&Nonce=1&SecretId=x&Signature=y", "")
	f.Add("GET", "", "", "Action=RemoveUser&UserIds.0=a&UserIds.0=b", "", "")
	f.Add("PUT", "text/plain", "", "", "x", "Ping")
	f.Add("POST", "multipart/form-data; boundary=x", "", "", "--x--", "")
	f.Fuzz(func(t *testing.T, method, ctype, auth, query, body, action string) {
		if !validMethod(method) {
			return
		}
		r := httptest.NewRequest("GET", "/", nil)
		r.Method = method
		r.URL.RawQuery = query
		r.Body = http.NoBody
		if body != "" {
			r.Body = readCloser{strings.NewReader(body)}
		}
		r.Header.Set("Content-Type", ctype)
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		if action != "" {
			r.Header.Set("X-TC-Action", action)
		}
		r.Header.Set("X-TC-Version", "2019-07-22")
		r.Header.Set("X-TC-Timestamp", "1700000000")
		before := env.calls.Load()
		w := httptest.NewRecorder()
		env.api.ServeHTTP(w, r)
		if w.Code != 200 {
			t.Fatalf("status %d", w.Code)
		}
		var out apiResponse
		if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil || !uuidRE.MatchString(out.Response.RequestId) {
			t.Fatalf("bad envelope %s", w.Body.String())
		}
		// Nothing here carries a valid signature, so the action never runs.
		if env.calls.Load() != before || out.Response.Error == nil {
			t.Fatalf("an unsigned request was served: %s", w.Body.String())
		}
	})
}

func validMethod(m string) bool {
	if m == "" {
		return false
	}
	for _, c := range m {
		if c <= ' ' || c >= 127 || strings.ContainsRune("()<>@,;:\\\"/[]?={}", c) {
			return false
		}
	}
	return true
}

type readCloser struct{ *strings.Reader }

func (readCloser) Close() error { return nil }

// FuzzTC3Authorization: the parser never panics, and what it accepts it
// describes faithfully.
func FuzzTC3Authorization(f *testing.F) {
	f.Add("TC3-HMAC-SHA256 Credential=AKID/2023-11-14/trtc/tc3_request, SignedHeaders=content-type;host, Signature=" + strings.Repeat("ab", 32))
	f.Add("TC3-HMAC-SHA256 Credential=/, SignedHeaders=, Signature=")
	f.Add("TC3-HMAC-SHA256 a=b=c,,,")
	f.Add("")
	f.Fuzz(func(t *testing.T, h string) {
		a, why := parseTC3Authorization(h)
		if why != "" {
			return
		}
		if a.SecretID == "" || len(a.Signature) != 32 || !isDate(a.Date) || len(a.SignedHeaders) < 2 {
			t.Fatalf("accepted %q as %+v", h, a)
		}
		// a verification against any key must not panic and must fail for a zero key
		req := tc3Request{Method: "POST", Headers: map[string]string{"host": "h", "content-type": "application/json"}, PayloadHash: sha256Hex(nil), Timestamp: "1"}
		tc3Verify("k", a, req)
	})
}

// FuzzV1Verify: arbitrary parameters never panic the verifier, and a
// signature made for them verifies while any other does not.
func FuzzV1Verify(f *testing.F) {
	f.Add("Action=RemoveUser&UserIds.0=a+b&Nonce=1", "HmacSHA256", "127.0.0.1:8080")
	f.Add("a=%20&b=", "HmacSHA1", "host")
	f.Add("", "", "")
	f.Fuzz(func(t *testing.T, query, method, host string) {
		p, err := url.ParseQuery(query)
		if err != nil {
			return
		}
		p.Del("Signature")
		SignV1(p, "POST", host, "id", "key", method, time.Unix(1700000000, 0))
		if !v1Verify("key", "POST", host, p) {
			t.Fatalf("own signature rejected for %q", query)
		}
		if v1Verify("other", "POST", host, p) {
			t.Fatal("accepted under another key")
		}
	})
}

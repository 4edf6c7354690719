package testkit

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/trtcd/trtcd/internal/cloudapi"
	"github.com/trtcd/trtcd/internal/devtools"
	trtcapi "github.com/trtcd/trtcd/internal/trtc"
)

// Admin calls one of trtcd's admin actions (devtools) signed with TC3 by
// the account id/key and answers its Response object; an error answer is
// returned as Response.Error, not a failure.
func Admin(t testing.TB, addr, id, key, action string, params any) map[string]any {
	t.Helper()
	return Signed(t, addr, id, key, devtools.AdminService, devtools.AdminVersion, "", action, params)
}

// Signed makes one TC3-signed POST to addr and answers its Response.
func Signed(t testing.TB, addr, id, key, service, version, region, action string, params any) map[string]any {
	t.Helper()
	body, err := json.Marshal(params)
	if err != nil {
		t.Fatal(err)
	}
	if string(body) == "null" {
		body = []byte("{}")
	}
	if region == "" && service == trtcapi.Service {
		region = trtcapi.DefaultClientRegion
	}
	r, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/", bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("X-TC-Action", action)
	r.Header.Set("X-TC-Version", version)
	if region != "" {
		r.Header.Set("X-TC-Region", region)
	}
	cloudapi.SignTC3(r, body, id, key, service, time.Now())
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(r)
	if err != nil {
		t.Fatalf("%s: %v", action, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var env struct{ Response map[string]any }
	if err := json.Unmarshal(raw, &env); err != nil || env.Response == nil {
		t.Fatalf("%s: not an API answer (HTTP %d): %s", action, resp.StatusCode, raw)
	}
	return env.Response
}

// ErrCode is a Response's Error.Code, "" when it has none.
func ErrCode(resp map[string]any) string {
	if e, ok := resp["Error"].(map[string]any); ok {
		c, _ := e["Code"].(string)
		return c
	}
	return ""
}

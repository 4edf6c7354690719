package devtools_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/trtcd/trtcd/internal/config"
	"github.com/trtcd/trtcd/internal/devtools"
	"github.com/trtcd/trtcd/internal/node"
	tk "github.com/trtcd/trtcd/internal/testkit"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func devConfig() config.Config {
	cfg := tk.Config()
	cfg.DevTools = config.DevTools{Journal: true, JournalSize: 50, Faults: true}
	return cfg
}

// journal reads the account's journal with the given filters.
func journal(t *testing.T, addr, id, key string, filter map[string]any) []devtools.Entry {
	t.Helper()
	resp := tk.Admin(t, addr, id, key, "DescribeApiJournal", filter)
	if c := tk.ErrCode(resp); c != "" {
		t.Fatalf("DescribeApiJournal: %v", resp["Error"])
	}
	b, _ := json.Marshal(resp["Entries"])
	var out []devtools.Entry
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func sdkRequestID(err error) string {
	var e interface{ GetRequestId() string }
	if x, ok := err.(interface{ GetRequestId() string }); ok {
		e = x
		return e.GetRequestId()
	}
	return ""
}

// TestJournal: the SDK's calls are journaled with the account's SecretId,
// action, decoded parameters, code, latency and RequestId; the account sees
// only its own; filters work; no key or signature appears.
func TestJournal(t *testing.T) {
	n := tk.Start(t, devConfig())
	sdk := tk.SDK(t, n.Addr(), tk.AcmeID, tk.AcmeKey, tk.Modes[0])
	_, err := sdk.RemoveUser(removeUser(4242, "alice"))
	if tk.Code(err) != "FailedOperation.RoomNotExist" {
		t.Fatalf("RemoveUser: %v", err)
	}
	reqID := sdkRequestID(err)
	v1 := tk.SDK(t, n.Addr(), tk.AcmeID, tk.AcmeKey, tk.Modes[3]) // HmacSHA1 form POST
	v1.RemoveUser(removeUser(4243, "bob"))
	otherSDK := tk.SDK(t, n.Addr(), tk.OtherID, tk.OtherKey, tk.Modes[0])
	otherSDK.RemoveUser(removeUser(4244, "carol"))

	all := journal(t, n.Addr(), tk.AcmeID, tk.AcmeKey, nil)
	if len(all) != 2 {
		t.Fatalf("acme sees %d entries, want its 2: %+v", len(all), all)
	}
	// newest first: the v1 call, then the TC3 one
	e := all[1]
	if e.RequestId != reqID || e.SecretId != tk.AcmeID || e.Account != "acme" || e.Action != "RemoveUser" ||
		e.Code != "FailedOperation.RoomNotExist" || e.LatencyMs <= 0 || e.Time.IsZero() || e.Fault != "" {
		t.Fatalf("entry %+v (want RequestId %s)", e, reqID)
	}
	var p struct {
		SdkAppId uint64
		RoomId   uint64
		UserIds  []string
	}
	if err := json.Unmarshal(e.Params, &p); err != nil || p.SdkAppId != tk.App || p.RoomId != 4242 || fmt.Sprint(p.UserIds) != "[alice]" {
		t.Fatalf("params %s", e.Params)
	}
	if !strings.Contains(string(all[0].Params), `"RoomId":"4243"`) || strings.Contains(string(all[0].Params), "Signature") ||
		strings.Contains(string(all[0].Params), "SecretId") {
		t.Fatalf("v1 params %s", all[0].Params)
	}
	for _, e := range journal(t, n.Addr(), tk.OtherID, tk.OtherKey, nil) {
		if e.Account != "other" {
			t.Fatalf("other sees %+v", e)
		}
	}
	// filters
	if got := journal(t, n.Addr(), tk.AcmeID, tk.AcmeKey, map[string]any{"Code": "OK"}); len(got) != 0 {
		t.Fatalf("Code=OK: %+v", got)
	}
	if got := journal(t, n.Addr(), tk.AcmeID, tk.AcmeKey, map[string]any{"Action": "RemoveUser", "Limit": 1}); len(got) != 1 || got[0].RequestId != all[0].RequestId {
		t.Fatalf("Action+Limit: %+v", got)
	}
	if got := journal(t, n.Addr(), tk.AcmeID, tk.AcmeKey, map[string]any{"Action": "DismissRoom"}); len(got) != 0 {
		t.Fatalf("Action=DismissRoom: %+v", got)
	}
	// never a key or a signature
	raw, _ := json.Marshal(journal(t, n.Addr(), tk.AcmeID, tk.AcmeKey, nil))
	for _, secret := range []string{tk.AcmeKey, "Signature=", `"Signature":"`} {
		if bytes.Contains(raw, []byte(secret)) {
			t.Fatalf("journal holds %q: %s", secret, raw)
		}
	}
	// a bad filter is named
	resp := tk.Admin(t, n.Addr(), tk.AcmeID, tk.AcmeKey, "DescribeApiJournal", map[string]any{"Limit": 0})
	if tk.ErrCode(resp) != "InvalidParameterValue" || !strings.Contains(fmt.Sprint(resp["Error"]), "Limit") {
		t.Fatalf("Limit 0: %v", resp)
	}
}

// clientCanonical is the canonical request as a client computes it.
func clientCanonical(host, contentType, body string) string {
	h := sha256.Sum256([]byte(body))
	return "POST\n/\n\ncontent-type:" + contentType + "\nhost:" + host + "\n\ncontent-type;host\n" + hex.EncodeToString(h[:])
}

func hm(key []byte, msg string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

// TestSignatureDiagnostics: a request signed over a different content-type
// than it sends is refused; the journal shows the server's canonical
// request, which differs from the client's at exactly that line.
func TestSignatureDiagnostics(t *testing.T) {
	n := tk.Start(t, devConfig())
	body := `{"SdkAppId":1400000001,"RoomId":77,"UserIds":["u1"]}`
	now := time.Now()
	ts := strconv.FormatInt(now.Unix(), 10)
	date := now.UTC().Format("2006-01-02")
	host := n.Addr()
	signedCT := "application/json; charset=utf-8" // what the client signs
	canon := clientCanonical(host, signedCT, body)
	ch := sha256.Sum256([]byte(canon))
	sts := "TC3-HMAC-SHA256\n" + ts + "\n" + date + "/trtc/tc3_request\n" + hex.EncodeToString(ch[:])
	k := hm([]byte("TC3"+tk.AcmeKey), date)
	k = hm(k, "trtc")
	k = hm(k, "tc3_request")
	sig := hex.EncodeToString(hm(k, sts))

	r, _ := http.NewRequest("POST", "http://"+host+"/", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json") // what it sends
	r.Header.Set("X-TC-Action", "RemoveUser")
	r.Header.Set("X-TC-Version", "2019-07-22")
	r.Header.Set("X-TC-Region", "ap-guangzhou")
	r.Header.Set("X-TC-Timestamp", ts)
	r.Header.Set("Authorization", "TC3-HMAC-SHA256 Credential="+tk.AcmeID+"/"+date+"/trtc/tc3_request, SignedHeaders=content-type;host, Signature="+sig)
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(raw), "AuthFailure.SignatureFailure") {
		t.Fatalf("answer %s", raw)
	}
	entries := journal(t, n.Addr(), tk.AcmeID, tk.AcmeKey, map[string]any{"Code": "AuthFailure.SignatureFailure"})
	if len(entries) != 1 || entries[0].Signature == nil {
		t.Fatalf("entries %+v", entries)
	}
	d := entries[0].Signature
	if d.Algorithm != "TC3-HMAC-SHA256" || fmt.Sprint(d.SignedHeaders) != "[content-type host]" || d.CredentialScope != date+"/trtc/tc3_request" {
		t.Fatalf("diagnostics %+v", d)
	}
	cl, sv := strings.Split(canon, "\n"), strings.Split(d.CanonicalRequest, "\n")
	if len(cl) != len(sv) {
		t.Fatalf("server canonical request has %d lines, client's %d:\n%s", len(sv), len(cl), d.CanonicalRequest)
	}
	var differ []int
	for i := range cl {
		if cl[i] != sv[i] {
			differ = append(differ, i)
		}
	}
	if fmt.Sprint(differ) != "[3]" || sv[3] != "content-type:application/json" {
		t.Fatalf("lines that differ: %v\nclient:\n%s\nserver:\n%s", differ, canon, d.CanonicalRequest)
	}
	sh := sha256.Sum256([]byte(d.CanonicalRequest))
	if d.StringToSign != "TC3-HMAC-SHA256\n"+ts+"\n"+date+"/trtc/tc3_request\n"+hex.EncodeToString(sh[:]) {
		t.Fatalf("string to sign %q", d.StringToSign)
	}
	if !strings.Contains(string(entries[0].Params), `"RoomId":77`) {
		t.Fatalf("params of the refused call: %s", entries[0].Params)
	}
	all, _ := json.Marshal(entries)
	if strings.Contains(string(all), sig) || strings.Contains(string(all), tk.AcmeKey) {
		t.Fatalf("journal holds the signature or the key: %s", all)
	}
}

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// TestFaultWithSDK: a fault set for the next call answers the official
// SDK's RemoveUser with the injected code, is marked in the journal and the
// log, affects only its account, and is used up after one call.
func TestFaultWithSDK(t *testing.T) {
	logs := &syncBuf{}
	cfg := devConfig()
	n, err := node.New(cfg, slog.New(slog.NewJSONHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		n.Shutdown(ctx)
	})
	resp := tk.Admin(t, n.Addr(), tk.AcmeID, tk.AcmeKey, "CreateFault", map[string]any{"Action": "RemoveUser", "Code": "InternalError", "Count": 1})
	f, _ := resp["Fault"].(map[string]any)
	if f == nil || f["FaultId"] == "" {
		t.Fatalf("CreateFault: %v", resp)
	}
	id := f["FaultId"].(string)

	other := tk.SDK(t, n.Addr(), tk.OtherID, tk.OtherKey, tk.Modes[0])
	if _, err := other.RemoveUser(removeUserApp(tk.OtherApp, 5, "x")); tk.Code(err) != "FailedOperation.RoomNotExist" {
		t.Fatalf("other account's call: %v", err)
	}
	sdk := tk.SDK(t, n.Addr(), tk.AcmeID, tk.AcmeKey, tk.Modes[0])
	_, err = sdk.RemoveUser(removeUser(5, "x"))
	if tk.Code(err) != "InternalError" || !strings.Contains(err.Error(), id) {
		t.Fatalf("faulted call: %v", err)
	}
	if _, err := sdk.RemoveUser(removeUser(5, "x")); tk.Code(err) != "FailedOperation.RoomNotExist" {
		t.Fatalf("the call after: %v", err)
	}
	entries := journal(t, n.Addr(), tk.AcmeID, tk.AcmeKey, map[string]any{"Action": "RemoveUser"})
	if len(entries) != 2 || entries[1].Fault != id || entries[1].Code != "InternalError" || entries[0].Fault != "" {
		t.Fatalf("journal %+v", entries)
	}
	if !strings.Contains(logs.String(), `"fault":"`+id+`"`) {
		t.Fatalf("no log line marks the fault:\n%s", logs.String())
	}
	if list := tk.Admin(t, n.Addr(), tk.AcmeID, tk.AcmeKey, "DescribeFaults", nil); list["TotalCount"] != float64(0) {
		t.Fatalf("a used-up fault is still listed: %v", list)
	}
}

// TestFaultPercentLatencyAndClear: Percent 100 answers every call; a
// latency-only fault lets the action answer (marked); clear removes them.
func TestFaultPercentLatencyAndClear(t *testing.T) {
	n := tk.Start(t, devConfig())
	sdk := tk.SDK(t, n.Addr(), tk.AcmeID, tk.AcmeKey, tk.Modes[1])
	tk.Admin(t, n.Addr(), tk.AcmeID, tk.AcmeKey, "CreateFault", map[string]any{"Action": "DismissRoom", "Code": "RequestLimitExceeded", "Percent": 100})
	lat := tk.Admin(t, n.Addr(), tk.AcmeID, tk.AcmeKey, "CreateFault", map[string]any{"Action": "RemoveUser", "LatencyMs": 20})
	latID := lat["Fault"].(map[string]any)["FaultId"].(string)
	for i := 0; i < 3; i++ {
		if _, err := sdk.DismissRoom(dismiss(9)); tk.Code(err) != "RequestLimitExceeded" {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	if _, err := sdk.RemoveUser(removeUser(9, "a")); tk.Code(err) != "FailedOperation.RoomNotExist" {
		t.Fatalf("latency fault: %v", err)
	}
	e := journal(t, n.Addr(), tk.AcmeID, tk.AcmeKey, map[string]any{"Action": "RemoveUser"})
	if len(e) != 1 || e[0].Fault != latID || e[0].Code != "FailedOperation.RoomNotExist" {
		t.Fatalf("journal %+v", e)
	}
	if r := tk.Admin(t, n.Addr(), tk.AcmeID, tk.AcmeKey, "DeleteFaults", map[string]any{"FaultId": "f999"}); tk.ErrCode(r) != devtools.CodeFaultNotFound {
		t.Fatalf("delete unknown: %v", r)
	}
	if r := tk.Admin(t, n.Addr(), tk.AcmeID, tk.AcmeKey, "DeleteFaults", nil); r["Deleted"] != float64(2) {
		t.Fatalf("delete all: %v", r)
	}
	if _, err := sdk.DismissRoom(dismiss(9)); tk.Code(err) != "FailedOperation.RoomNotExist" {
		t.Fatalf("after clear: %v", err)
	}
}

// TestCreateFaultBadInput: each bad parameter is named and sets nothing.
func TestCreateFaultBadInput(t *testing.T) {
	n := tk.Start(t, devConfig())
	for _, c := range []struct {
		params map[string]any
		code   string
		names  string
	}{
		{map[string]any{"Code": "InternalError"}, "MissingParameter", "Action"},
		{map[string]any{"Action": "NoSuchAction", "Code": "InternalError"}, "InvalidParameterValue", "NoSuchAction"},
		{map[string]any{"Action": "CreateFault", "Code": "InternalError"}, "InvalidParameterValue", "CreateFault"},
		{map[string]any{"Action": "RemoveUser"}, "MissingParameter", "Code"},
		{map[string]any{"Action": "RemoveUser", "Code": "not a code"}, "InvalidParameterValue", "Code"},
		{map[string]any{"Action": "RemoveUser", "Code": "InternalError", "Count": 1, "Percent": 5}, "InvalidParameterValue", "Count and Percent"},
		{map[string]any{"Action": "RemoveUser", "Code": "InternalError", "Percent": 101}, "InvalidParameterValue", "Percent"},
		{map[string]any{"Action": "RemoveUser", "Code": "InternalError", "Count": "1"}, "InvalidParameterValue", "Count"},
		{map[string]any{"Action": "RemoveUser", "LatencyMs": 600000}, "InvalidParameterValue", "LatencyMs"},
		{map[string]any{"Action": "RemoveUser", "Code": "InternalError", "TtlSeconds": 0}, "InvalidParameterValue", "TtlSeconds"},
		{map[string]any{"Action": "RemoveUser", "Message": "hi"}, "InvalidParameterValue", "Message"},
		{map[string]any{"Action": "RemoveUser", "Code": "InternalError", "Bogus": 1}, "UnknownParameter", "Bogus"},
	} {
		r := tk.Admin(t, n.Addr(), tk.AcmeID, tk.AcmeKey, "CreateFault", c.params)
		if tk.ErrCode(r) != c.code || !strings.Contains(fmt.Sprint(r["Error"]), c.names) {
			t.Errorf("%v: %v, want %s naming %s", c.params, r["Error"], c.code, c.names)
		}
	}
	if list := tk.Admin(t, n.Addr(), tk.AcmeID, tk.AcmeKey, "DescribeFaults", nil); list["TotalCount"] != float64(0) {
		t.Fatalf("bad input set a fault: %v", list)
	}
}

// TestToolsOff: with a configuration file's defaults the tools are off, the
// front door has no hook, and the admin actions say so.
func TestToolsOff(t *testing.T) {
	n := tk.Start(t, tk.Config())
	if n.API.Hook != nil || n.DevTools != nil {
		t.Fatal("hook set with the tools off")
	}
	if r := tk.Admin(t, n.Addr(), tk.AcmeID, tk.AcmeKey, "DescribeApiJournal", nil); tk.ErrCode(r) != devtools.CodeJournalDisabled {
		t.Fatalf("journal: %v", r)
	}
	if r := tk.Admin(t, n.Addr(), tk.AcmeID, tk.AcmeKey, "CreateFault", map[string]any{"Action": "RemoveUser", "Code": "InternalError"}); tk.ErrCode(r) != devtools.CodeFaultsDisabled {
		t.Fatalf("faults: %v", r)
	}
	// and the development configuration turns them on
	d := config.Defaults()
	if !d.DevTools.Journal || !d.DevTools.Faults || d.DevTools.JournalSize != devtools.DefaultJournalSize {
		t.Fatalf("development defaults %+v", d.DevTools)
	}
}

package cloudapi

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// --- echo truncation -------------------------------------------------------

func TestClipMarksTruncation(t *testing.T) {
	if got := Clip("RemoveUser"); got != "RemoveUser" {
		t.Fatalf("short value changed: %q", got)
	}
	long := strings.Repeat("A", 921600)
	if got, want := Clip(long), strings.Repeat("A", MaxEcho)+"…(truncated, 921600 bytes)"; got != want {
		t.Fatalf("Clip = %q…, want %q…", got[:40], want[:40])
	}
	euros := strings.Repeat("€", 100) // 3 bytes each: 128 is inside one
	got := Clip(euros)
	if !utf8.ValidString(got) || !strings.HasPrefix(got, strings.Repeat("€", 42)+"…(truncated, 300 bytes)") {
		t.Fatalf("Clip split a character or lost the mark: %q", got)
	}
}

// TestLongActionIsClippedInErrorAndLog: an unauthenticated 900 KB
// X-TC-Action is neither echoed nor logged whole.
func TestLongActionIsClippedInErrorAndLog(t *testing.T) {
	env := newTestEnv(t)
	var logs bytes.Buffer
	env.api.Log = slog.New(slog.NewJSONHandler(&logs, nil))
	action := strings.Repeat("A", 921600)
	got := do(t, env.tc3(tc3Spec{action: action, body: goodBody}))
	if code(got) != CodeInvalidAction {
		t.Fatalf("code %q", code(got))
	}
	msg := got.Response.Error.Message
	if !strings.Contains(msg, "…(truncated, 921600 bytes)") || len(msg) > 300 {
		t.Fatalf("message of %d bytes: %.200q", len(msg), msg)
	}
	line, _ := bufio.NewReader(&logs).ReadString('\n')
	if !strings.Contains(line, `"msg":"api call"`) || !strings.Contains(line, "…(truncated, 921600 bytes)") || len(line) > 1024 {
		t.Fatalf("log line of %d bytes: %.300q", len(line), line)
	}
}

// TestClientValuesAreClippedInEveryMessage: each message that repeats a
// client-supplied value repeats at most MaxEcho bytes of it.
func TestClientValuesAreClippedInEveryMessage(t *testing.T) {
	env := newTestEnv(t)
	long := strings.Repeat("x", 5000)
	cases := []struct {
		name string
		req  *http.Request
		want string
	}{
		{"version", env.tc3(tc3Spec{version: long, body: goodBody}), CodeNoSuchVersion},
		{"region", env.tc3(tc3Spec{region: long, body: goodBody}), CodeUnsupportedRegion},
		{"content type", env.tc3(tc3Spec{ctype: "text/" + long, body: goodBody}), CodeInvalidParameter},
		{"unknown parameter", env.tc3(tc3Spec{body: `{"` + long + `":1}`}), CodeUnknownParameter},
	}
	for _, c := range cases {
		got := do(t, c.req)
		if code(got) != c.want || !strings.Contains(got.Response.Error.Message, "…(truncated, ") || len(got.Response.Error.Message) > 400 {
			t.Fatalf("%s: %s %.300q", c.name, code(got), got.Response.Error.Message)
		}
	}
}

// --- parameter decoding limits --------------------------------------------

// hugeUserIDs is a RemoveUser body with n UserIds.
func hugeUserIDs(n int) string {
	return `{"SdkAppId":1400000001,"RoomId":1234,"UserIds":[` + strings.Repeat(`"a",`, n-1) + `"a"]}`
}

// TestHugeArrayRefusedEarly: a signed RemoveUser with two million UserIds
// answers InvalidParameter naming UserIds, and the action never runs.
func TestHugeArrayRefusedEarly(t *testing.T) {
	env := newTestEnv(t)
	got := do(t, env.tc3(tc3Spec{body: hugeUserIDs(2_000_000)}))
	if code(got) != CodeInvalidParameter || !strings.Contains(got.Response.Error.Message, "`UserIds`") ||
		!strings.Contains(got.Response.Error.Message, "1000 elements") {
		t.Fatalf("%s %q", code(got), got.Response.Error.Message)
	}
	if env.calls.Load() != 0 {
		t.Fatal("the action ran")
	}
	if env.api.Stats().ParamsRefused != 1 {
		t.Fatalf("stats %+v", env.api.Stats())
	}
	// The limit is generic: a thousand elements pass to the action, whose
	// own limit (10 for RemoveUser) then applies.
	if got := do(t, env.tc3(tc3Spec{body: hugeUserIDs(MaxParamElements)})); code(got) != "" {
		t.Fatalf("%d elements: %s", MaxParamElements, code(got))
	}
}

// TestCheckShapeStopsEarly: the scan of two million elements stops right
// after the thousandth, having looked at no more values than that.
func TestCheckShapeStopsEarly(t *testing.T) {
	scanned, e := checkShape([]byte(hugeUserIDs(2_000_000)), paramLimits)
	if e == nil || e.Code != CodeInvalidParameter {
		t.Fatalf("accepted: %v", e)
	}
	// 7 values come before the array: the object, three keys, two numbers
	// and the array itself.
	if scanned > 7+MaxParamElements {
		t.Fatalf("scanned %d values before refusing", scanned)
	}
}

func TestCheckShape(t *testing.T) {
	lim := shapeLimits{elements: 3, depth: 3, values: 12}
	cases := []struct {
		body, want string // want: "" accepted, else a part of the message
	}{
		{`{"A":[1,2,3]}`, ""},
		{`{"A":[1,2,3,4]}`, "parameter `A` has more than 3 elements"},
		{`{"A":1,"B":{"x":1,"y":2,"z":3,"w":4}}`, "parameter `B` has more than 3 elements"},
		{`{"A":1,"B":2,"C":3}`, ""},
		{`{"A":1,"B":2,"C":3,"D":4}`, "request body has more than 3 parameters"},
		{`{"A":[[1]]}`, ""},
		{`{"A":[[[1]]]}`, "parameter `A` nests arrays and objects more than 3 deep"},
		{`{"A":["a,b,c,d]"]}`, ""}, // commas and brackets inside strings do not count
		{`{"A\"B":[1,2,3,4]}`, "parameter `A\\\"B`"},
		{`{"A":[1,2],"B":[1,2],"C":[1]}`, ""},                                        // 12 values
		{`{"A":[1,2],"B":[1,2],"C":[1,2]}`, "parameter `C` has more than 12 values"}, // 13
		{`[`, ""}, {`}}}`, ""}, {`"`, ""}, {``, ""}, // left to the decoder
	}
	for _, c := range cases {
		_, e := checkShape([]byte(c.body), lim)
		switch {
		case c.want == "" && e != nil:
			t.Errorf("%s: refused: %s", c.body, e.Message)
		case c.want != "" && (e == nil || !strings.Contains(e.Message, c.want)):
			t.Errorf("%s: got %v, want %q", c.body, e, c.want)
		}
	}
}

// FuzzParamShape: checkShape never panics, and on valid JSON it refuses
// exactly what passes a limit, as counted by encoding/json's tokenizer.
func FuzzParamShape(f *testing.F) {
	for _, s := range []string{`{"A":[1,2,3]}`, `{"A":[1,2,3,4]}`, `{"A":{"b":[[[]]]}}`, `{"A":"x\"],"}`, `[1,[2,[3]]]`, `{}`, `{"a":null,"b":true,"c":-1.5e3}`} {
		f.Add(s)
	}
	lim := shapeLimits{elements: 3, depth: 3, values: 12}
	f.Fuzz(func(t *testing.T, body string) {
		_, e := checkShape([]byte(body), lim)
		if !json.Valid([]byte(body)) {
			return
		}
		if want := exceeds(body, lim); want != (e != nil) {
			t.Fatalf("%q: checkShape refused=%v, reference says %v (%v)", body, e != nil, want, e)
		}
	})
}

// exceeds is the reference: does valid JSON pass one of the limits?
func exceeds(body string, lim shapeLimits) bool {
	type frame struct {
		obj, wantKey bool
		count        int
	}
	dec := json.NewDecoder(strings.NewReader(body))
	var stack []frame
	values := 0
	for {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		if d, ok := tok.(json.Delim); ok && (d == '}' || d == ']') {
			stack = stack[:len(stack)-1]
			continue
		}
		if values++; values > lim.values {
			return true
		}
		if n := len(stack); n > 0 {
			top := &stack[n-1]
			counted := !top.obj || top.wantKey // a key, or an array element
			if top.obj {
				top.wantKey = !top.wantKey
			}
			if counted {
				if top.count++; top.count > lim.elements {
					return true
				}
			}
		}
		if d, ok := tok.(json.Delim); ok {
			if stack = append(stack, frame{obj: d == '{', wantKey: true}); len(stack) > lim.depth {
				return true
			}
		}
	}
}

// --- unauthenticated body budget ------------------------------------------

// TestBodyBudgetRefusesAtOnce: while a stalled body holds the budget,
// another request is answered ServiceUnavailable at once, without its body
// being buffered, and its connection is closed; when the stalled connection
// goes, its bytes are released and requests are served again.
func TestBodyBudgetRefusesAtOnce(t *testing.T) {
	env := newTestEnv(t)
	env.api.BodyBudget = NewBodyBudget(1 << 20)
	stalled, err := net.Dial("tcp", env.host())
	if err != nil {
		t.Fatal(err)
	}
	defer stalled.Close()
	fmt.Fprintf(stalled, "POST / HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", env.host(), MaxTC3Body)
	stalled.Write(make([]byte, 900<<10))
	until(t, "the stalled body to be read", func() bool { return env.api.Stats().BodyBudgetHeld >= 900<<10 })

	resp, err := http.DefaultClient.Do(env.tc3(tc3Spec{body: goodBody}))
	if err != nil {
		t.Fatal(err)
	}
	var out apiResponse
	json.NewDecoder(resp.Body).Decode(&out)
	resp.Body.Close()
	if code(out) != CodeServiceUnavailable || !strings.Contains(out.Response.Error.Message, "1048576 bytes") || !resp.Close {
		t.Fatalf("%s %+v, connection close %v", code(out), out.Response.Error, resp.Close)
	}
	if st := env.api.Stats(); st.BodyBudgetRefused != 1 || env.calls.Load() != 0 {
		t.Fatalf("stats %+v, calls %d", st, env.calls.Load())
	}

	stalled.Close()
	until(t, "the budget to be released", func() bool { return env.api.Stats().BodyBudgetHeld == 0 })
	if got := do(t, env.tc3(tc3Spec{body: goodBody})); code(got) != "" {
		t.Fatalf("after release: %s", code(got))
	}
	if held := env.api.Stats().BodyBudgetHeld; held != 0 {
		t.Fatalf("an authenticated call left %d bytes reserved", held)
	}
}

// until waits up to 30 s for cond.
func until(t testing.TB, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

package console

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"
)

// FuzzParseSignIn: any body is either refused with a message naming what
// is wrong or read into two non-empty, bounded fields.
func FuzzParseSignIn(f *testing.F) {
	for _, s := range []string{`{"secretId":"AKID","secretKey":"k"}`, `{}`, `{"secretId":1}`, `[]`, `{"secretId":"a","secretKey":"b","x":1}`, `{"secretId":"a"} {}`, ""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		req, err := parseSignIn(b)
		if err != nil {
			if _, ok := err.(*inputError); !ok || err.Error() == "" {
				t.Fatalf("error %T %v", err, err)
			}
			return
		}
		if req.SecretID == "" || req.SecretKey == "" || len(req.SecretID) > MaxSecretLen || len(req.SecretKey) > MaxSecretLen {
			t.Fatalf("accepted %+v", req)
		}
	})
}

// FuzzParseCall: an accepted call names an action and carries a JSON
// object as its parameters.
func FuzzParseCall(f *testing.F) {
	for _, s := range []string{`{"action":"RemoveUser","params":{"SdkAppId":1}}`, `{"action":"X"}`, `{"action":"X","params":null}`,
		`{"action":"X","params":[]}`, `{"action":"X","region":"ap-guangzhou","params":{}}`, `{"params":{}}`, `{"action":"X","params":" {}"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		req, err := parseCall(b)
		if err != nil {
			if _, ok := err.(*inputError); !ok {
				t.Fatalf("error %T %v", err, err)
			}
			return
		}
		var obj map[string]json.RawMessage
		if req.Action == "" || len(req.Action) > 64 || json.Unmarshal(req.Params, &obj) != nil || obj == nil {
			t.Fatalf("accepted %+v (params %q)", req, req.Params)
		}
	})
}

// FuzzParseRoom: an accepted app and room reference round-trip through
// roomRef.
func FuzzParseRoom(f *testing.F) {
	for _, s := range [][2]string{{"1400000001", "n:1234"}, {"1400000001", "s:abc"}, {"0", "n:1"}, {"x", "s:"}, {"4294967296", "n:4294967295"}, {"1", "s:a b!"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, appText, ref string) {
		app, err := parseApp(appText)
		if err != nil {
			return
		}
		k, err := parseRoom(app, ref)
		if err != nil {
			if _, ok := err.(*inputError); !ok {
				t.Fatalf("error %T", err)
			}
			return
		}
		if k.App != app || roomRef(k) != ref {
			t.Fatalf("%q → %+v → %q", ref, k, roomRef(k))
		}
	})
}

// FuzzParseReplay: an accepted replay names an app and either all of its
// dead letters or 1..MaxReplayIDs positive ids.
func FuzzParseReplay(f *testing.F) {
	for _, s := range []string{`{"app":1400000001,"ids":[1,2]}`, `{"app":1400000001,"all":true}`, `{"app":1}`, `{"app":0,"all":true}`,
		`{"app":1,"ids":[1],"all":true}`, `{"app":1,"ids":[-1]}`, `{"app":4294967296,"all":true}`, `{"app":1,"ids":null,"all":true}`, `[]`, ""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		req, err := parseReplay(b)
		if err != nil {
			if _, ok := err.(*inputError); !ok || err.Error() == "" {
				t.Fatalf("error %T %v", err, err)
			}
			return
		}
		if req.App == 0 || req.App > 1<<32-1 || req.All != (len(req.IDs) == 0) || len(req.IDs) > MaxReplayIDs {
			t.Fatalf("accepted %+v", req)
		}
		for _, id := range req.IDs {
			if id <= 0 {
				t.Fatalf("accepted id %d", id)
			}
		}
	})
}

// FuzzParseHistoryQuery: an accepted range is ordered and not negative,
// an accepted offset round-trips, and an accepted CommId is the app's.
func FuzzParseHistoryQuery(f *testing.F) {
	for _, s := range [][4]string{{"", "", "", "1400000001_51_1700000000000_1"}, {"5", "4", "x", "1400000003_1_1_1"}, {"0", "1000", "100", "1400000001_"},
		{"-1", "", "-1", "1400000001_a b"}, {"01", "9007199254740993", "4294967296", "1400000001_s_str"}} {
		f.Add(s[0], s[1], s[2], s[3])
	}
	now := time.UnixMilli(1_700_000_000_000)
	f.Fuzz(func(t *testing.T, from, to, off, comm string) {
		a, b, err := parseRange(from, to, now)
		if err == nil && (a < 0 || a > b) {
			t.Fatalf("range %q %q → %d %d", from, to, a, b)
		}
		if err != nil {
			if _, ok := err.(*inputError); !ok {
				t.Fatalf("error %T", err)
			}
		}
		if n, err := parseOffset(off); err == nil && off != "" && strconv.FormatUint(n, 10) != off {
			t.Fatalf("offset %q → %d", off, n)
		}
		if c, err := parseCommID(1400000001, comm); err == nil && (c != comm || !strings.HasPrefix(c, "1400000001_") || len(c) > MaxCommIDLen) {
			t.Fatalf("comm %q → %q", comm, c)
		}
	})
}

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"http://127.0.0.1:9000/cb":                "http://127.0.0.1:9000/cb",
		"https://user:secret@example.test/cb?a=1": "https://user:xxxxx@example.test/cb?a=1",
		"http://[::1": "(an unparsable URL)",
	} {
		if got := redactURL(in); got != want {
			t.Errorf("%q → %q, want %q", in, got, want)
		}
	}
}

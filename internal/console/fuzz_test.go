package console

import (
	"encoding/json"
	"testing"
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

package usersig

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"testing"
	"time"
)

const docKey = "5bd2850fff3ecb11d7c805251c51ee463a25727bddc2385f3fa8bfee1bb93b5e"

var vecNow = time.Unix(1700000000, 0)

// Fact sheet §10.4: the UserSig made by the Node library.
func TestFactSheetUserSig(t *testing.T) {
	sig := "eJyrVgrxCdYrSy1SslIy0jNQ0gHzM1NS80oy0zLBwhWZiflZpXlQqeKU7MSCgswUJStDEwMogMiUZOamKlkZmqOKplYUZBaBxE1NTY3gosWZ6UpWSj5ljuYp*p7l5unBxXnF2WVhVU4uAf7Ozi5JpX7O5SbuHuUhzgZJmQXaTia2SrUAohcx8g__"
	c, err := Verify(sig, 1400000000, docKey, "xiaojun", vecNow)
	if err != nil {
		t.Fatal(err)
	}
	if c.Expire != 15552000*time.Second || c.Time.Unix() != 1700000000 || c.Userbuf != nil {
		t.Fatalf("claims %+v", c)
	}
	d, _ := decode(sig)
	if d.Sig != "LvA7d/Iw7gSsnskvVzBDPOCCDbuNCw4GHwTC0bip+B4=" {
		t.Fatalf("TLS.sig %s", d.Sig)
	}
}

func TestFactSheetPrivateMapKeyUserbuf(t *testing.T) {
	num := Userbuf{UserID: "xiaojun", SdkAppID: 1400000000, RoomID: 1234, ExpiresAt: 1700000300, Privilege: 255}
	if got := hex.EncodeToString(num.Encode()); got != "0000077869616f6a756e53724e00000004d26553f22c000000ff00000000" {
		t.Fatalf("numeric userbuf %s", got)
	}
	str := Userbuf{UserID: "xiaojun", SdkAppID: 1400000000, ExpiresAt: 1700000300, Privilege: 255, StrRoomID: "room1"}
	if got := hex.EncodeToString(str.Encode()); got != "0100077869616f6a756e53724e00000000006553f22c000000ff000000000005726f6f6d31" {
		t.Fatalf("string userbuf %s", got)
	}
	pmk := GeneratePrivateMapKey(1400000000, docKey, "xiaojun", 300*time.Second, vecNow, 1234, "", 255)
	d, _ := decode(pmk)
	if *d.Userbuf != "AAAHeGlhb2p1blNyTgAAAATSZVPyLAAAAP8AAAAA" || d.Sig != "UJ/JE0sAXebw3fmypNVecDQe0bYyKkdhdvi6W1isbZk=" {
		t.Fatalf("numeric PrivateMapKey userbuf %s sig %s", *d.Userbuf, d.Sig)
	}
	pmk = GeneratePrivateMapKey(1400000000, docKey, "xiaojun", 300*time.Second, vecNow, 0, "room1", 255)
	d, _ = decode(pmk)
	if d.Sig != "qPz7Zy4RF4iiSRsilzQQdPKJK+AJmaJRJF5BZZpYQUs=" {
		t.Fatalf("string PrivateMapKey sig %s", d.Sig)
	}
}

type nodeVector struct {
	Kind      string
	SdkAppID  uint64 `json:"sdkappid"`
	Key       string
	UserID    string `json:"userid"`
	Time      int64
	Expire    int64
	RoomID    uint64 `json:"roomid"`
	StrRoomID string `json:"strroomid"`
	Privilege uint32
	Sig       string
}

// Vectors made by the official tls-sig-api-v2 npm package
// (scripts/usersig-vectors/run.sh regenerates them).
func TestNodeLibraryVectors(t *testing.T) {
	raw, err := os.ReadFile("testdata/node-vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var vecs []nodeVector
	if err := json.Unmarshal(raw, &vecs); err != nil {
		t.Fatal(err)
	}
	if len(vecs) < 50 {
		t.Fatalf("only %d vectors", len(vecs))
	}
	for i, v := range vecs {
		now := time.Unix(v.Time, 0)
		last := time.Unix(v.Time+v.Expire, 0)
		switch v.Kind {
		case "usersig":
			if _, err := Verify(v.Sig, v.SdkAppID, v.Key, v.UserID, last); err != nil {
				t.Errorf("vector %d: %v", i, err)
			}
			if _, err := Verify(v.Sig, v.SdkAppID, v.Key, v.UserID, last.Add(time.Second)); !isReason(err, ReasonExpired) {
				t.Errorf("vector %d one second late: %v", i, err)
			}
			// ours must decode to the same fields and sig as theirs
			mine, _ := decode(Generate(v.SdkAppID, v.Key, v.UserID, time.Duration(v.Expire)*time.Second, now, nil))
			theirs, _ := decode(v.Sig)
			if mine != theirs {
				t.Errorf("vector %d: generated %+v, node %+v", i, mine, theirs)
			}
		case "privatemapkey":
			if err := VerifyPrivateMapKey(v.Sig, v.SdkAppID, v.Key, v.UserID, now, v.RoomID, v.StrRoomID); err != nil && v.Privilege&PrivEnterRoom != 0 {
				t.Errorf("vector %d: %v", i, err)
			} else if v.Privilege&PrivEnterRoom == 0 && !isReason(err, ReasonNoPrivilege) {
				t.Errorf("vector %d without enter bit: %v", i, err)
			}
			mine := GeneratePrivateMapKey(v.SdkAppID, v.Key, v.UserID, time.Duration(v.Expire)*time.Second, now, uint32(v.RoomID), v.StrRoomID, v.Privilege)
			a, _ := decode(mine)
			b, _ := decode(v.Sig)
			if a.Sig != b.Sig || *a.Userbuf != *b.Userbuf {
				t.Errorf("vector %d: generated PrivateMapKey differs", i)
			}
		default:
			t.Fatalf("vector %d: kind %q", i, v.Kind)
		}
	}
}

func isReason(err error, r Reason) bool {
	var e *Error
	return errors.As(err, &e) && e.Reason == r
}

// rawSig encodes an arbitrary document, for failure cases.
func rawSig(js string) string {
	var buf bytes.Buffer
	w := zlib.NewWriter(&buf)
	w.Write([]byte(js))
	w.Close()
	return encoding.EncodeToString(buf.Bytes())
}

func TestVerifyFailureReasons(t *testing.T) {
	good := Generate(1400000001, "key", "alice", time.Hour, vecNow, nil)
	goodDoc, _ := decode(good)
	mutate := func(f func(*doc)) string {
		d := goodDoc
		f(&d)
		js, _ := json.Marshal(d)
		return rawSig(string(js))
	}
	cases := []struct {
		name, sig  string
		app        uint64
		key, user  string
		now        time.Time
		wantReason Reason
	}{
		{"not base64", "!!!", 1400000001, "key", "alice", vecNow, ReasonBase64},
		{"not zlib", encoding.EncodeToString([]byte("plain")), 1400000001, "key", "alice", vecNow, ReasonInflate},
		{"not JSON", rawSig("{"), 1400000001, "key", "alice", vecNow, ReasonJSON},
		{"sdkappid as string", rawSig(`{"TLS.ver":"2.0","TLS.sdkappid":"1"}`), 1400000001, "key", "alice", vecNow, ReasonJSON},
		{"version 1.0", mutate(func(d *doc) { d.Ver = "1.0" }), 1400000001, "key", "alice", vecNow, ReasonVersion},
		{"other app", good, 1400000002, "key", "alice", vecNow, ReasonAppID},
		{"other user", good, 1400000001, "key", "bob", vecNow, ReasonIdentifier},
		{"expired", good, 1400000001, "key", "alice", vecNow.Add(time.Hour + time.Second), ReasonExpired},
		{"userbuf not base64", mutate(func(d *doc) { s := "%%"; d.Userbuf = &s }), 1400000001, "key", "alice", vecNow, ReasonUserbufType},
		{"wrong key", good, 1400000001, "other", "alice", vecNow, ReasonSig},
		{"tampered expire", mutate(func(d *doc) { d.Expire = 1 << 30 }), 1400000001, "key", "alice", vecNow, ReasonSig},
		{"too large", string(make([]byte, MaxLen+1)), 1400000001, "key", "alice", vecNow, ReasonTooLarge},
	}
	for _, c := range cases {
		if _, err := Verify(c.sig, c.app, c.key, c.user, c.now); !isReason(err, c.wantReason) {
			t.Errorf("%s: got %v, want %q", c.name, err, c.wantReason)
		}
	}
	// exactly at time+expire it is still valid
	if _, err := Verify(good, 1400000001, "key", "alice", vecNow.Add(time.Hour)); err != nil {
		t.Errorf("valid at the last second: %v", err)
	}
}

func TestPrivateMapKeyEnforcement(t *testing.T) {
	pmk := GeneratePrivateMapKey(1400000001, "key", "alice", time.Minute, vecNow, 1234, "", PrivAll)
	if err := VerifyPrivateMapKey(pmk, 1400000001, "key", "alice", vecNow, 1234, ""); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		pmk    string
		room   uint64
		str    string
		now    time.Time
		reason Reason
	}{
		{"other numeric room", pmk, 1235, "", vecNow, ReasonRoom},
		{"string room with a numeric key", pmk, 0, "1234", vecNow, ReasonRoom},
		{"no enter bit", GeneratePrivateMapKey(1400000001, "key", "alice", time.Minute, vecNow, 1234, "", PrivCreateRoom), 1234, "", vecNow, ReasonNoPrivilege},
		{"plain usersig", Generate(1400000001, "key", "alice", time.Minute, vecNow, nil), 1234, "", vecNow, ReasonUserbuf},
		{"expired", pmk, 1234, "", vecNow.Add(2 * time.Minute), ReasonExpired},
		{"other string room", GeneratePrivateMapKey(1400000001, "key", "alice", time.Minute, vecNow, 0, "a", PrivAll), 0, "b", vecNow, ReasonRoom},
		{"userbuf for another user", Generate(1400000001, "key", "alice", time.Minute, vecNow, Userbuf{UserID: "bob", SdkAppID: 1400000001, RoomID: 1234, ExpiresAt: uint32(vecNow.Unix()) + 60, Privilege: 255}.Encode()), 1234, "", vecNow, ReasonUserbuf},
		{"userbuf malformed", Generate(1400000001, "key", "alice", time.Minute, vecNow, []byte{0, 0}), 1234, "", vecNow, ReasonMapMalformed},
	}
	for _, c := range cases {
		if err := VerifyPrivateMapKey(c.pmk, 1400000001, "key", "alice", c.now, c.room, c.str); !isReason(err, c.reason) {
			t.Errorf("%s: got %v, want %q", c.name, err, c.reason)
		}
	}
}

func FuzzVerify(f *testing.F) {
	f.Add(Generate(1400000001, "key", "alice", time.Hour, vecNow, nil))
	f.Add(GeneratePrivateMapKey(1400000001, "key", "alice", time.Hour, vecNow, 7, "", 255))
	f.Add("eJyrVgrxCdYrSy1SslIy0jNQ0gHzM1NS80oy0zLBwhWZiflZpXlQqeKU7MSCgswUJStDEwMogMiUZOamKlkZmqOKplYUZBaBxE1NTY3gosWZ6UpWSj5ljuYp*p7l5unBxXnF2WVhVU4uAf7Ozi5JpX7O5SbuHuUhzgZJmQXaTia2SrUAohcx8g__")
	f.Add("")
	f.Add("____")
	f.Fuzz(func(t *testing.T, sig string) {
		c, err := Verify(sig, 1400000001, "key", "alice", vecNow)
		if (c == nil) == (err == nil) {
			t.Fatalf("claims %v with error %v", c, err)
		}
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Reason == "" {
				t.Fatalf("error without reason: %v", err)
			}
		}
		_ = VerifyPrivateMapKey(sig, 1400000001, "key", "alice", vecNow, 7, "")
	})
}

func FuzzParseUserbuf(f *testing.F) {
	f.Add(Userbuf{UserID: "a", SdkAppID: 1, RoomID: 2, ExpiresAt: 3, Privilege: 255}.Encode())
	f.Add(Userbuf{UserID: "a", SdkAppID: 1, StrRoomID: "r", Privilege: 255}.Encode())
	f.Fuzz(func(t *testing.T, b []byte) {
		u, err := ParseUserbuf(b)
		if err == nil && !bytes.Equal(u.Encode(), b) {
			t.Fatalf("parse/encode round trip differs for %x", b)
		}
	})
}

func BenchmarkVerify(b *testing.B) {
	sig := Generate(1400000001, "key", "alice", time.Hour, vecNow, nil)
	for b.Loop() {
		if _, err := Verify(sig, 1400000001, "key", "alice", vecNow); err != nil {
			b.Fatal(err)
		}
	}
}

// signed makes a correctly signed UserSig with any time and expire, so that
// only the checks under test can refuse it.
func signed(t, expire int64) string {
	d := doc{Ver: "2.0", Identifier: "alice", SdkAppID: 1400000001, Time: t, Expire: expire}
	d.Sig = base64.StdEncoding.EncodeToString(sign("key", hmacContent(d.Identifier, d.SdkAppID, d.Time, d.Expire, nil)))
	js, _ := json.Marshal(d)
	return rawSig(string(js))
}

func TestTimeAndExpireBounds(t *testing.T) {
	now := vecNow.Unix()
	cases := []struct {
		name   string
		sig    string
		v      Verifier
		reason Reason // "" means accepted
	}{
		{"dated a year ahead", signed(now+365*86400, 86400), Verifier{MaxSkew: DefaultMaxSkew}, ReasonFuture},
		{"dated just past the default skew", signed(now+int64(DefaultMaxSkew/time.Second)+1, 86400), Verifier{MaxSkew: DefaultMaxSkew}, ReasonFuture},
		{"dated at the default skew", signed(now+int64(DefaultMaxSkew/time.Second), 86400), Verifier{MaxSkew: DefaultMaxSkew}, ""},
		{"one second ahead with no skew allowed", signed(now+1, 86400), Verifier{}, ReasonFuture},
		{"a minute ahead with a 2m skew", signed(now+60, 86400), Verifier{MaxSkew: 2 * time.Minute}, ""},
		{"expire 2^62", signed(now, 1<<62), Verifier{MaxSkew: DefaultMaxSkew}, ReasonExpireRange},
		{"expire that would overflow", signed(now, 1<<63-1), Verifier{MaxSkew: DefaultMaxSkew}, ReasonExpireRange},
		{"negative expire", signed(now-10, -1), Verifier{MaxSkew: DefaultMaxSkew}, ReasonExpireRange},
		{"expire at the bound", signed(now, MaxExpire), Verifier{MaxSkew: DefaultMaxSkew}, ""},
		{"expire just past the bound", signed(now, MaxExpire+1), Verifier{MaxSkew: DefaultMaxSkew}, ReasonExpireRange},
		{"time far in the past, expire at the bound", signed(-1<<62, MaxExpire), Verifier{MaxSkew: DefaultMaxSkew}, ReasonExpired},
	}
	for _, c := range cases {
		_, err := c.v.Verify(c.sig, 1400000001, "key", "alice", vecNow)
		if c.reason == "" && err != nil || c.reason != "" && !isReason(err, c.reason) {
			t.Errorf("%s: got %v, want %q", c.name, err, c.reason)
		}
	}
	// the package-level Verify and the PrivateMapKey check apply the default skew
	if _, err := Verify(signed(now+365*86400, 86400), 1400000001, "key", "alice", vecNow); !isReason(err, ReasonFuture) {
		t.Errorf("Verify: %v", err)
	}
	pmk := GeneratePrivateMapKey(1400000001, "key", "alice", time.Hour, vecNow.Add(365*24*time.Hour), 1234, "", PrivAll)
	if err := VerifyPrivateMapKey(pmk, 1400000001, "key", "alice", vecNow, 1234, ""); !isReason(err, ReasonFuture) {
		t.Errorf("future PrivateMapKey: %v", err)
	}
}

// CheckPrivateMapKey returns the verified privilege bits, and refuses what
// VerifyPrivateMapKey refuses, with the same reason.
func TestCheckPrivateMapKeyReturnsPrivileges(t *testing.T) {
	bits := uint32(PrivEnterRoom | PrivRecvAudio | PrivSendVideo)
	pmk := GeneratePrivateMapKey(1400000001, "key", "alice", time.Hour, vecNow, 0, "room 1", bits)
	v := Verifier{MaxSkew: DefaultMaxSkew}
	u, err := v.CheckPrivateMapKey(pmk, 1400000001, "key", "alice", vecNow, 0, "room 1")
	if err != nil || u.Privilege != bits || u.StrRoomID != "room 1" || u.UserID != "alice" || u.SdkAppID != 1400000001 {
		t.Fatalf("got %+v, %v", u, err)
	}
	for _, c := range []struct {
		room uint64
		str  string
		now  time.Time
		r    Reason
	}{{0, "room 2", vecNow, ReasonRoom}, {5, "", vecNow, ReasonRoom}, {0, "room 1", vecNow.Add(2 * time.Hour), ReasonExpired}} {
		u, err := v.CheckPrivateMapKey(pmk, 1400000001, "key", "alice", c.now, c.room, c.str)
		if !isReason(err, c.r) || u != (Userbuf{}) || !isReason(v.VerifyPrivateMapKey(pmk, 1400000001, "key", "alice", c.now, c.room, c.str), c.r) {
			t.Fatalf("%+v: got %+v, %v; want %s", c, u, err, c.r)
		}
	}
}

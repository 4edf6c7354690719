// Package usersig generates and verifies TRTC UserSigs (TLSSigAPIv2) and
// PrivateMapKeys, byte-compatible with Tencent's official tls-sig-api-v2
// libraries.
//
// A UserSig is the ticket a client shows to enter a room: an app server
// that holds the app's secret key mints one per user with Generate and hands
// it to its client, which joins with it (package client, or the TRTC SDKs
// against Tencent Cloud). A PrivateMapKey ("advanced permission control")
// additionally names one room and a set of privileges (the Priv* bits); it
// is minted with GeneratePrivateMapKey.
//
// trtcd verifies both with a Verifier; Verify and VerifyPrivateMapKey do the
// same with DefaultMaxSkew. A refusal is an *Error whose Reason says why, in
// the same words the trtcd join reports to the client.
//
// The secret key is the app's key as text (its ASCII bytes are the HMAC key,
// as in the official libraries); keep it on the server, never in a client.
package usersig

import (
	"bytes"
	"compress/zlib"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"strconv"
	"sync"
	"time"
)

// Reason says why a UserSig was refused. Each failure has its own reason, as
// in the official verifier, and joins report it.
type Reason string

const (
	ReasonBase64       Reason = "base64 decode failed"
	ReasonInflate      Reason = "zlib inflate failed"
	ReasonJSON         Reason = "json parse failed"
	ReasonVersion      Reason = "TLS.ver is not 2.0"
	ReasonAppID        Reason = "sdk appid not match"
	ReasonIdentifier   Reason = "identifier not match"
	ReasonExpired      Reason = "expired"
	ReasonFuture       Reason = "TLS.time is in the future"
	ReasonExpireRange  Reason = "TLS.expire out of range"
	ReasonUserbufType  Reason = "userbuf type not match"
	ReasonUserbuf      Reason = "userbuf not match"
	ReasonSig          Reason = "sig not match"
	ReasonTooLarge     Reason = "usersig too large"
	ReasonNoPrivilege  Reason = "privatemapkey lacks the enter-room privilege"
	ReasonRoom         Reason = "privatemapkey is for another room"
	ReasonMapExpired   Reason = "privatemapkey expired"
	ReasonMapMalformed Reason = "privatemapkey userbuf malformed"
	ReasonMapRequired  Reason = "privatemapkey required"
)

// Error is a refused UserSig or PrivateMapKey.
type Error struct{ Reason Reason }

func (e *Error) Error() string { return "usersig: " + string(e.Reason) }

func fail(r Reason) error { return &Error{Reason: r} }

// DefaultMaxSkew is how far ahead of this server's clock a UserSig's
// TLS.time may be (config key usersig_max_skew): the clocks of the signing
// backend and of this server may differ a little, but a sig dated a year
// ahead is a forgery or a broken clock, and would stay valid a year too long.
const DefaultMaxSkew = 5 * time.Minute

// MaxExpire bounds TLS.expire, in seconds: 2^32-1 (about 136 years), the
// range of the PrivateMapKey's own expiry field. Larger values (2^62 would
// never expire) are refused, and TLS.time+TLS.expire cannot overflow.
const MaxExpire = 1<<32 - 1

// MaxLen bounds what is decoded: real UserSigs are a few hundred bytes.
const MaxLen = 4096

// encoding is base64 with '+' '/' '=' replaced by '*' '-' '_'.
var encoding = base64.NewEncoding("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789*-").WithPadding('_')

// doc is the JSON inside a UserSig. Key order varies between libraries, so
// it is parsed, never compared as text.
type doc struct {
	Ver        string  `json:"TLS.ver"`
	Identifier string  `json:"TLS.identifier"`
	SdkAppID   uint64  `json:"TLS.sdkappid"`
	Time       int64   `json:"TLS.time"`
	Expire     int64   `json:"TLS.expire"`
	Userbuf    *string `json:"TLS.userbuf,omitempty"`
	Sig        string  `json:"TLS.sig"`
}

func hmacContent(identifier string, sdkappid uint64, t, expire int64, userbuf *string) string {
	s := "TLS.identifier:" + identifier + "\n" +
		"TLS.sdkappid:" + strconv.FormatUint(sdkappid, 10) + "\n" +
		"TLS.time:" + strconv.FormatInt(t, 10) + "\n" +
		"TLS.expire:" + strconv.FormatInt(expire, 10) + "\n"
	if userbuf != nil {
		s += "TLS.userbuf:" + *userbuf + "\n"
	}
	return s
}

func sign(key, content string) []byte {
	m := hmac.New(sha256.New, []byte(key)) // the key's ASCII bytes, not hex-decoded
	m.Write([]byte(content))
	return m.Sum(nil)
}

// Generate makes a UserSig valid from now for expire seconds. userbuf may be
// nil; a PrivateMapKey is a UserSig carrying a userbuf (see Userbuf.Encode).
func Generate(sdkappid uint64, key, userid string, expire time.Duration, now time.Time, userbuf []byte) string {
	d := doc{Ver: "2.0", Identifier: userid, SdkAppID: sdkappid, Time: now.Unix(), Expire: int64(expire / time.Second)}
	if userbuf != nil {
		ub := base64.StdEncoding.EncodeToString(userbuf)
		d.Userbuf = &ub
	}
	d.Sig = base64.StdEncoding.EncodeToString(sign(key, hmacContent(d.Identifier, d.SdkAppID, d.Time, d.Expire, d.Userbuf)))
	js, _ := json.Marshal(d)
	var buf bytes.Buffer
	w, _ := writers.Get().(*zlib.Writer)
	if w == nil {
		w, _ = zlib.NewWriterLevel(&buf, zlib.BestSpeed)
	} else {
		w.Reset(&buf)
	}
	w.Write(js)
	w.Close()
	writers.Put(w)
	return encoding.EncodeToString(buf.Bytes())
}

// Compressors and decompressors are large (hundreds of KiB for a writer);
// pooling them keeps joins from feeding the garbage collector.
var writers, readers sync.Pool

// Claims is what a verified UserSig says.
type Claims struct {
	Time    time.Time
	Expire  time.Duration
	Userbuf []byte // nil when the sig carries none
}

// Decode undoes the transport encoding and parses the JSON, without checking
// anything; Verify builds on it.
func decode(sig string) (doc, error) {
	var d doc
	if len(sig) > MaxLen {
		return d, fail(ReasonTooLarge)
	}
	compressed, err := encoding.DecodeString(sig)
	if err != nil {
		return d, fail(ReasonBase64)
	}
	var zr io.ReadCloser
	if pooled, ok := readers.Get().(io.ReadCloser); ok && pooled.(zlib.Resetter).Reset(bytes.NewReader(compressed), nil) == nil {
		zr = pooled
	} else if zr, err = zlib.NewReader(bytes.NewReader(compressed)); err != nil {
		return d, fail(ReasonInflate)
	}
	js, err := io.ReadAll(io.LimitReader(zr, 16*MaxLen))
	readers.Put(zr)
	if err != nil {
		return d, fail(ReasonInflate)
	}
	if err := json.Unmarshal(js, &d); err != nil {
		return d, fail(ReasonJSON)
	}
	return d, nil
}

// Verifier checks UserSigs and PrivateMapKeys against this server's clock.
type Verifier struct {
	// MaxSkew is how far in the future TLS.time may be; negative counts as 0.
	MaxSkew time.Duration
}

// Verify checks a UserSig with DefaultMaxSkew.
func Verify(sig string, sdkappid uint64, key, userid string, now time.Time) (*Claims, error) {
	return Verifier{MaxSkew: DefaultMaxSkew}.Verify(sig, sdkappid, key, userid, now)
}

// Verify checks a UserSig in the official order: version, sdkappid,
// identifier, expiry (expired iff now > time+expire), userbuf, HMAC. Before
// the expiry it refuses what the official verifier lets through: a TLS.time
// more than MaxSkew ahead of now, and a TLS.expire outside 0..MaxExpire.
func (v Verifier) Verify(sig string, sdkappid uint64, key, userid string, now time.Time) (*Claims, error) {
	d, err := decode(sig)
	if err != nil {
		return nil, err
	}
	if d.Ver != "2.0" {
		return nil, fail(ReasonVersion)
	}
	if d.SdkAppID != sdkappid {
		return nil, fail(ReasonAppID)
	}
	if d.Identifier != userid {
		return nil, fail(ReasonIdentifier)
	}
	skew := int64(max(v.MaxSkew, 0) / time.Second)
	if d.Time > now.Unix()+skew {
		return nil, fail(ReasonFuture)
	}
	if d.Expire < 0 || d.Expire > MaxExpire {
		return nil, fail(ReasonExpireRange)
	}
	if now.Unix() > d.Time+d.Expire {
		return nil, fail(ReasonExpired)
	}
	var userbuf []byte
	if d.Userbuf != nil {
		if userbuf, err = base64.StdEncoding.DecodeString(*d.Userbuf); err != nil {
			return nil, fail(ReasonUserbufType)
		}
	}
	want := sign(key, hmacContent(d.Identifier, d.SdkAppID, d.Time, d.Expire, d.Userbuf))
	got, err := base64.StdEncoding.DecodeString(d.Sig)
	if err != nil || !hmac.Equal(want, got) {
		return nil, fail(ReasonSig)
	}
	return &Claims{Time: time.Unix(d.Time, 0), Expire: time.Duration(d.Expire) * time.Second, Userbuf: userbuf}, nil
}

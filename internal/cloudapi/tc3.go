package cloudapi

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// TC3-HMAC-SHA256, the API 3.0 signature (fact sheet §2.1). The math lives
// here; header parsing is below; clock skew is checked by the server.

const tc3Algorithm = "TC3-HMAC-SHA256"

// unsignedPayload is the X-TC-Content-SHA256 value by which a client opts out
// of hashing the body.
const unsignedPayload = "UNSIGNED-PAYLOAD"

// tc3Auth is a parsed Authorization header.
type tc3Auth struct {
	SecretID      string
	Date          string // yyyy-mm-dd from the credential scope
	Service       string // from the credential scope: never assumed (Node signs "127" for an IP endpoint)
	SignedHeaders []string
	Signature     []byte
}

func (a tc3Auth) scope() string { return a.Date + "/" + a.Service + "/tc3_request" }

// parseTC3Authorization parses
// "TC3-HMAC-SHA256 Credential=ID/DATE/SERVICE/tc3_request, SignedHeaders=a;b, Signature=HEX".
// The returned string says what is wrong, for the error message.
func parseTC3Authorization(h string) (tc3Auth, string) {
	var a tc3Auth
	alg, rest, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || alg != tc3Algorithm {
		return a, "the algorithm must be " + tc3Algorithm
	}
	fields := map[string]string{}
	for _, part := range strings.Split(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return a, "expected Credential, SignedHeaders and Signature as key=value pairs"
		}
		if _, dup := fields[k]; dup {
			return a, Clip(k) + " is given twice"
		}
		fields[k] = v
	}
	cred := strings.Split(fields["Credential"], "/")
	if len(cred) != 4 || cred[0] == "" || cred[2] == "" || cred[3] != "tc3_request" || !isDate(cred[1]) {
		return a, "Credential must be SecretId/yyyy-mm-dd/service/tc3_request"
	}
	a.SecretID, a.Date, a.Service = cred[0], cred[1], cred[2]
	sh := fields["SignedHeaders"]
	if sh == "" {
		return a, "SignedHeaders is missing"
	}
	a.SignedHeaders = strings.Split(sh, ";")
	var hasHost, hasType bool
	for _, name := range a.SignedHeaders {
		if name == "" || name != strings.ToLower(name) {
			return a, "SignedHeaders must be lower-case names separated by ';'"
		}
		hasHost = hasHost || name == "host"
		hasType = hasType || name == "content-type"
	}
	if !hasHost || !hasType {
		return a, "SignedHeaders must include content-type and host"
	}
	sig, err := hex.DecodeString(fields["Signature"])
	if err != nil || len(sig) != sha256.Size {
		return a, "Signature must be 64 hex digits"
	}
	a.Signature = sig
	return a, ""
}

func isDate(s string) bool {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return false
	}
	for i, c := range s {
		if i != 4 && i != 7 && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// tc3Request is what the canonical request is built from.
type tc3Request struct {
	Method      string
	RawQuery    string            // exactly as received, GET only
	Headers     map[string]string // lower-case signed header name → value as received
	PayloadHash string            // lower-case hex
	Timestamp   string            // X-TC-Timestamp as received
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func hmacSHA256(key []byte, msg string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

func tc3CanonicalRequest(r tc3Request, signed []string) string {
	var b strings.Builder
	b.WriteString(r.Method)
	b.WriteString("\n/\n")
	b.WriteString(r.RawQuery)
	b.WriteByte('\n')
	for _, name := range signed {
		b.WriteString(name)
		b.WriteByte(':')
		b.WriteString(strings.TrimSpace(r.Headers[name]))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.WriteString(strings.Join(signed, ";"))
	b.WriteByte('\n')
	b.WriteString(r.PayloadHash)
	return b.String()
}

// tc3Sign computes the signature for a request under a credential scope.
func tc3Sign(secretKey string, a tc3Auth, r tc3Request) []byte {
	sts := tc3Algorithm + "\n" + r.Timestamp + "\n" + a.scope() + "\n" +
		sha256Hex([]byte(tc3CanonicalRequest(r, a.SignedHeaders)))
	k := hmacSHA256([]byte("TC3"+secretKey), a.Date)
	k = hmacSHA256(k, a.Service)
	k = hmacSHA256(k, "tc3_request")
	return hmacSHA256(k, sts)
}

// tc3Verify reports whether the signature matches for any of the host forms
// the SDKs sign: the Host header as received (Go: with port) and the host
// without its port (Node). Comparison is constant-time.
func tc3Verify(secretKey string, a tc3Auth, r tc3Request) bool {
	host := r.Headers["host"]
	for _, h := range hostForms(host) {
		r.Headers["host"] = h
		if hmac.Equal(tc3Sign(secretKey, a, r), a.Signature) {
			return true
		}
	}
	r.Headers["host"] = host
	return false
}

// hostForms returns the host as received and, when it carries a port, the
// host alone.
func hostForms(host string) []string {
	if i := strings.LastIndexByte(host, ':'); i > 0 && !strings.HasSuffix(host, "]") {
		return []string{host, host[:i]}
	}
	return []string{host}
}

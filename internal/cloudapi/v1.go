package cloudapi

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"hash"
	"net/url"
	"sort"
	"strings"
)

// Signature v1 (HmacSHA1 / HmacSHA256), fact sheet §2.2.

// v1StringToSign is Method + Host + "/?" + the sorted k=v pairs of every
// received parameter except Signature, values raw (not URL-encoded). Empty
// values are kept: Node signs them and Go never sends them.
func v1StringToSign(method, host string, params url.Values) string {
	keys := make([]string, 0, len(params))
	for k := range params {
		if k != "Signature" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(method)
	b.WriteString(host)
	b.WriteString("/?")
	for i, k := range keys {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(params.Get(k))
	}
	return b.String()
}

// v1Hash picks the HMAC: HmacSHA256 only when SignatureMethod says exactly
// that, HmacSHA1 for anything else (as the SDKs do).
func v1Hash(signatureMethod string) func() hash.Hash {
	if signatureMethod == "HmacSHA256" {
		return sha256.New
	}
	return sha1.New
}

func v1Sign(secretKey, signatureMethod, stringToSign string) string {
	m := hmac.New(v1Hash(signatureMethod), []byte(secretKey))
	m.Write([]byte(stringToSign))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// v1Verify checks the Signature against the host as received (both SDKs sign
// the port) and, to be lenient, the host without its port.
func v1Verify(secretKey, method, host string, params url.Values) bool {
	got, err := base64.StdEncoding.DecodeString(params.Get("Signature"))
	if err != nil {
		return false
	}
	method = strings.ToUpper(method)
	for _, h := range hostForms(host) {
		m := hmac.New(v1Hash(params.Get("SignatureMethod")), []byte(secretKey))
		m.Write([]byte(v1StringToSign(method, h, params)))
		if hmac.Equal(m.Sum(nil), got) {
			return true
		}
	}
	return false
}

package cloudapi

import (
	"encoding/hex"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// SignTC3 signs an outgoing request the way the Go SDK does (content-type
// and host signed; the body hashed). It is the client side of tc3Verify, for
// the CLI, the load tool and tests. The request must already carry its
// X-TC-* headers and Content-Type; body is what will be sent.
func SignTC3(r *http.Request, body []byte, secretID, secretKey, service string, now time.Time) {
	ts := strconv.FormatInt(now.Unix(), 10)
	r.Header.Set("X-TC-Timestamp", ts)
	a := tc3Auth{SecretID: secretID, Date: now.UTC().Format("2006-01-02"), Service: service,
		SignedHeaders: []string{"content-type", "host"}}
	host := r.Host
	if host == "" {
		host = r.URL.Host
	}
	q := ""
	if r.Method == http.MethodGet {
		q = r.URL.RawQuery
	}
	sig := tc3Sign(secretKey, a, tc3Request{Method: r.Method, RawQuery: q, Timestamp: ts, PayloadHash: sha256Hex(body),
		Headers: map[string]string{"content-type": r.Header.Get("Content-Type"), "host": host}})
	r.Header.Set("Authorization", tc3Algorithm+" Credential="+secretID+"/"+a.scope()+
		", SignedHeaders=content-type;host, Signature="+hex.EncodeToString(sig))
}

// SignV1 adds SecretId, Timestamp, Nonce and Signature to params, signing
// them for method and host with HmacSHA256 (or HmacSHA1 when method says so).
func SignV1(params url.Values, method, host, secretID, secretKey, signatureMethod string, now time.Time) {
	params.Set("SecretId", secretID)
	params.Set("Timestamp", strconv.FormatInt(now.Unix(), 10))
	if params.Get("Nonce") == "" {
		params.Set("Nonce", strconv.FormatInt(now.UnixNano()%1000000+1, 10))
	}
	if signatureMethod != "" {
		params.Set("SignatureMethod", signatureMethod)
	}
	params.Del("Signature")
	params.Set("Signature", v1Sign(secretKey, signatureMethod, v1StringToSign(method, host, params)))
}

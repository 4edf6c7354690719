package cloudapi

import (
	"encoding/hex"
	"net/url"
	"testing"
)

// Vectors from the fact sheet §10.1–§10.3.

func TestTC3DocVector(t *testing.T) {
	body := `{"Limit": 1, "Filters": [{"Values": ["\u672a\u547d\u540d"], "Name": "instance-name"}]}`
	req := tc3Request{
		Method:      "POST",
		Headers:     map[string]string{"content-type": "application/json; charset=utf-8", "host": "cvm.tencentcloudapi.com"},
		PayloadHash: sha256Hex([]byte(body)),
		Timestamp:   "1551113065",
	}
	if req.PayloadHash != "35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064" {
		t.Fatalf("payload hash %s", req.PayloadHash)
	}
	auth := tc3Auth{Date: "2019-02-25", Service: "cvm", SignedHeaders: []string{"content-type", "host"}}
	if got := sha256Hex([]byte(tc3CanonicalRequest(req, auth.SignedHeaders))); got != "5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031" {
		t.Fatalf("canonical request hash %s", got)
	}
	if got := hex.EncodeToString(tc3Sign("Gu5t9xGARNpq86cd98joQYCN3EXAMPLE", auth, req)); got != "72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168" {
		t.Fatalf("signature %s", got)
	}
}

func TestTC3RemoveUserVectors(t *testing.T) {
	const key = "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE"
	auth := tc3Auth{Date: "2023-11-14", Service: "trtc", SignedHeaders: []string{"content-type", "host"}}
	body := `{"SdkAppId":1400000000,"RoomId":1234,"UserIds":["alice","bob"]}`
	if h := sha256Hex([]byte(body)); h != "ee8c8e4287ef7b9ed7d34943b1850f85bd259d05367578b6f6fb49440ca36778" {
		t.Fatalf("payload hash %s", h)
	}
	cases := []struct {
		name, method, host, query, ctype, body, want string
	}{
		{"POST default host", "POST", "trtc.tencentcloudapi.com", "", "application/json", body, "a0e12bef82a294077041ad90175b9908db54f277f6fe2aa99d5e6268e3953e84"},
		{"POST ip host", "POST", "127.0.0.1:8080", "", "application/json", body, "317f222984b63392de99427edbeb6cd07122bb10985a2601455978c94a7fee0f"},
		{"GET ip host", "GET", "127.0.0.1:8080", "RoomId=1234&SdkAppId=1400000000&UserIds.0=alice&UserIds.1=bob", "application/x-www-form-urlencoded", "", "44d3fbfbe7e59581ff74e43d635f8747e3ad8c52dfce2c45a1e4b5bb9d6870e9"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req := tc3Request{Method: c.method, RawQuery: c.query, Timestamp: "1700000000",
				Headers:     map[string]string{"content-type": c.ctype, "host": c.host},
				PayloadHash: sha256Hex([]byte(c.body))}
			if got := hex.EncodeToString(tc3Sign(key, auth, req)); got != c.want {
				t.Fatalf("signature %s, want %s", got, c.want)
			}
			a := auth
			a.Signature, _ = hex.DecodeString(c.want)
			if !tc3Verify(key, a, req) {
				t.Fatal("tc3Verify rejected the vector")
			}
			a.Signature[0] ^= 1
			if tc3Verify(key, a, req) {
				t.Fatal("tc3Verify accepted a flipped signature")
			}
		})
	}
}

// The Node SDK signs the host without its port; the request still carries it.
func TestTC3HostWithoutPortAccepted(t *testing.T) {
	const key = "k"
	auth := tc3Auth{Date: "2023-11-14", Service: "127", SignedHeaders: []string{"content-type", "host"}}
	signedAs := tc3Request{Method: "POST", Timestamp: "1700000000", PayloadHash: sha256Hex(nil),
		Headers: map[string]string{"content-type": "application/json", "host": "127.0.0.1"}}
	auth.Signature = tc3Sign(key, auth, signedAs)
	received := signedAs
	received.Headers = map[string]string{"content-type": "application/json", "host": "127.0.0.1:9000"}
	if !tc3Verify(key, auth, received) {
		t.Fatal("signature over the port-less host was rejected")
	}
}

func TestV1Vectors(t *testing.T) {
	const key = "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE"
	sha1Params := url.Values{"Action": {"DescribeInstances"}, "InstanceIds.0": {"ins-09dx96dg"}, "Limit": {"20"},
		"Nonce": {"11886"}, "Offset": {"0"}, "Region": {"ap-guangzhou"}, "SecretId": {"AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE"},
		"Timestamp": {"1465185768"}, "Version": {"2017-03-12"}}
	wantSTS := "GETcvm.tencentcloudapi.com/?Action=DescribeInstances&InstanceIds.0=ins-09dx96dg&Limit=20&Nonce=11886&Offset=0&Region=ap-guangzhou&SecretId=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE&Timestamp=1465185768&Version=2017-03-12"
	if sts := v1StringToSign("GET", "cvm.tencentcloudapi.com", sha1Params); sts != wantSTS {
		t.Fatalf("string to sign\n%s\nwant\n%s", sts, wantSTS)
	}
	if sig := v1Sign(key, "", wantSTS); sig != "EliP9YW3pW28FpsEdkXt/+WcGeI=" {
		t.Fatalf("HmacSHA1 %s", sig)
	}
	sha256Params := url.Values{"Action": {"RemoveUser"}, "Nonce": {"11886"}, "Region": {"ap-guangzhou"}, "RoomId": {"1234"},
		"SdkAppId": {"1400000000"}, "SecretId": {"AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE"}, "SignatureMethod": {"HmacSHA256"},
		"Timestamp": {"1700000000"}, "UserIds.0": {"alice"}, "UserIds.1": {"bob"}, "Version": {"2019-07-22"}}
	sts := v1StringToSign("POST", "127.0.0.1:8080", sha256Params)
	if sig := v1Sign(key, "HmacSHA256", sts); sig != "kYM05Do/jI7kKzPySX6fAmgr+oybPwek3zCAU/VzT1M=" {
		t.Fatalf("HmacSHA256 %s", sig)
	}
	sha256Params.Set("Signature", "kYM05Do/jI7kKzPySX6fAmgr+oybPwek3zCAU/VzT1M=")
	if !v1Verify(key, "POST", "127.0.0.1:8080", sha256Params) {
		t.Fatal("v1Verify rejected the HmacSHA256 vector")
	}
	if v1Verify(key, "GET", "127.0.0.1:8080", sha256Params) {
		t.Fatal("v1Verify accepted the vector under another method")
	}
}

func TestParseTC3Authorization(t *testing.T) {
	good := "TC3-HMAC-SHA256 Credential=AKID/2023-11-14/trtc/tc3_request, SignedHeaders=content-type;host, Signature=" + hex.EncodeToString(make([]byte, 32))
	a, why := parseTC3Authorization(good)
	if why != "" || a.SecretID != "AKID" || a.Service != "trtc" || a.Date != "2023-11-14" || len(a.SignedHeaders) != 2 {
		t.Fatalf("good header parsed as %+v, %q", a, why)
	}
	bad := []string{
		"", "HMAC-SHA256 Credential=a/2023-11-14/trtc/tc3_request, SignedHeaders=content-type;host, Signature=00",
		"TC3-HMAC-SHA256 Credential=AKID/2023-11-14/trtc, SignedHeaders=content-type;host, Signature=" + hex.EncodeToString(make([]byte, 32)),
		"TC3-HMAC-SHA256 Credential=AKID/20231114/trtc/tc3_request, SignedHeaders=content-type;host, Signature=" + hex.EncodeToString(make([]byte, 32)),
		"TC3-HMAC-SHA256 Credential=AKID/2023-11-14/trtc/tc3_request, SignedHeaders=host, Signature=" + hex.EncodeToString(make([]byte, 32)),
		"TC3-HMAC-SHA256 Credential=AKID/2023-11-14/trtc/tc3_request, SignedHeaders=content-type;host, Signature=zz",
		"TC3-HMAC-SHA256 Credential=AKID/2023-11-14/trtc/tc3_request, SignedHeaders=Content-Type;Host, Signature=" + hex.EncodeToString(make([]byte, 32)),
		"TC3-HMAC-SHA256 Credential=AKID/2023-11-14/trtc/tc3_request SignedHeaders=content-type;host",
	}
	for i, h := range bad {
		if _, why := parseTC3Authorization(h); why == "" {
			t.Errorf("case %d: %q accepted", i, h)
		}
	}
}

package cloudapi

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

const goodBody = `{"SdkAppId":1400000001,"RoomId":1234,"UserIds":["alice","bob"]}`

var goodForm = url.Values{"SdkAppId": {"1400000001"}, "RoomId": {"1234"}, "UserIds.0": {"alice"}, "UserIds.1": {"bob"}}

// TestMalformedRequests: every bad request answers 200, the envelope with a
// RequestId, and exactly its code; the action never runs.
func TestMalformedRequests(t *testing.T) {
	env := newTestEnv(t)
	now := time.Now().Unix()
	raw := func(method, ctype, body string) *http.Request {
		r, _ := http.NewRequest(method, env.srv.URL+"/", strings.NewReader(body))
		if ctype != "" {
			r.Header.Set("Content-Type", ctype)
		}
		return r
	}
	withHeader := func(r *http.Request, k, v string) *http.Request {
		if v == "" {
			r.Header.Del(k)
		} else {
			r.Header.Set(k, v)
		}
		return r
	}
	set := func(k, v string) func(url.Values) {
		return func(p url.Values) {
			if v == "" {
				p.Del(k)
			} else {
				p.Set(k, v)
			}
		}
	}
	bigQuery := "RoomId=1&Pad=" + strings.Repeat("a", MaxGETQuery)
	cases := []struct {
		name string
		req  *http.Request
		want string
	}{
		// 1. transport
		{"PUT", raw("PUT", "application/json", goodBody), CodeUnsupportedProtocol},
		{"DELETE", raw("DELETE", "", ""), CodeUnsupportedProtocol},
		{"PATCH signed", withMethod(env.tc3(tc3Spec{body: goodBody}), "PATCH"), CodeUnsupportedProtocol},
		{"POST text/plain", raw("POST", "text/plain", goodBody), CodeInvalidParameter},
		{"POST without content type", raw("POST", "", goodBody), CodeInvalidParameter},
		{"POST multipart", env.tc3(tc3Spec{ctype: "multipart/form-data; boundary=x", body: "--x--"}), CodeInvalidParameter},
		{"POST form with TC3 Authorization", env.tc3(tc3Spec{ctype: "application/x-www-form-urlencoded", body: goodForm.Encode()}), CodeInvalidParameter},
		{"TC3 GET without content type", withHeader(env.tc3(tc3Spec{method: "GET", query: goodForm.Encode()}), "Content-Type", ""), CodeInvalidParameter},
		{"TC3 body over 10 MB", env.tc3(tc3Spec{body: `{"Pad":"` + strings.Repeat("a", MaxTC3Body) + `"}`}), CodeRequestSizeLimitExceeded},
		{"v1 body over 1 MB", env.v1("POST", "", url.Values{"Pad": {strings.Repeat("a", MaxV1Body)}}, nil), CodeRequestSizeLimitExceeded},
		{"GET query over 32 KB", env.tc3(tc3Spec{method: "GET", query: bigQuery}), CodeRequestSizeLimitExceeded},
		// 2. common parameters
		{"TC3 missing X-TC-Action", withHeader(env.tc3(tc3Spec{body: goodBody}), "X-TC-Action", ""), CodeMissingParameter},
		{"TC3 missing X-TC-Version", withHeader(env.tc3(tc3Spec{body: goodBody}), "X-TC-Version", ""), CodeMissingParameter},
		{"TC3 missing X-TC-Timestamp", withHeader(env.tc3(tc3Spec{body: goodBody}), "X-TC-Timestamp", ""), CodeMissingParameter},
		{"TC3 missing Authorization", withHeader(env.tc3(tc3Spec{body: goodBody}), "Authorization", ""), CodeMissingParameter},
		{"v1 missing Action", env.v1("GET", "", goodForm, set("Action", "")), CodeMissingParameter},
		{"v1 missing Version", env.v1("POST", "", goodForm, set("Version", "")), CodeMissingParameter},
		{"v1 missing Timestamp", env.v1("GET", "", goodForm, set("Timestamp", "")), CodeMissingParameter},
		{"v1 missing Nonce", env.v1("GET", "HmacSHA256", goodForm, set("Nonce", "")), CodeMissingParameter},
		{"v1 missing SecretId", env.v1("POST", "", goodForm, set("SecretId", "")), CodeMissingParameter},
		{"v1 missing Signature", env.v1("POST", "HmacSHA256", goodForm, set("Signature", "-")), CodeMissingParameter},
		{"TC3 unknown action", env.tc3(tc3Spec{action: "RemoveEveryone", body: goodBody}), CodeInvalidAction},
		{"v1 unknown action", env.v1("GET", "", goodForm, set("Action", "KickAll")), CodeInvalidAction},
		{"TC3 wrong version", env.tc3(tc3Spec{version: "2018-01-01", body: goodBody}), CodeNoSuchVersion},
		{"v1 wrong version", env.v1("POST", "", goodForm, set("Version", "2020-01-01")), CodeNoSuchVersion},
		{"TC3 missing region", env.tc3(tc3Spec{region: "-", body: goodBody}), CodeMissingParameter},
		{"v1 missing region", env.v1("GET", "", goodForm, set("Region", "")), CodeMissingParameter},
		{"TC3 unsupported region", env.tc3(tc3Spec{region: "ap-shanghai", body: goodBody}), CodeUnsupportedRegion},
		{"v1 unsupported region", env.v1("GET", "HmacSHA256", goodForm, set("Region", "na-ashburn")), CodeUnsupportedRegion},
		{"TC3 timestamp not a number", withHeader(env.tc3(tc3Spec{body: goodBody}), "X-TC-Timestamp", "yesterday"), CodeInvalidParameter},
		{"TC3 bad language", env.tc3(tc3Spec{body: goodBody, extra: map[string]string{"X-TC-Language": "fr-FR"}}), CodeInvalidParameterValue},
		{"v1 duplicate parameter", withQuery(env.v1("GET", "", goodForm, nil), "&RoomId=5"), CodeInvalidParameter},
		// 3. authentication
		{"TC3 wrong algorithm", withHeader(env.tc3(tc3Spec{body: goodBody}), "Authorization", "HMAC-SHA1 Credential=x"), CodeInvalidAuthorization},
		{"TC3 no SignedHeaders", withHeader(env.tc3(tc3Spec{body: goodBody}), "Authorization", "TC3-HMAC-SHA256 Credential="+testSecretID+"/2023-11-14/trtc/tc3_request, Signature=00"), CodeInvalidAuthorization},
		{"TC3 timestamp 310 s old", env.tc3(tc3Spec{body: goodBody, ts: now - 310}), CodeSignatureExpire},
		{"TC3 timestamp 310 s ahead", env.tc3(tc3Spec{body: goodBody, ts: now + 310}), CodeSignatureExpire},
		{"v1 timestamp old", env.v1("GET", "", goodForm, set("Timestamp", "1465185768")), CodeSignatureExpire},
		{"TC3 unknown SecretId", env.tc3(tc3Spec{body: goodBody, id: "AKIDnobody", key: "x"}), CodeSecretIDNotFound},
		{"v1 unknown SecretId", env.v1("POST", "", goodForm, set("SecretId", "AKIDnobody")), CodeSecretIDNotFound},
		{"TC3 wrong key", env.tc3(tc3Spec{body: goodBody, id: testSecretID, key: "wrong"}), CodeSignatureFailure},
		{"TC3 body changed after signing", withBody(env.tc3(tc3Spec{body: goodBody}), strings.Replace(goodBody, "1234", "1235", 1)), CodeSignatureFailure},
		{"TC3 GET query changed after signing", withQuery(env.tc3(tc3Spec{method: "GET", query: goodForm.Encode()}), "&x=1"), CodeSignatureFailure},
		{"TC3 signed body hash but sent UNSIGNED-PAYLOAD", withHeader(env.tc3(tc3Spec{body: goodBody}), "X-TC-Content-SHA256", unsignedPayload), CodeSignatureFailure},
		{"TC3 other account's key", env.tc3(tc3Spec{body: goodBody, id: testSecretID, key: "otherKey"}), CodeSignatureFailure},
		{"v1 HmacSHA1 wrong signature", env.v1("GET", "", goodForm, set("Signature", "EliP9YW3pW28FpsEdkXt/+WcGeI=")), CodeSignatureFailure},
		{"v1 signature not base64", env.v1("POST", "", goodForm, set("Signature", "!!!")), CodeSignatureFailure},
		{"v1 SignatureMethod changed after signing", resignMethod(env), CodeSignatureFailure},
		{"TC3 with a Token", env.tc3(tc3Spec{body: goodBody, extra: map[string]string{"X-TC-Token": "sts"}}), CodeTokenFailure},
		// 5. parameters (after authentication)
		{"TC3 body not JSON", env.tc3(tc3Spec{body: `{"SdkAppId":`}), CodeInvalidParameter},
		{"TC3 body a JSON array", env.tc3(tc3Spec{body: `[1,2]`}), CodeInvalidParameter},
		{"TC3 body with trailing data", env.tc3(tc3Spec{body: goodBody + `{}`}), CodeInvalidParameter},
		{"TC3 unknown parameter", env.tc3(tc3Spec{body: `{"SdkAppId":1,"Force":true}`}), CodeUnknownParameter},
		{"TC3 GET unknown parameter", env.tc3(tc3Spec{method: "GET", query: "SdkAppId=1&Force=true"}), CodeUnknownParameter},
		{"v1 unknown parameter", env.v1("POST", "HmacSHA256", url.Values{"Force": {"1"}}, nil), CodeUnknownParameter},
	}
	if len(cases) < 40 {
		t.Fatalf("only %d cases", len(cases))
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := env.calls.Load()
			got := do(t, c.req)
			if code(got) != c.want {
				t.Fatalf("case %d: code %q, want %q (%+v)", i, code(got), c.want, got.Response.Error)
			}
			if got.Response.Error.Message == "" {
				t.Fatalf("case %d: empty message", i)
			}
			if env.calls.Load() != before {
				t.Fatalf("case %d: the action ran", i)
			}
		})
	}
}

func withMethod(r *http.Request, m string) *http.Request { r.Method = m; return r }

func withQuery(r *http.Request, extra string) *http.Request {
	r.URL.RawQuery += extra
	return r
}

func withBody(r *http.Request, body string) *http.Request {
	nr, _ := http.NewRequest(r.Method, r.URL.String(), strings.NewReader(body))
	nr.Header = r.Header
	return nr
}

// resignMethod signs with HmacSHA1 but then claims HmacSHA256.
func resignMethod(env *testEnv) *http.Request {
	var sig string
	env.v1("GET", "", goodForm, func(p url.Values) {
		sig = v1Sign(testSecretKey, "", v1StringToSign("GET", env.host(), p))
	})
	return env.v1("GET", "", goodForm, func(p url.Values) {
		p.Set("SignatureMethod", "HmacSHA256")
		p.Set("Signature", sig)
	})
}

package cloudapi

import (
	"sync"
	"testing"
	"time"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	sdkerrors "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/profile"
	trtc "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/trtc/v20190722"
)

// sdkModes are the five ways the official Go SDK can sign a request.
var sdkModes = []struct {
	name, method, sign string
	unsigned           bool
}{
	{"TC3 POST", "POST", "TC3-HMAC-SHA256", false},
	{"TC3 GET", "GET", "TC3-HMAC-SHA256", false},
	{"TC3 unsigned payload", "POST", "TC3-HMAC-SHA256", true},
	{"HmacSHA1", "POST", "HmacSHA1", false},
	{"HmacSHA256", "GET", "HmacSHA256", false},
}

func sdkClient(t testing.TB, host, id, key, region, method, sign string, unsigned bool) *trtc.Client {
	cpf := profile.NewClientProfile()
	cpf.HttpProfile.Endpoint = host
	cpf.HttpProfile.Scheme = "HTTP"
	cpf.HttpProfile.ReqMethod = method
	cpf.SignMethod = sign
	cpf.UnsignedPayload = unsigned
	c, err := trtc.NewClient(common.NewCredential(id, key), region, cpf)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func removeReq(users ...string) *trtc.RemoveUserRequest {
	r := trtc.NewRemoveUserRequest()
	r.SdkAppId = common.Uint64Ptr(1400000001)
	r.RoomId = common.Uint64Ptr(1234)
	r.UserIds = common.StringPtrs(users)
	return r
}

func sdkCode(err error) string {
	if err == nil {
		return ""
	}
	if e, ok := err.(*sdkerrors.TencentCloudSDKError); ok {
		return e.Code
	}
	return "not an SDK error: " + err.Error()
}

func TestSDKAllSignatureModes(t *testing.T) {
	env := newTestEnv(t)
	for _, m := range sdkModes {
		t.Run(m.name, func(t *testing.T) {
			c := sdkClient(t, env.host(), testSecretID, testSecretKey, "ap-guangzhou", m.method, m.sign, m.unsigned)
			before := env.calls.Load()
			resp, err := c.RemoveUser(removeReq("alice", "bob b"))
			if err != nil {
				t.Fatalf("RemoveUser: %v", err)
			}
			if resp.Response == nil || resp.Response.RequestId == nil || !uuidRE.MatchString(*resp.Response.RequestId) {
				t.Fatalf("no RequestId in %+v", resp.Response)
			}
			if env.calls.Load() != before+1 {
				t.Fatal("the action did not run exactly once")
			}
		})
	}
}

func TestSDKErrorPaths(t *testing.T) {
	env := newTestEnv(t)
	for _, m := range sdkModes {
		t.Run(m.name, func(t *testing.T) {
			cases := []struct {
				name, id, key, region, want string
			}{
				{"wrong key", testSecretID, "wrong", "ap-guangzhou", CodeSignatureFailure},
				{"unknown SecretId", "AKIDnobody", "x", "ap-guangzhou", CodeSecretIDNotFound},
				{"unsupported region", testSecretID, testSecretKey, "ap-mumbai", CodeUnsupportedRegion},
				{"no region", testSecretID, testSecretKey, "", CodeMissingParameter},
			}
			for _, c := range cases {
				cl := sdkClient(t, env.host(), c.id, c.key, c.region, m.method, m.sign, m.unsigned)
				_, err := cl.RemoveUser(removeReq("alice"))
				if got := sdkCode(err); got != c.want {
					t.Errorf("%s: code %q, want %q", c.name, got, c.want)
				}
			}
		})
	}
}

func TestSDKRateLimit(t *testing.T) {
	env := newTestEnv(t)
	clock := time.Now()
	var mu sync.Mutex
	env.api.Limiter = NewMemoryLimiter(func() time.Time { mu.Lock(); defer mu.Unlock(); return clock })
	c := sdkClient(t, env.host(), testSecretID, testSecretKey, "ap-guangzhou", "POST", "TC3-HMAC-SHA256", false)
	var codes []string
	var msgs []string
	for i := 0; i < 22; i++ {
		_, err := c.RemoveUser(removeReq("alice"))
		codes = append(codes, sdkCode(err))
		if e, ok := err.(*sdkerrors.TencentCloudSDKError); ok {
			msgs = append(msgs, e.Message)
		}
	}
	for i, cd := range codes {
		want := ""
		if i >= 20 {
			want = CodeRequestLimitExceeded
		}
		if cd != want {
			t.Fatalf("call %d: code %q, want %q", i+1, cd, want)
		}
	}
	wantMsg := "Your current request times equals to `21` in a second, which exceeds the frequency limit `20` for a second. Please reduce the frequency of calls."
	if len(msgs) != 2 || msgs[0] != wantMsg {
		t.Fatalf("messages %q", msgs)
	}
	other := sdkClient(t, env.host(), "AKIDother", "otherKey", "ap-guangzhou", "GET", "HmacSHA256", false)
	if _, err := other.RemoveUser(removeReq("alice")); err != nil {
		t.Fatalf("another account was limited: %v", err)
	}
	mu.Lock()
	clock = clock.Add(time.Second)
	mu.Unlock()
	if _, err := c.RemoveUser(removeReq("alice")); err != nil {
		t.Fatalf("a second later: %v", err)
	}
}

func TestPanicInActionAnswersInternalError(t *testing.T) {
	env := newTestEnv(t)
	got := do(t, env.tc3(tc3Spec{action: "Panic", version: "2020-01-01", region: "-", service: "internal", body: `{}`}))
	if code(got) != CodeInternalError {
		t.Fatalf("code %q", code(got))
	}
	// and the server keeps serving
	got = do(t, env.tc3(tc3Spec{action: "Ping", version: "2020-01-01", region: "-", service: "internal", body: `{"Echo":"hi"}`}))
	if code(got) != "" || got.Response.Echo != "hi" || got.Response.Account != "acme" {
		t.Fatalf("after a panic: %+v", got.Response)
	}
}

// A product-neutral action registered in tests proves the door is generic:
// no region, any service name in the scope, output fields merged with RequestId.
func TestGenericActionAnyService(t *testing.T) {
	env := newTestEnv(t)
	for _, svc := range []string{"internal", "127"} {
		got := do(t, env.tc3(tc3Spec{action: "Ping", version: "2020-01-01", region: "-", service: svc, body: `{"Echo":"x y"}`}))
		if code(got) != "" || got.Response.Echo != "x y" {
			t.Fatalf("service %s: %+v", svc, got.Response)
		}
	}
}

// TestClockSkewBoundary: ±300 s is accepted, 301 s is not (fixed clock).
func TestClockSkewBoundary(t *testing.T) {
	env := newTestEnv(t)
	fixed := time.Now().Truncate(time.Second)
	env.api.Now = func() time.Time { return fixed }
	for _, c := range []struct {
		offset int64
		want   string
	}{{-300, ""}, {300, ""}, {-301, CodeSignatureExpire}, {301, CodeSignatureExpire}} {
		got := do(t, env.tc3(tc3Spec{body: goodBody, ts: fixed.Unix() + c.offset}))
		if code(got) != c.want {
			t.Errorf("offset %d: code %q, want %q", c.offset, code(got), c.want)
		}
	}
}

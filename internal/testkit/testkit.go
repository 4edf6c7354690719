// Package testkit starts real trtcd nodes on loopback and drives them with
// the official Tencent Cloud SDK and the Go client, for end-to-end tests.
package testkit

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	sdkerrors "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/profile"
	trtc "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/trtc/v20190722"

	"github.com/trtcd/trtcd/client"
	"github.com/trtcd/trtcd/internal/cloudapi"
	"github.com/trtcd/trtcd/internal/config"
	"github.com/trtcd/trtcd/internal/node"
	"github.com/trtcd/trtcd/internal/signal"
	trtcapi "github.com/trtcd/trtcd/internal/trtc"
	"github.com/trtcd/trtcd/usersig"
)

// Two accounts: acme owns apps 1400000001 and 1400000002, other owns 1400000003.
const (
	AcmeID    = "AKIDacme0000000000000000000000000001"
	AcmeKey   = "acme-secret-key-000000000000000001"
	OtherID   = "AKIDother000000000000000000000000002"
	OtherKey  = "other-secret-key-00000000000000002"
	App       = 1400000001
	App2      = 1400000002
	OtherApp  = 1400000003
	AppKey    = "app-key-1400000001"
	OtherAppK = "app-key-1400000003"
)

// Config is a test configuration on a free loopback port.
func Config() config.Config {
	return config.Config{
		Listen: "127.0.0.1:0",
		Accounts: []config.Account{
			{Name: "acme", SecretID: AcmeID, SecretKey: AcmeKey, Apps: []config.App{{SdkAppID: App, Key: AppKey}, {SdkAppID: App2, Key: "app-key-2"}}},
			{Name: "other", SecretID: OtherID, SecretKey: OtherKey, Apps: []config.App{{SdkAppID: OtherApp, Key: OtherAppK}}},
		},
		Regions:     slices.Clone(trtcapi.DefaultRegions),
		IdleTimeout: config.Duration{Duration: signal.DefaultIdleTimeout},
		LogLevel:    "info",
		NodeID:      "test-node",
		GCPercent:   config.DefaultGCPercent,
		History:     "off", // a test that wants history sets "" and a DataDir
	}
}

// Start runs a node until the test ends.
func Start(t testing.TB, cfg config.Config) *node.Node {
	t.Helper()
	if cfg.DataDir == "" {
		cfg.DataDir = t.TempDir() // the node's embedded stores, if it keeps any
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	n, err := node.New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		n.Shutdown(ctx)
	})
	return n
}

// Mode is one way the official Go SDK signs requests.
type Mode struct {
	Name, Method, Sign string
	Unsigned           bool
}

// Modes are all five signature modes of the Go SDK.
var Modes = []Mode{
	{"TC3 POST", "POST", "TC3-HMAC-SHA256", false},
	{"TC3 GET", "GET", "TC3-HMAC-SHA256", false},
	{"TC3 unsigned payload", "POST", "TC3-HMAC-SHA256", true},
	{"HmacSHA1", "POST", "HmacSHA1", false},
	{"HmacSHA256", "GET", "HmacSHA256", false},
}

// SDK is the official trtc client pointed at addr.
func SDK(t testing.TB, addr, id, key string, m Mode) *trtc.Client {
	cpf := profile.NewClientProfile()
	cpf.HttpProfile.Endpoint = addr
	cpf.HttpProfile.Scheme = "HTTP"
	cpf.HttpProfile.ReqMethod = m.Method
	cpf.SignMethod = m.Sign
	cpf.UnsignedPayload = m.Unsigned
	c, err := trtc.NewClient(common.NewCredential(id, key), trtcapi.DefaultClientRegion, cpf)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Code is an SDK error's code, "" for nil.
func Code(err error) string {
	if err == nil {
		return ""
	}
	if e, ok := err.(*sdkerrors.TencentCloudSDKError); ok {
		return e.Code
	}
	return "not an SDK error: " + err.Error()
}

// Join joins user to a numeric room (or a string room when str != "").
func Join(t testing.TB, addr string, app uint64, key, user string, room uint64, str string) *client.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	p := client.JoinParams{SdkAppID: app, UserID: user, UserSig: usersig.Generate(app, key, user, time.Hour, time.Now(), nil), RoomID: room, StrRoomID: str}
	if str != "" {
		p.RoomID = 0
	}
	c, err := client.Join(ctx, "http://"+addr, p, client.Options{})
	if err != nil {
		t.Fatalf("join %s: %v", user, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// Users is a []*string for SDK requests.
func Users(ids ...string) []*string { return common.StringPtrs(ids) }

// U64 is a *uint64 for SDK requests.
func U64(n uint64) *uint64 { return &n }

// S is a *string.
func S(s string) *string { return &s }

// Name makes distinct user names.
func Name(prefix string, i int) string { return fmt.Sprintf("%s%d", prefix, i) }

// FreeAddr is a loopback address with a port that was free a moment ago,
// for a server started later (often another process). The port is taken
// below the kernel's ephemeral range (freePortLow…freePortHigh), so that
// the suite's own outgoing connections, whose source ports come from that
// range, cannot take it in between: an ephemeral port handed to a child
// process once lost that race under load ("address already in use").
func FreeAddr(t testing.TB) string {
	t.Helper()
	for range 200 {
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", freePortLow+rand.IntN(freePortHigh-freePortLow)))
		if err != nil {
			continue // taken: try another
		}
		addr := l.Addr().String()
		l.Close()
		return addr
	}
	t.Fatalf("no free port in %d…%d after 200 tries", freePortLow, freePortHigh)
	return ""
}

// The ports FreeAddr picks from: below Linux's default ephemeral range
// (32768–60999), above the usual fixed service ports.
const freePortLow, freePortHigh = 20000, 32000

// Call sends a TC3-signed JSON request for action (service trtc) as the acme
// account and returns the answer's Error.Code ("" on success) and message.
// For actions the SDK lacks (SetUserBlocked).
func Call(t testing.TB, addr, action, body string) (code, msg string) {
	t.Helper()
	r, _ := http.NewRequest("POST", "http://"+addr+"/", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("X-TC-Action", action)
	r.Header.Set("X-TC-Version", trtcapi.Version)
	r.Header.Set("X-TC-Region", trtcapi.DefaultClientRegion)
	cloudapi.SignTC3(r, []byte(body), AcmeID, AcmeKey, trtcapi.Service, time.Now())
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out struct {
		Response struct {
			Error     *struct{ Code, Message string }
			RequestId string
		}
	}
	if resp.StatusCode != 200 || json.Unmarshal(b, &out) != nil || out.Response.RequestId == "" {
		t.Fatalf("%s: status %d body %s", action, resp.StatusCode, b)
	}
	if out.Response.Error == nil {
		return "", ""
	}
	return out.Response.Error.Code, out.Response.Error.Message
}

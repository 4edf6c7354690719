package node_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"go.uber.org/goleak"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/profile"
	trtcsdk "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/trtc/v20190722"

	"github.com/trtcd/trtcd/client"
	"github.com/trtcd/trtcd/internal/cloudapi"
	"github.com/trtcd/trtcd/internal/node"
	tk "github.com/trtcd/trtcd/internal/testkit"
	"github.com/trtcd/trtcd/internal/testkit/await"
	"github.com/trtcd/trtcd/usersig"
)

// No server goroutine may outlive a node. The test's own HTTP clients keep
// idle keep-alive connections (persistConn loops) that are theirs, not the
// server's.
func TestMain(m *testing.M) {
	if groupChild() {
		return
	}
	goleak.VerifyTestMain(m,
		goleak.IgnoreTopFunction("net/http.(*persistConn).readLoop"),
		goleak.IgnoreTopFunction("net/http.(*persistConn).writeLoop"))
}

func removeReq(room uint64, users ...string) *trtcsdk.RemoveUserRequest {
	r := trtcsdk.NewRemoveUserRequest()
	r.SdkAppId, r.RoomId, r.UserIds = tk.U64(tk.App), tk.U64(room), tk.Users(users...)
	return r
}

func TestHealthz(t *testing.T) {
	n := tk.Start(t, tk.Config())
	resp, err := http.Get("http://" + n.Addr() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"ok"`) {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
}

// selfSigned writes a throwaway certificate for 127.0.0.1.
func selfSigned(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "trtcd test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	kb, _ := x509.MarshalECPrivateKey(key)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// TestHTTPS: with tls_cert/tls_key the same listener speaks TLS to the
// official SDK (its default scheme) and to WebSocket clients.
func TestHTTPS(t *testing.T) {
	certFile, keyFile, pool := selfSigned(t)
	cfg := tk.Config()
	cfg.TLSCert, cfg.TLSKey = certFile, keyFile
	n := tk.Start(t, cfg)
	tlsCfg := &tls.Config{RootCAs: pool}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	sig := usersig.Generate(tk.App, tk.AppKey, "bob", time.Hour, time.Now(), nil)
	bob, err := client.Join(ctx, "https://"+n.Addr(), client.JoinParams{SdkAppID: tk.App, UserID: "bob", UserSig: sig, RoomID: 9},
		client.Options{Dialer: &websocket.Dialer{TLSClientConfig: tlsCfg}})
	if err != nil {
		t.Fatal(err)
	}
	defer bob.Close()

	cpf := profile.NewClientProfile() // Scheme: HTTPS, the SDK's default
	cpf.HttpProfile.Endpoint = n.Addr()
	sdk, _ := trtcsdk.NewClient(common.NewCredential(tk.AcmeID, tk.AcmeKey), "ap-guangzhou", cpf)
	transport := &http.Transport{TLSClientConfig: tlsCfg}
	defer transport.CloseIdleConnections()
	sdk.WithHttpTransport(transport)
	if _, err := sdk.RemoveUser(removeReq(9, "bob")); err != nil {
		t.Fatalf("RemoveUser over HTTPS: %v", err)
	}
	await.Expect(t, await.Next(t, bob), "kicked", "", "removed")

	// Plain HTTP on the TLS listener is not served.
	if resp, err := http.Get("http://" + n.Addr() + "/healthz"); err == nil && resp.StatusCode == 200 {
		t.Fatal("plain HTTP answered on the TLS listener")
	}
}

// TestGracefulShutdownFinishesInFlightCalls: a call in progress when the
// node is told to stop gets its answer; then the listener is closed.
func TestGracefulShutdownFinishesInFlightCalls(t *testing.T) {
	cfg := tk.Config()
	n, err := node.New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{})
	n.API.Catalog.Register(cloudapi.Action{Service: "test", Version: "2020-01-01", Name: "Slow",
		Handle: func(ctx context.Context, c *cloudapi.Call) (any, error) {
			close(started)
			time.Sleep(300 * time.Millisecond)
			return map[string]bool{"Done": true}, nil
		}})
	if err := n.Start(); err != nil {
		t.Fatal(err)
	}
	bob := tk.Join(t, n.Addr(), tk.App, tk.AppKey, "bob", 5, "")

	var wg sync.WaitGroup
	var body string
	wg.Add(1)
	go func() {
		defer wg.Done()
		r, _ := http.NewRequest("POST", "http://"+n.Addr()+"/", strings.NewReader("{}"))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("X-TC-Action", "Slow")
		r.Header.Set("X-TC-Version", "2020-01-01")
		cloudapi.SignTC3(r, []byte("{}"), tk.AcmeID, tk.AcmeKey, "test", time.Now())
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			body = err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		body = string(b)
	}()
	<-started
	if err := n.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if !strings.Contains(body, `"Done":true`) {
		t.Fatalf("in-flight call got %s", body)
	}
	// The client was told the server is going away.
	for range bob.Events() {
	}
	if _, err := net.DialTimeout("tcp", n.Addr(), time.Second); err == nil {
		t.Fatal("listener still open")
	}
	http.DefaultClient.CloseIdleConnections()
}

// TestOneLogLinePerCallWithoutSecrets: each API call logs one line with its
// RequestId, account, action, code and latency; never a secret, signature
// or UserSig.
func TestOneLogLinePerCallWithoutSecrets(t *testing.T) {
	var buf tk.SyncBuffer
	cfg := tk.Config()
	n, err := node.New(cfg, slog.New(slog.NewJSONHandler(&buf, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(); err != nil {
		t.Fatal(err)
	}
	defer n.Shutdown(context.Background())
	sig := usersig.Generate(tk.App, tk.AppKey, "bob", time.Hour, time.Now(), nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	bob, err := client.Join(ctx, "http://"+n.Addr(), client.JoinParams{SdkAppID: tk.App, UserID: "bob", UserSig: sig, RoomID: 3}, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer bob.Close()
	for _, m := range []tk.Mode{tk.Modes[0], tk.Modes[4]} {
		tk.SDK(t, n.Addr(), tk.AcmeID, tk.AcmeKey, m).RemoveUser(removeReq(3, "nobody"))
	}
	tk.SDK(t, n.Addr(), tk.AcmeID, "wrong", tk.Modes[0]).RemoveUser(removeReq(3, "nobody"))

	var calls []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line not JSON: %q", line)
		}
		if m["msg"] == "api call" {
			calls = append(calls, m)
		}
	}
	if len(calls) != 3 {
		t.Fatalf("%d api call lines, want 3:\n%s", len(calls), buf.String())
	}
	wantCodes := []string{"OK", "OK", "AuthFailure.SignatureFailure"}
	for i, c := range calls {
		if c["code"] != wantCodes[i] || c["action"] != "RemoveUser" || c["request_id"] == "" || c["latency_ms"] == nil {
			t.Fatalf("line %d: %v", i, c)
		}
	}
	if calls[0]["account"] != "acme" {
		t.Fatalf("account %v", calls[0]["account"])
	}
	for _, secret := range []string{tk.AcmeKey, tk.AppKey, sig, "Signature=", "wrong"} {
		if strings.Contains(buf.String(), secret) {
			t.Fatalf("the log contains %q", secret)
		}
	}
}

package main

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	tk "github.com/trtcd/trtcd/internal/testkit"
)

// run runs the binary and returns its exit code, stdout and stderr.
func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	return exitCode(err), out.String(), errb.String()
}

// oneMessage checks stderr is one "trtcd: ..." line containing want, with
// the prefix once.
func oneMessage(t *testing.T, stderr, want string) {
	t.Helper()
	s := strings.TrimRight(stderr, "\n")
	if strings.Contains(s, "\n") || !strings.HasPrefix(s, "trtcd: ") || strings.Contains(s, "trtcd: trtcd:") || !strings.Contains(s, want) {
		t.Fatalf("stderr %q, want one line \"trtcd: …%s…\"", stderr, want)
	}
}

func TestVersion(t *testing.T) {
	vbin := filepath.Join(t.TempDir(), "trtcd")
	build := exec.Command("go", "build", "-buildvcs=auto", "-ldflags", "-X main.version=v9.9.9-test", "-o", vbin, ".")
	build.Env = append(os.Environ(), "GOFLAGS=")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	// The Go toolchain stamps the commit when the module sits in a git
	// checkout whose .git is a directory (not in a git worktree).
	commit := "unknown"
	if st, err := os.Stat("../../.git"); err == nil && st.IsDir() {
		if out, err := exec.Command("git", "rev-parse", "HEAD").Output(); err == nil {
			commit = strings.TrimSpace(string(out))
		}
	}
	want := regexp.MustCompile(`^trtcd v9\.9\.9-test \(commit ` + regexp.QuoteMeta(commit) + `(-dirty)?, ` + regexp.QuoteMeta(runtime.Version()) + `\)\n$`)
	for _, args := range [][]string{{"--version"}, {"version"}} {
		out, err := exec.Command(vbin, args...).Output()
		if err != nil || !want.Match(out) {
			t.Fatalf("%v: %q %v, want %s", args, out, err, want)
		}
	}
	if code, out, _ := run(t, "version"); code != 0 || !strings.HasPrefix(out, "trtcd dev (commit ") {
		t.Fatalf("default version: %d %q", code, out)
	}
}

// TestJoinCommandLineErrorsBeforeAnyConnection: usage errors exit 2 and
// nothing connects to the server.
func TestJoinCommandLineErrorsBeforeAnyConnection(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accepted := make(chan struct{}, 10)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- struct{}{}
			c.Close()
		}
	}()
	server := "--server=http://" + ln.Addr().String()
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"join", server, "--roomid", "1"}, "--userid is required"},
		{[]string{"join", server, "--userid", "a.b", "--roomid", "1"}, "--userid must be"},
		{[]string{"join", server, "--userid", "a"}, "exactly one of --roomid and --strroomid"},
		{[]string{"join", server, "--userid", "a", "--roomid", "x"}, `invalid argument "x"`},
		{[]string{"join", server, "--userid", "a", "--roomid", "1", "--bogus"}, "unknown flag: --bogus"},
		{[]string{"join", "--server", "127.0.0.1:8080", "--userid", "a", "--roomid", "1"}, "--server"},
		{[]string{"join", server, "--userid", "a", "--roomid", "1", "--cacert", "/nonexistent.pem"}, "--cacert"},
		{[]string{"join", server, "--userid", "a", "--roomid", "1", "extra"}, `unexpected argument "extra"`},
		{[]string{"api", "--endpoint", "http://" + ln.Addr().String(), "DismissRoom", "{"}, "not valid JSON"},
		{[]string{"api", "--endpoint", "http://" + ln.Addr().String(), "--cacert", "/nonexistent.pem", "DismissRoom"}, "--cacert"},
		{[]string{"usersig", "--userid", "a", "--expire", "4611686018427387904"}, "--expire must be"},
	}
	for _, c := range cases {
		code, _, stderr := run(t, c.args...)
		if code != exitUsage {
			t.Errorf("%v: exit %d, want %d (stderr %q)", c.args, code, exitUsage, stderr)
			continue
		}
		oneMessage(t, stderr, c.want)
	}
	ln.Close()
	if len(accepted) != 0 {
		t.Fatalf("%d connections to the server for command lines that were refused", len(accepted))
	}
}

// TestJoinExitCodeForEachEnding: cannot connect 4, connection lost 1.
func TestJoinExitCodeForEachEnding(t *testing.T) {
	// nothing listening
	code, _, stderr := run(t, "join", "--server", "http://"+tk.FreeAddr(t), "--userid", "a", "--roomid", "1")
	if code != exitCannotReach {
		t.Fatalf("nothing listening: exit %d %q", code, stderr)
	}
	oneMessage(t, stderr, "cannot connect to ws://")
	code, _, stderr = run(t, "api", "--endpoint", "http://"+tk.FreeAddr(t), "DismissRoom")
	if code != exitCannotReach {
		t.Fatalf("api, nothing listening: exit %d %q", code, stderr)
	}
	oneMessage(t, stderr, "cannot reach http://")

	// a server that is not a trtcd WebSocket
	addr, _ := serve(t)
	code, _, stderr = run(t, "join", "--server", "http://"+addr+"/healthz", "--userid", "a", "--roomid", "1")
	if code != exitCannotReach {
		t.Fatalf("not a WebSocket: exit %d %q", code, stderr)
	}
	oneMessage(t, stderr, "bad handshake")

	// the server dies under a joined client
	srv := exec.Command(bin, "serve")
	addr = tk.FreeAddr(t)
	srv.Env = append(os.Environ(), "TRTCD_LISTEN="+addr, "TRTCD_DATA_DIR="+t.TempDir())
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Process.Kill()
	waitReady(t, "http://"+addr, http.DefaultClient)
	join := exec.Command(bin, "join", "--server", "http://"+addr, "--userid", "lost", "--roomid", "7")
	stdout, _ := join.StdoutPipe()
	var jerr strings.Builder
	join.Stderr = &jerr
	if err := join.Start(); err != nil {
		t.Fatal(err)
	}
	defer join.Process.Kill()
	if !bufio.NewScanner(stdout).Scan() {
		t.Fatal("no joined line")
	}
	srv.Process.Signal(syscall.SIGKILL)
	srv.Wait()
	if code := exitCode(join.Wait()); code != exitConnLost {
		t.Fatalf("connection lost: exit %d %q", code, jerr.String())
	}
	oneMessage(t, jerr.String(), "connection lost")
}

func waitReady(t *testing.T, base string, c *http.Client) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := c.Get(base + "/healthz"); err == nil {
			resp.Body.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s not ready", base)
}

// selfSigned writes a self-signed certificate for 127.0.0.1 and its key.
func selfSigned(t *testing.T) (cert, key string) {
	t.Helper()
	priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "trtcd test"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(priv)
	dir := t.TempDir()
	cert, key = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(key, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600)
	return cert, key
}

// TestSelfSignedTLS: api and join reach a server with a self-signed
// certificate with --cacert or --insecure, and exit 4 without.
func TestSelfSignedTLS(t *testing.T) {
	cert, key := selfSigned(t)
	addr := tk.FreeAddr(t)
	srv := exec.Command(bin, "serve")
	srv.Env = append(os.Environ(), "TRTCD_LISTEN="+addr, "TRTCD_DATA_DIR="+t.TempDir(), "TRTCD_TLS_CERT="+cert, "TRTCD_TLS_KEY="+key)
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Process.Signal(syscall.SIGTERM); srv.Wait() })
	waitReady(t, "https://"+addr, &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}})
	endpoint := "https://" + addr
	call := `{"SdkAppId":1400000001,"RoomId":999,"UserIds":["x"]}`

	code, _, stderr := run(t, "api", "--endpoint", endpoint, "RemoveUser", call)
	if code != exitCannotReach {
		t.Fatalf("api without --cacert: exit %d %q", code, stderr)
	}
	oneMessage(t, stderr, "certificate")
	for _, flag := range [][]string{{"--cacert", cert}, {"--insecure"}} {
		code, out, stderr := run(t, append([]string{"api", "--endpoint", endpoint, "RemoveUser", call}, flag...)...)
		if code != 1 || !strings.Contains(out, "FailedOperation.RoomNotExist") {
			t.Fatalf("api %v: exit %d %q %q", flag, code, out, stderr)
		}
	}

	code, _, stderr = run(t, "join", "--server", endpoint, "--userid", "a", "--roomid", "1")
	if code != exitCannotReach {
		t.Fatalf("join without --cacert: exit %d %q", code, stderr)
	}
	oneMessage(t, stderr, "certificate")
	for i, flag := range [][]string{{"--cacert", cert}, {"--insecure"}} {
		join := exec.Command(bin, append([]string{"join", "--server", endpoint, "--userid", "tls" + string(rune('a'+i)), "--roomid", "5"}, flag...)...)
		stdout, _ := join.StdoutPipe()
		if err := join.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(stdout)
		var m map[string]any
		if !sc.Scan() || json.Unmarshal(sc.Bytes(), &m) != nil || m["type"] != "joined" {
			join.Process.Kill()
			t.Fatalf("join %v over wss: %q", flag, sc.Text())
		}
		join.Process.Signal(syscall.SIGINT)
		if code := exitCode(join.Wait()); code != 0 {
			t.Fatalf("leave after SIGINT: exit %d", code)
		}
	}
}

func TestServeTLSFileErrorsExit2(t *testing.T) {
	cert, key := selfSigned(t)
	for name, env := range map[string][]string{
		"missing certificate": {"TRTCD_TLS_CERT=/nonexistent/cert.pem", "TRTCD_TLS_KEY=" + key},
		"missing key":         {"TRTCD_TLS_CERT=" + cert, "TRTCD_TLS_KEY=/nonexistent/key.pem"},
		"swapped":             {"TRTCD_TLS_CERT=" + key, "TRTCD_TLS_KEY=" + cert},
	} {
		cmd := exec.Command(bin, "serve")
		cmd.Env = append(append(os.Environ(), "TRTCD_LISTEN="+tk.FreeAddr(t), "TRTCD_DATA_DIR="+t.TempDir()), env...)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if code := exitCode(cmd.Run()); code != 2 {
			t.Fatalf("%s: exit %d %q", name, code, stderr.String())
		}
		oneMessage(t, stderr.String(), "TRTCD_TLS_")
	}
}

// TestReadmeShowsTheRealOutput: the README's joined and kicked lines are
// what `trtcd join` prints (the session id aside).
func TestReadmeShowsTheRealOutput(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	joinedRe := regexp.MustCompile(`(?m)^\{"members".*"type":"joined"\}$`)
	kickedRe := regexp.MustCompile("`(\\{\"reason\":\"removed\".*\"type\":\"kicked\"\\})`")
	wantJoined := joinedRe.Find(readme)
	wantKicked := kickedRe.FindSubmatch(readme)
	if wantJoined == nil || wantKicked == nil {
		t.Fatal("README lacks the joined or kicked line")
	}
	addr, _ := serve(t)
	join := exec.Command(bin, "join", "--server", "http://"+addr, "--userid", "test1", "--roomid", "1234")
	stdout, _ := join.StdoutPipe()
	if err := join.Start(); err != nil {
		t.Fatal(err)
	}
	defer join.Process.Kill()
	sc := bufio.NewScanner(stdout)
	sc.Scan()
	got := regexp.MustCompile(`"sessionId":"[^"]*"`).ReplaceAllString(sc.Text(), `"sessionId":"…"`)
	if got != string(wantJoined) {
		t.Fatalf("trtcd join prints\n%s\nthe README shows\n%s", got, wantJoined)
	}
	if code, out, _ := run(t, "api", "--endpoint", "http://"+addr, "RemoveUser", `{"SdkAppId":1400000001,"RoomId":1234,"UserIds":["test1","test2"]}`); code != 0 {
		t.Fatalf("api: %d %s", code, out)
	}
	sc.Scan()
	if sc.Text() != string(wantKicked[1]) {
		t.Fatalf("trtcd join prints\n%s\nthe README shows\n%s", sc.Text(), wantKicked[1])
	}
	if code := exitCode(join.Wait()); code != exitKicked {
		t.Fatalf("exit %d", code)
	}
}

package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/trtcd/trtcd/internal/config"
	tk "github.com/trtcd/trtcd/internal/testkit"
	"github.com/trtcd/trtcd/usersig"
)

// The command is tested as users run it: a built binary in real processes.

var bin string

func TestMain(m *testing.M) {
	dir, _ := os.MkdirTemp("", "trtcd-bin")
	bin = filepath.Join(dir, "trtcd")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		os.Stderr.Write(out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func exitCode(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

// serve starts `trtcd serve` with no config on a free port.
func serve(t *testing.T, env ...string) (addr string, stdout *tk.SyncBuffer) {
	addr = tk.FreeAddr(t)
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(append(os.Environ(), "TRTCD_LISTEN="+addr, "TRTCD_DATA_DIR="+t.TempDir()), env...)
	stdout = &tk.SyncBuffer{}
	cmd.Stdout = stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		if err := cmd.Wait(); err != nil {
			t.Errorf("serve did not stop cleanly on SIGTERM: %v", err)
		}
	})
	for i := 0; i < 100; i++ {
		if resp, err := http.Get("http://" + addr + "/healthz"); err == nil {
			resp.Body.Close()
			return addr, stdout
		}
		time.Sleep(30 * time.Millisecond)
	}
	t.Fatal("server not ready")
	return
}

func TestUsersigPrintsOneVerifiableLine(t *testing.T) {
	out, err := exec.Command(bin, "usersig", "--userid", "alice", "--expire", "600").Output()
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	if len(lines) != 1 {
		t.Fatalf("%d lines", len(lines))
	}
	c, err := usersig.Verify(lines[0], config.DevSdkAppID, config.DevAppKey, "alice", time.Now())
	if err != nil || c.Expire != 600*time.Second {
		t.Fatalf("%v %+v", err, c)
	}
	if code := exitCode(exec.Command(bin, "usersig", "--userid", "bad id").Run()); code != 2 {
		t.Fatalf("bad userid exit %d", code)
	}
}

func TestServeDefaultsPrintDevCredentials(t *testing.T) {
	_, stdout := serve(t)
	for i := 0; i < 100 && !strings.Contains(stdout.String(), config.DevAppKey); i++ {
		time.Sleep(20 * time.Millisecond)
	}
	for _, want := range []string{config.DevSecretID, config.DevSecretKey, "1400000001", config.DevAppKey, "DEVELOPMENT ONLY"} {
		if !strings.Contains(stdout.String(), want) {
			t.Fatalf("start-up output lacks %q:\n%s", want, stdout)
		}
	}
}

func TestServeBadConfigNamesTheKey(t *testing.T) {
	p := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(p, []byte("listen: \"127.0.0.1:0\"\naccounts:\n  - name: a\n    secret_id: x\n    secret_key: y\nrate_limits:\n  KickEveryone: 3\n"), 0o600)
	out, err := exec.Command(bin, "serve", "--config", p).CombinedOutput()
	if exitCode(err) == 0 || !strings.Contains(string(out), "rate_limits.KickEveryone") || strings.Count(strings.TrimSpace(string(out)), "\n") != 0 {
		t.Fatalf("exit %d: %s", exitCode(err), out)
	}
}

func TestJoinAPIAndExitCodes(t *testing.T) {
	addr, _ := serve(t)
	server := "http://" + addr

	// A refused join exits 2 with one line on stderr.
	cmd := exec.Command(bin, "join", "--server", server, "--userid", "mallory", "--roomid", "1", "--key", "wrong")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if code := exitCode(cmd.Run()); code != 2 || !strings.Contains(stderr.String(), "AuthFailure.UserSig") || strings.Count(strings.TrimSpace(stderr.String()), "\n") != 0 {
		t.Fatalf("refused join: exit %d, stderr %q", code, stderr.String())
	}

	join := exec.Command(bin, "join", "--server", server, "--userid", "test1", "--roomid", "1234")
	stdout, _ := join.StdoutPipe()
	if err := join.Start(); err != nil {
		t.Fatal(err)
	}
	defer join.Process.Kill()
	sc := bufio.NewScanner(stdout)
	line := func() map[string]any {
		if !sc.Scan() {
			t.Fatal("no line")
		}
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("not JSON: %q", sc.Text())
		}
		return m
	}
	if m := line(); m["type"] != "joined" || len(m["members"].([]any)) != 1 {
		t.Fatalf("%v", m)
	}

	// trtcd api prints the Response and exits non-zero on an error response.
	out, err := exec.Command(bin, "api", "--endpoint", server, "RemoveUser", `{"SdkAppId":1400000001,"RoomId":999,"UserIds":["test1"]}`).Output()
	if exitCode(err) != 1 || !strings.Contains(string(out), "FailedOperation.RoomNotExist") {
		t.Fatalf("api on an empty room: exit %d %s", exitCode(err), out)
	}
	out, err = exec.Command(bin, "api", "--endpoint", server, "RemoveUser", `{"SdkAppId":1400000001,"RoomId":1234,"UserIds":["test1"]}`).Output()
	var resp map[string]any
	if err != nil || json.Unmarshal(out, &resp) != nil || resp["RequestId"] == nil || resp["Error"] != nil {
		t.Fatalf("api: %v %s", err, out)
	}
	if m := line(); m["type"] != "kicked" || m["reason"] != "removed" {
		t.Fatalf("%v", m)
	}
	if code := exitCode(join.Wait()); code != 3 {
		t.Fatalf("kicked join exit %d", code)
	}
	// Credentials from the SDKs' environment variables.
	api := exec.Command(bin, "api", "--endpoint", server, "DismissRoom", `{"SdkAppId":1400000001,"RoomId":1}`)
	api.Env = append(os.Environ(), "TENCENTCLOUD_SECRET_ID=AKIDnobody", "TENCENTCLOUD_SECRET_KEY=x")
	out, err = api.Output()
	if exitCode(err) != 1 || !strings.Contains(string(out), "AuthFailure.SecretIdNotFound") {
		t.Fatalf("env credentials: %d %s", exitCode(err), out)
	}
}

// TestBenchSmoke runs every load subcommand with small numbers: each must
// complete and report sane, non-zero figures (speed is not asserted).
func TestBenchSmoke(t *testing.T) {
	addr, _ := serve(t, "TRTCD_RATE_LIMIT_RemoveUser=100000", "TRTCD_RATE_LIMIT_DismissRoomByStrRoomId=1000")
	server := "--server=http://" + addr
	run := func(args ...string) map[string]any {
		t.Helper()
		out, err := exec.Command(bin, append([]string{"bench"}, append(args, server, "--json", "--timeout=60s")...)...).Output()
		if err != nil {
			var stderr []byte
			if ee, ok := err.(*exec.ExitError); ok {
				stderr = ee.Stderr
			}
			t.Fatalf("bench %v: %v\n%s\nstderr:\n%s", args, err, out, stderr)
		}
		var rep struct {
			Figures map[string]float64
			Latency map[string]map[string]float64
		}
		if err := json.Unmarshal(out, &rep); err != nil {
			t.Fatalf("bench %v printed %s", args, out)
		}
		return map[string]any{"f": rep.Figures, "l": rep.Latency}
	}
	positive := func(name string, m map[string]any, keys ...string) {
		t.Helper()
		f := m["f"].(map[string]float64)
		for _, k := range keys {
			if !(f[k] > 0) {
				t.Errorf("%s: %s = %v, want > 0 (%v)", name, k, f[k], f)
			}
		}
		if f["failed"] != 0 || f["missing"] != 0 {
			t.Errorf("%s: failures %v", name, f)
		}
	}
	c := run("clients", "--clients=50", "--rooms=5", "--hold=200ms", "--sources=2")
	positive("clients", c, "joined", "join_rate_per_s", "server_cpu_ms_per_join", "baseline_echo_bytes_per_conn")
	if c["f"].(map[string]float64)["joined"] != 50 {
		t.Errorf("joined %v", c["f"])
	}
	k := run("kick", "--count=50", "--rate=200")
	positive("kick", k, "kicks", "kicks_per_s")
	if k["f"].(map[string]float64)["kicks"] != 50 {
		t.Errorf("kicks %v", k["f"])
	}
	a := run("api", "--duration=500ms", "--concurrency=4")
	positive("api", a, "calls_per_s", "baseline_bare_calls_per_s", "ratio_throughput_vs_bare")
	d := run("dismiss", "--members=50")
	positive("dismiss", d, "last_kicked_ms", "api_ms")
	for name, rep := range map[string]map[string]any{"kick": k, "dismiss": d} {
		for lname, l := range rep["l"].(map[string]map[string]float64) {
			if !(l["p50_ms"] > 0) || l["p99_ms"] < l["p50_ms"] || l["count"] == 0 {
				t.Errorf("%s %s latency %v", name, lname, l)
			}
		}
	}
}

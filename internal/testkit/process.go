package testkit

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// BuildTrtcd builds the trtcd binary for tests that need a real process
// (kill -9, exit status).
func BuildTrtcd(t testing.TB) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "trtcd")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/trtcd/trtcd/cmd/trtcd").CombinedOutput(); err != nil {
		t.Fatalf("build: %v %s", err, out)
	}
	return bin
}

// ClusterYAML is a config file's text for a cluster node with the test
// accounts (acme's app only) and extra lines appended.
func ClusterYAML(addr, redisURL, nodeID string, extra ...string) string {
	return fmt.Sprintf(`listen: %q
redis: %q
node_id: %q
accounts:
  - name: acme
    secret_id: %q
    secret_key: %q
    apps:
      - sdkappid: %d
        key: %q
`, addr, redisURL, nodeID, AcmeID, AcmeKey, App, AppKey) + strings.Join(extra, "\n") + "\n"
}

// Proc is a trtcd process.
type Proc struct {
	Addr   string
	cmd    *exec.Cmd
	stderr *SyncBuffer
	done   chan struct{}
}

// SyncBuffer collects a process's or a logger's output for a test: writes
// and reads may come from different goroutines.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// StartProcess runs `bin serve` with the config text yaml (whose listen is
// addr); it is killed when the test ends.
func StartProcess(t testing.TB, bin, addr, yaml string) *Proc {
	t.Helper()
	cfg := filepath.Join(t.TempDir(), "trtcd.yaml")
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	p := &Proc{Addr: addr, cmd: exec.Command(bin, "serve", "--config", cfg), stderr: &SyncBuffer{}, done: make(chan struct{})}
	p.cmd.Stderr = p.stderr
	p.cmd.Env = append(os.Environ(), "TRTCD_DATA_DIR="+t.TempDir())
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.cmd.Wait(); close(p.done) }()
	t.Cleanup(p.Kill9)
	return p
}

// WaitHealthy waits up to 30 s for /healthz to answer 200.
func (p *Proc) WaitHealthy(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			t.Fatalf("trtcd exited (%v): %s", p.cmd.ProcessState, p.Stderr())
		default:
		}
		if resp, err := http.Get("http://" + p.Addr + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("trtcd on %s not healthy within 30 s: %s", p.Addr, p.Stderr())
}

// Kill9 kills the process with SIGKILL and waits for it.
func (p *Proc) Kill9() {
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// Exited waits up to d for the process to end and returns its exit code
// (-1 if it is still running).
func (p *Proc) Exited(d time.Duration) int {
	select {
	case <-p.done:
		return p.cmd.ProcessState.ExitCode()
	case <-time.After(d):
		return -1
	}
}

// Stderr is what the process wrote to stderr so far.
func (p *Proc) Stderr() string { return p.stderr.String() }

// Pause stops the server with SIGSTOP: connections stay open and commands
// queue up unanswered until Resume.
func (r *Redis) Pause(t testing.TB) {
	t.Helper()
	if err := r.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
}

// Resume continues a paused server (SIGCONT).
func (r *Redis) Resume(t testing.TB) {
	t.Helper()
	if err := r.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
}

// UnstartedRedis is a Redis on a free port that is not running yet (Start
// starts it); it is stopped when the test ends.
func UnstartedRedis(t testing.TB) *Redis {
	r := &Redis{Addr: FreeAddr(t), bin: redisBinary(t)}
	t.Cleanup(r.Stop)
	return r
}

// Package sdkcommon drives a real `trtcd serve` process with the split SDK
// module (tencentcloud/common v1.3.211) and its NewCommonClient, and real
// `trtcd join` processes as the room's clients. It is its own module because
// that SDK module provides the same package path as the v1.0.162 monolith
// the main module's tests use.
package sdkcommon

import (
	"bufio"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	sdkerrors "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"
	tchttp "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/http"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/profile"
)

// The development account that `trtcd serve` runs with when given no config
// (public, development-only values, documented in the README).
const (
	devSecretID  = "AKIDtrtcdDEVELOPMENTONLY00000000000"
	devSecretKey = "trtcdDEVELOPMENTONLYsecretKey0000"
)

func build(t *testing.T) string {
	bin := filepath.Join(t.TempDir(), "trtcd")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/trtcd")
	cmd.Dir = "../.."
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func serve(t *testing.T, bin string) string {
	addr := freeAddr(t)
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(os.Environ(), "TRTCD_LISTEN="+addr, "TRTCD_DATA_DIR="+t.TempDir())
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() })
	for i := 0; i < 100; i++ {
		if resp, err := http.Get("http://" + addr + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return addr
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("server not ready")
	return ""
}

// joiner is a `trtcd join` process and the JSON lines it prints.
type joiner struct {
	cmd   *exec.Cmd
	lines chan map[string]any
	done  chan error
}

func join(t *testing.T, bin, addr, user string) *joiner {
	cmd := exec.Command(bin, "join", "--server", "http://"+addr, "--userid", user, "--roomid", "1234")
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	j := &joiner{cmd: cmd, lines: make(chan map[string]any, 64), done: make(chan error, 1)}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			var m map[string]any
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				t.Errorf("%s printed a non-JSON line %q", user, sc.Text())
				continue
			}
			j.lines <- m
		}
		close(j.lines)
		j.done <- cmd.Wait()
	}()
	t.Cleanup(func() { cmd.Process.Kill() })
	if m := j.next(t); m["type"] != "joined" {
		t.Fatalf("%s: first line %v", user, m)
	}
	return j
}

func (j *joiner) next(t *testing.T) map[string]any {
	t.Helper()
	select {
	case m, ok := <-j.lines:
		if !ok {
			t.Fatal("process ended")
		}
		return m
	case <-time.After(5 * time.Second):
		t.Fatal("no line within 5 s")
	}
	return nil
}

func (j *joiner) exitCode(t *testing.T) int {
	t.Helper()
	select {
	case err := <-j.done:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0
	case <-time.After(5 * time.Second):
		t.Fatal("process did not exit")
	}
	return -1
}

func commonClient(addr, method, sign string) *common.Client {
	cpf := profile.NewClientProfile()
	cpf.HttpProfile.Endpoint = addr
	cpf.HttpProfile.Scheme = "HTTP"
	cpf.HttpProfile.ReqMethod = method
	cpf.SignMethod = sign
	return common.NewCommonClient(common.NewCredential(devSecretID, devSecretKey), "ap-guangzhou", cpf)
}

func call(c *common.Client, action string, params map[string]any) error {
	req := tchttp.NewCommonRequest("trtc", "2019-07-22", action)
	if err := req.SetActionParameters(params); err != nil {
		return err
	}
	return c.Send(req, tchttp.NewCommonResponse())
}

func TestCommonClientRemoveUser(t *testing.T) {
	bin := build(t)
	addr := serve(t, bin)
	for _, mode := range []struct{ method, sign string }{{"POST", "TC3-HMAC-SHA256"}} {
		t.Run(mode.method+" "+mode.sign, func(t *testing.T) {
			stay := join(t, bin, addr, "stay")
			test1 := join(t, bin, addr, "test1")
			test2 := join(t, bin, addr, "test2")
			c := commonClient(addr, mode.method, mode.sign)
			if err := call(c, "RemoveUser", map[string]any{"SdkAppId": 1400000001, "RoomId": 1234, "UserIds": []string{"test1", "test2"}}); err != nil {
				t.Fatalf("RemoveUser: %v", err)
			}
			for _, j := range []*joiner{test1, test2} {
				for {
					m := j.next(t)
					if m["type"] == "kicked" {
						if m["reason"] != "removed" {
							t.Fatalf("kicked %v", m)
						}
						break
					}
				}
				if code := j.exitCode(t); code != 3 {
					t.Fatalf("exit code %d after a kick, want 3", code)
				}
			}
			left := map[any]bool{}
			for len(left) < 2 {
				m := stay.next(t)
				if m["type"] == "user_left" {
					if m["reason"] != "removed" {
						t.Fatalf("stay saw %v", m)
					}
					left[m["userId"]] = true
				}
			}
			// An app of no account of ours: the cloud's code comes back.
			err := call(c, "RemoveUser", map[string]any{"SdkAppId": 1400000099, "RoomId": 1234, "UserIds": []string{"x"}})
			var se *sdkerrors.TencentCloudSDKError
			if !errors.As(err, &se) || se.Code != "UnauthorizedOperation.SdkAppId" {
				t.Fatalf("got %v", err)
			}
			// A normal leave on SIGTERM exits 0.
			stay.cmd.Process.Signal(syscall.SIGTERM)
			if code := stay.exitCode(t); code != 0 {
				t.Fatalf("exit code %d after SIGTERM, want 0", code)
			}
		})
	}
}

// NewCommonClient sends its map parameters only as a JSON body (TC3 POST):
// for GET and for signature v1 it flattens only typed request structs, so
// nothing reaches the wire and the server answers as the cloud would, with
// the first missing parameter.
func TestCommonClientV1SendsNoParameters(t *testing.T) {
	bin := build(t)
	addr := serve(t, bin)
	for _, m := range [][2]string{{"GET", "TC3-HMAC-SHA256"}, {"POST", "HmacSHA1"}, {"GET", "HmacSHA256"}} {
		sign := m[0] + " " + m[1]
		err := call(commonClient(addr, m[0], m[1]), "RemoveUser", map[string]any{"SdkAppId": 1400000001, "RoomId": 1234, "UserIds": []string{"a"}})
		var se *sdkerrors.TencentCloudSDKError
		if !errors.As(err, &se) || se.Code != "MissingParameter.SdkAppId" {
			t.Fatalf("%s: got %v", sign, err)
		}
	}
}

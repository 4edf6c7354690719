package external

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/trtcd/trtcd/client"
	"github.com/trtcd/trtcd/protocol"
	"github.com/trtcd/trtcd/usersig"
)

var (
	open   = App{SdkAppID: 1400000001, Key: "external-test-key-open"}
	strict = App{SdkAppID: 1400000002, Key: "external-test-key-strict"} // require_privatemapkey
)

const config = `
accounts:
  - name: external
    secret_id: "AKIDexternalexternalexternalext0001"
    secret_key: "external-test-secret-key"
    apps:
      - sdkappid: %d
        key: %q
      - sdkappid: %d
        key: %q
        require_privatemapkey: true
`

// serve builds trtcd from this checkout and runs `trtcd serve` with the two
// apps; it answers the server's URL.
func serve(t *testing.T) string {
	dir := t.TempDir()
	bin := filepath.Join(dir, "trtcd")
	build := exec.Command("go", "build", "-o", bin, "./cmd/trtcd")
	build.Dir = "../.."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	cfg := filepath.Join(dir, "trtcd.yaml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(config, open.SdkAppID, open.Key, strict.SdkAppID, strict.Key)), 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	cmd := exec.Command(bin, "serve", "--config", cfg)
	cmd.Env = append(os.Environ(), "TRTCD_LISTEN="+addr)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() })
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if resp, err := http.Get("http://" + addr + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return "http://" + addr
			}
		}
	}
	t.Fatal("trtcd serve not ready within 30 s")
	return ""
}

// The public packages, used from another module against the real server:
// tickets minted with usersig admit clients, the room events arrive, and
// refusals carry protocol's codes and usersig's reasons.
func TestPublicPackagesAgainstTrtcd(t *testing.T) {
	server := serve(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	want := "[joined [{alice anchor}] user_entered bob anchor user_left bob left]"
	seen, err := Meet(ctx, server, open, 1234, false)
	if err != nil || fmt.Sprint(seen) != want {
		t.Fatalf("open app: saw %v, %v; want %s", seen, err, want)
	}
	seen, err = Meet(ctx, server, strict, 1234, true)
	if err != nil || fmt.Sprint(seen) != want {
		t.Fatalf("strict app with PrivateMapKeys: saw %v, %v; want %s", seen, err, want)
	}

	refusals := []struct {
		name   string
		p      client.JoinParams
		code   string
		reason usersig.Reason
	}{
		{"no PrivateMapKey", strict.Ticket("carol", 1234, false), protocol.CodePrivateMapKey, usersig.ReasonMapRequired},
		{"PrivateMapKey for room 99", func() client.JoinParams {
			p := strict.Ticket("carol", 99, true)
			p.RoomID = 1234
			return p
		}(), protocol.CodePrivateMapKey, usersig.ReasonRoom},
		{"another app's key", App{open.SdkAppID, strict.Key}.Ticket("carol", 1234, false), protocol.CodeUserSig, usersig.ReasonSig},
	}
	for _, r := range refusals {
		_, err := client.Join(ctx, server, r.p, client.Options{})
		var e *client.Error
		if !errors.As(err, &e) || e.Code != r.code || e.Reason != string(r.reason) || e.TRTCCode != protocol.NewError(r.code, "").TRTCCode || e.CloseCode() != protocol.CloseJoinRefused {
			t.Errorf("%s: got %#v, want %s reason %q", r.name, err, r.code, r.reason)
		}
	}
}

// The public packages stand on their own: nothing under trtcd's internal/
// is compiled into an app that imports them.
func TestPublicPackagesImportNoInternal(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/trtcd/trtcd/client", "github.com/trtcd/trtcd/protocol", "github.com/trtcd/trtcd/usersig").Output()
	if err != nil {
		t.Fatal(err)
	}
	deps := strings.Fields(string(out))
	for _, d := range deps {
		if strings.HasPrefix(d, "github.com/trtcd/trtcd/") && !slices.Contains([]string{"client", "client/media", "client/media/wire", "protocol", "usersig"}, strings.TrimPrefix(d, "github.com/trtcd/trtcd/")) {
			t.Errorf("a public package depends on %s", d)
		}
	}
	if !slices.Contains(deps, "github.com/gorilla/websocket") {
		t.Fatalf("go list -deps answered %v", deps)
	}
}

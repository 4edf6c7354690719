package main

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/trtcd/trtcd/internal/callbacks"
	tk "github.com/trtcd/trtcd/internal/testkit"
)

func hmacSign(key string, body []byte) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write(body)
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// waitFor polls cond for up to 30 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("waited 30 s for %s", what)
		}
	}
}

// listen starts `trtcd callbacks listen` with args on a free port.
func listen(t *testing.T, args ...string) (url string, stdout, stderr *tk.SyncBuffer) {
	addr := tk.FreeAddr(t)
	cmd := exec.Command(bin, append([]string{"callbacks", "listen", "--addr", addr}, args...)...)
	stdout, stderr = &tk.SyncBuffer{}, &tk.SyncBuffer{}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		if err := cmd.Wait(); err != nil {
			t.Errorf("listen did not stop cleanly: %v", err)
		}
	})
	waitFor(t, "the listener", func() bool { return strings.Contains(stderr.String(), "listening on http://"+addr) })
	return "http://" + addr + "/", stdout, stderr
}

func post(t *testing.T, url, sign string, body []byte) int {
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Sign", sign)
	req.Header.Set("SdkAppId", "1400000001")
	req.Header.Set(callbacks.HeaderEventID, "1400000001:n:1234/9/104/1700000000100")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestCallbacksListenVerifiesAndPrints(t *testing.T) {
	url, stdout, stderr := listen(t, "--key", "testKey")
	// A pretty-printed body, as the cloud's samples are: signed as sent,
	// printed as one line.
	pretty := []byte("{\n\t\"EventGroupId\":\t1,\n\t\"EventType\":\t104,\n\t\"CallbackTs\":\t1700000000123,\n\t\"EventInfo\":\t{\n\t\t\"RoomId\":\t1234,\n\t\t\"UserId\":\t\"alice\"\n\t}\n}")
	if code := post(t, url, hmacSign("testKey", pretty), pretty); code != 200 {
		t.Fatalf("good Sign answered %d", code)
	}
	vector := []byte(`{"EventGroupId":1,"EventType":104,"CallbackTs":1700000000123,"EventInfo":{"RoomId":1234,"EventTs":1700000000,"EventMsTs":1700000000100,"UserId":"alice","Role":20,"Reason":3}}`)
	if code := post(t, url, "MBp/nIe6ZEVfYcPbvG00gSOIGqAwarrR3T4DjlfNTvM=", vector); code != 200 {
		t.Fatalf("the spec's vector answered %d", code)
	}
	if code := post(t, url, hmacSign("otherKey", vector), vector); code != 401 {
		t.Fatalf("wrong Sign answered %d", code)
	}
	if code := post(t, url, hmacSign("testKey", vector), append(vector, ' ')); code != 401 {
		t.Fatalf("Sign of other bytes answered %d", code)
	}
	waitFor(t, "two lines", func() bool { return strings.Count(stdout.String(), "\n") == 2 })
	want := `{"EventGroupId":1,"EventType":104,"CallbackTs":1700000000123,"EventInfo":{"RoomId":1234,"UserId":"alice"}}` + "\n" + string(vector) + "\n"
	if got := stdout.String(); got != want {
		t.Fatalf("stdout\n%s\nwant\n%s", got, want)
	}
	waitFor(t, "two wrong-Sign lines on stderr", func() bool { return strings.Count(stderr.String(), "wrong Sign") == 2 })

	failing, out, errs := listen(t, "--fail-for", "1h", "--status", "503")
	if code := post(t, failing, hmacSign("", vector), vector); code != 503 {
		t.Fatalf("failing receiver answered %d", code)
	}
	waitFor(t, "the failure line", func() bool { return strings.Contains(errs.String(), "answered 503") })
	if out.String() != "" {
		t.Fatalf("a failed callback was printed: %q", out.String())
	}
	if err := exec.Command(bin, "callbacks", "listen", "--key", "has-dash").Run(); exitCode(err) != 2 {
		t.Fatalf("bad --key: %v", err)
	}
}

// testReceiver answers 200 to the events ok allows, 500 to the others, and
// records what it accepted (with Sign checked independently).
type testReceiver struct {
	t   *testing.T
	srv *httptest.Server
	mu  sync.Mutex
	ok  func(id string) bool
	got []string // X-Trtcd-Event-Id of accepted callbacks
}

func newTestReceiver(t *testing.T, key string) *testReceiver {
	r := &testReceiver{t: t}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		if req.Header.Get("Sign") != hmacSign(key, body) {
			t.Errorf("bad Sign for %s", body)
		}
		id := req.Header.Get(callbacks.HeaderEventID)
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.ok != nil && !r.ok(id) {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		r.got = append(r.got, id)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *testReceiver) setOK(f func(id string) bool) { r.mu.Lock(); r.ok = f; r.mu.Unlock() }
func (r *testReceiver) accepted() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.got...)
}

func callbackConfig(t *testing.T, url, dir string) string {
	p := filepath.Join(t.TempDir(), "trtcd.yaml")
	body := fmt.Sprintf(`
data_dir: %q
callbacks:
  retry_interval: 20ms
  retry_max_interval: 100ms
accounts:
  - name: acme
    secret_id: AKIDacme
    secret_key: acme-secret
    apps:
      - sdkappid: 1400000001
        key: app-key
        callback:
          url: %q
          key: cbKey1
`, dir, url)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// sender starts `trtcd callbacks send` and feeds it events.
func sender(t *testing.T, cfgPath string, env []string, events ...callbacks.Event) (*exec.Cmd, *tk.SyncBuffer) {
	cmd := exec.Command(bin, "callbacks", "send", "--config", cfgPath)
	cmd.Env = append(os.Environ(), env...)
	var in bytes.Buffer
	for _, ev := range events {
		b, _ := json.Marshal(ev)
		in.Write(append(b, '\n'))
	}
	stdin, err := cmd.StdinPipe() // stays open: the sender keeps running
	if err != nil {
		t.Fatal(err)
	}
	stdout := &tk.SyncBuffer{}
	cmd.Stdout, cmd.Stderr = stdout, &tk.SyncBuffer{} // its JSON logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if _, err := stdin.Write(in.Bytes()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd, stdout
}

func roomEvents(n int) []callbacks.Event {
	var evs []callbacks.Event
	now := time.Now().UnixMilli()
	for i := 1; i <= n; i++ {
		typ := callbacks.TypeEnter
		if i%2 == 0 {
			typ = callbacks.TypeLeave
		}
		evs = append(evs, callbacks.Event{App: 1400000001, Room: "1400000001:n:77", RoomNum: 77, Seq: uint64(i),
			TimeMs: now, Type: typ, User: "u", Role: "anchor", Reason: "left"})
	}
	return evs
}

func seqOf(id string) int {
	var seq int
	fmt.Sscanf(strings.Split(id, "/")[1], "%d", &seq)
	return seq
}

// A sender killed with kill -9 holding undelivered events delivers them
// after a restart on the same data_dir, in order.
func TestCallbacksSurviveKill9(t *testing.T) {
	rv := newTestReceiver(t, "cbKey1")
	rv.setOK(func(id string) bool { return seqOf(id) <= 5 }) // the first 5 get through, then it fails
	dir := t.TempDir()
	cfg := callbackConfig(t, rv.srv.URL, dir)
	const n = 20
	cmd, out := sender(t, cfg, nil, roomEvents(n)...)
	waitFor(t, "20 accepted events", func() bool { return strings.Count(out.String(), "accepted ") == n })
	waitFor(t, "the first 5 delivered", func() bool { return len(rv.accepted()) >= 5 })
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	rv.setOK(nil)
	cmd2, _ := sender(t, cfg, nil)
	waitFor(t, "all 20 after the restart", func() bool {
		seen := map[int]bool{}
		for _, id := range rv.accepted() {
			seen[seqOf(id)] = true
		}
		return len(seen) == n
	})
	// At least once: an event whose delivery was not yet recorded may come
	// twice; the first arrivals are in order.
	var first []int
	seen := map[int]bool{}
	for _, id := range rv.accepted() {
		if s := seqOf(id); !seen[s] {
			seen[s] = true
			first = append(first, s)
		}
	}
	for i, s := range first {
		if s != i+1 {
			t.Fatalf("order %v", first)
		}
	}
	cmd2.Process.Signal(syscall.SIGTERM)
	if err := cmd2.Wait(); err != nil {
		t.Fatalf("send did not stop cleanly: %v", err)
	}
}

// The dead-letter commands read the store of a data_dir: list prints what
// went dead, replay puts it back, and the next sender delivers it.
func TestCallbacksDeadletterCommands(t *testing.T) {
	rv := newTestReceiver(t, "cbKey1")
	rv.setOK(func(string) bool { return false })
	dir := t.TempDir()
	cfg := callbackConfig(t, rv.srv.URL, dir)
	cmd, _ := sender(t, cfg, []string{"TRTCD_CALLBACKS_RETRY_HORIZON=50ms"}, roomEvents(3)...)
	var lines []string
	waitFor(t, "3 dead letters", func() bool {
		out, _ := exec.Command(bin, "callbacks", "deadletter", "list", "--config", cfg).Output()
		lines = strings.Split(strings.TrimSpace(string(out)), "\n")
		return len(lines) == 3 && lines[0] != ""
	})
	var d callbacks.DeadLetter
	if err := json.Unmarshal([]byte(lines[0]), &d); err != nil || d.Room != "1400000001:n:77" || d.Seq != 1 ||
		d.EventType != 103 || d.LastError != "HTTP 500" || d.Attempts < 1 {
		t.Fatalf("list line %s: %+v %v", lines[0], d, err)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()

	if err := exec.Command(bin, "callbacks", "deadletter", "replay", "--data-dir", dir).Run(); exitCode(err) != 2 {
		t.Fatalf("replay without a selection: %v", err)
	}
	if err := exec.Command(bin, "callbacks", "deadletter", "list", "--data-dir", t.TempDir()).Run(); exitCode(err) != 1 {
		t.Fatalf("list of an empty dir: %v", err)
	}
	out, err := exec.Command(bin, "callbacks", "deadletter", "replay", "--data-dir", dir, "--all").Output()
	if err != nil || string(out) != "replayed 3\n" {
		t.Fatalf("replay: %q %v", out, err)
	}
	if out, _ := exec.Command(bin, "callbacks", "deadletter", "list", "--data-dir", dir).Output(); len(out) != 0 {
		t.Fatalf("still listed: %s", out)
	}
	rv.setOK(nil)
	sender(t, cfg, nil)
	waitFor(t, "the replayed events", func() bool { return len(rv.accepted()) == 3 })
	var got []int
	for _, id := range rv.accepted() {
		got = append(got, seqOf(id))
	}
	if !reflect.DeepEqual(got, []int{1, 2, 3}) {
		t.Fatalf("order %v", got)
	}
}

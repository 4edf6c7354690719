package node_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/trtcd/trtcd/client"
	"github.com/trtcd/trtcd/internal/cloudapi"
	"github.com/trtcd/trtcd/internal/config"
	"github.com/trtcd/trtcd/internal/node"
	"github.com/trtcd/trtcd/internal/rooms"
	tk "github.com/trtcd/trtcd/internal/testkit"
	"github.com/trtcd/trtcd/internal/testkit/await"
	"github.com/trtcd/trtcd/usersig"
)

// until waits up to 30 s for cond.
func until(t testing.TB, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// metric reads one line of /metrics, e.g. `trtcd_http_idle_closed_total`
// or `trtcd_kicks_total{reason="removed"}` (labels in the order the scrape
// shows them: sorted by name).
func metric(t testing.TB, addr, name string) int64 {
	t.Helper()
	v, ok := scrape(t, addr)[name]
	if !ok {
		t.Fatalf("no metric %s", name)
	}
	return int64(v)
}

// scrape reads every sample of /metrics over HTTP.
func scrape(t testing.TB, addr string) map[string]float64 {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("/metrics: HTTP %d", resp.StatusCode)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		i := strings.LastIndexByte(line, ' ')
		if i < 0 || strings.HasPrefix(line, "#") {
			continue
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("/metrics line %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	return out
}

func healthy(t testing.TB, addr string) {
	t.Helper()
	c := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Get("http://" + addr + "/healthz")
	if err != nil {
		t.Fatalf("/healthz: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("/healthz: %d", resp.StatusCode)
	}
}

// stalledPost opens a connection and sends a TC3 POST that declares
// declared bytes of body but sends only sent of them.
func stalledPost(t testing.TB, addr string, declared, sent int, zeros []byte) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c.SetWriteDeadline(time.Now().Add(60 * time.Second))
	fmt.Fprintf(c, "POST / HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nX-TC-Action: RemoveUser\r\nContent-Length: %d\r\n\r\n", addr, declared)
	c.Write(zeros[:sent]) // a refused request's connection may be closed meanwhile
	return c
}

// serverReceiveQueue sums the bytes that the kernel holds for the server's
// sockets on port and that the server has not read yet (/proc/net/tcp).
func serverReceiveQueue(t testing.TB, port int) int64 {
	b, err := os.ReadFile("/proc/net/tcp")
	if err != nil {
		t.Skip("no /proc/net/tcp")
	}
	var sum int64
	for _, line := range strings.Split(string(b), "\n")[1:] {
		f := strings.Fields(line)
		if len(f) < 5 {
			continue
		}
		_, lport, _ := strings.Cut(f[1], ":")
		if p, _ := strconv.ParseInt(lport, 16, 32); int(p) != port {
			continue
		}
		_, rx, _ := strings.Cut(f[4], ":")
		n, _ := strconv.ParseInt(rx, 16, 64)
		sum += n
	}
	return sum
}

// TestStalledBodiesKeepHeapBounded: 400 connections each declare a 10 MB
// body, send 1 MB of it and stall. The server reads what the body budget
// allows and refuses the rest at once, so its heap stays far below the
// 400 MB they sent, and /healthz keeps answering.
func TestStalledBodiesKeepHeapBounded(t *testing.T) {
	const conns, sent = 400, 1 << 20
	cfg := tk.Config()
	cfg.HTTPReadTimeout = config.Duration{Duration: 10 * time.Minute} // the stall outlives the test
	cfg.UnauthenticatedBodyBudget = 32 << 20
	n := tk.Start(t, cfg)
	_, portStr, _ := net.SplitHostPort(n.Addr())
	port, _ := strconv.Atoi(portStr)

	var peak atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() { // the heap's peak while the bodies arrive
		defer close(sampled)
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()

	zeros := make([]byte, sent)
	open := make([]net.Conn, 0, conns)
	defer func() {
		for _, c := range open {
			c.Close()
		}
	}()
	for i := 0; i < conns; i++ {
		open = append(open, stalledPost(t, n.Addr(), cloudapi.MaxTC3Body, sent, zeros))
		if i%100 == 0 {
			healthy(t, n.Addr())
		}
	}
	// Every byte sent has been read by the server, or its connection closed.
	until(t, "the server to drain its sockets", func() bool { return serverReceiveQueue(t, port) == 0 })
	healthy(t, n.Addr())
	close(stop)
	<-sampled
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	t.Logf("heap in use: peak %d MB, now %d MB", peak.Load()>>20, ms.HeapInuse>>20)
	if p := max(peak.Load(), ms.HeapInuse); p > 200<<20 {
		t.Fatalf("heap in use reached %d MB with %d stalled bodies", p>>20, conns)
	}
	if refused := metric(t, n.Addr(), "trtcd_api_body_budget_refused_total"); refused < conns/2 {
		t.Fatalf("only %d requests refused for the body budget", refused)
	}
	if held := metric(t, n.Addr(), "trtcd_api_body_budget_bytes"); held <= 0 || held > 32<<20 {
		t.Fatalf("budget holds %d bytes", held)
	}
}

// readUntilClosed reads what the server sends until it closes the
// connection, failing if that takes more than 30 s.
func readUntilClosed(t testing.TB, c net.Conn) string {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(30 * time.Second))
	b, err := io.ReadAll(c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("the server did not close the connection; it sent %q", b)
	}
	return string(b)
}

// TestReadDeadlinesCloseStalledRequests: a body that stalls is answered and
// its connection closed once http_read_timeout passes; headers that stall
// are closed after http_header_timeout. A WebSocket joined before both
// keeps working after them: the deadlines are not applied to /v1/ws.
func TestReadDeadlinesCloseStalledRequests(t *testing.T) {
	cfg := tk.Config()
	cfg.HTTPReadTimeout = config.Duration{Duration: 300 * time.Millisecond}
	cfg.HTTPHeaderTimeout = config.Duration{Duration: 300 * time.Millisecond}
	n := tk.Start(t, cfg)
	bob := tk.Join(t, n.Addr(), tk.App, tk.AppKey, "bob", 31, "")

	body := stalledPost(t, n.Addr(), 1000, 10, make([]byte, 10))
	defer body.Close()
	answer := readUntilClosed(t, body)
	if !strings.HasPrefix(answer, "HTTP/1.1 200") || !strings.Contains(answer, `"Code":"InvalidParameter"`) ||
		!strings.Contains(answer, "did not arrive in time") {
		t.Fatalf("stalled body answered %q", answer)
	}

	header, err := net.Dial("tcp", n.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer header.Close()
	fmt.Fprintf(header, "POST / HTTP/1.1\r\nHost: x\r\n")
	readUntilClosed(t, header)

	if got := metric(t, n.Addr(), "trtcd_api_body_timeouts_total"); got != 1 {
		t.Fatalf("body timeouts %d", got)
	}
	if got := metric(t, n.Addr(), "trtcd_http_header_timeouts_total"); got < 1 {
		t.Fatalf("header timeouts %d", got)
	}
	// bob's connection is older than both deadlines and still served.
	sdk := tk.SDK(t, n.Addr(), tk.AcmeID, tk.AcmeKey, tk.Modes[0])
	if _, err := sdk.RemoveUser(removeReq(31, "bob")); err != nil {
		t.Fatal(err)
	}
	await.Expect(t, await.Next(t, bob), "kicked", "", "removed")
}

// TestIdleKeepAliveConnectionsAreClosed: a keep-alive connection that sends
// no further request is closed by the server after http_idle_timeout.
func TestIdleKeepAliveConnectionsAreClosed(t *testing.T) {
	cfg := tk.Config()
	cfg.HTTPIdleTimeout = config.Duration{Duration: 300 * time.Millisecond}
	n := tk.Start(t, cfg)
	c, err := net.Dial("tcp", n.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != 200 || resp.Close {
		t.Fatalf("status %d, close %v: not a kept-alive connection", resp.StatusCode, resp.Close)
	}
	c.SetReadDeadline(time.Now().Add(30 * time.Second))
	if _, err := br.ReadByte(); err != io.EOF {
		t.Fatalf("idle connection not closed by the server: %v", err)
	}
	eventually(t, "the idle close counted", func() (bool, string) { // the server closes, then counts
		got := metric(t, n.Addr(), "trtcd_http_idle_closed_total")
		return got >= 1, fmt.Sprintf("idle closed %d", got)
	})
}

// TestUnknownPathsAnswer404: only "/" is the API; other paths are a plain
// 404, not an API envelope.
func TestUnknownPathsAnswer404(t *testing.T) {
	n := tk.Start(t, tk.Config())
	for _, path := range []string{"/metricz", "/v2/", "/api", "/healthz/x"} {
		resp, err := http.Post("http://"+n.Addr()+path, "application/json", strings.NewReader(`{}`))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 404 || strings.Contains(string(b), "Response") || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
			t.Fatalf("%s: %d %s %q", path, resp.StatusCode, resp.Header.Get("Content-Type"), b)
		}
	}
	resp, err := http.Get("http://" + n.Addr() + "/?Action=RemoveUser")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"Code":"MissingParameter"`) {
		t.Fatalf("/: %d %s", resp.StatusCode, b)
	}
}

// TestMaxClientsRefusesJoin: with max_clients 2 the third join is answered
// ServerFull and the room does not change; when a client leaves, a join
// is admitted again.
func TestMaxClientsRefusesJoin(t *testing.T) {
	cfg := tk.Config()
	cfg.MaxClients = 2
	n := tk.Start(t, cfg)
	alice := tk.Join(t, n.Addr(), tk.App, tk.AppKey, "alice", 5, "")
	bob := tk.Join(t, n.Addr(), tk.App, tk.AppKey, "bob", 5, "")
	await.Expect(t, await.Next(t, alice), "user_entered", "bob", "")

	_, err := join(n.Addr(), tk.App, tk.AppKey, "carol", 5)
	var ce *client.Error
	if !errors.As(err, &ce) || ce.Code != "ServerFull" || !strings.Contains(ce.Message, "maximum of 2 clients") {
		t.Fatalf("third join: %v", err)
	}
	await.Quiet(t, alice)
	if got := members(t, n, 5); got != "[alice bob]" {
		t.Fatalf("members %s", got)
	}
	if got := metric(t, n.Addr(), `trtcd_join_admission_refused_total{policy="max_clients"}`); got != 1 {
		t.Fatalf("refused joins %d", got)
	}
	bob.Close()
	until(t, "bob's connection to close", func() bool { return n.Signal.Connections() == 1 })
	carol, err := join(n.Addr(), tk.App, tk.AppKey, "carol", 5)
	if err != nil {
		t.Fatalf("join after a leave: %v", err)
	}
	carol.Close()
}

func join(addr string, app uint64, key, user string, room uint64) (*client.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p := client.JoinParams{SdkAppID: app, UserID: user, UserSig: usersig.Generate(app, key, user, time.Hour, time.Now(), nil), RoomID: room}
	return client.Join(ctx, "http://"+addr, p, client.Options{})
}

func members(t testing.TB, n *node.Node, room uint64) string {
	t.Helper()
	ms, err := n.Rooms.Members(context.Background(), rooms.NumRoom(tk.App, room))
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, m := range ms {
		ids = append(ids, m.UserID)
	}
	sort.Strings(ids)
	return fmt.Sprint(ids)
}

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// trtcdBinary builds cmd/trtcd once for the tests that need a real process.
func trtcdBinary(t testing.TB) string {
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "trtcd-node-test")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "trtcd")
		if out, err := exec.Command("go", "build", "-o", binPath, "github.com/trtcd/trtcd/cmd/trtcd").CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// TestFDHeadroomRefusesJoinsWhileHealthzAnswers runs a real `trtcd serve`
// whose RLIMIT_NOFILE is 128 with fd_headroom 48: joins are refused with
// ServerFull once 80 descriptors are open, long before accept could fail,
// and /healthz and the API still answer.
func TestFDHeadroomRefusesJoinsWhileHealthzAnswers(t *testing.T) {
	const limit, headroom = 128, 48
	bin := trtcdBinary(t)
	addr := tk.FreeAddr(t)
	cmd := exec.Command("sh", "-c", `ulimit -n `+strconv.Itoa(limit)+` && exec "$0" serve`, bin)
	cmd.Env = append(os.Environ(), "TRTCD_LISTEN="+addr, "TRTCD_DATA_DIR="+t.TempDir(), "TRTCD_FD_HEADROOM="+strconv.Itoa(headroom), "TRTCD_LOG_LEVEL=error")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	}()
	until(t, "trtcd serve to answer", func() bool {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil
	})
	http.DefaultClient.CloseIdleConnections()
	if got := metric(t, addr, "process_max_fds"); got != limit {
		t.Fatalf("descriptor limit %d, want %d", got, limit)
	}
	http.DefaultClient.CloseIdleConnections()

	var joined []*client.Conn
	defer func() {
		for _, c := range joined {
			c.Close()
		}
	}()
	var refusal error
	for i := 0; i < limit && refusal == nil; i++ {
		c, err := join(addr, config.DevSdkAppID, config.DevAppKey, tk.Name("u", i), uint64(1000+i))
		if err != nil {
			refusal = err
			break
		}
		joined = append(joined, c)
	}
	var ce *client.Error
	if !errors.As(refusal, &ce) || ce.Code != "ServerFull" || !strings.Contains(ce.Message, "file descriptors") {
		t.Fatalf("after %d joins: %v", len(joined), refusal)
	}
	if len(joined) == 0 || len(joined) > limit-headroom {
		t.Fatalf("%d joins admitted under a limit of %d and headroom %d", len(joined), limit, headroom)
	}
	healthy(t, addr)
	if got := metric(t, addr, `trtcd_join_admission_refused_total{policy="fd_headroom"}`); got != 1 {
		t.Fatalf("refused joins %d", got)
	}
	// The API still serves: removing a user frees its descriptor.
	sdk := tk.SDK(t, addr, config.DevSecretID, config.DevSecretKey, tk.Modes[0])
	req := removeReq(1000, "u0")
	req.SdkAppId = tk.U64(config.DevSdkAppID)
	if _, err := sdk.RemoveUser(req); err != nil {
		t.Fatal(err)
	}
	await.Expect(t, await.Next(t, joined[0]), "kicked", "", "removed")
}

package loadtest

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/trtcd/trtcd/client"
	"github.com/trtcd/trtcd/internal/cloudapi"
	"github.com/trtcd/trtcd/internal/procstat"
	"github.com/trtcd/trtcd/internal/trtc"
	"github.com/trtcd/trtcd/usersig"
)

// Target is the server under test and the credentials to drive it.
type Target struct {
	Server    string // http://host:port
	SecretID  string
	SecretKey string
	SdkAppID  uint64
	AppKey    string
	Sources   int       // loopback source addresses to spread connections over (127.0.0.1 …)
	Progress  io.Writer // progress lines; nil for none
}

func (t Target) progress(format string, args ...any) {
	if t.Progress != nil {
		fmt.Fprintf(t.Progress, format+"\n", args...)
	}
}

func (t Target) host() string {
	u, _ := url.Parse(t.Server)
	return u.Host
}

// dialer spreads connections over several 127.0.0.x source addresses, so
// that more than one source's worth of ephemeral ports can be used.
func (t Target) dialer(i int) *websocket.Dialer {
	d := &websocket.Dialer{HandshakeTimeout: 30 * time.Second, ReadBufferSize: 512, WriteBufferSize: 512}
	if t.Sources > 1 && strings.HasPrefix(t.host(), "127.") {
		src := &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(1+i%t.Sources))}
		nd := &net.Dialer{LocalAddr: src, Timeout: 30 * time.Second}
		d.NetDialContext = nd.DialContext
	}
	return d
}

// join joins one client; its UserSig is made here, as an app server would.
func (t Target) join(ctx context.Context, i int, user string, room uint64, strRoom, role string, heartbeat time.Duration) (*client.Conn, error) {
	sig := usersig.Generate(t.SdkAppID, t.AppKey, user, 24*time.Hour, time.Now(), nil)
	p := client.JoinParams{SdkAppID: t.SdkAppID, UserID: user, UserSig: sig, RoomID: room, StrRoomID: strRoom, Role: role}
	return client.Join(ctx, t.Server, p, client.Options{Dialer: t.dialer(i), Heartbeat: heartbeat, Buffer: 8})
}

// apiCaller sends signed API calls, re-signing at most once a second per
// caller so that signing does not dominate the client's own cost.
type apiCaller struct {
	t      Target
	client *http.Client
	action string
	body   []byte

	mu     sync.Mutex
	signed http.Header
	second int64
}

func (t Target) newCaller(action string, body []byte, conns int) *apiCaller {
	tr := &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns, IdleConnTimeout: time.Minute}
	return &apiCaller{t: t, client: &http.Client{Transport: tr, Timeout: 10 * time.Second}, action: action, body: body}
}

func (a *apiCaller) headers() http.Header {
	now := time.Now()
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.signed == nil || now.Unix() != a.second {
		r, _ := http.NewRequest(http.MethodPost, a.t.Server+"/", nil)
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("X-TC-Action", a.action)
		r.Header.Set("X-TC-Version", trtc.Version)
		r.Header.Set("X-TC-Region", trtc.DefaultClientRegion)
		cloudapi.SignTC3(r, a.body, a.t.SecretID, a.t.SecretKey, "trtc", now)
		a.signed, a.second = r.Header, now.Unix()
	}
	return a.signed
}

// call sends the caller's request and returns the Error.Code ("" on success).
func (a *apiCaller) call(ctx context.Context) (string, error) {
	r, _ := http.NewRequestWithContext(ctx, http.MethodPost, a.t.Server+"/", bytes.NewReader(a.body))
	r.Header = a.headers().Clone()
	return a.do(r)
}

// callWith signs and sends another body for the same action.
func (a *apiCaller) callWith(ctx context.Context, body []byte) (string, error) {
	r, _ := http.NewRequestWithContext(ctx, http.MethodPost, a.t.Server+"/", bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("X-TC-Action", a.action)
	r.Header.Set("X-TC-Version", trtc.Version)
	r.Header.Set("X-TC-Region", trtc.DefaultClientRegion)
	cloudapi.SignTC3(r, body, a.t.SecretID, a.t.SecretKey, "trtc", time.Now())
	return a.do(r)
}

func (a *apiCaller) do(r *http.Request) (string, error) {
	resp, err := a.client.Do(r)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return "", fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	if i := bytes.Index(b, []byte(`"Code":"`)); i >= 0 {
		rest := b[i+8:]
		return string(rest[:bytes.IndexByte(rest, '"')]), nil
	}
	return "", nil
}

func (a *apiCaller) close() { a.client.CloseIdleConnections() }

// ServerRSS reads process_resident_memory_bytes from the server's /metrics
// (trtcd_process_resident_bytes on a trtcd from before the standard process
// metrics, so one load tool measures an older build too).
func ServerRSS(server string) (int64, error) {
	v, err := metric(server, "process_resident_memory_bytes", "trtcd_process_resident_bytes")
	return int64(v), err
}

// WarmScrapes is how many times BaselineRSS reads /metrics before it keeps
// the figure: a server's first scrapes allocate its metrics encoder and
// collectors' buffers (3.8 MB of RSS on trtcd, 1.2 MB on a build from
// before the standard process metrics), and RSS is read before that
// allocation, so without them the first scrape's one-time cost was charged
// to the clients a benchmark then joins (about 5 % of its bytes per client
// at 5 000 clients).
const WarmScrapes = 2

// BaselineRSS is ServerRSS taken after WarmScrapes reads of /metrics: the
// "before" of a bytes-per-client figure.
func BaselineRSS(server string) (int64, error) {
	for range WarmScrapes {
		if _, err := scrape(context.Background(), server); err != nil {
			return 0, err
		}
	}
	return ServerRSS(server)
}

// ServerCPU reads the server's CPU seconds from its /metrics
// (process_cpu_seconds_total, or an older build's
// trtcd_process_cpu_seconds_total).
func ServerCPU(server string) (float64, error) {
	return metric(server, "process_cpu_seconds_total", "trtcd_process_cpu_seconds_total")
}

// metric reads the first of names that the server's /metrics has.
func metric(server string, names ...string) (float64, error) {
	all, err := scrape(context.Background(), server, names...)
	if err != nil {
		return 0, err
	}
	for _, name := range names {
		if v, ok := all[name]; ok {
			return v, nil
		}
	}
	return 0, fmt.Errorf("no %s in %s/metrics", strings.Join(names, " or "), server)
}

// scrape reads server's /metrics: each series (name with its labels) and
// its value; only the named metric families when any are named (the
// name[] filter of client_golang's handler; a server without it answers in
// full). While a benchmark measures the server's CPU it reads /metrics
// every 100 ms (WatchLag) and every 20 ms while it settles (Settle), when
// the server has consumer groups (history, callbacks); a whole read cost
// the server 1.1-1.6 ms of CPU, charged to the joins measured, and one
// naming only trtcd_ families 0.24-0.34 ms (docs/metrics.md).
func scrape(ctx context.Context, server string, families ...string) (map[string]float64, error) {
	u := strings.TrimRight(server, "/") + "/metrics"
	if len(families) > 0 {
		u += "?" + url.Values{"name[]": families}.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s/metrics: %s", server, resp.Status)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		series, v, ok := strings.Cut(sc.Text(), " ")
		if !ok || strings.HasPrefix(series, "#") {
			continue
		}
		if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
			out[series] = f
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading %s/metrics: %w", server, err)
	}
	return out, nil
}

// PidRSS reads a local process's resident set size.
func PidRSS(pid int) (int64, error) { return procstat.RSS(strconv.Itoa(pid)) }

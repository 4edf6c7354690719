package loadtest

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/trtcd/trtcd/internal/config"
	"github.com/trtcd/trtcd/internal/procstat"
)

// Baselines are measured in the same run as trtcd, each in a process of its
// own (this binary, re-executed) so that its memory can be read apart:
//   - "echo": a minimal WebSocket echo server with the same library and
//     settings as trtcd's signalling (256-byte read buffer, pooled write
//     buffers, the HTTP handler returning after the upgrade);
//   - "bare": a bare net/http handler that parses the JSON body and answers
//     a fixed envelope;
//   - "relay": the bare pion relay of relay.go (media).
type Baseline struct {
	Exe  string   // this binary
	Args []string // the arguments before the kind, e.g. ["bench", "baseline-server"]
}

// ServeBaseline runs a baseline server of kind on listen, printing its
// address on out, until the process is killed.
func ServeBaseline(kind, listen string, out io.Writer) error {
	var h http.Handler
	switch kind {
	case "echo":
		h = echoHandler()
	case "bare":
		h = http.HandlerFunc(bareHandler)
	case "relay":
		return ServeRelay(listen, out)
	default:
		return fmt.Errorf("unknown baseline %q", kind)
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	fmt.Fprintln(out, ln.Addr().String())
	return http.Serve(ln, h)
}

func echoHandler() http.Handler {
	up := websocket.Upgrader{ReadBufferSize: 256, WriteBufferSize: 1024, WriteBufferPool: &sync.Pool{},
		CheckOrigin: func(*http.Request) bool { return true }}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		go func() {
			defer ws.Close()
			for {
				t, b, err := ws.ReadMessage()
				if err != nil {
					return
				}
				if ws.WriteMessage(t, b) != nil {
					return
				}
			}
		}()
	})
}

func bareHandler(w http.ResponseWriter, r *http.Request) {
	var v map[string]any
	body, _ := io.ReadAll(r.Body)
	json.Unmarshal(body, &v)
	w.Header().Set("Content-Type", "application/json")
	w.Write([]byte(`{"Response":{"RequestId":"eac6b301-a322-493a-8e36-83b295459397"}}`))
}

// start launches a baseline server process and returns its address.
func (b *Baseline) start(ctx context.Context, kind string) (string, *exec.Cmd, error) {
	cmd := exec.CommandContext(ctx, b.Exe, append(append([]string{}, b.Args...), kind)...)
	// The same garbage-collector setting as trtcd's default.
	cmd.Env = append(os.Environ(), "GOGC="+strconv.Itoa(config.DefaultGCPercent))
	out, err := cmd.StdoutPipe()
	if err != nil {
		return "", nil, err
	}
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		return "", nil, fmt.Errorf("baseline %s did not start: %v", kind, err)
	}
	return strings.TrimSpace(line), cmd, nil
}

func stop(cmd *exec.Cmd) {
	cmd.Process.Kill()
	cmd.Wait()
}

// EchoFigures is what the echo baseline costs per connection.
type EchoFigures struct {
	BytesPerConn float64 // RSS growth per idle connection
	CPUMsPerConn float64 // CPU to accept, upgrade and echo one message
}

// Echo: n idle connections to the echo baseline, each having sent and
// received one message (a connection's set-up, like a join without a room).
func (b *Baseline) Echo(ctx context.Context, t Target, n int) (EchoFigures, error) {
	var fig EchoFigures
	addr, cmd, err := b.start(ctx, "echo")
	if err != nil {
		return fig, err
	}
	defer stop(cmd)
	pid := strconv.Itoa(cmd.Process.Pid)
	rss0, err := procstat.RSS(pid)
	if err != nil {
		return fig, err
	}
	cpu0, err := procstat.CPU(pid)
	if err != nil {
		return fig, err
	}
	conns := make([]*websocket.Conn, n)
	defer func() {
		for _, c := range conns {
			if c != nil {
				c.Close()
			}
		}
	}()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	sem := make(chan struct{}, 64)
	for i := 0; i < n; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			c, _, err := t.dialer(i).DialContext(ctx, "ws://"+addr+"/", nil)
			if err == nil {
				err = c.WriteMessage(websocket.TextMessage, []byte(`{"type":"ping"}`))
			}
			if err == nil {
				_, _, err = c.ReadMessage()
			}
			mu.Lock()
			defer mu.Unlock()
			if err != nil && firstErr == nil {
				firstErr = err
			}
			conns[i] = c
		}(i)
	}
	wg.Wait()
	if firstErr != nil {
		return fig, firstErr
	}
	cpu1, err := procstat.CPU(pid)
	if err != nil {
		return fig, err
	}
	time.Sleep(time.Second)
	rss1, err := procstat.RSS(pid)
	if err != nil {
		return fig, err
	}
	fig.BytesPerConn = float64(rss1-rss0) / float64(n)
	fig.CPUMsPerConn = (cpu1 - cpu0) * 1000 / float64(n)
	return fig, nil
}

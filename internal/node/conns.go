package node

import (
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"os"
	"sync/atomic"
	"syscall"
)

// connTracker counts the connections the listener has accepted and not yet
// closed, HTTP and hijacked WebSocket alike: with the descriptors open at
// start, that is the process's open descriptors, known without reading /proc
// on each join. It also tells what a read timeout meant from the state the
// HTTP server last reported for the connection.
type connTracker struct {
	open           atomic.Int64
	base           int64 // descriptors open when the listener started
	limit          int64 // RLIMIT_NOFILE
	headerTimeouts atomic.Int64
	idleClosed     atomic.Int64
}

func newConnTracker() *connTracker {
	t := &connTracker{base: openDescriptors(), limit: 1 << 20}
	var rl syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl) == nil && rl.Cur < 1<<62 {
		t.limit = int64(rl.Cur)
	}
	return t
}

// openDescriptors counts this process's open descriptors once, at start.
func openDescriptors() int64 {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return 16
	}
	return int64(len(ents)) - 1 // the directory's own descriptor
}

// Descriptors is the signal server's view: open descriptors and the limit.
func (t *connTracker) Descriptors() (open, limit int64) { return t.base + t.open.Load(), t.limit }

// connState records the HTTP server's view of a connection (http.Server.ConnState).
func (t *connTracker) connState(c net.Conn, s http.ConnState) {
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	if tc, ok := c.(*trackedConn); ok {
		tc.state.Store(int32(s))
	}
}

type trackedListener struct {
	net.Listener
	t *connTracker
}

func (l trackedListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.t.open.Add(1)
	return &trackedConn{Conn: c, t: l.t}, nil
}

type trackedConn struct {
	net.Conn
	t      *connTracker
	state  atomic.Int32 // http.ConnState
	closed atomic.Bool
}

// Read counts the timeouts of the HTTP server's own deadlines: waiting for
// a request's headers (http_header_timeout) and for the next request on an
// idle keep-alive connection (http_idle_timeout). Body deadlines are counted
// by the API; a WebSocket's by its own idle policy.
func (c *trackedConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			switch http.ConnState(c.state.Load()) {
			case http.StateNew:
				c.t.headerTimeouts.Add(1)
			case http.StateIdle:
				c.t.idleClosed.Add(1)
			}
		}
	}
	return n, err
}

func (c *trackedConn) Close() error {
	if c.closed.CompareAndSwap(false, true) {
		c.t.open.Add(-1)
	}
	return c.Conn.Close()
}

// CloseWrite lets the HTTP server half-close before closing, as it does with
// a bare TCP connection.
func (c *trackedConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// NetConn is the accepted connection, for code that tunes its socket.
func (c *trackedConn) NetConn() net.Conn { return c.Conn }

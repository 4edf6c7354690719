package callbacks

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// wire is the HTTP client of one app's receiver: HTTP/1.1 with keep-alive,
// one request at a time per connection, written for the one request a
// callback is. The worker that sends a request writes it and reads the
// answer itself, on a connection it takes from the idle list and puts back
// once the answer has been read to its end.
//
// Why not net/http's client: for this request it spent about 130 µs of
// server CPU per callback (two goroutines per connection and the hand-overs
// between them, header maps, the answer's MIME parsing), 40 % of the
// server's CPU in a kick phase with callbacks on; this costs about a third
// of that (docs/benchmarks.md, eighth session). What it leaves out, and
// callbacks do not need: proxies (HTTP_PROXY is not used: the receiver is
// dialled directly), HTTP/2, redirects (never followed anyway),
// compression, cookies. user:password in the URL is sent as Basic
// authorization, as net/http did.
type wire struct {
	addr    string      // host:port to dial
	host    string      // the Host header
	auth    string      // the Authorization header ("" for none)
	target  string      // the request-target: path and query
	tls     *tls.Config // nil for http
	dial    func(ctx context.Context, network, addr string) (net.Conn, error)
	maxIdle int

	mu     sync.Mutex
	idle   []*wireConn
	closed bool

	// Connections dialled, closed for idling past wireIdleTimeout, and
	// found closed by the receiver when taken from the idle list (Stats).
	dialed, expired, stale atomic.Uint64
}

// wireIdleTimeout is how long a connection may wait in the idle list; an
// older one is closed rather than used (a NAT or a firewall may have
// dropped it without a word, and a request on it would wait for the whole
// timeout). net/http's default is 90 s.
const wireIdleTimeout = 60 * time.Second

// wireConn is one connection and its read buffer.
type wireConn struct {
	net.Conn
	br        *bufio.Reader
	buf       []byte    // the request being written
	idleSince time.Time // when it went back to the idle list
}

// header is one request header.
type header struct{ name, value string }

// errAnswerTooLarge is an answer whose headers or body exceed the caps
// (MaxAnswerHeaderBytes, MaxAnswerBytes); its text says which.
type errAnswerTooLarge struct{ msg string }

func (e errAnswerTooLarge) Error() string { return e.msg }

// errStale: a connection taken from the idle list failed before any byte of
// the answer came (the receiver had closed it while idle).
type errStale struct{ err error }

func (e errStale) Error() string { return e.err.Error() }
func (e errStale) Unwrap() error { return e.err }

// newWire makes the client of rawURL, with o's Concurrency idle
// connections at most, its DialContext and its TLS.
func newWire(rawURL string, o Options) (*wire, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, err
	}
	w := &wire{host: u.Host, target: u.RequestURI(), dial: o.DialContext, maxIdle: o.Concurrency}
	if u.User != nil {
		pw, _ := u.User.Password()
		w.auth = "Basic " + base64.StdEncoding.EncodeToString([]byte(u.User.Username()+":"+pw))
	}
	port := u.Port()
	switch u.Scheme {
	case "http":
		if port == "" {
			port = "80"
		}
	case "https":
		if port == "" {
			port = "443"
		}
		w.tls = &tls.Config{}
		if o.TLS != nil {
			w.tls = o.TLS.Clone()
		}
		if w.tls.ServerName == "" {
			w.tls.ServerName = u.Hostname()
		}
		w.tls.NextProtos = []string{"http/1.1"}
	default:
		return nil, fmt.Errorf("callback URL %q: the scheme must be http or https", rawURL)
	}
	if u.Hostname() == "" {
		return nil, fmt.Errorf("callback URL %q has no host", rawURL)
	}
	w.addr = net.JoinHostPort(u.Hostname(), port)
	if w.dial == nil {
		w.dial = (&net.Dialer{KeepAlive: 30 * time.Second}).DialContext
	}
	return w, nil
}

// post sends one POST with hs and body and reads the answer; it returns the
// answer's status. When a connection from the idle list fails before any
// byte of the answer (the receiver had closed it), the request goes once
// more on a new connection: the receiver may then get it twice, if it had
// read it and died before answering (at least once, docs/callbacks.md).
func (w *wire) post(ctx context.Context, hs []header, body []byte) (int, error) {
	for try := 0; ; try++ {
		c, reused, err := w.conn(ctx, try > 0)
		if err != nil {
			return 0, err
		}
		status, keep, err := w.roundTrip(ctx, c, hs, body)
		if err == nil && keep {
			w.put(c)
		} else {
			c.Close()
		}
		var stale errStale
		if err != nil && reused && try == 0 && errors.As(err, &stale) && ctx.Err() == nil {
			w.stale.Add(1)
			continue
		}
		return status, err
	}
}

// conn takes an idle connection (unless fresh) or dials a new one; reused
// tells which. Connections idle longer than wireIdleTimeout are closed.
func (w *wire) conn(ctx context.Context, fresh bool) (c *wireConn, reused bool, err error) {
	var old []*wireConn
	w.mu.Lock()
	for !fresh && c == nil && len(w.idle) > 0 {
		n := len(w.idle)
		c = w.idle[n-1]
		w.idle[n-1] = nil
		w.idle = w.idle[:n-1]
		if time.Since(c.idleSince) > wireIdleTimeout {
			old, c = append(old, c), nil
			w.expired.Add(1)
		}
	}
	w.mu.Unlock()
	for _, o := range old {
		o.Close()
	}
	if c != nil {
		return c, true, nil
	}
	nc, err := w.dial(ctx, "tcp", w.addr)
	if err != nil {
		return nil, false, err
	}
	w.dialed.Add(1)
	if w.tls != nil {
		tc := tls.Client(nc, w.tls)
		if err := tc.HandshakeContext(ctx); err != nil {
			nc.Close()
			return nil, false, err
		}
		nc = tc
	}
	return &wireConn{Conn: nc, br: bufio.NewReaderSize(nc, MaxAnswerHeaderBytes)}, false, nil
}

// put returns a connection whose answer was read to its end.
func (w *wire) put(c *wireConn) {
	w.mu.Lock()
	if w.closed || len(w.idle) >= w.maxIdle {
		w.mu.Unlock()
		c.Close()
		return
	}
	c.idleSince = time.Now()
	w.idle = append(w.idle, c)
	w.mu.Unlock()
}

// close closes the idle connections; those in use are closed when their
// request ends.
func (w *wire) close() {
	w.mu.Lock()
	idle := w.idle
	w.idle, w.closed = nil, true
	w.mu.Unlock()
	for _, c := range idle {
		c.Close()
	}
}

// roundTrip writes the request on c and reads the answer; keep tells
// whether c can carry another request. ctx's deadline is c's, and ctx's
// end interrupts a request in progress.
func (w *wire) roundTrip(ctx context.Context, c *wireConn, hs []header, body []byte) (status int, keep bool, err error) {
	dl, _ := ctx.Deadline()
	if err := c.SetDeadline(dl); err != nil {
		return 0, false, err
	}
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Unix(1, 0)) })
	defer func() {
		if !stop() {
			keep = false // ctx ended meanwhile: its deadline may land on c later
		}
	}()
	b := append(c.buf[:0], "POST "...)
	b = append(b, w.target...)
	b = append(b, " HTTP/1.1\r\nHost: "...)
	b = append(b, w.host...)
	b = append(b, "\r\nUser-Agent: trtcd\r\n"...)
	if w.auth != "" {
		b = append(b, "Authorization: "...)
		b = append(b, w.auth...)
		b = append(b, "\r\n"...)
	}
	for _, h := range hs {
		if !validHeaderValue(h.value) {
			return 0, false, fmt.Errorf("header %s: a value with control characters", h.name)
		}
		b = append(b, h.name...)
		b = append(b, ": "...)
		b = append(b, h.value...)
		b = append(b, "\r\n"...)
	}
	b = append(b, "Content-Length: "...)
	b = strconv.AppendInt(b, int64(len(body)), 10)
	b = append(b, "\r\n\r\n"...)
	b = append(b, body...)
	c.buf = b
	if _, err := c.Write(b); err != nil {
		return 0, false, stale(err)
	}
	status, keep, err = readAnswer(c.br)
	// Bytes after the answer (a second, unasked one) would be taken for the
	// next request's answer.
	return status, keep && c.br.Buffered() == 0, err
}

// stale marks err as a failure before any answer (errStale), unless it is
// the deadline: a request that timed out is not sent again.
func stale(err error) error {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return err
	}
	return errStale{err}
}

func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if b := v[i]; (b < ' ' && b != '\t') || b == 0x7f {
			return false
		}
	}
	return true
}

// readAnswer reads an HTTP/1.x answer from br: its status, and whether the
// connection may carry another request (HTTP/1.1 without Connection: close,
// its body read to its end). At most MaxAnswerHeaderBytes of headers and
// MaxAnswerBytes of body are read; more is errAnswerTooLarge. Interim
// answers (1xx but 101) are skipped.
func readAnswer(br *bufio.Reader) (status int, keep bool, err error) {
	budget := MaxAnswerHeaderBytes
	first := true
	var a answerHead
	for {
		line, err := readLine(br, &budget)
		if err != nil {
			if first && len(line) == 0 && !errors.As(err, new(errAnswerTooLarge)) {
				return 0, false, stale(err)
			}
			return 0, false, err
		}
		first = false
		if a, err = parseStatusLine(line); err != nil {
			return 0, false, err
		}
		if err := a.readHeaders(br, &budget); err != nil {
			return 0, false, err
		}
		if a.status >= 200 || a.status == 101 {
			break
		}
	}
	if a.status == 101 {
		return a.status, false, nil // switching protocols: not an answer a callback can take
	}
	tooLarge := errAnswerTooLarge{fmt.Sprintf("HTTP %d with an answer longer than %d bytes", a.status, MaxAnswerBytes)}
	keep = a.keepAlive
	switch {
	case a.status == 204 || a.status == 304:
	case a.chunked:
		if err := readChunked(br, &budget, tooLarge); err != nil {
			return 0, false, err
		}
	case a.length >= 0:
		if a.length > MaxAnswerBytes {
			return 0, false, tooLarge
		}
		if _, err := br.Discard(int(a.length)); err != nil {
			return 0, false, err
		}
	default: // the body ends when the connection does
		n, err := io.Copy(io.Discard, io.LimitReader(br, MaxAnswerBytes+1))
		if n > MaxAnswerBytes {
			return 0, false, tooLarge
		}
		if err != nil {
			return 0, false, err
		}
		keep = false
	}
	return a.status, keep, nil
}

// answerHead is what readAnswer needs of the status line and headers.
type answerHead struct {
	status    int
	length    int64 // Content-Length; -1 when absent
	chunked   bool
	keepAlive bool
}

// parseStatusLine reads "HTTP/1.x NNN reason".
func parseStatusLine(line []byte) (answerHead, error) {
	a := answerHead{length: -1}
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' || (len(line) > 12 && line[12] != ' ') {
		return a, fmt.Errorf("malformed HTTP answer %q", truncate(line))
	}
	code, err := strconv.Atoi(string(line[9:12]))
	if err != nil || code < 100 {
		return a, fmt.Errorf("malformed HTTP status %q", truncate(line))
	}
	a.status, a.keepAlive = code, line[7] == '1'
	return a, nil
}

// readHeaders reads the header block up to its empty line.
func (a *answerHead) readHeaders(br *bufio.Reader, budget *int) error {
	a.length, a.chunked = -1, false
	for {
		line, err := readLine(br, budget)
		if err != nil {
			return err
		}
		if len(line) == 0 {
			return nil
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return fmt.Errorf("malformed answer header %q", truncate(line))
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			n, err := strconv.ParseInt(string(value), 10, 64)
			if err != nil || n < 0 || (a.length >= 0 && n != a.length) {
				return fmt.Errorf("malformed Content-Length %q", truncate(value))
			}
			a.length = n
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			a.chunked = hasToken(value, "chunked")
			if !a.chunked {
				return fmt.Errorf("unsupported Transfer-Encoding %q", truncate(value))
			}
		case bytes.EqualFold(name, []byte("Connection")):
			if hasToken(value, "close") {
				a.keepAlive = false
			}
		}
	}
}

// readChunked reads a chunked body (and its trailers), at most
// MaxAnswerBytes of data.
func readChunked(br *bufio.Reader, budget *int, tooLarge error) error {
	total := int64(0)
	for {
		line, err := readLine(br, budget)
		if err != nil {
			return err
		}
		size, _, _ := bytes.Cut(line, []byte(";"))
		n, err := strconv.ParseInt(string(bytes.TrimSpace(size)), 16, 64)
		if err != nil || n < 0 {
			return fmt.Errorf("malformed chunk size %q", truncate(line))
		}
		if n == 0 {
			for { // trailers, up to the empty line
				line, err := readLine(br, budget)
				if err != nil || len(line) == 0 {
					return err
				}
			}
		}
		if n > MaxAnswerBytes-total {
			return tooLarge
		}
		total += n
		if _, err := br.Discard(int(n)); err != nil {
			return err
		}
		if line, err := readLine(br, budget); err != nil || len(line) != 0 {
			if err == nil {
				err = errors.New("malformed chunk: no CRLF after its data")
			}
			return err
		}
	}
}

// readLine reads one line without its CRLF (or LF), charging it to budget.
func readLine(br *bufio.Reader, budget *int) ([]byte, error) {
	line, err := br.ReadSlice('\n')
	*budget -= len(line)
	switch {
	case errors.Is(err, bufio.ErrBufferFull) || *budget < 0:
		return nil, errAnswerTooLarge{"answer headers too large"}
	case err != nil:
		return line, err
	}
	line = bytes.TrimSuffix(line[:len(line)-1], []byte("\r"))
	return line, nil
}

func hasToken(v []byte, token string) bool {
	for _, t := range bytes.Split(v, []byte(",")) {
		if bytes.EqualFold(bytes.TrimSpace(t), []byte(token)) {
			return true
		}
	}
	return false
}

func truncate(b []byte) []byte {
	if len(b) > 64 {
		return b[:64]
	}
	return b
}

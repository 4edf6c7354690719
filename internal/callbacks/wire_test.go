package callbacks

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"testing/iotest"
)

// readAnswer against answers as receivers write them, and malformed ones.
func TestReadAnswer(t *testing.T) {
	big := strings.Repeat("x", MaxAnswerBytes+1)
	for _, c := range []struct {
		name, answer string
		status       int
		keep         bool
		err          string // a substring of the error; "" for none
	}{
		{"length", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{\"code\":0}", 200, true, ""},
		{"no reason", "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n", 200, true, ""},
		{"LF only", "HTTP/1.1 200 OK\nContent-Length: 2\n\nok", 200, true, ""},
		{"chunked", "HTTP/1.1 500 Oops\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n2\r\nde\r\n0\r\nTrailer: 1\r\n\r\n", 500, true, ""},
		{"connection close", "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", 200, false, ""},
		{"HTTP/1.0", "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", 200, false, ""},
		{"until close", "HTTP/1.1 200 OK\r\n\r\nthe body", 200, false, ""},
		{"no body 204", "HTTP/1.1 204 No Content\r\n\r\n", 204, true, ""},
		{"interim 100 skipped", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 200, true, ""},
		{"redirect", "HTTP/1.1 307 Temporary Redirect\r\nLocation: http://elsewhere/\r\nContent-Length: 0\r\n\r\n", 307, true, ""},
		{"switching protocols", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n", 101, false, ""},

		{"empty", "", 0, false, "EOF"},
		{"not HTTP", "SSH-2.0-OpenSSH\r\n\r\n", 0, false, "malformed HTTP answer"},
		{"bad code", "HTTP/1.1 2x0 OK\r\n\r\n", 0, false, "malformed HTTP status"},
		{"code below 100", "HTTP/1.1 099 OK\r\n\r\n", 0, false, "malformed HTTP status"},
		{"header without colon", "HTTP/1.1 200 OK\r\nbroken\r\n\r\n", 0, false, "malformed answer header"},
		{"bad length", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", 0, false, "malformed Content-Length"},
		{"two lengths", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nx", 0, false, "malformed Content-Length"},
		{"gzip encoding", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", 0, false, "unsupported Transfer-Encoding"},
		{"bad chunk size", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 0, false, "malformed chunk size"},
		{"chunk without CRLF", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nxy\r\n0\r\n\r\n", 0, false, "no CRLF"},
		{"short body", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", 0, false, "EOF"},
		{"cut in headers", "HTTP/1.1 200 OK\r\nContent-Le", 0, false, "EOF"},
		{"long length", "HTTP/1.1 200 OK\r\nContent-Length: 4097\r\n\r\n", 0, false, "HTTP 200 with an answer longer than 4096 bytes"},
		{"long body until close", "HTTP/1.1 200 OK\r\n\r\n" + big, 0, false, "longer than 4096 bytes"},
		{"chunk sizes that overflow", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n7fffffffffffffff\r\n", 0, false, "longer than 4096 bytes"},
		{"long chunked body", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1001\r\n" + big + "\r\n0\r\n\r\n", 0, false, "longer than 4096 bytes"},
		{"huge headers", "HTTP/1.1 200 OK\r\n" + strings.Repeat("X-A: "+strings.Repeat("a", 100)+"\r\n", 200) + "\r\n", 0, false, "answer headers too large"},
		{"one huge header", "HTTP/1.1 200 OK\r\nX-A: " + strings.Repeat("a", MaxAnswerHeaderBytes) + "\r\n\r\n", 0, false, "answer headers too large"},
	} {
		t.Run(c.name, func(t *testing.T) {
			br := bufio.NewReaderSize(strings.NewReader(c.answer), MaxAnswerHeaderBytes)
			status, keep, err := readAnswer(br)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error %v, want one with %q", err, c.err)
				}
				return
			}
			if err != nil || status != c.status || keep != c.keep {
				t.Fatalf("got %d keep=%v %v, want %d keep=%v", status, keep, err, c.status, c.keep)
			}
			if keep && br.Buffered() != 0 {
				t.Fatalf("%d bytes of the answer left unread on a kept connection", br.Buffered())
			}
		})
	}
}

// Only an answer that never began, on a reused connection, is a stale
// connection (sent again on a new one); a too-large one is not.
func TestReadAnswerStale(t *testing.T) {
	_, _, err := readAnswer(bufio.NewReader(strings.NewReader("")))
	if !errors.As(err, new(errStale)) {
		t.Fatalf("no answer at all: %v is not stale", err)
	}
	_, _, err = readAnswer(bufio.NewReader(strings.NewReader("HTTP/1.1 2")))
	if errors.As(err, new(errStale)) {
		t.Fatalf("half an answer: %v is stale", err)
	}
	_, _, err = readAnswer(bufio.NewReader(iotest.ErrReader(os.ErrDeadlineExceeded)))
	if errors.As(err, new(errStale)) || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("no answer within the timeout: %v is stale (it would be sent again)", err)
	}
}

// A receiver that sends a second answer nobody asked for: the connection
// is not used again (that answer would pass for the next request's).
func TestExtraAnswerBytesCloseTheConnection(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var conns atomic.Int64
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				for {
					req, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					io.Copy(io.Discard, req.Body)
					c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nHTTP/1.1 500 Unasked\r\nContent-Length: 0\r\n\r\n"))
				}
			}()
		}
	}()
	w, err := newWire("http://"+ln.Addr().String()+"/cb", Options{Concurrency: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer w.close()
	for i := 0; i < 2; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		status, err := w.post(ctx, nil, []byte("{}"))
		cancel()
		if err != nil || status != 200 {
			t.Fatalf("request %d: %d %v (the unasked 500 taken for its answer?)", i, status, err)
		}
	}
	if n := conns.Load(); n != 2 {
		t.Fatalf("%d connections for 2 requests", n)
	}
}

// user:password in the receiver's URL is sent as Basic authorization.
func TestURLUserInfoIsBasicAuthorization(t *testing.T) {
	var user, pass atomic.Value
	rv := newReceiver(t, "")
	rv.setBehave(func(w http.ResponseWriter, r *http.Request, n int) bool {
		u, p, _ := r.BasicAuth()
		user.Store(u)
		pass.Store(p)
		return false
	})
	url := strings.Replace(rv.url(), "http://", "http://cb-user:s3cret@", 1)
	s := start(t, t.TempDir(), fast(AppConfig{SdkAppID: app1, URL: url}))
	handle(t, s, ev(app1, 1, 1, TypeEnter, "u", "anchor", ""))
	await(t, "the delivery", func() bool { return len(rv.delivered()) == 1 })
	if user.Load() != "cb-user" || pass.Load() != "s3cret" {
		t.Fatalf("basic authorization %v:%v", user.Load(), pass.Load())
	}
}

// A receiver that closes its idle keep-alive connections (as servers do
// after their idle timeout) costs no failed attempt: the request that finds
// its connection closed goes again on a new one.
func TestClosedIdleConnectionIsReplaced(t *testing.T) {
	var conns atomic.Int64
	rv := newReceiverWith(t, "", func(srv *http.Server) {
		srv.ConnState = func(c net.Conn, st http.ConnState) {
			switch st {
			case http.StateNew:
				conns.Add(1)
			case http.StateIdle:
				c.Close() // as an idle timeout would, right after each answer
			}
		}
	})
	opts := fast(AppConfig{SdkAppID: app1, URL: rv.url()})
	s := start(t, t.TempDir(), opts)
	for seq := uint64(1); seq <= 3; seq++ {
		handle(t, s, ev(app1, 1, seq, TypeEnter, "u", "anchor", ""))
		await(t, "the delivery", func() bool { return len(rv.delivered()) == int(seq) })
	}
	st := s.Stats()
	if n := st.Deliveries[DeliveryKey{app1, EventEnterRoom, OutcomeOK}]; n != 3 {
		t.Errorf("%d deliveries ok, want 3 (%+v)", n, st.Deliveries)
	}
	if st.Retries[app1] != 0 {
		t.Errorf("retries %v: a closed idle connection counted as a failed attempt", st.Retries)
	}
	if conns.Load() < 3 {
		t.Errorf("%d connections for 3 requests whose connections were closed after each", conns.Load())
	}
	if c := st.Connections; c["dialed"] != uint64(conns.Load()) || c["stale"] == 0 || c["stale"] > 2 {
		t.Errorf("connections %v; the receiver accepted %d", c, conns.Load())
	}
}

// An https receiver gets its callbacks over TLS, on a kept connection.
func TestHTTPSReceiver(t *testing.T) {
	var got atomic.Int64
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS == nil || r.Header.Get(HeaderEventID) == "" {
			t.Errorf("TLS %v, event id %q", r.TLS != nil, r.Header.Get(HeaderEventID))
		}
		got.Add(1)
		w.Write([]byte(`{"code":0}`))
	}))
	srv.Config.ConnState = func(c net.Conn, st http.ConnState) {
		if st == http.StateNew {
			conns.Add(1)
		}
	}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	opts := fast(AppConfig{SdkAppID: app1, URL: srv.URL + "/cb"})
	opts.TLS = srv.Client().Transport.(*http.Transport).TLSClientConfig
	s := start(t, t.TempDir(), opts)
	handle(t, s, ev(app1, 1, 1, TypeEnter, "u", "anchor", ""), ev(app1, 1, 2, TypeLeave, "u", "anchor", "left"))
	await(t, "2 callbacks over TLS", func() bool { return got.Load() == 2 })
	if n := conns.Load(); n != 1 {
		t.Errorf("%d connections for 2 callbacks in a row", n)
	}
}

// A header value with a control character is refused, not written.
func TestHeaderValueWithControlCharacterIsRefused(t *testing.T) {
	if validHeaderValue("a\r\nX-Evil: 1") || validHeaderValue("a\x00") || !validHeaderValue("1400000001:s:room-1/3/103/1700000000000") {
		t.Fatal("validHeaderValue")
	}
}

func FuzzReadAnswer(f *testing.F) {
	for _, s := range []string{
		"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{\"code\":0}",
		"HTTP/1.1 500 Oops\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
		"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n\r\nbody",
		"HTTP/1.0 302 Found\r\nLocation: /\r\nConnection: close\r\n\r\n",
		"", "HTTP/1.1 2", "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		br := bufio.NewReaderSize(strings.NewReader(string(b)), MaxAnswerHeaderBytes)
		status, keep, err := readAnswer(br)
		if err != nil {
			return
		}
		if status < 100 || status > 999 {
			t.Fatalf("status %d from %q", status, b)
		}
		if keep && !strings.HasPrefix(string(b), "HTTP/1.1") {
			t.Fatalf("kept a connection after %q", b)
		}
	})
}

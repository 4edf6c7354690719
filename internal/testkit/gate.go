package testkit

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"testing"
)

// RedisGate is a TCP proxy in front of a Redis server that can hold a
// node's Redis traffic right after a chosen command, deterministically.
//
// Why: a fault test wants Redis to stall between two commands of one
// operation (say, after a join's session-index entry and before its enter
// script). Stopping redis-server when a MONITOR connection sees the first
// command races the node, which may send and Redis may run the second
// command before the signal lands (on a loaded machine it always does). The
// gate instead decides inside the byte stream: it forwards the matching
// command, and every client command it reads after that one is held until
// Release. A command the node sends only after the first one's reply is
// therefore always held.
//
// The gate splits the client→server stream into whole RESP commands, so a
// command is matched and forwarded whole however TCP cuts it into reads.
// Replies (server→client) are never held. While the hold lasts, nothing the
// node sends reaches Redis, as if Redis were stopped; other clients of the
// server, connected directly, go on.
type RedisGate struct {
	Addr string
	srv  string // the real server's address

	mu      sync.Mutex
	changed *sync.Cond // on mu: the hold ended or the gate closed
	parts   [][]byte   // the armed trigger, lower case; nil when none
	held    bool       // holding: no client command is forwarded
	fired   chan struct{}
	closed  bool
	conns   map[net.Conn]struct{}

	l  net.Listener
	wg sync.WaitGroup
}

// StartRedisGate starts a gate to srv on a free loopback port; it is closed
// (held commands dropped, connections closed, goroutines waited for) when
// the test ends. Clean-ups run last-first, so a node started after the gate
// shuts down while the gate still forwards.
func StartRedisGate(t testing.TB, srv *Redis) *RedisGate {
	t.Helper()
	// Listening on port 0 is race-free here: the listener is ours and stays
	// open (FreeAddr is for servers that another process starts later).
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := &RedisGate{Addr: l.Addr().String(), srv: srv.Addr, l: l, conns: map[net.Conn]struct{}{}}
	g.changed = sync.NewCond(&g.mu)
	g.wg.Add(1)
	go g.accept()
	t.Cleanup(g.close)
	return g
}

// URL is the redis:// URL of the gate, for a node's config.
func (g *RedisGate) URL() string { return "redis://" + g.Addr + "/0" }

// HoldAfter arms the gate: the first client command (on any connection)
// that contains every one of parts, compared case-insensitively, is
// forwarded, and from then on no further client command is forwarded, on
// any connection, until Release. The returned channel is closed when that
// command has been seen.
func (g *RedisGate) HoldAfter(parts ...string) <-chan struct{} {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.parts = make([][]byte, len(parts))
	for i, p := range parts {
		g.parts[i] = bytes.ToLower([]byte(p))
	}
	g.fired = make(chan struct{})
	return g.fired
}

// Release ends a hold (or disarms a trigger that has not fired): the held
// commands are forwarded, each connection's in its order.
func (g *RedisGate) Release() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.parts, g.held = nil, false
	g.changed.Broadcast()
}

// admit waits while the gate holds, then reports whether cmd may be
// forwarded (false once the gate is closed); a command that fires the
// trigger is forwarded and starts the hold.
func (g *RedisGate) admit(cmd []byte) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	for g.held && !g.closed {
		g.changed.Wait()
	}
	if g.closed {
		return false
	}
	if g.parts != nil {
		lower := bytes.ToLower(cmd)
		all := true
		for _, p := range g.parts {
			all = all && bytes.Contains(lower, p)
		}
		if all {
			g.parts, g.held = nil, true
			close(g.fired)
		}
	}
	return true
}

func (g *RedisGate) accept() {
	defer g.wg.Done()
	for {
		c, err := g.l.Accept()
		if err != nil {
			return // closed
		}
		s, err := net.Dial("tcp", g.srv)
		if err != nil {
			c.Close()
			continue
		}
		g.mu.Lock()
		if g.closed {
			g.mu.Unlock()
			c.Close()
			s.Close()
			return
		}
		g.conns[c], g.conns[s] = struct{}{}, struct{}{}
		g.wg.Add(2)
		g.mu.Unlock()
		go g.pipe(c, s)
		go func() { // replies: never held
			defer g.wg.Done()
			io.Copy(c, s)
			g.drop(c, s)
		}()
	}
}

// pipe forwards c's commands to s, one whole command at a time, through
// admit.
func (g *RedisGate) pipe(c, s net.Conn) {
	defer g.wg.Done()
	defer g.drop(c, s)
	r := bufio.NewReader(c)
	for {
		cmd, err := readCommand(r)
		if err != nil || !g.admit(cmd) {
			return
		}
		if _, err := s.Write(cmd); err != nil {
			return
		}
	}
}

// drop closes both ends of a proxied connection.
func (g *RedisGate) drop(c, s net.Conn) {
	g.mu.Lock()
	delete(g.conns, c)
	delete(g.conns, s)
	g.mu.Unlock()
	c.Close()
	s.Close()
}

func (g *RedisGate) close() {
	g.mu.Lock()
	g.closed = true
	g.changed.Broadcast()
	for c := range g.conns {
		c.Close()
	}
	g.mu.Unlock()
	g.l.Close()
	g.wg.Wait()
}

// readCommand reads one client command, raw: a RESP array of bulk strings
// (*N, then N times $len and the bytes), or an inline command (one line).
func readCommand(r *bufio.Reader) ([]byte, error) {
	line, err := r.ReadBytes('\n')
	if err != nil || line[0] != '*' {
		return line, err // an inline command, or the end
	}
	n, err := respLen(line)
	if err != nil {
		return nil, err
	}
	cmd := line
	for range n {
		hdr, err := r.ReadBytes('\n')
		if err != nil {
			return nil, err
		}
		if hdr[0] != '$' {
			return nil, fmt.Errorf("gate: not a bulk string: %q", hdr)
		}
		size, err := respLen(hdr)
		if err != nil {
			return nil, err
		}
		body := make([]byte, size+2) // with its \r\n
		if _, err := io.ReadFull(r, body); err != nil {
			return nil, err
		}
		cmd = append(append(cmd, hdr...), body...)
	}
	return cmd, nil
}

// respLen is the number in a RESP header line such as "*3\r\n" or "$5\r\n".
func respLen(line []byte) (int, error) {
	n, err := strconv.Atoi(string(bytes.TrimRight(line[1:], "\r\n")))
	if err != nil || n < 0 {
		return 0, fmt.Errorf("gate: bad RESP header %q", line)
	}
	return n, nil
}

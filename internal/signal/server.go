// Package signal owns client connections: the WebSocket join handshake
// (authorised by package joinauth), writing room notices, heartbeats, and
// closing. The wire types are package protocol's; room logic stays in
// package rooms.
package signal

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/trtcd/trtcd/internal/joinauth"
	"github.com/trtcd/trtcd/internal/rooms"
	"github.com/trtcd/trtcd/protocol"
)

// Path is where clients connect.
const Path = protocol.Path

// DefaultIdleTimeout is how long a client may stay silent before it is
// removed (reason timeout), unless idle_timeout says otherwise.
const DefaultIdleTimeout = 10 * time.Second

// Config tunes the connection policies; zero values take the defaults.
type Config struct {
	IdleTimeout  time.Duration // a client silent this long is removed (timeout); default DefaultIdleTimeout
	MaxFrame     int           // largest client frame in bytes; default protocol.DefaultMaxFrame (4096)
	QueueLen     int           // outbound notices held per client before it counts as slow; default 128
	WriteTimeout time.Duration // one write may take this long; default 10 s
	SendBuffer   int           // kernel send buffer per connection in bytes; default 32 KiB
	// MaxClients refuses a join (ServerFull) while more client connections
	// than this are open, the joining one included; 0: no limit.
	MaxClients int
	// Descriptors reports the process's open file descriptors and its limit
	// (RLIMIT_NOFILE); a join is refused (ServerFull) while open >= limit -
	// FDHeadroom, so that the API and /healthz keep descriptors to accept
	// with. nil: not checked.
	Descriptors func() (open, limit int64)
	FDHeadroom  int64
	// MaxSkew and Now are the join authorisation's clock policy
	// (joinauth.Config): how far ahead a UserSig's TLS.time may be, default
	// usersig.DefaultMaxSkew; and the clock, default time.Now.
	MaxSkew time.Duration
	Now     func() time.Time
	Log     *slog.Logger
	// Media carries the clients' media_ frames; nil: they are answered
	// with a media_error (FailedOperation.MediaDisabled).
	Media Media
}

func (c *Config) defaults() {
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = DefaultIdleTimeout
	}
	if c.MaxFrame <= 0 {
		c.MaxFrame = protocol.DefaultMaxFrame
	}
	if c.QueueLen <= 0 {
		c.QueueLen = 128
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = 10 * time.Second
	}
	if c.SendBuffer <= 0 {
		c.SendBuffer = 32 << 10
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
}

// Server accepts client connections at Path.
type Server struct {
	hub  *rooms.Hub
	auth *joinauth.Authorizer
	cfg  Config
	up   websocket.Upgrader

	mu       sync.Mutex
	conns    map[*conn]struct{}
	draining bool
	wg       sync.WaitGroup

	refusedMaxClients atomic.Int64
	refusedFDHeadroom atomic.Int64
	stats             stats
}

// RefusedJoins counts the joins refused with ServerFull, by policy.
type RefusedJoins struct{ MaxClients, FDHeadroom int64 }

func (s *Server) RefusedJoins() RefusedJoins {
	return RefusedJoins{s.refusedMaxClients.Load(), s.refusedFDHeadroom.Load()}
}

// admit applies the admission policies to a join (ServerFull): max_clients,
// then the descriptor headroom. It runs before the join is parsed or its
// UserSig checked, so a full server spends little on a refused join.
func (s *Server) admit() *protocol.Error {
	if max := s.cfg.MaxClients; max > 0 && s.Connections() > max {
		s.refusedMaxClients.Add(1)
		return protocol.NewError(protocol.CodeServerFull, "this server holds its maximum of %d clients; try again later", max)
	}
	if s.cfg.Descriptors != nil {
		if open, limit := s.cfg.Descriptors(); open >= limit-s.cfg.FDHeadroom {
			s.refusedFDHeadroom.Add(1)
			return protocol.NewError(protocol.CodeServerFull, "this server is out of connections (%d of %d file descriptors open); try again later", open, limit)
		}
	}
	return nil
}

// writeBuffers is shared by all connections: a buffer is held only while a
// message is being written, which keeps idle connections small.
var writeBuffers sync.Pool

// NewServer serves the rooms of hub to clients of the apps apps; joins are
// authorised by package joinauth with cfg.MaxSkew and cfg.Now.
func NewServer(hub *rooms.Hub, apps joinauth.Apps, cfg Config) *Server {
	cfg.defaults()
	return &Server{
		hub: hub, cfg: cfg, conns: map[*conn]struct{}{},
		auth: joinauth.New(apps, joinauth.Config{MaxSkew: cfg.MaxSkew, Now: cfg.Now}),
		up: websocket.Upgrader{
			ReadBufferSize:  256,
			WriteBufferSize: 1024,
			WriteBufferPool: &writeBuffers,
			// Clients are apps and servers as well as browsers; UserSig is
			// the credential, so any origin may connect.
			CheckOrigin: func(*http.Request) bool { return true },
		},
	}
}

// ServeHTTP upgrades the request and hands the connection to its own
// goroutine, so the HTTP handler's stack is released.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ws, err := s.up.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader has answered 4xx
	}
	setSendBuffer(ws.NetConn(), s.cfg.SendBuffer)
	c := newConn(s, ws)
	s.mu.Lock()
	if s.draining {
		s.mu.Unlock()
		c.refuse(protocol.NewError(protocol.CodeServiceUnavailable, "the server is shutting down"))
		return
	}
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	go c.run()
}

func (s *Server) forget(c *conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

// Connections counts open client connections.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// Shutdown refuses new joins, takes every session out of its room (reason
// left, so others see a normal leave), closes the connections with 1001 and
// waits for their goroutines, or for ctx.
func (s *Server) Shutdown(ctx context.Context) error {
	s.hub.Drain()
	s.mu.Lock()
	s.draining = true
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.shutdown()
	}
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// setSendBuffer caps the kernel's send buffer: signalling messages are small,
// and a bounded buffer makes a client that stops reading show up as a full
// queue (and be dropped) instead of hiding megabytes in the kernel.
func setSendBuffer(c net.Conn, n int) {
	for i := 0; i < 4; i++ { // TLS, and the listener's connection tracking
		w, ok := c.(interface{ NetConn() net.Conn })
		if !ok {
			break
		}
		c = w.NetConn()
	}
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetWriteBuffer(n)
	}
}

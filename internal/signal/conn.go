package signal

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/websocket"

	"github.com/trtcd/trtcd/client/media/wire"
	"github.com/trtcd/trtcd/internal/joinauth"
	"github.com/trtcd/trtcd/internal/rooms"
	"github.com/trtcd/trtcd/protocol"
)

// hardReadLimit stops gorilla from buffering a huge frame; frames between
// MaxFrame and this limit get a FrameTooLarge error first.
const hardReadLimit = 1 << 20

// joinDeadline bounds the registry calls of one join.
const joinDeadline = 5 * time.Second

// conn is one client connection and, once joined, one rooms.Session. The
// reader goroutine owns the connection's life; a writer goroutine runs only
// while there is something to write, so an idle client costs one goroutine.
type conn struct {
	s   *Server
	ws  *websocket.Conn
	id  string
	log func(msg string, args ...any)

	room rooms.Key
	user string     // set with room at the join, before any other goroutine reads it
	role rooms.Role // the member's role, for its media; the reader's
	// mpeer is the session's media, joined with its first media_ frame;
	// only the reader goroutine touches it.
	mpeer MediaPeer

	qmu     sync.Mutex
	queue   []outMsg       // messages not yet written; nil when idle
	nmedia  int            // media messages in queue (under qmu)
	writing bool           // a writer goroutine is running (under qmu)
	dead    bool           // the writer stopped for good: drop what comes
	writers sync.WaitGroup // the writer goroutine, to wait for at the end
	kicked  atomic.Bool    // a Kicked notice was delivered
	kickBy  rooms.Reason   // the Kicked notice's reason (under qmu)
	slow    atomic.Bool    // the queue overflowed

	mu       sync.Mutex // guards stopping and the read deadline against shutdown
	stopping bool
}

func newConn(s *Server, ws *websocket.Conn) *conn {
	ws.SetReadLimit(hardReadLimit)
	return &conn{s: s, ws: ws, id: uuid.NewString()}
}

// ID implements rooms.Session.
func (c *conn) ID() string { return c.id }

// remoteIP is the client's address as history and callbacks record it: the
// host of the connection's peer. trtcd has no trusted-proxy setting, so a
// client behind a reverse proxy is recorded with the proxy's address.
func remoteIP(a net.Addr) string {
	if a == nil {
		return ""
	}
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	return host
}

// pong is queued like a notice; the writer recognises it by identity.
var pong = &rooms.Notice{}

// outMsg is one queued message: a room notice, or a media message's JSON.
type outMsg struct {
	n   *rooms.Notice
	raw []byte
}

var errDropped = errors.New("the client's queue is full or closed")

// Deliver implements rooms.Session: it queues without blocking. A full queue
// means the client is not reading: it is disconnected rather than allowed to
// hold up the room (policy: slow clients are dropped). The queue is a slice
// that exists only while there is something to write, so an idle client
// holds none.
func (c *conn) Deliver(n *rooms.Notice) {
	if n.Type == rooms.Kicked {
		c.qmu.Lock()
		c.kicked.Store(true)
		c.kickBy = n.Reason
		c.qmu.Unlock()
	}
	c.enqueue(outMsg{n: n})
}

// enqueue queues one message without blocking and reports whether it was
// queued. Room notices may fill Config.QueueLen places and media messages
// MediaQueueLen more; beyond them the client is dropped as slow.
func (c *conn) enqueue(m outMsg) bool {
	c.qmu.Lock()
	if c.dead {
		c.qmu.Unlock()
		return false
	}
	media := m.n == nil
	if media && c.nmedia >= MediaQueueLen || !media && len(c.queue)-c.nmedia >= c.s.cfg.QueueLen {
		c.qmu.Unlock()
		if c.slow.CompareAndSwap(false, true) {
			c.s.stats.slow.Add(1)
			c.s.cfg.Log.Warn("client disconnected", "reason", "slow", "session", c.id, "room", c.room.String(), "user", c.user)
			c.ws.NetConn().Close()
		}
		return false
	}
	c.queue = append(c.queue, m)
	if media {
		c.nmedia++
	}
	start := !c.writing
	c.writing = true
	if start {
		c.writers.Add(1)
	}
	c.qmu.Unlock()
	if start {
		go c.writeLoop()
	}
	return true
}

// writeLoop writes what is queued and exits when the queue is empty; a
// Kicked notice is followed by the close frame.
func (c *conn) writeLoop() {
	defer c.writers.Done()
	for {
		c.qmu.Lock()
		batch := c.queue
		c.queue, c.nmedia = nil, 0
		if len(batch) == 0 {
			c.writing = false
			c.qmu.Unlock()
			return
		}
		c.qmu.Unlock()
		for _, m := range batch {
			if !c.write(m) {
				c.ws.NetConn().Close()
				c.stopWriting()
				return
			}
			if n := m.n; n != nil && n.Type == rooms.Kicked {
				c.closeFrame(protocol.CloseKicked, "kicked: "+string(n.Reason))
				c.ws.NetConn().Close()
				c.stopWriting()
				return
			}
		}
	}
}

// stopWriting ends the writer for good: what is still queued is dropped.
func (c *conn) stopWriting() {
	c.qmu.Lock()
	c.queue, c.nmedia, c.dead = nil, 0, true
	c.qmu.Unlock()
}

func (c *conn) write(m outMsg) bool {
	b := m.raw
	switch {
	case m.n == pong:
		b = pongFrame
	case m.n != nil:
		b = m.n.Encoded(encodeNotice)
	}
	c.ws.SetWriteDeadline(time.Now().Add(c.s.cfg.WriteTimeout))
	return c.ws.WriteMessage(websocket.TextMessage, b) == nil
}

func (c *conn) closeFrame(code int, text string) {
	c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, text), time.Now().Add(time.Second))
}

// refuse answers with an error and closes; used before any writer exists.
func (c *conn) refuse(e *protocol.Error) {
	c.s.stats.countError(e.Code)
	c.s.stats.refused.add(e.Code)
	c.ws.SetWriteDeadline(time.Now().Add(c.s.cfg.WriteTimeout))
	c.ws.WriteMessage(websocket.TextMessage, encodeError(e))
	c.closeFrame(e.CloseCode(), e.Code)
	c.ws.Close()
}

// readFrame reads one frame of at most max bytes, applying the idle deadline.
func (c *conn) readFrame(max int) ([]byte, error) {
	c.mu.Lock()
	if c.stopping {
		c.mu.Unlock()
		return nil, errStopping
	}
	c.ws.SetReadDeadline(time.Now().Add(c.s.cfg.IdleTimeout))
	c.mu.Unlock()
	typ, r, err := c.ws.NextReader()
	if err != nil {
		return nil, err
	}
	if typ != websocket.TextMessage {
		return nil, errBinary
	}
	b, err := io.ReadAll(io.LimitReader(r, int64(max)+1))
	if err != nil {
		return nil, err
	}
	if len(b) > max {
		return nil, errTooLarge
	}
	return b, nil
}

var (
	errStopping = errors.New("server shutting down")
	errTooLarge = errors.New("frame too large")
	errBinary   = errors.New("binary frame")
)

// heard extends the idle deadline: a WebSocket ping or pong control frame is
// a heartbeat like a {"type":"ping"} frame (docs/protocol.md: any frame
// counts). gorilla handles control frames inside NextReader, after readFrame
// has set the deadline, so the handlers below move it on.
func (c *conn) heard() {
	c.mu.Lock()
	if !c.stopping {
		c.ws.SetReadDeadline(time.Now().Add(c.s.cfg.IdleTimeout))
	}
	c.mu.Unlock()
}

// onPing answers a WebSocket ping as gorilla's default handler does, and
// counts it as a heartbeat.
func (c *conn) onPing(data string) error {
	c.heard()
	err := c.ws.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(time.Second))
	var ne net.Error
	if err == websocket.ErrCloseSent || errors.As(err, &ne) {
		return nil
	}
	return err
}

func (c *conn) onPong(string) error { c.heard(); return nil }

// shutdown makes the reader stop at once (graceful drain).
func (c *conn) shutdown() {
	c.mu.Lock()
	c.stopping = true
	c.ws.SetReadDeadline(time.Now())
	c.mu.Unlock()
}

func (c *conn) isStopping() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stopping
}

// run is the connection's life: join, then read until it ends, then leave
// the room with the right reason and close.
func (c *conn) run() {
	joined := false
	defer func() {
		if !joined {
			c.s.forget(c)
		}
		c.s.wg.Done()
	}()
	b, err := c.readFrame(c.s.cfg.MaxFrame)
	if err != nil {
		c.endBeforeJoin(err)
		return
	}
	f, pe := protocol.Decode(b, c.s.cfg.MaxFrame)
	if pe == nil && f.Type != protocol.TypeJoin {
		pe = protocol.NewError(protocol.CodeNotJoined, "the first frame must be a join")
	}
	if pe == nil {
		pe = c.s.admit()
	}
	if pe != nil {
		c.logRefused(pe, rooms.Key{}, f.UserID)
		c.refuse(pe)
		return
	}
	j, r := c.s.auth.Authorize(joinauth.FromFrame(f))
	if r != nil {
		c.logRefused(&r.Error, r.Room, f.UserID)
		c.refuse(&r.Error)
		return
	}
	c.room, c.user, c.role = j.Room, j.UserID, j.Role
	ctx, cancel := context.WithTimeout(context.Background(), joinDeadline)
	err = c.s.hub.JoinClient(ctx, j.Room, j.UserID, j.Role, rooms.Client{IP: remoteIP(c.ws.RemoteAddr()), Device: f.Device, SdkVersion: f.SdkVersion}, c)
	cancel()
	if err != nil {
		pe := protocol.NewError(protocol.CodeServiceUnavailable, "the server is shutting down")
		if !errors.Is(err, rooms.ErrDraining) {
			c.s.cfg.Log.Error("join failed", "room", j.Room.String(), "user", j.UserID, "err", err)
			pe = protocol.NewError(protocol.CodeInternalError, "the room service is unavailable, try again")
		}
		c.logRefused(pe, j.Room, j.UserID)
		c.refuse(pe)
		return
	}
	c.s.cfg.Log.Debug("joined", "session", c.id, "room", j.Room.String(), "user", j.UserID)
	// From now on WebSocket pings and pongs count as heartbeats (before the
	// join they do not: the join itself is due within the idle timeout).
	c.ws.SetPingHandler(c.onPing)
	c.ws.SetPongHandler(c.onPong)
	// The join grew this goroutine's stack (JSON, inflate, HMAC); the long
	// idle life of the connection goes on in a fresh goroutine with a small
	// one. That is most of the memory an idle client costs.
	joined = true
	c.s.wg.Add(1)
	go c.serve()
}

// serve is the joined connection's life: read until it ends, then leave the
// room with the right reason and close.
func (c *conn) serve() {
	defer c.s.wg.Done()
	defer c.s.forget(c)
	reason, code, text, final := c.readLoop()
	if code == protocol.CloseIdle {
		c.s.stats.idle.Add(1)
	}
	c.logEnd(reason, code, text)
	// The session's media goes with it (a removal's has gone already).
	c.leaveMedia(c.endReason(reason))
	// A kicked session is no longer the member: its leave only tidies up.
	ctx, cancel := context.WithTimeout(context.Background(), joinDeadline)
	if err := c.s.hub.Leave(ctx, c.room, c, reason); err != nil {
		c.s.cfg.Log.Error("leave failed", "session", c.id, "err", err)
	}
	cancel()
	// No notice is delivered after Leave; wait for the writer, then close.
	c.writers.Wait()
	if !c.kicked.Load() && !c.slow.Load() {
		if final != nil {
			c.s.stats.countError(final.Code)
			c.ws.SetWriteDeadline(time.Now().Add(time.Second))
			c.ws.WriteMessage(websocket.TextMessage, encodeError(final))
		}
		c.closeFrame(code, text)
	}
	c.ws.Close()
}

// readLoop serves pings and leave until the connection ends, and says how
// it ended: the room reason, the close code and text, and an error to send.
func (c *conn) readLoop() (rooms.Reason, int, string, *protocol.Error) {
	max := c.s.cfg.MaxFrame
	if wire.MaxMessageBytes > max {
		max = wire.MaxMessageBytes // media frames may be larger (SDPs)
	}
	for {
		b, err := c.readFrame(max)
		if err != nil {
			return c.classify(err)
		}
		if protocol.IsPing(b) { // the common case, without a JSON decoder
			c.Deliver(pong)
			continue
		}
		if isMedia(b) {
			c.handleMedia(b)
			continue
		}
		if len(b) > c.s.cfg.MaxFrame {
			return c.classify(errTooLarge)
		}
		f, pe := protocol.Decode(b, c.s.cfg.MaxFrame)
		if pe != nil {
			return rooms.ReasonLeft, pe.CloseCode(), pe.Code, pe
		}
		switch f.Type {
		case protocol.TypePing:
			c.Deliver(pong)
		case protocol.TypeLeave:
			return rooms.ReasonLeft, protocol.CloseNormal, "left", nil
		case protocol.TypeJoin:
			pe := protocol.NewError(protocol.CodeAlreadyJoined, "this connection has joined a room already")
			return rooms.ReasonLeft, pe.CloseCode(), pe.Code, pe
		case protocol.TypeSwitchRole:
			c.switchRole(f.Role)
		}
	}
}

// switchRole commits a switch_role. The answer comes in the room's order:
// role_switched is the hub's notice of the committed change; a refusal is
// an error message queued like a notice, and the connection stays open.
func (c *conn) switchRole(role string) {
	r, ok := rooms.ParseRole(role)
	if !ok || role == "" {
		c.deliverError(protocol.NewError(protocol.CodeInvalidRole, "role must be anchor or audience"))
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), joinDeadline)
	_, err := c.s.hub.SwitchRole(ctx, c.room, c, r)
	cancel()
	switch {
	case err == nil:
		c.s.cfg.Log.Info("role switched", "session", c.id, "room", c.room.String(), "user", c.user, "role", r.String())
		c.role = r // the media joined later takes the new role
		if c.mpeer != nil {
			if err := c.mpeer.SetRole(r); err != nil {
				c.s.cfg.Log.Warn("media role switch failed", "session", c.id, "room", c.room.String(), "user", c.user, "err", err)
			}
		}
	case errors.Is(err, rooms.ErrSameRole):
		c.deliverError(protocol.NewError(protocol.CodeRoleUnchanged, "the role is %s already", r))
	case errors.Is(err, rooms.ErrNotMember), errors.Is(err, rooms.ErrRoomNotFound):
		c.deliverError(protocol.NewError(protocol.CodeSwitchRole, "this session is no longer in the room"))
	default:
		c.s.cfg.Log.Error("role switch failed", "session", c.id, "room", c.room.String(), "user", c.user, "err", err)
		c.deliverError(protocol.NewError(protocol.CodeSwitchRole, "the room service is unavailable, try again"))
	}
}

// deliverError queues an error message after what is queued already: a
// notice whose encoding is the error's (Notice.Encoded keeps the first
// encoding it is given).
func (c *conn) deliverError(e *protocol.Error) {
	c.s.stats.countError(e.Code)
	n := &rooms.Notice{}
	n.Encoded(func(*rooms.Notice) []byte { return encodeError(e) })
	c.Deliver(n)
}

// endReason is why the session's media ends: its kick's reason if it was
// kicked, else how it ended.
func (c *conn) endReason(r rooms.Reason) rooms.Reason {
	if c.kicked.Load() {
		c.qmu.Lock()
		defer c.qmu.Unlock()
		return c.kickBy
	}
	return r
}

// classify maps a read error to how the session ended.
func (c *conn) classify(err error) (rooms.Reason, int, string, *protocol.Error) {
	var ne net.Error
	switch {
	case c.isStopping():
		return rooms.ReasonLeft, protocol.CloseGoingAway, "server shutting down", nil
	case c.slow.Load():
		return rooms.ReasonTimeout, protocol.CloseSlow, "slow", nil
	case errors.Is(err, errTooLarge):
		pe := protocol.FrameTooLarge(c.s.cfg.MaxFrame)
		pe.Message += fmt.Sprintf(", media_ frames to %d", wire.MaxMessageBytes)
		return rooms.ReasonLeft, pe.CloseCode(), pe.Code, pe
	case errors.Is(err, errBinary):
		pe := binaryFrameError()
		return rooms.ReasonLeft, pe.CloseCode(), pe.Code, pe
	case websocket.IsCloseError(err, websocket.CloseNormalClosure, websocket.CloseGoingAway):
		return rooms.ReasonLeft, protocol.CloseNormal, "bye", nil
	case errors.As(err, &ne) && ne.Timeout():
		return rooms.ReasonTimeout, protocol.CloseIdle, "idle timeout", nil
	}
	// The connection dropped without a close frame: as good as a timeout.
	return rooms.ReasonTimeout, protocol.CloseNormal, "", nil
}

func (c *conn) endBeforeJoin(err error) {
	var ne net.Error
	var pe *protocol.Error
	switch {
	case c.isStopping():
		pe = protocol.NewError(protocol.CodeServiceUnavailable, "the server is shutting down")
	case errors.Is(err, errTooLarge):
		pe = protocol.FrameTooLarge(c.s.cfg.MaxFrame)
	case errors.Is(err, errBinary):
		pe = binaryFrameError()
	case errors.As(err, &ne) && ne.Timeout():
		pe = protocol.NewError(protocol.CodeJoinTimeout, "no join within %s", c.s.cfg.IdleTimeout)
	default:
		c.ws.Close()
		return
	}
	c.logRefused(pe, rooms.Key{}, "")
	c.refuse(pe)
}

func binaryFrameError() *protocol.Error {
	return protocol.NewError(protocol.CodeBinaryFrame, "frames must be text frames holding JSON; binary frames are not accepted")
}

// logRefused logs a refused join at info level: the code, the reason, and
// the room (when the join's fields were valid) and the user (when the frame
// named a valid one). Never a credential: messages and reasons name what
// failed, not what was sent.
func (c *conn) logRefused(pe *protocol.Error, room rooms.Key, user string) {
	if !c.s.cfg.Log.Enabled(context.Background(), slog.LevelInfo) {
		return
	}
	attrs := []any{"session", c.id, "code", pe.Code, "reason", pe.Message}
	if pe.Reason != "" {
		attrs[5] = pe.Reason
	}
	if room != (rooms.Key{}) {
		attrs = append(attrs, "room", room.String())
	}
	if rooms.ValidUserID(user) {
		attrs = append(attrs, "user", user)
	}
	c.s.cfg.Log.Info("join refused", attrs...)
}

// logEnd logs at info level how a joined session ended: left, kicked (with
// the kick's reason), idle timeout, dropped, bad frame, or shutdown.
func (c *conn) logEnd(reason rooms.Reason, code int, text string) {
	if !c.s.cfg.Log.Enabled(context.Background(), slog.LevelInfo) || c.slow.Load() {
		return // slow clients are logged (warn) when dropped
	}
	msg, why := "left", string(reason)
	c.qmu.Lock()
	kickBy := c.kickBy
	c.qmu.Unlock()
	switch {
	case c.kicked.Load():
		msg, why = "kicked", string(kickBy)
	case code == protocol.CloseIdle:
		msg = "idle timeout"
	case code == protocol.CloseGoingAway:
		msg = "left: server shutting down"
	case reason == rooms.ReasonTimeout:
		msg = "connection dropped"
	case code != protocol.CloseNormal:
		msg = "left after a bad frame"
	}
	c.s.cfg.Log.Info(msg, "session", c.id, "room", c.room.String(), "user", c.user, "reason", why, "close", code, "detail", text)
}

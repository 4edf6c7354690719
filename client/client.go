// Package client is the Go client of trtcd's signalling protocol: join a
// room with a UserSig, receive the room's events in order, leave.
//
// The protocol is documented in docs/protocol.md, and its wire types are
// package protocol's (github.com/trtcd/trtcd/protocol); this package is one
// implementation of it. An app server mints the UserSigs with package
// usersig (github.com/trtcd/trtcd/usersig).
package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/trtcd/trtcd/client/media"
	"github.com/trtcd/trtcd/client/media/wire"
	"github.com/trtcd/trtcd/protocol"
)

// JoinParams are the fields of a join. Exactly one of RoomID and StrRoomID
// is set; Role is "anchor" (default) or "audience".
type JoinParams struct {
	SdkAppID      uint64
	UserID        string
	UserSig       string
	PrivateMapKey string
	RoomID        uint64
	StrRoomID     string
	Role          string
	// Device and SdkVersion optionally describe this client (at most
	// protocol.MaxClientInfoLen bytes each); the server keeps them in the
	// room's history and sends them in the enter-room callback.
	Device     string
	SdkVersion string
}

// Member is a room member as listed in a joined event.
type Member = protocol.Member

// Event is one message from the server about the room: Type is joined,
// user_entered, user_left, kicked, role_switched or user_blocked
// (protocol.Type*). Media messages do not appear here: they go to the Media
// client.
type Event = protocol.ServerMessage

// Error is an error message from the server (a refused join, a bad frame):
// Code is one of protocol.Code*, and Reason says why a UserSig or
// PrivateMapKey was refused (usersig.Reason words).
type Error = protocol.Error

// DefaultHeartbeat is how often the client pings (docs/protocol.md). The
// server's idle_timeout may not be shorter than twice this.
const DefaultHeartbeat = 3 * time.Second

// DialError is a failure to open the WebSocket: nothing listening, a TLS
// failure, or an answer that is not a WebSocket upgrade. Nothing was sent.
type DialError struct {
	URL string
	Err error
}

func (e *DialError) Error() string { return fmt.Sprintf("trtcd: dial %s: %v", e.URL, e.Err) }
func (e *DialError) Unwrap() error { return e.Err }

// Options tune a connection.
type Options struct {
	// Heartbeat is how often a ping is sent; 0 means DefaultHeartbeat, negative disables
	// heartbeats (the server then removes the client after its idle timeout).
	Heartbeat time.Duration
	// Dialer is the WebSocket dialer; nil uses websocket.DefaultDialer.
	Dialer *websocket.Dialer
	// Buffer is the capacity of the Events channel; 0 means 256. A consumer
	// that lets it fill stops the connection being read, and the server then
	// drops the client as too slow.
	Buffer int
}

// Conn is a joined room connection.
type Conn struct {
	ws     *websocket.Conn
	joined Event
	events chan Event

	writeMu  sync.Mutex
	switchMu sync.Mutex // one SwitchRole at a time
	pendMu   sync.Mutex
	pending  *pendingSwitch // the SwitchRole waiting for its answer
	done     chan struct{}

	mediaMu sync.Mutex
	media   *media.Client // nil until Media
	// mediaIn carries the server's media messages, in order, to
	// media.Handle; made by the first Media call (under mediaMu), so a
	// connection without media holds no buffer for it.
	mediaIn  chan wire.Message
	mediaEnd bool // the reader has stopped: Media is refused (under mediaMu)
	buffer   int  // Options.Buffer
	errMu    sync.Mutex
	err      error
	wg       sync.WaitGroup
}

// Join dials server (http://host:port, https://…, or a ws:// URL), sends the
// join and waits for the answer: a Conn after joined, or an *Error.
func Join(ctx context.Context, server string, p JoinParams, opt Options) (*Conn, error) {
	u, err := wsURL(server)
	if err != nil {
		return nil, err
	}
	d := opt.Dialer
	if d == nil {
		d = websocket.DefaultDialer
	}
	ws, _, err := d.DialContext(ctx, u, nil)
	if err != nil {
		return nil, &DialError{URL: u, Err: err}
	}
	if dl, ok := ctx.Deadline(); ok {
		ws.SetReadDeadline(dl)
	}
	if err := ws.WriteJSON(joinFrame(p)); err != nil {
		ws.Close()
		return nil, fmt.Errorf("trtcd: send join: %w", err)
	}
	var first protocol.ServerMessage
	if err := ws.ReadJSON(&first); err != nil {
		ws.Close()
		return nil, fmt.Errorf("trtcd: read join answer: %w", err)
	}
	if e := first.AsError(); e != nil {
		ws.Close()
		return nil, e
	}
	if first.Type != protocol.TypeJoined {
		ws.Close()
		return nil, fmt.Errorf("trtcd: unexpected first message %q", first.Type)
	}
	ws.SetReadDeadline(time.Time{})
	if opt.Buffer <= 0 {
		opt.Buffer = 256
	}
	c := &Conn{ws: ws, joined: first, events: make(chan Event, opt.Buffer), done: make(chan struct{}), buffer: opt.Buffer}
	c.wg.Add(1)
	go c.readLoop()
	if opt.Heartbeat == 0 {
		opt.Heartbeat = DefaultHeartbeat
	}
	if opt.Heartbeat > 0 {
		c.wg.Add(1)
		go c.heartbeat(opt.Heartbeat)
	}
	return c, nil
}

func wsURL(server string) (string, error) {
	u, err := url.Parse(server)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("trtcd: bad server URL %q", server)
	}
	switch u.Scheme {
	case "http", "ws":
		u.Scheme = "ws"
	case "https", "wss":
		u.Scheme = "wss"
	default:
		return "", fmt.Errorf("trtcd: bad server URL scheme %q", u.Scheme)
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = protocol.Path
	}
	return u.String(), nil
}

func joinFrame(p JoinParams) protocol.ClientFrame {
	f := protocol.ClientFrame{Type: protocol.TypeJoin, SdkAppID: protocol.Number(p.SdkAppID), UserID: p.UserID,
		UserSig: p.UserSig, PrivateMapKey: p.PrivateMapKey, Role: p.Role, Device: p.Device, SdkVersion: p.SdkVersion}
	if p.StrRoomID != "" {
		f.StrRoomID = &p.StrRoomID
	} else {
		f.RoomID = protocol.Number(p.RoomID)
	}
	return f
}

// Joined is the joined event: the session id and the members at join time.
func (c *Conn) Joined() Event { return c.joined }

// Events delivers the room's events in order. It is closed when the
// connection ends; Err then says why.
func (c *Conn) Events() <-chan Event { return c.events }

// ErrKicked is wrapped by Err after a kicked event.
var ErrKicked = errors.New("trtcd: kicked out of the room")

// Err is why the connection ended: nil after Leave, an error wrapping
// ErrKicked after a kick, a *websocket.CloseError or network error otherwise.
func (c *Conn) Err() error {
	c.errMu.Lock()
	defer c.errMu.Unlock()
	return c.err
}

func (c *Conn) setErr(err error) {
	c.errMu.Lock()
	if c.err == nil {
		c.err = err
	}
	c.errMu.Unlock()
}

func (c *Conn) readLoop() {
	defer c.wg.Done()
	defer close(c.events)
	defer func() {
		c.mediaMu.Lock()
		c.mediaEnd = true
		if c.mediaIn != nil {
			close(c.mediaIn)
		}
		c.mediaMu.Unlock()
	}()
	defer close(c.done)
	for {
		_, b, err := c.ws.ReadMessage()
		if err != nil {
			c.setErr(err)
			return
		}
		var e Event
		if json.Unmarshal(b, &e) != nil || e.Type == protocol.TypePong {
			continue
		}
		if strings.HasPrefix(e.Type, mediaPrefix) {
			c.mediaMu.Lock()
			in := c.mediaIn
			c.mediaMu.Unlock()
			if m, err := wire.Decode(b); err == nil && in != nil {
				in <- m
			}
			continue
		}
		if ee := e.AsError(); ee != nil {
			if protocol.IsSwitchError(ee.Code) && c.answer(switchAnswer{err: ee}, "") {
				continue // a refused switch; the connection stays open
			}
			c.setErr(ee)
			continue
		}
		if e.Type == protocol.TypeRoleSwitched {
			c.answer(switchAnswer{seq: e.Seq}, e.Role)
		}
		if e.Type == protocol.TypeKicked {
			c.setErr(fmt.Errorf("%w: %s", ErrKicked, e.Reason))
		}
		c.events <- e
	}
}

func (c *Conn) heartbeat(every time.Duration) {
	defer c.wg.Done()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-c.done:
			return
		case <-t.C:
			if c.send(protocol.ClientFrame{Type: protocol.TypePing}) != nil {
				return
			}
		}
	}
}

func (c *Conn) send(v any) error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	c.ws.SetWriteDeadline(time.Now().Add(5 * time.Second))
	return c.ws.WriteJSON(v)
}

// Leave leaves the room and waits for the server to close the connection.
func (c *Conn) Leave(ctx context.Context) error {
	c.setErr(errLeft)
	if err := c.send(protocol.ClientFrame{Type: protocol.TypeLeave}); err != nil {
		c.Close()
		return err
	}
	// Drain until the server's close ends the read loop.
	for {
		select {
		case _, ok := <-c.events:
			if !ok {
				c.Close()
				return nil
			}
		case <-ctx.Done():
			c.Close()
			return ctx.Err()
		}
	}
}

var errLeft = errors.New("left")

type switchAnswer struct {
	seq uint64
	err error
}

type pendingSwitch struct {
	role string
	ch   chan switchAnswer
}

// answer hands a switch's answer to the waiting SwitchRole, if any (and,
// for role_switched, if it is for the role asked).
func (c *Conn) answer(a switchAnswer, role string) bool {
	c.pendMu.Lock()
	defer c.pendMu.Unlock()
	p := c.pending
	if p == nil || (a.err == nil && role != p.role) {
		return false
	}
	c.pending = nil
	p.ch <- a
	return true
}

// ErrClosed is returned by SwitchRole when the connection ended first; Err
// says why.
var ErrClosed = errors.New("trtcd: the connection has ended")

// SwitchRole asks the server to make this client role ("anchor" or
// "audience") and waits for the answer: the seq of the role_switched event,
// which also comes on Events in the room's order, or an *Error
// (InvalidParameter.Role, FailedOperation.RoleUnchanged,
// FailedOperation.SwitchRole), after which the connection stays open. Keep
// reading Events meanwhile: the answer comes after the events before it.
func (c *Conn) SwitchRole(ctx context.Context, role string) (uint64, error) {
	c.switchMu.Lock()
	defer c.switchMu.Unlock()
	p := &pendingSwitch{role: role, ch: make(chan switchAnswer, 1)}
	c.pendMu.Lock()
	c.pending = p
	c.pendMu.Unlock()
	defer func() {
		c.pendMu.Lock()
		if c.pending == p {
			c.pending = nil
		}
		c.pendMu.Unlock()
	}()
	if err := c.send(protocol.ClientFrame{Type: protocol.TypeSwitchRole, Role: role}); err != nil {
		return 0, err
	}
	select {
	case a := <-p.ch:
		return a.seq, a.err
	case <-c.done:
		select {
		case a := <-p.ch:
			return a.seq, a.err
		default:
		}
		return 0, ErrClosed
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// Close drops the connection without leaving (the server reports a timeout
// to the others) and waits for the Conn's goroutines.
func (c *Conn) Close() error {
	err := c.ws.Close()
	for range c.events {
	}
	c.wg.Wait()
	c.mediaMu.Lock()
	mc := c.media
	c.mediaMu.Unlock()
	if mc != nil {
		mc.Close()
	}
	if c.Err() == errLeft {
		c.errMu.Lock()
		c.err = nil
		c.errMu.Unlock()
	}
	return err
}

// mediaPrefix starts the type of every media message (docs/media.md).
const mediaPrefix = "media_"

// MediaOptions tune the media client (package client/media).
type MediaOptions = media.Options

// Media returns the connection's media client: it publishes and receives
// over WebRTC, negotiated with media_ messages on this WebSocket. The first
// call joins the room's media (it asks the server for an offer of the
// room's tracks); later calls return the same client and ignore o. The
// client is closed with the connection.
func (c *Conn) Media(o MediaOptions) (*media.Client, error) {
	c.mediaMu.Lock()
	defer c.mediaMu.Unlock()
	if c.media != nil {
		return c.media, nil
	}
	if c.mediaEnd {
		if err := c.Err(); err != nil && err != errLeft {
			return nil, fmt.Errorf("trtcd: the connection has ended: %w", err)
		}
		return nil, errors.New("trtcd: the connection has ended")
	}
	mc, err := media.New(func(m wire.Message) error { return c.send(m) }, o)
	if err != nil {
		return nil, err
	}
	c.media, c.mediaIn = mc, make(chan wire.Message, c.buffer)
	c.wg.Add(1)
	go c.mediaLoop(mc, c.mediaIn)
	if err := c.send(wire.Message{Type: wire.TypeRenegotiate, PC: wire.PCSub}); err != nil {
		return nil, err
	}
	return mc, nil
}

// mediaLoop hands the server's media messages to the media client, in
// order, until the connection ends.
func (c *Conn) mediaLoop(mc *media.Client, in <-chan wire.Message) {
	defer c.wg.Done()
	for m := range in {
		mc.Handle(m)
	}
}

package node

import (
	"errors"
	"sync"

	"github.com/trtcd/trtcd/client/media/wire"
	"github.com/trtcd/trtcd/internal/rooms"
	"github.com/trtcd/trtcd/internal/signal"
)

// routedPeer is a session's media in cluster mode (signal.MediaPeer): bound
// to a peer of this node's SFU when the room's media is here, else to a
// peer hosted on the room's media node through the relay. When that media
// goes away (its node died, or lost the room) the peer is unbound and the
// client is sent media_reset; its next media_ message binds it again, to
// the room's media node of the moment.
type routedPeer struct {
	cm   *clusterMedia
	id   string
	room rooms.Key
	user string
	send func(wire.Message) error

	mu     sync.Mutex
	role   rooms.Role
	local  signal.MediaPeer // bound here
	remote string           // bound to this media node
	gone   bool             // the session ended
}

var errMediaGone = errors.New("media: the session ended")

// bind joins the room's media; under p.mu.
func (p *routedPeer) bind() error {
	if p.gone {
		return errMediaGone
	}
	local, owner, err := p.cm.joinLocal(p.room, p.user, p.role, p.send)
	if err != nil {
		return err
	}
	p.cm.mu.Lock()
	p.cm.routed[p.id] = p
	p.cm.mu.Unlock()
	if local != nil {
		p.local = local
		return nil
	}
	p.remote = owner
	p.cm.send(owner, relayMsg{Op: opJoin, Room: p.room.String(), Peer: p.id, User: p.user, Role: p.role})
	return nil
}

// Handle implements signal.MediaPeer.
func (p *routedPeer) Handle(m wire.Message) error {
	p.mu.Lock()
	if p.local == nil && p.remote == "" {
		if err := p.bind(); err != nil {
			p.mu.Unlock()
			refused := wire.Errorf(wire.CodeClosed, "the room's media is not reachable: %v", err).Msg()
			refused.Ref, refused.ID = m.Type, m.ID // the message refused, as other media_errors say
			p.send(refused)
			return err
		}
		if m.Type == wire.TypeRenegotiate {
			p.mu.Unlock()
			return nil // the join offers the room's tracks, as a first join does
		}
	}
	local, remote := p.local, p.remote
	p.mu.Unlock()
	if local != nil {
		return local.Handle(m)
	}
	p.cm.send(remote, relayMsg{Op: opMsg, Room: p.room.String(), Peer: p.id, Msg: m.Encode()})
	return nil
}

// SetRole implements signal.MediaPeer.
func (p *routedPeer) SetRole(role rooms.Role) error {
	p.mu.Lock()
	p.role = role
	local, remote := p.local, p.remote
	p.mu.Unlock()
	switch {
	case local != nil:
		return local.SetRole(role)
	case remote != "":
		p.cm.send(remote, relayMsg{Op: opRole, Room: p.room.String(), Peer: p.id, Role: role})
	}
	return nil
}

// Leave implements signal.MediaPeer.
func (p *routedPeer) Leave(reason rooms.Reason) {
	p.mu.Lock()
	p.gone = true
	p.unbind(reason)
	p.mu.Unlock()
	p.cm.mu.Lock()
	delete(p.cm.routed, p.id)
	p.cm.mu.Unlock()
}

// unbind leaves the media the peer is bound to; under p.mu.
func (p *routedPeer) unbind(reason rooms.Reason) {
	if p.local != nil {
		p.local.Leave(reason)
	}
	if p.remote != "" {
		p.cm.send(p.remote, relayMsg{Op: opLeave, Room: p.room.String(), Peer: p.id, Reason: reason})
	}
	p.local, p.remote = nil, ""
}

// remoteOwner is the media node the peer is bound to through the relay.
func (p *routedPeer) remoteOwner() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.remote
}

// reset unbinds the peer (only if still bound to media node from, when
// from is set) and tells the client that its media restarted.
func (p *routedPeer) reset(from string) {
	p.mu.Lock()
	if p.gone || (p.local == nil && p.remote == "") || (from != "" && p.remote != from) {
		p.mu.Unlock()
		return
	}
	p.unbind(rooms.ReasonTimeout)
	p.mu.Unlock()
	p.cm.st.resets.Add(1)
	p.send(wire.Message{Type: wire.TypeReset})
}

// fromMedia takes a message of the media node hosting the peer.
func (p *routedPeer) fromMedia(m relayMsg) {
	p.mu.Lock()
	bound := p.remote == m.From
	p.mu.Unlock()
	if !bound {
		return // an earlier binding's
	}
	if m.Op == opReset {
		p.reset(m.From)
		return
	}
	msg, err := wire.Decode(m.Msg)
	if err != nil {
		p.cm.st.bad.Add(1)
		return
	}
	p.send(msg)
}

// hostedPeer is, on a room's media node, the media peer of a session on
// another node (origin). Its messages are handled in order by its own
// goroutine, from the join to the leave.
type hostedPeer struct {
	cm     *clusterMedia
	id     string
	origin string
	room   rooms.Key
	q      chan relayMsg
}

// host starts a hosted peer for a relayed join.
func (cm *clusterMedia) host(room rooms.Key, m relayMsg) {
	h := &hostedPeer{cm: cm, id: m.Peer, origin: m.From, room: room, q: make(chan relayMsg, MediaHostQueue)}
	cm.mu.Lock()
	if cm.hosted[h.id] != nil {
		cm.mu.Unlock()
		return
	}
	cm.hosted[h.id] = h
	cm.mu.Unlock()
	h.q <- m
	cm.wg.Add(1)
	go h.run()
}

func (h *hostedPeer) enqueue(m relayMsg) {
	select {
	case h.q <- m:
	default:
		h.cm.st.dropped.Add(1)
	}
}

// toClient relays one of the SFU's messages to the session's node; it
// never blocks (Room.Join's rule for send).
func (h *hostedPeer) toClient(m wire.Message) error {
	h.cm.send(h.origin, relayMsg{Op: opOut, Room: h.room.String(), Peer: h.id, Msg: m.Encode()})
	return nil
}

func (h *hostedPeer) run() {
	cm := h.cm
	defer cm.wg.Done()
	defer func() {
		cm.mu.Lock()
		delete(cm.hosted, h.id)
		cm.mu.Unlock()
	}()
	var peer signal.MediaPeer
	for {
		var m relayMsg
		select {
		case m = <-h.q:
		case <-cm.stop:
			if peer != nil {
				peer.Leave(rooms.ReasonLeft)
			}
			return
		}
		switch m.Op {
		case opJoin:
			p, owner, err := cm.joinLocal(h.room, m.User, m.Role, h.toClient)
			if err != nil || p == nil {
				// Not (or no longer) this room's media node: the client
				// starts again with the node that is.
				cm.log.Info("relayed media join refused: not the room's media node", "room", h.room.String(), "owner", owner, "err", err)
				cm.send(h.origin, relayMsg{Op: opReset, Room: h.room.String(), Peer: h.id})
				return
			}
			peer = p
		case opMsg:
			msg, err := wire.Decode(m.Msg)
			if err != nil {
				cm.st.bad.Add(1)
				continue
			}
			if peer != nil {
				peer.Handle(msg)
			}
		case opRole:
			if peer != nil {
				peer.SetRole(m.Role)
			}
		case opLeave:
			if peer != nil {
				peer.Leave(m.Reason)
			}
			return
		}
	}
}

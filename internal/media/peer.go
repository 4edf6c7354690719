package media

import (
	"time"

	"sync"

	"github.com/pion/webrtc/v4"
	"golang.org/x/time/rate"

	"github.com/trtcd/trtcd/client/media/wire"
	"github.com/trtcd/trtcd/internal/rooms"
)

// gatherTimeout bounds the wait for local ICE candidates before a
// description is sent (the server sends complete descriptions, no trickle).
const gatherTimeout = 10 * time.Second

// Peer is one member's media: the "sub" connection on which the server
// offers the room's tracks, and, for an anchor that publishes, the "pub"
// connection on which the client offers its own.
type Peer struct {
	room *Room
	user string
	send func(wire.Message) error

	sendMu sync.Mutex // send is never called concurrently

	mu         sync.Mutex
	role       rooms.Role
	closed     bool
	sub        *webrtc.PeerConnection
	pub        *webrtc.PeerConnection
	subPending bool // an offer on sub awaits its answer
	subAgain   bool // and another is needed after it
	senders    map[trackKey]subSender
	stale      []*webrtc.RTPSender // dropped senders the next offer removes
	unsub      map[trackKey]bool
	pubMids    map[string]pubSection // the publishing m-sections of the last accepted offer
	limiter    *rate.Limiter
}

type trackKey struct {
	user string
	kind wire.Kind
}

type subSender struct {
	sender *webrtc.RTPSender
	track  *pubTrack
}

func newPeer(r *Room, user string, role rooms.Role, send func(wire.Message) error) (*Peer, error) {
	sub, err := r.srv.api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, err
	}
	pol := r.srv.cfg.Renegotiation
	return &Peer{
		room: r, user: user, send: send, role: role, sub: sub,
		senders: map[trackKey]subSender{}, unsub: map[trackKey]bool{},
		limiter: rate.NewLimiter(rate.Every(pol.Interval), pol.Burst),
	}, nil
}

// User is the peer's user id.
func (p *Peer) User() string { return p.user }

// Closed reports whether the peer was removed and its connections closed.
func (p *Peer) Closed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.closed
}

func (p *Peer) getRole() rooms.Role {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.role
}

// setRole reports whether the role changed. Becoming audience closes the
// publishing connection.
func (p *Peer) setRole(role rooms.Role) bool {
	p.mu.Lock()
	if p.closed || p.role == role {
		p.mu.Unlock()
		return false
	}
	p.role = role
	var pub *webrtc.PeerConnection
	if role == rooms.Audience {
		pub, p.pub, p.pubMids = p.pub, nil, nil
	}
	p.mu.Unlock()
	if pub != nil {
		pub.Close()
	}
	return true
}

func (p *Peer) sendMsg(m wire.Message) {
	p.sendMu.Lock()
	defer p.sendMu.Unlock()
	if err := p.send(m); err != nil {
		p.room.srv.log.Debug("media send failed", "room", p.room.key, "user", p.user, "err", err)
	}
}

func (p *Peer) sendError(e *wire.Error) { p.sendMsg(e.Msg()) }

// close closes both connections; the peer takes no message afterwards.
func (p *Peer) close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	pcs := []*webrtc.PeerConnection{p.sub, p.pub}
	p.pub = nil
	clear(p.senders)
	p.mu.Unlock()
	for _, pc := range pcs {
		if pc != nil {
			pc.Close()
		}
	}
}

// Handle processes one message from the client. A refused message is
// answered with a media_error, returned as a *wire.Error, and changes
// nothing. Handle returns when the message's effect is done (an answer
// sent, a track removed); it is safe to call from one goroutine at a time
// per peer, e.g. the connection's reader.
func (p *Peer) Handle(m wire.Message) error {
	e := p.handle(m)
	if e != nil {
		em := e.Msg()
		if wire.FromClient(m.Type) {
			em.Ref, em.ID = m.Type, m.ID
		}
		p.sendMsg(em)
		return e
	}
	return nil
}

func (p *Peer) handle(m wire.Message) *wire.Error {
	if e := m.Check(); e != nil {
		return e
	}
	if !wire.FromClient(m.Type) {
		return wire.Errorf(wire.CodeUnknownType, "clients do not send %s", m.Type)
	}
	switch m.Type {
	case wire.TypeOffer:
		return p.handleOffer(m)
	case wire.TypeAnswer:
		return p.handleAnswer(m)
	case wire.TypeCandidate:
		return p.handleCandidate(m)
	case wire.TypeRenegotiate:
		p.mu.Lock()
		defer p.mu.Unlock()
		if !p.limiter.Allow() {
			p.room.srv.n.renegLimit.Add(1)
			return wire.Errorf(wire.CodeRenegotiationLimited, "at most %d renegotiations at once, then one per %s", p.room.srv.cfg.Renegotiation.Burst, p.room.srv.cfg.Renegotiation.Interval)
		}
		// A fresh offer when there is something to negotiate; before the
		// first track none is sent (an offer without m-sections could not
		// be completed): the first track's offer follows.
		return p.negotiate(false)
	case wire.TypeSubscribe, wire.TypeUnsubscribe:
		return p.handleSubscribe(m)
	}
	return nil
}

func (p *Peer) handleCandidate(m wire.Message) *wire.Error {
	if e := p.room.srv.cfg.checkCandidate(m.Candidate.Candidate); e != nil {
		p.room.srv.n.candRefused.Add(1)
		return e
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return wire.Errorf(wire.CodeClosed, "the peer is closed")
	}
	pc := p.sub
	if m.PC == wire.PCPub {
		pc = p.pub
	}
	if pc == nil || pc.RemoteDescription() == nil {
		return wire.Errorf(wire.CodeInvalidState, "a candidate for %s before its offer", m.PC)
	}
	c := m.Candidate
	if err := pc.AddICECandidate(webrtc.ICECandidateInit{Candidate: c.Candidate, SDPMid: c.SDPMid, SDPMLineIndex: c.SDPMLineIndex, UsernameFragment: c.UsernameFragment}); err != nil {
		p.room.srv.n.candRefused.Add(1)
		return wire.Errorf(wire.CodeInvalidCandidate, "candidate: %v", err)
	}
	return nil
}

func (p *Peer) handleSubscribe(m wire.Message) *wire.Error {
	k := trackKey{m.UserID, m.Kind}
	if m.Type == wire.TypeUnsubscribe {
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.closed {
			return wire.Errorf(wire.CodeClosed, "the peer is closed")
		}
		p.unsub[k] = true
		if s, ok := p.senders[k]; ok {
			p.dropSender(k, s)
			return p.negotiate(false)
		}
		return nil
	}
	p.mu.Lock()
	delete(p.unsub, k)
	p.mu.Unlock()
	if t := p.room.lookup(m.UserID, m.Kind); t != nil {
		p.addTracks([]*pubTrack{t})
	}
	return nil
}

// addTracks offers ts to the client, skipping ended tracks, tracks it
// unsubscribed from and tracks it already has.
func (p *Peer) addTracks(ts []*pubTrack) {
	p.mu.Lock()
	defer p.mu.Unlock()
	added := false
	for _, t := range ts {
		k := trackKey{t.owner.user, t.kind}
		if p.closed || t.owner == p || t.isEnded() || p.unsub[k] || p.senders[k].track == t {
			continue
		}
		if old, ok := p.senders[k]; ok {
			p.dropSender(k, old)
		}
		tr, err := p.sub.AddTransceiverFromTrack(t.local, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
		if err != nil {
			p.room.srv.log.Warn("media: adding a track failed", "room", p.room.key, "user", p.user, "err", err)
			continue
		}
		s := tr.Sender()
		p.senders[k] = subSender{s, t}
		p.room.srv.goroutine(func() { t.readRTCP(s) })
		p.sendMsg(wire.Message{Type: wire.TypeTrackPublished, UserID: k.user, Kind: k.kind})
		added = true
	}
	if (added || len(p.stale) > 0) && !p.closed {
		if e := p.negotiate(false); e != nil {
			p.sendError(e)
		}
	}
}

// dropTracks stops sending ts to the client and tells it at once (the
// media_track_unpublished notices); removed reports whether it had any of
// them, and so needs a new offer (renegotiate).
func (p *Peer) dropTracks(ts []*pubTrack) (removed bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, t := range ts {
		k := trackKey{t.owner.user, t.kind}
		if s, ok := p.senders[k]; ok && s.track == t && !p.closed {
			p.dropSender(k, s)
			removed = true
		}
	}
	return removed
}

// renegotiate sends the client a new offer that takes its dropped senders
// away, unless one was made since (the senders are gone) or the peer closed.
func (p *Peer) renegotiate() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || len(p.stale) == 0 {
		return
	}
	if e := p.negotiate(false); e != nil {
		p.sendError(e)
	}
}

// dropSender tells the client that a track is no longer sent to it. The
// sender of a track that ended (its packets stopped in pubTrack.end) is
// left to the next offer (negotiate), which takes it off: the notice costs
// a message, the removal (pion's RemoveTrack, up to a millisecond) and the
// offer much more, and a subscriber should not wait for the others'
// offers to hear it. The sender of a live track (an unsubscribe, a
// replaced track) is taken off at once, before the notice. Under p.mu;
// every caller negotiates afterwards.
func (p *Peer) dropSender(k trackKey, s subSender) {
	delete(p.senders, k)
	p.stale = append(p.stale, s.sender)
	if !s.track.isEnded() {
		p.removeStale()
	}
	p.sendMsg(wire.Message{Type: wire.TypeTrackUnpublished, UserID: k.user, Kind: k.kind})
}

// removeStale takes the dropped senders off the connection; under p.mu.
func (p *Peer) removeStale() {
	for _, s := range p.stale {
		if err := p.sub.RemoveTrack(s); err != nil {
			p.room.srv.log.Debug("media: removing a track", "err", err)
		}
	}
	p.stale = nil
}

// negotiate sends a new offer on sub, or notes that one is needed once the
// pending one is answered. Under p.mu.
func (p *Peer) negotiate(force bool) *wire.Error {
	if p.closed {
		return wire.Errorf(wire.CodeClosed, "the peer is closed")
	}
	p.removeStale()
	if p.subPending {
		p.subAgain = true
		return nil
	}
	if !force && len(p.sub.GetTransceivers()) == 0 {
		return nil
	}
	offer, err := p.sub.CreateOffer(nil)
	if err != nil {
		return wire.Errorf(wire.CodeInternal, "offer: %v", err)
	}
	if e := setLocal(p.sub, offer); e != nil {
		return e
	}
	p.subPending = true
	p.sendMsg(wire.Message{Type: wire.TypeOffer, PC: wire.PCSub, SDP: p.sub.LocalDescription().SDP})
	return nil
}

// setLocal sets a local description and waits for ICE gathering, so the
// description sent carries its candidates.
func setLocal(pc *webrtc.PeerConnection, d webrtc.SessionDescription) *wire.Error {
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(d); err != nil {
		return wire.Errorf(wire.CodeInternal, "local description: %v", err)
	}
	select {
	case <-gathered:
	case <-time.After(gatherTimeout):
		return wire.Errorf(wire.CodeInternal, "ICE gathering did not complete")
	}
	return nil
}

func (p *Peer) handleAnswer(m wire.Message) *wire.Error {
	if m.PC != wire.PCSub {
		return wire.Errorf(wire.CodeInvalidState, "answers are taken on pc %q only", wire.PCSub)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return wire.Errorf(wire.CodeClosed, "the peer is closed")
	}
	if !p.subPending {
		return wire.Errorf(wire.CodeInvalidState, "no offer awaits an answer")
	}
	if err := p.sub.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: m.SDP}); err != nil {
		return wire.Errorf(wire.CodeInvalidSDP, "answer: %v", err)
	}
	p.subPending = false
	if p.subAgain {
		p.subAgain = false
		return p.negotiate(false)
	}
	return nil
}

package media

import (
	"github.com/pion/webrtc/v4"

	"github.com/trtcd/trtcd/client/media/wire"
	"github.com/trtcd/trtcd/internal/rooms"
)

// handleOffer answers an offer on the publishing connection, after the
// checks: the peer is an anchor, the renegotiation policy allows it, the SDP
// parses, codecs are supported, and the track limit holds.
func (p *Peer) handleOffer(m wire.Message) *wire.Error {
	n := &p.room.srv.n
	if m.PC != wire.PCPub {
		return wire.Errorf(wire.CodeInvalidState, "offers are taken on pc %q only", wire.PCPub)
	}
	cfg := &p.room.srv.cfg
	p.mu.Lock()
	removed, e := p.applyOffer(m, cfg)
	p.mu.Unlock()
	if e != nil {
		n.offersRefused.Add(1)
		return e
	}
	for _, s := range removed {
		if t := p.room.lookup(p.user, s.kind); t != nil && t.owner == p && t.mid == s.mid {
			p.room.unpublish(t)
		}
	}
	return nil
}

// applyOffer runs under p.mu; it returns the sections no longer published.
func (p *Peer) applyOffer(m wire.Message, cfg *Config) ([]pubSection, *wire.Error) {
	n := &p.room.srv.n
	switch {
	case p.closed:
		return nil, wire.Errorf(wire.CodeClosed, "the peer is closed")
	case p.role != rooms.Anchor:
		n.publishRefused.Add(1)
		return nil, wire.Errorf(wire.CodePublishNotAllowed, "audience members cannot publish; switch to anchor first")
	case !p.limiter.Allow():
		n.renegLimit.Add(1)
		return nil, wire.Errorf(wire.CodeRenegotiationLimited, "at most %d offers at once, then one per %s", cfg.Renegotiation.Burst, cfg.Renegotiation.Interval)
	}
	info, e := checkOffer(m.SDP, m.Tracks, cfg.MaxTracks, cfg.checkCandidate)
	if e != nil {
		return nil, e
	}
	if info.dropped > 0 {
		n.candRefused.Add(uint64(info.dropped))
		p.sendError(wire.Errorf(wire.CodeCandidateNetwork, "%d candidates of the offer are outside the allowed networks and were dropped", info.dropped))
	}
	fresh := p.pub == nil
	if fresh {
		pc, err := p.room.srv.api.NewPeerConnection(webrtc.Configuration{})
		if err != nil {
			return nil, wire.Errorf(wire.CodeInternal, "peer connection: %v", err)
		}
		pc.OnTrack(func(tr *webrtc.TrackRemote, rc *webrtc.RTPReceiver) { p.onTrack(pc, tr, rc) })
		p.pub = pc
	}
	fail := func(e *wire.Error) ([]pubSection, *wire.Error) {
		if fresh {
			p.pub.Close()
			p.pub = nil
		} else {
			_ = p.pub.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeRollback})
		}
		return nil, e
	}
	if err := p.pub.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: info.sdp}); err != nil {
		return fail(wire.Errorf(wire.CodeInvalidSDP, "offer: %v", err))
	}
	answer, err := p.pub.CreateAnswer(nil)
	if err != nil {
		return fail(wire.Errorf(wire.CodeInvalidSDP, "answer: %v", err))
	}
	if e := setLocal(p.pub, answer); e != nil {
		return fail(e)
	}
	old := p.pubMids
	p.pubMids = map[string]pubSection{}
	for _, s := range info.sections {
		p.pubMids[s.mid] = s
	}
	p.sendMsg(wire.Message{Type: wire.TypeAnswer, PC: wire.PCPub, SDP: p.pub.LocalDescription().SDP, ID: m.ID})
	var removed []pubSection
	for mid, s := range old {
		if now, ok := p.pubMids[mid]; !ok || now.kind != s.kind {
			removed = append(removed, s)
		}
	}
	return removed, nil
}

// onTrack starts forwarding a track the publisher began sending.
func (p *Peer) onTrack(pc *webrtc.PeerConnection, remote *webrtc.TrackRemote, rc *webrtc.RTPReceiver) {
	mid := ""
	for _, tr := range pc.GetTransceivers() {
		if tr.Receiver() == rc {
			mid = tr.Mid()
		}
	}
	p.mu.Lock()
	sec, ok := p.pubMids[mid]
	current := p.pub == pc && !p.closed
	p.mu.Unlock()
	if !ok || !current {
		return
	}
	s := p.room.srv
	local, err := webrtc.NewTrackLocalStaticRTP(remote.Codec().RTPCodecCapability, string(sec.kind), p.user)
	if err != nil {
		return
	}
	t := &pubTrack{room: p.room, owner: p, kind: sec.kind, mid: mid, remote: remote, pc: pc, maxRate: s.cfg.allowedRate(sec)}
	t.local = &boundTrack{TrackLocalStaticRTP: local, onBind: t.requestKeyframe}
	if p.room.publish(t) {
		s.goroutine(t.forwardLoop)
	}
}

// allowedRate is the bitrate a section may send under BitratePolicy.
func (c *Config) allowedRate(s pubSection) int {
	r := s.bitrate
	if r <= 0 {
		r = c.Bitrate.DefaultVideo
		if s.kind == wire.Audio {
			r = c.Bitrate.DefaultAudio
		}
	}
	return min(r, c.Bitrate.Max)
}

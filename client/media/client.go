// Package media is the Go client of trtcd's media protocol: it publishes
// synthetic audio and video tracks and receives the room's tracks over
// WebRTC, counting what arrives. Signalling is transport-agnostic: the
// client sends wire.Messages through a function and is given the server's
// with Handle, so it runs over the room WebSocket or any other channel.
//
// The protocol is documented in docs/media.md.
package media

import (
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/webrtc/v4"

	"github.com/trtcd/trtcd/client/media/wire"
)

// ErrClosed is returned after Close.
var ErrClosed = errors.New("media client: closed")

// Options tune a client.
type Options struct {
	// Networks restricts the local addresses gathered; empty allows every
	// address except loopback. Loopback is gathered when a network holds it.
	Networks []netip.Prefix
	// TCP gathers only ICE-over-TCP candidates (the server's TCP fallback).
	TCP bool
	// Log receives diagnostics; nil discards them.
	Log *slog.Logger
}

// gatherTimeout bounds the wait for local candidates before a description
// is sent (the client sends complete descriptions, no trickle).
const gatherTimeout = 10 * time.Second

// Client is one member's media connections.
type Client struct {
	send func(wire.Message) error
	api  *webrtc.API
	log  *slog.Logger

	sendMu sync.Mutex
	errs   chan *wire.Error

	mu        sync.Mutex
	closed    bool
	pub       *webrtc.PeerConnection
	sub       *webrtc.PeerConnection
	published map[wire.Kind]*localTrack
	answer    chan wire.Message // the pending publish's answer or error
	answerID  string            // the pending offer's id
	offers    uint64            // offers sent, for ids
	recv      map[recvKey]*recvTrack
	announced map[recvKey]bool // media_track_published minus unpublished
	resets    int              // media_reset messages followed
	// reneg, while a media_reset's renegotiation waits, hears whether the
	// server offered on sub (true) or refused it as Closed (false).
	reneg chan bool

	gmu     sync.Mutex
	gclosed bool
	wg      sync.WaitGroup
	closing chan struct{} // closed by Close
}

// New makes a client that sends its messages with send. send may be called
// from several goroutines, never concurrently; it must not block for long.
func New(send func(wire.Message) error, o Options) (*Client, error) {
	var m webrtc.MediaEngine
	for _, c := range codecs() {
		kind := webrtc.RTPCodecTypeVideo
		if c.MimeType == webrtc.MimeTypeOpus {
			kind = webrtc.RTPCodecTypeAudio
		}
		if err := m.RegisterCodec(c, kind); err != nil {
			return nil, err
		}
	}
	var reg interceptor.Registry
	if err := webrtc.ConfigureNack(&m, &reg); err != nil {
		return nil, err
	}
	if err := webrtc.ConfigureRTCPReports(&reg); err != nil {
		return nil, err
	}
	var se webrtc.SettingEngine
	loop := false
	for _, p := range o.Networks {
		loop = loop || p.Contains(netip.MustParseAddr("127.0.0.1")) || p.Contains(netip.IPv6Loopback())
	}
	if len(o.Networks) > 0 {
		se.SetIPFilter(func(ip net.IP) bool {
			a, ok := netip.AddrFromSlice(ip)
			if !ok {
				return false
			}
			for _, p := range o.Networks {
				if p.Contains(a.Unmap()) {
					return true
				}
			}
			return false
		})
	}
	se.SetIncludeLoopbackCandidate(loop)
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	if o.TCP {
		se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeTCP4, webrtc.NetworkTypeTCP6})
	} else {
		se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4, webrtc.NetworkTypeUDP6})
	}
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Client{
		send: send, log: log,
		api:       webrtc.NewAPI(webrtc.WithMediaEngine(&m), webrtc.WithInterceptorRegistry(&reg), webrtc.WithSettingEngine(se)),
		errs:      make(chan *wire.Error, 64),
		closing:   make(chan struct{}),
		published: map[wire.Kind]*localTrack{},
		recv:      map[recvKey]*recvTrack{},
		announced: map[recvKey]bool{},
	}, nil
}

// codecs are the codecs the client negotiates: Opus, VP8, H.264.
func codecs() []webrtc.RTPCodecParameters {
	fb := []webrtc.RTCPFeedback{{Type: "nack"}, {Type: "nack", Parameter: "pli"}, {Type: "ccm", Parameter: "fir"}}
	return []webrtc.RTPCodecParameters{
		{PayloadType: 111, RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1"}},
		{PayloadType: 96, RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000, RTCPFeedback: fb}},
		{PayloadType: 102, RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264, ClockRate: 90000,
			SDPFmtpLine: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f", RTCPFeedback: fb}},
	}
}

func (c *Client) sendMsg(m wire.Message) error {
	c.sendMu.Lock()
	defer c.sendMu.Unlock()
	return c.send(m)
}

// Errors delivers the server's media_error messages (the last 64 unread).
func (c *Client) Errors() <-chan *wire.Error { return c.errs }

// Handle processes one message from the server. It returns when the
// message is processed (e.g. the answer to an offer was sent).
func (c *Client) Handle(m wire.Message) error {
	if e := m.Check(); e != nil {
		return e
	}
	switch m.Type {
	case wire.TypeOffer:
		return c.handleOffer(m)
	case wire.TypeAnswer:
		c.mu.Lock()
		ch := c.answer
		if m.ID == "" || m.ID != c.answerID {
			ch = nil
		}
		c.mu.Unlock()
		if ch != nil {
			select {
			case ch <- m:
			default:
			}
		}
	case wire.TypeError:
		e := &wire.Error{Code: m.Code, Message: m.Message}
		closedNoID := m.Code == wire.CodeClosed && m.ID == "" // the room's media unreachable: fails whatever waits
		if m.Code == wire.CodeClosed && m.Ref == wire.TypeRenegotiate {
			c.renegotiated(false)
		}
		if m.Ref == wire.TypeOffer || closedNoID {
			c.mu.Lock()
			ch := c.answer
			if !closedNoID && (m.ID == "" || m.ID != c.answerID) {
				ch = nil
			}
			c.mu.Unlock()
			if ch != nil {
				select {
				case ch <- m:
				default:
				}
			}
		}
		select {
		case c.errs <- e:
		default:
		}
	case wire.TypeReset:
		c.handleReset()
	case wire.TypeTrackPublished, wire.TypeTrackUnpublished:
		c.mu.Lock()
		c.announced[recvKey{m.UserID, m.Kind}] = m.Type == wire.TypeTrackPublished
		c.mu.Unlock()
		if m.Type == wire.TypeTrackUnpublished {
			c.unpublished(m.UserID, m.Kind)
		}
	case wire.TypeCandidate:
		c.mu.Lock()
		pc := c.sub
		if m.PC == wire.PCPub {
			pc = c.pub
		}
		c.mu.Unlock()
		if pc != nil {
			k := m.Candidate
			return pc.AddICECandidate(webrtc.ICECandidateInit{Candidate: k.Candidate, SDPMid: k.SDPMid, SDPMLineIndex: k.SDPMLineIndex, UsernameFragment: k.UsernameFragment})
		}
	}
	return nil
}

// Announced reports whether the server last said user's kind track is
// published to this client.
func (c *Client) Announced(user string, kind wire.Kind) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.announced[recvKey{user, kind}]
}

// Subscribe asks to receive user's kind track again.
func (c *Client) Subscribe(user string, kind wire.Kind) error {
	return c.sendMsg(wire.Message{Type: wire.TypeSubscribe, UserID: user, Kind: kind})
}

// Unsubscribe asks to stop receiving user's kind track.
func (c *Client) Unsubscribe(user string, kind wire.Kind) error {
	return c.sendMsg(wire.Message{Type: wire.TypeUnsubscribe, UserID: user, Kind: kind})
}

// State is the connection state of the publishing ("pub") or receiving
// ("sub") connection: "none" before it exists, else pion's state name
// (new, connecting, connected, disconnected, failed, closed).
func (c *Client) State(pc string) string {
	c.mu.Lock()
	p := c.sub
	if pc == wire.PCPub {
		p = c.pub
	}
	c.mu.Unlock()
	if p == nil {
		return "none"
	}
	return p.ConnectionState().String()
}

// Close stops publishing and receiving and waits for the client's goroutines.
func (c *Client) Close() {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	pcs := []*webrtc.PeerConnection{c.pub, c.sub}
	var ts []*localTrack
	for _, t := range c.published {
		ts = append(ts, t)
	}
	c.mu.Unlock()
	for _, t := range ts {
		t.stop()
	}
	for _, pc := range pcs {
		if pc != nil {
			pc.Close()
		}
	}
	c.gmu.Lock()
	c.gclosed = true
	c.gmu.Unlock()
	close(c.closing)
	c.wg.Wait()
}

func (c *Client) goroutine(f func()) {
	c.gmu.Lock()
	defer c.gmu.Unlock()
	if c.gclosed {
		return
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		f()
	}()
}

// setLocal sets a local description and waits for ICE gathering.
func setLocal(pc *webrtc.PeerConnection, d webrtc.SessionDescription) error {
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(d); err != nil {
		return err
	}
	select {
	case <-gathered:
		return nil
	case <-time.After(gatherTimeout):
		return errors.New("media client: ICE gathering did not complete")
	}
}

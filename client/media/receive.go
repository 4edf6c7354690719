package media

import (
	"sync"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"

	"github.com/trtcd/trtcd/client/media/wire"
)

type recvKey struct {
	user string
	kind wire.Kind
}

// recvTrack counts what arrived of one remote user's track, across
// re-subscriptions.
type recvTrack struct {
	mu      sync.Mutex
	stats   TrackStats
	ssrc    webrtc.SSRC
	endedCh chan struct{}
}

// TrackStats is what a client received of one user's track.
type TrackStats struct {
	Packets uint64
	Bytes   uint64 // RTP payload bytes
	Tracks  int    // how many times the track was received (re-subscriptions, republishing)
	Active  bool   // a track is being received now
	Codec   string // e.g. "video/VP8"
	// Latency is the last payload's arrival minus its send time (same host
	// clocks only).
	Latency time.Duration
}

// Received is what arrived so far of user's kind track.
func (c *Client) Received(user string, kind wire.Kind) TrackStats {
	c.mu.Lock()
	r := c.recv[recvKey{user, kind}]
	c.mu.Unlock()
	if r == nil {
		return TrackStats{}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stats
}

// Ended is closed when the current track of user's kind ends (nil when
// none was received yet).
func (c *Client) Ended(user string, kind wire.Kind) <-chan struct{} {
	c.mu.Lock()
	r := c.recv[recvKey{user, kind}]
	c.mu.Unlock()
	if r == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.endedCh
}

// RequestKeyframe sends a PLI for user's kind track.
func (c *Client) RequestKeyframe(user string, kind wire.Kind) error {
	c.mu.Lock()
	r, sub := c.recv[recvKey{user, kind}], c.sub
	c.mu.Unlock()
	if r == nil || sub == nil {
		return ErrClosed
	}
	r.mu.Lock()
	ssrc := r.ssrc
	r.mu.Unlock()
	return sub.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: uint32(ssrc)}})
}

// handleOffer answers the server's offer on the receiving connection.
func (c *Client) handleOffer(m wire.Message) error {
	if m.PC != wire.PCSub {
		return &wire.Error{Code: wire.CodeInvalidState, Message: "the server offers on sub only"}
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return ErrClosed
	}
	if c.sub == nil {
		pc, err := c.api.NewPeerConnection(webrtc.Configuration{})
		if err != nil {
			c.mu.Unlock()
			return err
		}
		pc.OnTrack(func(t *webrtc.TrackRemote, _ *webrtc.RTPReceiver) { c.onTrack(t) })
		c.sub = pc
	}
	pc := c.sub
	c.mu.Unlock()
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: m.SDP}); err != nil {
		return err
	}
	c.renegotiated(true)
	answer, err := pc.CreateAnswer(nil)
	if err != nil {
		return err
	}
	if err := setLocal(pc, answer); err != nil {
		return err
	}
	return c.sendMsg(wire.Message{Type: wire.TypeAnswer, PC: wire.PCSub, SDP: pc.LocalDescription().SDP})
}

// onTrack counts a remote track's packets until it ends. The server names
// tracks by kind, in a stream named after the publishing user.
func (c *Client) onTrack(t *webrtc.TrackRemote) {
	k := recvKey{t.StreamID(), wire.Kind(t.ID())}
	c.mu.Lock()
	r := c.recv[k]
	if r == nil {
		r = &recvTrack{}
		c.recv[k] = r
	}
	c.mu.Unlock()
	ended := make(chan struct{})
	r.mu.Lock()
	r.stats.Tracks++
	r.stats.Active = true
	r.stats.Codec = t.Codec().MimeType
	r.ssrc = t.SSRC()
	r.endedCh = ended
	r.mu.Unlock()
	c.goroutine(func() {
		defer close(ended)
		mime := t.Codec().MimeType
		for {
			p, _, err := t.ReadRTP()
			if err != nil {
				break
			}
			now := time.Now()
			st, ok := SendTime(mime, p.Payload)
			r.mu.Lock()
			r.stats.Packets++
			r.stats.Bytes += uint64(len(p.Payload))
			if ok {
				r.stats.Latency = now.Sub(st)
			}
			r.mu.Unlock()
		}
		r.mu.Lock()
		if r.endedCh == ended {
			r.stats.Active = false
		}
		r.mu.Unlock()
	})
}

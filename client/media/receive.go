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
	cur     *trackEnd // the track being received; nil once it ended
	endedCh chan struct{}
}

// trackEnd is closed once, by whichever comes first: the server's
// media_track_unpublished or the track's packets ending (ReadRTP EOF).
type trackEnd struct {
	ch   chan struct{}
	once sync.Once
}

func (e *trackEnd) end() { e.once.Do(func() { close(e.ch) }) }

// unpublished ends user's kind track on the server's word: the server stops
// forwarding a track before it says so, and the offer that removes the
// track from the connection (ReadRTP EOF) may come tens of milliseconds
// later in a large room.
func (c *Client) unpublished(user string, kind wire.Kind) {
	c.mu.Lock()
	r := c.recv[recvKey{user, kind}]
	c.mu.Unlock()
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cur != nil {
		r.cur.end()
		r.cur = nil
		r.stats.Active = false
	}
}

// TrackStats is what a client received of one user's track.
type TrackStats struct {
	Packets uint64
	Bytes   uint64 // RTP payload bytes
	Tracks  int    // how many times the track was received (re-subscriptions, republishing)
	Active  bool   // a track is being received now
	// Removed: the last track received has left the connection (the
	// server's offer took it off and its packets ended, ReadRTP EOF); it
	// ended (Ended, Active false) when the server said so, maybe before.
	Removed bool
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

// Ended is closed when the current track of user's kind ends: when the
// server says so (media_track_unpublished) or its packets end, whichever
// comes first (nil when none was received yet).
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
	ended := &trackEnd{ch: make(chan struct{})}
	r.mu.Lock()
	r.stats.Tracks++
	r.stats.Active = true
	r.stats.Removed = false
	r.stats.Codec = t.Codec().MimeType
	r.ssrc = t.SSRC()
	r.cur = ended
	r.endedCh = ended.ch
	r.mu.Unlock()
	c.goroutine(func() {
		defer ended.end()
		mime := t.Codec().MimeType
		for {
			p, _, err := t.ReadRTP()
			if err != nil {
				break
			}
			now := time.Now()
			st, ok := SendTime(mime, p.Payload)
			r.mu.Lock()
			if r.cur != ended { // ended on the server's word: late packets do not count
				r.mu.Unlock()
				continue
			}
			r.stats.Packets++
			r.stats.Bytes += uint64(len(p.Payload))
			if ok {
				r.stats.Latency = now.Sub(st)
			}
			r.mu.Unlock()
		}
		r.mu.Lock()
		if r.cur == ended {
			r.cur = nil
			r.stats.Active = false
		}
		if r.endedCh == ended.ch {
			r.stats.Removed = true
		}
		r.mu.Unlock()
	})
}

package media

import (
	"sync"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"

	"github.com/trtcd/trtcd/client/media/wire"
)

// pubTrack is one published track: read from the publisher, written to one
// shared local track that every subscriber's connection is bound to.
type pubTrack struct {
	room    *Room
	owner   *Peer
	kind    wire.Kind
	mid     string
	remote  *webrtc.TrackRemote
	pc      *webrtc.PeerConnection // the publisher's, for keyframe requests
	local   *boundTrack
	maxRate int // bits per second the bitrate policy allows

	mu      sync.RWMutex // forwarding holds it shared; ending and blocking exclusively
	ended   bool
	blocked bool

	// Bitrate window, touched only by the forwarding goroutine.
	winStart time.Time
	winBytes int
	warned   bool

	kmu      sync.Mutex // keyframe requests
	lastPLI  time.Time
	pliTimer *time.Timer

	started, stopped bool // media events, under room.evMu
}

// boundTrack is the shared local track; its Bind hook asks the publisher for
// a keyframe whenever a subscriber's connection starts sending it, so a new
// subscriber can decode quickly.
type boundTrack struct {
	*webrtc.TrackLocalStaticRTP
	onBind func()
}

func (b *boundTrack) Bind(ctx webrtc.TrackLocalContext) (webrtc.RTPCodecParameters, error) {
	c, err := b.TrackLocalStaticRTP.Bind(ctx)
	if err == nil {
		b.onBind()
	}
	return c, err
}

// forwardLoop copies the publisher's packets until its track ends.
func (t *pubTrack) forwardLoop() {
	buf := make([]byte, 1500)
	for {
		n, _, err := t.remote.Read(buf)
		if err != nil {
			break
		}
		t.forward(buf[:n])
	}
	t.room.trackGone(t)
}

func (t *pubTrack) forward(b []byte) {
	n := &t.room.srv.n
	t.mu.RLock()
	defer t.mu.RUnlock()
	switch {
	case t.ended:
		return
	case t.blocked:
		n.blocked.Add(1)
		return
	case !t.budget(len(b)):
		n.overBitrate.Add(1)
		return
	}
	if _, err := t.local.Write(b); err == nil {
		n.forwarded.Add(1)
	}
}

// budget applies BitratePolicy: it reports whether size more bytes fit in
// the current window, and tells the publisher once per window when not.
func (t *pubTrack) budget(size int) bool {
	p := t.room.srv.cfg.Bitrate
	now := time.Now()
	if now.Sub(t.winStart) >= p.Window {
		t.winStart, t.winBytes, t.warned = now, 0, false
	}
	limit := int(float64(t.maxRate) / 8 * p.Tolerance * p.Window.Seconds())
	if t.winBytes+size > limit {
		if !t.warned {
			t.warned = true
			t.owner.sendError(wire.Errorf(wire.CodeBitrateExceeded, "%s track sends more than %.1f times its %d bit/s; packets are dropped", t.kind, p.Tolerance, t.maxRate))
		}
		return false
	}
	t.winBytes += size
	return true
}

// end stops forwarding for good; it reports whether this call ended it.
// Once it returns, no packet of the track is written again.
func (t *pubTrack) end() bool {
	t.mu.Lock()
	first := !t.ended
	t.ended = true
	t.mu.Unlock()
	t.kmu.Lock()
	if t.pliTimer != nil {
		t.pliTimer.Stop()
		t.pliTimer = nil
	}
	t.kmu.Unlock()
	return first
}

func (t *pubTrack) isEnded() bool {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.ended
}

// setBlocked stops or resumes forwarding; once it returns, a blocked track
// writes no packet. A video track that resumes asks for a keyframe.
func (t *pubTrack) setBlocked(b bool) {
	t.mu.Lock()
	was := t.blocked
	t.blocked = b
	t.mu.Unlock()
	if was && !b {
		t.requestKeyframe()
	}
}

// requestKeyframe sends a PLI to the publisher, at most one per
// KeyframeInterval (policy KeyframeRateLimit): a request inside the interval
// is merged into one sent when the interval ends.
func (t *pubTrack) requestKeyframe() {
	if !t.kind.IsVideo() {
		return
	}
	iv := t.room.srv.cfg.KeyframeInterval
	t.kmu.Lock()
	defer t.kmu.Unlock()
	if t.isEnded() {
		return
	}
	since := time.Since(t.lastPLI)
	if since >= iv {
		t.sendPLI()
		return
	}
	if t.pliTimer != nil {
		t.room.srv.n.keyframeMerged.Add(1)
		return
	}
	t.pliTimer = time.AfterFunc(iv-since, func() {
		t.kmu.Lock()
		defer t.kmu.Unlock()
		if t.pliTimer == nil {
			return // ended meanwhile
		}
		t.pliTimer = nil
		t.sendPLI()
	})
}

// sendPLI runs under kmu.
func (t *pubTrack) sendPLI() {
	t.lastPLI = time.Now()
	err := t.pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: uint32(t.remote.SSRC())}})
	if err == nil {
		t.room.srv.n.keyframes.Add(1)
	}
}

// readRTCP serves one subscriber's sender: it must be read for NACKs to be
// answered, and it passes keyframe requests (PLI, FIR) to the publisher.
func (t *pubTrack) readRTCP(s *webrtc.RTPSender) {
	for {
		pkts, _, err := s.ReadRTCP()
		if err != nil {
			return
		}
		for _, p := range pkts {
			switch p.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				t.requestKeyframe()
			}
		}
	}
}

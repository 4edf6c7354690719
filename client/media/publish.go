package media

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"
	pmedia "github.com/pion/webrtc/v4/pkg/media"

	"github.com/trtcd/trtcd/client/media/wire"
)

// TrackSpec describes one synthetic track to publish. The payloads are not
// real audio or video (the SFU does not decode), but are shaped like them:
// one Opus-sized packet per 20 ms, and VP8 or H.264 frames at FrameRate with
// keyframes marked, a keyframe every 2 s and after each keyframe request.
// Each payload carries its send time (SendTime reads it back).
type TrackSpec struct {
	Kind      wire.Kind
	Codec     string // "VP8" (video default) or "H264"; audio is always Opus
	Bitrate   int    // bits per second actually sent; default 32 000 audio, 300 000 video
	Announce  int    // bits per second announced to the server; default Bitrate
	FrameRate int    // video frames per second; default 15
}

// localTrack is one published track and its sample writer.
type localTrack struct {
	spec   TrackSpec
	track  *webrtc.TrackLocalStaticSample
	sender *webrtc.RTPSender
	plis   atomic.Uint64
	wantKF atomic.Bool
	frames atomic.Uint64
	quit   chan struct{}
	once   sync.Once
}

func (t *localTrack) stop() { t.once.Do(func() { close(t.quit) }) }

// Publish adds tracks to the publishing connection and negotiates them; it
// returns once the server answered, or with the server's refusal as a
// *wire.Error (the connection is then as before).
func (c *Client) Publish(ctx context.Context, specs ...TrackSpec) error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return ErrClosed
	}
	if c.answer != nil {
		c.mu.Unlock()
		return errors.New("media client: a negotiation is already in progress")
	}
	c.answer = make(chan wire.Message, 1)
	fresh := c.pub == nil
	if fresh {
		pc, err := c.api.NewPeerConnection(webrtc.Configuration{})
		if err != nil {
			c.answer = nil
			c.mu.Unlock()
			return err
		}
		c.pub = pc
	}
	pc := c.pub
	var added []*localTrack
	for _, s := range specs {
		t, err := c.addLocal(pc, s)
		if err != nil {
			c.abortPublish(pc, fresh, added)
			c.mu.Unlock()
			return err
		}
		added = append(added, t)
	}
	c.mu.Unlock()

	err := c.negotiatePub(ctx, pc)
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		c.abortPublish(pc, fresh, added)
		return err
	}
	c.answer, c.answerID = nil, ""
	for _, t := range added {
		c.goroutine(func() { c.writeSamples(t) })
		c.goroutine(func() { readPLIs(t) })
	}
	return nil
}

// abortPublish undoes a refused Publish on pc; under c.mu. After a
// media_reset pc is no longer the client's (the reset closed it).
func (c *Client) abortPublish(pc *webrtc.PeerConnection, fresh bool, added []*localTrack) {
	c.answer, c.answerID = nil, ""
	for _, t := range added {
		if c.published[t.spec.Kind] == t {
			delete(c.published, t.spec.Kind)
		}
		_ = pc.RemoveTrack(t.sender)
	}
	if fresh && c.pub == pc {
		pc.Close()
		c.pub = nil
	}
}

func (c *Client) addLocal(pc *webrtc.PeerConnection, s TrackSpec) (*localTrack, error) {
	if !s.Kind.Valid() {
		return nil, fmt.Errorf("media client: kind %q", s.Kind)
	}
	if c.published[s.Kind] != nil {
		return nil, fmt.Errorf("media client: %s is already published", s.Kind)
	}
	mime := webrtc.MimeTypeOpus
	if s.Kind.IsVideo() {
		mime = webrtc.MimeTypeVP8
		if s.Codec == "H264" {
			mime = webrtc.MimeTypeH264
		}
		if s.Bitrate == 0 {
			s.Bitrate = 300_000
		}
		if s.FrameRate == 0 {
			s.FrameRate = 15
		}
	} else if s.Bitrate == 0 {
		s.Bitrate = 32_000
	}
	if s.Announce == 0 {
		s.Announce = s.Bitrate
	}
	var capab webrtc.RTPCodecCapability
	for _, k := range codecs() {
		if k.MimeType == mime {
			capab = k.RTPCodecCapability
		}
	}
	track, err := webrtc.NewTrackLocalStaticSample(capab, string(s.Kind)+"-track", "trtcd")
	if err != nil {
		return nil, err
	}
	tr, err := pc.AddTransceiverFromTrack(track, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
	if err != nil {
		return nil, err
	}
	t := &localTrack{spec: s, track: track, sender: tr.Sender(), quit: make(chan struct{})}
	c.published[s.Kind] = t
	return t, nil
}

// Unpublish stops the tracks of the given kinds and renegotiates.
func (c *Client) Unpublish(ctx context.Context, kinds ...wire.Kind) error {
	c.mu.Lock()
	if c.closed || c.pub == nil {
		c.mu.Unlock()
		return ErrClosed
	}
	if c.answer != nil {
		c.mu.Unlock()
		return errors.New("media client: a negotiation is already in progress")
	}
	c.answer = make(chan wire.Message, 1)
	pc := c.pub
	for _, k := range kinds {
		if t := c.published[k]; t != nil {
			t.stop()
			_ = pc.RemoveTrack(t.sender)
			delete(c.published, k)
		}
	}
	c.mu.Unlock()
	err := c.negotiatePub(ctx, pc)
	c.mu.Lock()
	c.answer, c.answerID = nil, ""
	c.mu.Unlock()
	return err
}

// negotiatePub offers on pub and applies the answer.
func (c *Client) negotiatePub(ctx context.Context, pc *webrtc.PeerConnection) error {
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		return err
	}
	if err := setLocal(pc, offer); err != nil {
		return err
	}
	c.mu.Lock()
	var infos []wire.TrackInfo
	for _, t := range c.published {
		infos = append(infos, wire.TrackInfo{TrackID: t.track.ID(), Kind: t.spec.Kind, Bitrate: t.spec.Announce})
	}
	ch := c.answer
	c.offers++
	id := fmt.Sprintf("o%d", c.offers)
	c.answerID = id
	c.mu.Unlock()
	if err := c.sendMsg(wire.Message{Type: wire.TypeOffer, PC: wire.PCPub, SDP: pc.LocalDescription().SDP, Tracks: infos, ID: id}); err != nil {
		_ = pc.SetLocalDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeRollback})
		return err
	}
	select {
	case m := <-ch:
		if m.Type == wire.TypeError {
			_ = pc.SetLocalDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeRollback})
			return &wire.Error{Code: m.Code, Message: m.Message}
		}
		return pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: m.SDP})
	case <-ctx.Done():
		_ = pc.SetLocalDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeRollback})
		return ctx.Err()
	}
}

// KeyframeRequests counts the PLIs and FIRs received for the published
// track of this kind.
func (c *Client) KeyframeRequests(kind wire.Kind) uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t := c.published[kind]; t != nil {
		return t.plis.Load()
	}
	return 0
}

// Sent counts the frames (audio packets) written for the published track
// of this kind.
func (c *Client) Sent(kind wire.Kind) uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t := c.published[kind]; t != nil {
		return t.frames.Load()
	}
	return 0
}

func readPLIs(t *localTrack) {
	for {
		pkts, _, err := t.sender.ReadRTCP()
		if err != nil {
			return
		}
		for _, p := range pkts {
			switch p.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				t.plis.Add(1)
				t.wantKF.Store(true)
			}
		}
	}
}

// writeSamples paces the track's synthetic frames until it is stopped.
func (c *Client) writeSamples(t *localTrack) {
	every := 20 * time.Millisecond
	if t.spec.Kind.IsVideo() {
		every = time.Second / time.Duration(t.spec.FrameRate)
	}
	size := max(int(float64(t.spec.Bitrate)/8*every.Seconds()), 24)
	keyEvery := uint64(2 * time.Second / every)
	tick := time.NewTicker(every)
	defer tick.Stop()
	for n := uint64(0); ; n++ {
		select {
		case <-t.quit:
			return
		case <-tick.C:
		}
		key := n%keyEvery == 0 || t.wantKF.Swap(false)
		data := synthFrame(t.track.Codec().MimeType, size, key, time.Now())
		if t.track.WriteSample(pmedia.Sample{Data: data, Duration: every}) == nil {
			t.frames.Add(1)
		}
	}
}

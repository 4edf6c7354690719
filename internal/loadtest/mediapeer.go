package loadtest

import (
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// The synthetic load of one media publisher (the same for trtcd and the
// bare relay): video at VideoBitrate in VideoFPS frames cut into packets
// of at most MediaPacketBytes, audio at AudioBitrate in one packet per
// AudioPacketInterval. Every payload ends with its send time: 8 bytes of
// nanoseconds on this process's monotonic clock (since epoch).
const (
	VideoBitrate        = 1_500_000
	VideoFPS            = 30
	AudioBitrate        = 48_000
	AudioPacketInterval = 20 * time.Millisecond
	MediaPacketBytes    = 1100
	keyframeEvery       = 2 * time.Second
	// PaceFactor is libwebrtc's default pacing multiplier: a sender's
	// pacer sends at 2.5 times the target bitrate.
	PaceFactor = 2.5
	// PacketGap is the time between two video packets of one frame when
	// paced: MediaPacketBytes at PaceFactor × VideoBitrate (2.35 ms).
	PacketGap = time.Duration(MediaPacketBytes * 8 * int64(time.Second) * 10 / (PaceFactor * 10 * VideoBitrate))
)

// epoch is the origin of the send stamps: time.Since uses the monotonic clock.
var epoch = time.Now()

func stampNow() uint64 { return uint64(time.Since(epoch)) }

// loopbackAPI is a pion API gathering loopback UDP candidates only, with
// the codecs and interceptors (NACK, RTCP reports) of trtcd's Go client.
func loopbackAPI() (*webrtc.API, error) {
	var m webrtc.MediaEngine
	fb := []webrtc.RTCPFeedback{{Type: "nack"}, {Type: "nack", Parameter: "pli"}, {Type: "ccm", Parameter: "fir"}}
	if err := m.RegisterCodec(webrtc.RTPCodecParameters{PayloadType: 111, RTPCodecCapability: opusCap}, webrtc.RTPCodecTypeAudio); err != nil {
		return nil, err
	}
	vc := vp8Cap
	vc.RTCPFeedback = fb
	if err := m.RegisterCodec(webrtc.RTPCodecParameters{PayloadType: 96, RTPCodecCapability: vc}, webrtc.RTPCodecTypeVideo); err != nil {
		return nil, err
	}
	var reg interceptor.Registry
	if err := webrtc.ConfigureNack(&m, &reg); err != nil {
		return nil, err
	}
	if err := webrtc.ConfigureRTCPReports(&reg); err != nil {
		return nil, err
	}
	var se webrtc.SettingEngine
	loop := netip.MustParsePrefix("127.0.0.0/8")
	se.SetIPFilter(func(ip net.IP) bool {
		a, ok := netip.AddrFromSlice(ip)
		return ok && loop.Contains(a.Unmap())
	})
	se.SetIncludeLoopbackCandidate(true)
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	return webrtc.NewAPI(webrtc.WithMediaEngine(&m), webrtc.WithInterceptorRegistry(&reg), webrtc.WithSettingEngine(se)), nil
}

var (
	opusCap = webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1"}
	vp8Cap  = webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}
)

// completeLocal sets a local description and waits for ICE gathering, so
// that the description sent carries every candidate (no trickle).
func completeLocal(pc *webrtc.PeerConnection, d webrtc.SessionDescription) (string, error) {
	done := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(d); err != nil {
		return "", err
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		return "", errors.New("ICE gathering did not complete")
	}
	return pc.LocalDescription().SDP, nil
}

// synthPublisher writes the synthetic audio and video to two RTP tracks.
type synthPublisher struct {
	audio, video *webrtc.TrackLocalStaticRTP
	sent         atomic.Uint64
	quit         chan struct{}
	wg           sync.WaitGroup
}

func newSynthPublisher(stream string) (*synthPublisher, error) {
	a, err := webrtc.NewTrackLocalStaticRTP(opusCap, "audio-track", stream)
	if err != nil {
		return nil, err
	}
	v, err := webrtc.NewTrackLocalStaticRTP(vp8Cap, "video-track", stream)
	if err != nil {
		return nil, err
	}
	return &synthPublisher{audio: a, video: v, quit: make(chan struct{})}, nil
}

// addTo adds both tracks send-only to pc and drains their RTCP.
func (s *synthPublisher) addTo(pc *webrtc.PeerConnection) error {
	for _, t := range []*webrtc.TrackLocalStaticRTP{s.audio, s.video} {
		tr, err := pc.AddTransceiverFromTrack(t, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
		if err != nil {
			return err
		}
		// Ends when pc closes (every user of addTo closes its pc).
		go func(snd *webrtc.RTPSender) {
			for {
				if _, _, err := snd.ReadRTCP(); err != nil {
					return
				}
			}
		}(tr.Sender())
	}
	return nil
}

// start sends the packets until stop. Video is paced as WebRTC senders
// pace it (libwebrtc's pacer sends at PaceFactor times the target bitrate):
// a frame's packets leave PacketGap apart from the frame's capture time,
// not all at once.
func (s *synthPublisher) start() {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		frameBytes := VideoBitrate / 8 / VideoFPS
		audioBytes := AudioBitrate / 8 * int(AudioPacketInterval/time.Millisecond) / 1000
		frameGap := time.Second / VideoFPS
		var vseq, aseq uint16
		var frame, apkt, off int // off: bytes of the current frame sent
		start := time.Now()
		buf := make([]byte, MediaPacketBytes)
		for {
			nextV := start.Add(time.Duration(frame)*frameGap + time.Duration(off/MediaPacketBytes)*PacketGap)
			nextA := start.Add(time.Duration(apkt) * AudioPacketInterval)
			next := nextV
			if nextA.Before(next) {
				next = nextA
			}
			select {
			case <-s.quit:
				return
			case <-time.After(time.Until(next)):
			}
			now := time.Now()
			if !nextA.After(now) {
				p := rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: aseq, Timestamp: uint32(apkt * 960), Marker: true}, Payload: stamped(buf[:audioBytes], false, false)}
				aseq++
				apkt++
				if s.audio.WriteRTP(&p) == nil {
					s.sent.Add(1)
				}
			}
			if !nextV.After(now) {
				key := frame%int(keyframeEvery/frameGap) == 0
				n := min(MediaPacketBytes, frameBytes-off)
				last := off+n >= frameBytes
				p := rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: vseq, Timestamp: uint32(frame * 3000), Marker: last},
					Payload: stamped(buf[:n], off == 0, key)}
				vseq++
				if s.video.WriteRTP(&p) == nil {
					s.sent.Add(1)
				}
				off += n
				if last {
					frame, off = frame+1, 0
				}
			}
		}
	}()
}

func (s *synthPublisher) stop() {
	select {
	case <-s.quit:
	default:
		close(s.quit)
	}
	s.wg.Wait()
}

// stamped fills b as a VP8 packet (a payload descriptor, on the first
// packet of a frame a 10-byte frame header, keyframe or not) or as audio
// filler, ending with the send stamp.
func stamped(b []byte, first, key bool) []byte {
	for i := range b {
		b[i] = 0x5a
	}
	if first {
		copy(b, []byte{0x10, 0x11, 0x02, 0x00, 0, 0, 0, 0, 0, 0, 0})
		if key {
			copy(b, []byte{0x10, 0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01})
		}
	} else {
		b[0] = 0x00
	}
	binary.BigEndian.PutUint64(b[len(b)-8:], stampNow())
	return b
}

// readStamp is the send stamp at the end of a payload.
func readStamp(payload []byte) (uint64, bool) {
	if len(payload) < 8 {
		return 0, false
	}
	return binary.BigEndian.Uint64(payload[len(payload)-8:]), true
}

// streamStats is what the subscribers of one run received: forwarding
// latency of every packet, and loss from the RTP sequence numbers.
type streamStats struct {
	lat      *Latencies // of the measured window
	received atomic.Uint64
	lost     atomic.Int64
	streams  atomic.Int64 // tracks seen
	flowing  atomic.Int64 // tracks that delivered a packet
	ended    atomic.Int64 // tracks whose ReadRTP ended
}

func newStreamStats() *streamStats { return &streamStats{lat: NewLatencies()} }

// receive reads one remote track until it ends; ended is called then.
// Loss per track is the span of extended sequence numbers received minus
// the packets received, at least zero.
func (st *streamStats) receive(t *webrtc.TrackRemote, win *window, ended func()) {
	st.streams.Add(1)
	var first, highest int64
	var count int64
	var cycles int64
	var last uint16
	for {
		p, _, err := t.ReadRTP()
		if err != nil {
			break
		}
		now := stampNow()
		if win.on.Load() {
			if s, ok := readStamp(p.Payload); ok && now >= s {
				st.lat.Record(time.Duration(now - s))
			}
			win.packets.Add(1)
		}
		if count == 0 {
			st.flowing.Add(1)
		}
		sn := p.SequenceNumber
		if count == 0 {
			first, last = int64(sn), sn
		} else if sn < last && last-sn > 0x8000 {
			cycles++
		}
		if count == 0 || int16(sn-last) > 0 {
			last = sn
		}
		ext := cycles<<16 | int64(last)
		if ext > highest || count == 0 {
			highest = ext
		}
		count++
		st.received.Add(1)
	}
	// A retransmitted duplicate counts as received twice; a track's loss
	// is not allowed below zero because of it.
	if lost := highest - first + 1 - count; count > 0 && lost > 0 {
		st.lost.Add(lost)
	}
	st.ended.Add(1)
	if ended != nil {
		ended()
	}
}

package media

import (
	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/nack"
	"github.com/pion/webrtc/v4"
)

// rtcpFeedback is what every video codec negotiates: NACK for
// retransmission, PLI and FIR for keyframes.
var rtcpFeedback = []webrtc.RTCPFeedback{{Type: "nack"}, {Type: "nack", Parameter: "pli"}, {Type: "ccm", Parameter: "fir"}}

// codecs lists the codecs the SFU negotiates, in order of preference:
// Opus; VP8, then H.264 (constrained baseline, packetization modes 1 and 0).
func codecs() []webrtc.RTPCodecParameters {
	h264 := func(pt webrtc.PayloadType, fmtp string) webrtc.RTPCodecParameters {
		return webrtc.RTPCodecParameters{PayloadType: pt, RTPCodecCapability: webrtc.RTPCodecCapability{
			MimeType: webrtc.MimeTypeH264, ClockRate: 90000, SDPFmtpLine: fmtp, RTCPFeedback: rtcpFeedback}}
	}
	return []webrtc.RTPCodecParameters{
		{PayloadType: 111, RTPCodecCapability: webrtc.RTPCodecCapability{
			MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1"}},
		{PayloadType: 96, RTPCodecCapability: webrtc.RTPCodecCapability{
			MimeType: webrtc.MimeTypeVP8, ClockRate: 90000, RTCPFeedback: rtcpFeedback}},
		h264(102, "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f"),
		h264(125, "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"),
		h264(108, "level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42e01f"),
	}
}

// newEngine registers the codecs and the interceptors: a NACK generator
// (asks publishers to resend what the SFU lost), a NACK responder (resends
// to subscribers from the last nackBuffer packets of each track), and RTCP
// sender/receiver reports. It deliberately leaves out congestion control
// and periodic PLIs: keyframes are requested by subscribers only.
func newEngine(nackBuffer uint16) (*webrtc.MediaEngine, *interceptor.Registry, error) {
	m := &webrtc.MediaEngine{}
	for _, c := range codecs() {
		kind := webrtc.RTPCodecTypeVideo
		if c.MimeType == webrtc.MimeTypeOpus {
			kind = webrtc.RTPCodecTypeAudio
		}
		if err := m.RegisterCodec(c, kind); err != nil {
			return nil, nil, err
		}
	}
	reg := &interceptor.Registry{}
	gen, err := nack.NewGeneratorInterceptor()
	if err != nil {
		return nil, nil, err
	}
	resp, err := nack.NewResponderInterceptor(nack.ResponderSize(nackBuffer))
	if err != nil {
		return nil, nil, err
	}
	reg.Add(resp)
	reg.Add(gen)
	if err := webrtc.ConfigureRTCPReports(reg); err != nil {
		return nil, nil, err
	}
	return m, reg, nil
}

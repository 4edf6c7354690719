package media_test

import (
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	mc "github.com/trtcd/trtcd/client/media"
	"github.com/trtcd/trtcd/client/media/wire"
	"github.com/trtcd/trtcd/internal/media"
	"github.com/trtcd/trtcd/internal/rooms"
)

// offerSDP is a real offer from a throwaway PeerConnection that sends the
// given kinds ("audio", "video"), with its loopback candidates.
func offerSDP(t *testing.T, kinds ...string) string {
	t.Helper()
	var se webrtc.SettingEngine
	se.SetIncludeLoopbackCandidate(true)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	var me webrtc.MediaEngine
	if err := me.RegisterDefaultCodecs(); err != nil {
		t.Fatal(err)
	}
	pc, err := webrtc.NewAPI(webrtc.WithSettingEngine(se), webrtc.WithMediaEngine(&me)).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	for _, k := range kinds {
		mime := webrtc.MimeTypeOpus
		if k == "video" {
			mime = webrtc.MimeTypeVP8
		}
		tr, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: mime}, k, "s")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := pc.AddTransceiverFromTrack(tr, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly}); err != nil {
			t.Fatal(err)
		}
	}
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	select {
	case <-gathered:
	case <-time.After(wait):
		t.Fatal("gathering did not complete")
	}
	return pc.LocalDescription().SDP
}

func code(err error) string {
	var we *wire.Error
	if errors.As(err, &we) {
		return we.Code
	}
	return ""
}

func TestBadOffersAreRefused(t *testing.T) {
	e := newEnv(t, media.Config{})
	a := e.join("alice", rooms.Anchor)
	b := e.join("bob", rooms.Anchor)
	e.publish(b, mc.TrackSpec{Kind: wire.Audio})
	video := offerSDP(t, "video")
	twoVideos := offerSDP(t, "video", "video")
	cases := []struct {
		name string
		msg  wire.Message
		code string
	}{
		{"malformed SDP", wire.Message{Type: wire.TypeOffer, PC: wire.PCPub, SDP: "v=0\r\nthis is not sdp"}, wire.CodeInvalidSDP},
		{"SDP without media mids", wire.Message{Type: wire.TypeOffer, PC: wire.PCPub, SDP: strings.ReplaceAll(video, "a=mid:", "a=xmid:")}, wire.CodeInvalidSDP},
		{"unknown codec", wire.Message{Type: wire.TypeOffer, PC: wire.PCPub, SDP: onlyCodec(video, "XV9")}, wire.CodeUnsupportedCodec},
		{"two camera tracks", wire.Message{Type: wire.TypeOffer, PC: wire.PCPub, SDP: twoVideos}, wire.CodeInvalidTracks},
		{"track declared as the wrong kind", wire.Message{Type: wire.TypeOffer, PC: wire.PCPub, SDP: video, Tracks: []wire.TrackInfo{{TrackID: "video", Kind: wire.Audio}}}, wire.CodeInvalidTracks},
		{"offer on sub", wire.Message{Type: wire.TypeOffer, PC: wire.PCSub, SDP: video}, wire.CodeInvalidState},
		{"answer with no offer pending", wire.Message{Type: wire.TypeAnswer, PC: wire.PCPub, SDP: video}, wire.CodeInvalidState},
		{"a server-only type", wire.Message{Type: wire.TypeTrackPublished, UserID: "bob", Kind: wire.Audio}, wire.CodeUnknownType},
		{"missing sdp", wire.Message{Type: wire.TypeOffer, PC: wire.PCPub}, wire.CodeInvalidMessage},
		{"bad kind", wire.Message{Type: wire.TypeUnsubscribe, UserID: "bob", Kind: "smell"}, wire.CodeInvalidMessage},
	}
	for _, c := range cases {
		if got := code(a.p.Handle(c.msg)); got != c.code {
			t.Errorf("%s: got %q, want %s", c.name, got, c.code)
		}
		if !a.sent.hasError(c.code) {
			t.Errorf("%s: no media_error %s sent to the client", c.name, c.code)
		}
	}
	// Nothing changed: alice can still publish, bob's audio still flows.
	e.publish(a, av...)
	grows(t, "bob receiving alice after the refusals", packets(b.c, "alice", wire.Video), 10)
	grows(t, "alice receiving bob after the refusals", packets(a.c, "bob", wire.Audio), 10)
}

// onlyCodec renames every codec of an SDP's rtpmap lines to name.
func onlyCodec(sdp, name string) string {
	var out []string
	for _, l := range strings.Split(sdp, "\r\n") {
		if strings.HasPrefix(l, "a=rtpmap:") {
			pt, rest, _ := strings.Cut(l, " ")
			_, clock, _ := strings.Cut(rest, "/")
			l = pt + " " + name + "/" + clock
		}
		out = append(out, l)
	}
	return strings.Join(out, "\r\n")
}

func (r *recorder) hasError(code string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, m := range r.msgs {
		if m.Type == wire.TypeError && m.Code == code {
			return true
		}
	}
	return false
}

func TestTrackLimit(t *testing.T) {
	e := newEnv(t, media.Config{MaxTracks: 1})
	a := e.join("alice", rooms.Anchor)
	if err := a.c.Publish(e.ctx, av...); code(err) != wire.CodeTooManyTracks {
		t.Fatalf("two tracks over a limit of one: %v", err)
	}
	e.publish(a, mc.TrackSpec{Kind: wire.Audio})
}

func TestCandidatesOutsideNetworksAreRefused(t *testing.T) {
	e := newEnv(t, media.Config{})
	a := e.join("alice", rooms.Anchor)
	cand := func(s string) wire.Message {
		return wire.Message{Type: wire.TypeCandidate, PC: wire.PCPub, Candidate: &wire.Candidate{Candidate: s}}
	}
	cases := []struct {
		name, cand, code string
	}{
		{"private network", "candidate:1 1 udp 2130706431 10.1.2.3 5000 typ host", wire.CodeCandidateNetwork},
		{"public IPv6", "candidate:1 1 udp 2130706431 2001:db8::1 5000 typ host", wire.CodeCandidateNetwork},
		{"mDNS name", "candidate:1 1 udp 2130706431 3f1e-4a.local 5000 typ host", wire.CodeCandidateNetwork},
		{"srflx outside", "candidate:2 1 udp 1694498815 203.0.113.9 6000 typ srflx raddr 127.0.0.1 rport 5000", wire.CodeCandidateNetwork},
		{"garbage", "candidate:what is this", wire.CodeInvalidCandidate},
		{"empty", "", wire.CodeInvalidCandidate},
		{"allowed but before any offer", "candidate:1 1 udp 2130706431 127.0.0.1 5000 typ host", wire.CodeInvalidState},
	}
	for _, c := range cases {
		if got := code(a.p.Handle(cand(c.cand))); got != c.code {
			t.Errorf("%s: got %q, want %s", c.name, got, c.code)
		}
	}
	if e.srv.Metrics().CandidatesRefused < 6 {
		t.Fatalf("CandidatesRefused = %d", e.srv.Metrics().CandidatesRefused)
	}

	// Candidates inside an offer: the ones outside are dropped with a
	// notice, the offer is answered.
	sdp := offerSDP(t, "audio")
	bad := "a=candidate:9 1 udp 2130706431 192.0.2.7 7000 typ host\r\n"
	i := strings.Index(sdp, "a=candidate:")
	if i < 0 {
		t.Fatal("the offer has no candidate")
	}
	sdp = sdp[:i] + bad + sdp[i:]
	if err := a.p.Handle(wire.Message{Type: wire.TypeOffer, PC: wire.PCPub, SDP: sdp}); err != nil {
		t.Fatalf("offer with one bad candidate: %v", err)
	}
	if !a.sent.hasError(wire.CodeCandidateNetwork) || !a.sent.has(wire.TypeAnswer, "", "") {
		t.Fatal("no notice and answer for the offer with a bad candidate")
	}
}

func TestRenegotiationStormIsLimited(t *testing.T) {
	e := newEnv(t, media.Config{Renegotiation: media.RenegotiationPolicy{Burst: 3, Interval: time.Hour}})
	a := e.join("alice", rooms.Anchor)
	b := e.join("bob", rooms.Anchor)
	e.publish(a, av...) // one offer of three
	grows(t, "video from alice", packets(b.c, "alice", wire.Video), 10)
	refused := 0
	for range 20 {
		if code(b.p.Handle(wire.Message{Type: wire.TypeRenegotiate, PC: wire.PCSub})) == wire.CodeRenegotiationLimited {
			refused++
		}
	}
	if refused != 17 {
		t.Fatalf("%d of 20 renegotiations refused, want 17 (burst 3)", refused)
	}
	// alice has two offers left; the third is refused.
	if err := a.c.Unpublish(e.ctx, wire.Video); err != nil {
		t.Fatal(err)
	}
	if err := a.c.Publish(e.ctx, mc.TrackSpec{Kind: wire.SubVideo}); err != nil {
		t.Fatal(err)
	}
	if err := a.c.Unpublish(e.ctx, wire.SubVideo); code(err) != wire.CodeRenegotiationLimited {
		t.Fatalf("fourth offer: %v", err)
	}
	if e.srv.Metrics().RenegotiationLimit != 18 {
		t.Fatalf("RenegotiationLimit = %d", e.srv.Metrics().RenegotiationLimit)
	}
	// The room is unharmed.
	grows(t, "bob still receiving alice's audio", packets(b.c, "alice", wire.Audio), 10)
}

func TestBitratePolicyDropsOverflow(t *testing.T) {
	e := newEnv(t, media.Config{})
	a := e.join("alice", rooms.Anchor)
	b := e.join("bob", rooms.Anchor)
	e.publish(a, mc.TrackSpec{Kind: wire.Audio}, mc.TrackSpec{Kind: wire.Video, Bitrate: 400_000, Announce: 20_000})
	refusal(t, a.c, wire.CodeBitrateExceeded)
	until(t, "PacketsOverBitrate to count", func() bool { return e.srv.Metrics().PacketsOverBitrate > 0 })
	grows(t, "bob receiving alice's audio", packets(b.c, "alice", wire.Audio), 10)
	// Some video gets through (within the allowance), the rest is dropped.
	grows(t, "bob receiving some of alice's video", packets(b.c, "alice", wire.Video), 0)
	sent, got := a.c.Sent(wire.Video), b.c.Received("alice", wire.Video).Bytes
	if limit := uint64(400_000/8) * sent / 15; got > limit/2 {
		t.Fatalf("bob got %d bytes of video while %d were sent", got, limit)
	}
}

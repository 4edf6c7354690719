package media

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/trtcd/trtcd/client/media/wire"
)

var fuzzCfg = Config{Networks: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}

const seedOffer = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0 1\r\n" +
	"m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=sendonly\r\na=msid:s a\r\na=rtpmap:111 opus/48000/2\r\n" +
	"a=candidate:1 1 udp 2130706431 127.0.0.1 5000 typ host\r\na=candidate:2 1 udp 2130706431 10.0.0.1 5000 typ host\r\n" +
	"m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\nb=TIAS:500000\r\na=mid:1\r\na=sendrecv\r\na=msid:s v\r\na=rtpmap:96 VP8/90000\r\n"

// FuzzCheckOffer: checkOffer refuses or accepts any text without
// panicking; an accepted offer keeps within the limits it enforces.
func FuzzCheckOffer(f *testing.F) {
	f.Add(seedOffer, "v", "subvideo")
	f.Add(strings.ReplaceAll(seedOffer, "VP8", "AV1X"), "", "video")
	f.Add(strings.ReplaceAll(seedOffer, "a=mid:1", "a=mid:0"), "a", "audio")
	f.Add("v=0\r\n", "", "audio")
	f.Add("", "", "")
	f.Add(seedOffer+"m=video 0 UDP/TLS/RTP/SAVPF 96\r\na=mid:2\r\n", "x", "video")
	f.Fuzz(func(t *testing.T, sdp, trackID, kind string) {
		decl := []wire.TrackInfo{{TrackID: trackID, Kind: wire.Kind(kind)}}
		info, e := checkOffer(sdp, decl, 2, fuzzCfg.checkCandidate)
		if e != nil {
			if e.Code == "" {
				t.Fatal("refusal without a code")
			}
			return
		}
		if len(info.sections) > 2 {
			t.Fatalf("%d sections accepted over a limit of 2", len(info.sections))
		}
		seen := map[wire.Kind]bool{}
		for _, s := range info.sections {
			if seen[s.kind] || !s.kind.Valid() {
				t.Fatalf("kinds %+v", info.sections)
			}
			seen[s.kind] = true
		}
		if info.dropped > 0 && strings.Contains(info.sdp, "10.0.0.1 5000") {
			t.Fatal("a dropped candidate is still in the offer")
		}
	})
}

// FuzzCheckCandidate: any candidate text is refused with a code or is
// inside the allowed networks.
func FuzzCheckCandidate(f *testing.F) {
	for _, s := range []string{
		"candidate:1 1 udp 2130706431 127.0.0.1 5000 typ host",
		"candidate:1 1 udp 2130706431 10.1.2.3 5000 typ host",
		"candidate:1 1 tcp 1671430143 127.0.0.1 9 typ host tcptype active",
		"candidate:2 1 udp 1694498815 203.0.113.9 6000 typ srflx raddr 127.0.0.1 rport 5000",
		"candidate:1 1 udp 2130706431 abcd.local 5000 typ host",
		"candidate:1 1 udp 2130706431 ::1 5000 typ host",
		"", "candidate:", "candidate:1 1 udp x y z",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e := fuzzCfg.checkCandidate(s)
		if e != nil && e.Code != wire.CodeInvalidCandidate && e.Code != wire.CodeCandidateNetwork {
			t.Fatalf("code %s", e.Code)
		}
	})
}

package media

import (
	"strings"

	"github.com/pion/sdp/v3"

	"github.com/trtcd/trtcd/client/media/wire"
)

// supportedCodecs are the codec names the SFU forwards (rtpmap names,
// compared without case). Others in an m-section are ignored; an m-section
// that publishes none of them is refused.
var supportedCodecs = map[string]bool{"opus": true, "vp8": true, "h264": true}

// pubSection is one m-section of an offer that publishes a track.
type pubSection struct {
	mid     string
	trackID string
	kind    wire.Kind
	bitrate int // announced, bits per second; 0 when not announced
}

// offerInfo is what checkOffer learnt from an offer.
type offerInfo struct {
	sections []pubSection
	sdp      string // the offer, without the candidates that were dropped
	dropped  int    // candidates outside the allowed networks
}

// checkOffer validates a publisher's offer against the limits: it parses,
// every publishing m-section has a mid and a supported codec, each kind is
// published at most once, at most maxTracks tracks. Candidates outside the
// allowed networks are removed. It never panics.
func checkOffer(raw string, declared []wire.TrackInfo, maxTracks int, allowed func(string) *wire.Error) (offerInfo, *wire.Error) {
	var info offerInfo
	var d sdp.SessionDescription
	if err := d.UnmarshalString(raw); err != nil {
		return info, wire.Errorf(wire.CodeInvalidSDP, "sdp: %v", err)
	}
	byID := map[string]wire.TrackInfo{}
	for _, t := range declared {
		byID[t.TrackID] = t
	}
	kinds := map[wire.Kind]bool{}
	mids := map[string]bool{}
	for i, m := range d.MediaDescriptions {
		media := m.MediaName.Media
		mid, _ := m.Attribute("mid")
		if mid == "" && media != "application" {
			return info, wire.Errorf(wire.CodeInvalidSDP, "sdp: m-section %d has no a=mid", i)
		}
		if mids[mid] {
			return info, wire.Errorf(wire.CodeInvalidSDP, "sdp: mid %q is used twice", mid)
		}
		mids[mid] = true
		keep := m.Attributes[:0:0]
		for _, a := range m.Attributes {
			if a.Key == "candidate" {
				if e := allowed(a.Value); e != nil {
					info.dropped++
					continue
				}
			}
			keep = append(keep, a)
		}
		m.Attributes = keep
		if media != "audio" && media != "video" {
			continue
		}
		if m.MediaName.Port.Value == 0 || !publishes(m) {
			continue
		}
		if !hasSupportedCodec(m) {
			return info, wire.Errorf(wire.CodeUnsupportedCodec, "m-section %q (%s) offers none of opus, VP8, H264", mid, media)
		}
		s := pubSection{mid: mid, kind: wire.Audio, bitrate: announced(m)}
		if media == "video" {
			s.kind = wire.Video
		}
		if msid, ok := m.Attribute("msid"); ok {
			if f := strings.Fields(msid); len(f) == 2 {
				s.trackID = f[1]
			}
		}
		if t, ok := byID[s.trackID]; ok && s.trackID != "" {
			if t.Kind.IsVideo() != (media == "video") {
				return info, wire.Errorf(wire.CodeInvalidTracks, "track %q is declared %s but its m-section is %s", s.trackID, t.Kind, media)
			}
			s.kind = t.Kind
			if t.Bitrate > 0 {
				s.bitrate = t.Bitrate
			}
		}
		if kinds[s.kind] {
			return info, wire.Errorf(wire.CodeInvalidTracks, "a second %s track (m-section %q); declare a screen share as subvideo", s.kind, mid)
		}
		kinds[s.kind] = true
		info.sections = append(info.sections, s)
		if len(info.sections) > maxTracks {
			return info, wire.Errorf(wire.CodeTooManyTracks, "at most %d published tracks", maxTracks)
		}
	}
	info.sdp = raw
	if info.dropped > 0 {
		b, err := d.Marshal()
		if err != nil {
			return info, wire.Errorf(wire.CodeInvalidSDP, "sdp: %v", err)
		}
		info.sdp = string(b)
	}
	return info, nil
}

// publishes reports whether the offerer sends on m (sendrecv is the default).
func publishes(m *sdp.MediaDescription) bool {
	for _, a := range m.Attributes {
		switch a.Key {
		case "recvonly", "inactive":
			return false
		case "sendonly", "sendrecv":
			return true
		}
	}
	return true
}

func hasSupportedCodec(m *sdp.MediaDescription) bool {
	for _, a := range m.Attributes {
		if a.Key != "rtpmap" {
			continue
		}
		// "96 VP8/90000"
		_, rest, ok := strings.Cut(a.Value, " ")
		if !ok {
			continue
		}
		name, _, _ := strings.Cut(rest, "/")
		if supportedCodecs[strings.ToLower(strings.TrimSpace(name))] {
			return true
		}
	}
	return false
}

// announced reads b=TIAS (bits/s) or b=AS (kbit/s) of an m-section.
func announced(m *sdp.MediaDescription) int {
	for _, b := range m.Bandwidth {
		switch strings.ToUpper(b.Type) {
		case "TIAS":
			return clampInt(b.Bandwidth)
		case "AS":
			return clampInt(min(b.Bandwidth, 1<<40) * 1000)
		}
	}
	return 0
}

func clampInt(v uint64) int {
	if v > 1<<31 {
		return 1 << 31
	}
	return int(v)
}

// codecName is the short name of a MIME type ("video/VP8" -> "VP8").
func codecName(mime string) string {
	if i := strings.IndexByte(mime, '/'); i >= 0 {
		return mime[i+1:]
	}
	return mime
}

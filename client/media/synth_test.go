package media

import (
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
)

func TestSynthFramesCarryTheirSendTime(t *testing.T) {
	now := time.Unix(1700000000, 123456789)
	op := synthFrame(webrtc.MimeTypeOpus, 80, false, now)
	if got, ok := SendTime(webrtc.MimeTypeOpus, op); !ok || !got.Equal(now) || len(op) != 80 {
		t.Fatalf("opus: %v %v len %d", got, ok, len(op))
	}
	key := synthFrame(webrtc.MimeTypeVP8, 500, true, now)
	inter := synthFrame(webrtc.MimeTypeVP8, 500, false, now)
	if key[0]&1 != 0 || inter[0]&1 != 1 || key[3] != 0x9d {
		t.Fatal("VP8 keyframe bit or start code wrong")
	}
	// As the first RTP packet carries it: a 1-byte descriptor with S set.
	if got, ok := SendTime(webrtc.MimeTypeVP8, append([]byte{0x10}, key...)); !ok || !got.Equal(now) {
		t.Fatalf("vp8: %v %v", got, ok)
	}
	if _, ok := SendTime(webrtc.MimeTypeVP8, append([]byte{0x00}, key...)); ok {
		t.Fatal("vp8 continuation packet read as a frame start")
	}
	h := synthFrame(webrtc.MimeTypeH264, 300, false, now)
	if got, ok := SendTime(webrtc.MimeTypeH264, h[4:]); !ok || !got.Equal(now) {
		t.Fatalf("h264: %v %v", got, ok)
	}
}

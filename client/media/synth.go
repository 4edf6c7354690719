package media

import (
	"fmt"
	"strconv"
	"time"

	"github.com/pion/webrtc/v4"
)

// stampLen is the send time inside each payload: 16 hex digits of Unix
// nanoseconds, ASCII so that it never forms an H.264 start code.
const stampLen = 16

// synthFrame makes one synthetic frame of about size bytes.
//   - Opus: the stamp, then filler.
//   - VP8: a 10-byte frame header whose first byte's low bit is 0 on a
//     keyframe (followed by the keyframe start code 9d 01 2a), 1 otherwise;
//     then the stamp and filler.
//   - H.264 (Annex B): SPS, PPS and an IDR slice on a keyframe, a non-IDR
//     slice otherwise; the stamp opens the slice.
func synthFrame(mime string, size int, key bool, now time.Time) []byte {
	stamp := fmt.Appendf(nil, "%016x", now.UnixNano())
	b := make([]byte, 0, size+32)
	switch mime {
	case webrtc.MimeTypeVP8:
		if key {
			b = append(b, 0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01) // 640x480
		} else {
			b = append(b, 0x11, 0x02, 0x00, 0, 0, 0, 0, 0, 0, 0)
		}
	case webrtc.MimeTypeH264:
		if key {
			b = append(b, 0, 0, 0, 1, 0x67, 0x42, 0xe0, 0x1f, 0xda, 0x01, 0x40, 0x16, 0xe8)
			b = append(b, 0, 0, 0, 1, 0x68, 0xce, 0x38, 0x80)
			b = append(b, 0, 0, 0, 1, 0x65)
		} else {
			b = append(b, 0, 0, 0, 1, 0x41)
		}
	}
	b = append(b, stamp...)
	for len(b) < size {
		b = append(b, 0x5a)
	}
	return b
}

// SendTime reads the send time out of a received payload (the RTP payload
// of an Opus packet, of the first packet of a VP8 frame, or of an H.264
// single NAL unit or FU-A start), if it carries one.
func SendTime(mime string, payload []byte) (time.Time, bool) {
	off := 0
	switch mime {
	case webrtc.MimeTypeVP8:
		if len(payload) < 1 || payload[0]&0x10 == 0 { // not the start of a partition
			return time.Time{}, false
		}
		off = 1 // payload descriptor without extensions
		if payload[0]&0x80 != 0 {
			return time.Time{}, false
		}
		off += 10
	case webrtc.MimeTypeH264:
		if len(payload) < 2 {
			return time.Time{}, false
		}
		switch payload[0] & 0x1f {
		case 1, 5:
			off = 1
		case 28: // FU-A
			if payload[1]&0x80 == 0 || payload[1]&0x1f != 1 && payload[1]&0x1f != 5 {
				return time.Time{}, false
			}
			off = 2
		default:
			return time.Time{}, false
		}
	}
	if len(payload) < off+stampLen {
		return time.Time{}, false
	}
	ns, err := strconv.ParseInt(string(payload[off:off+stampLen]), 16, 64)
	if err != nil {
		return time.Time{}, false
	}
	return time.Unix(0, ns), true
}

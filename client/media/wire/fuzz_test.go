package wire

import (
	"bytes"
	"testing"
)

// FuzzDecode: any input either decodes to a message that passes Check and
// survives its JSON form, or is refused with a code; never a panic.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`{"type":"media_offer","pc":"pub","sdp":"v=0\r\n","tracks":[{"trackId":"v","kind":"video","bitrate":300000}],"id":"o1"}`,
		`{"type":"media_answer","pc":"sub","sdp":"v=0\r\n"}`,
		`{"type":"media_candidate","pc":"pub","candidate":{"candidate":"candidate:1 1 udp 2130706431 127.0.0.1 5000 typ host","sdpMid":"0","sdpMLineIndex":0}}`,
		`{"type":"media_renegotiate","pc":"sub"}`,
		`{"type":"media_subscribe","userId":"alice","kind":"audio"}`,
		`{"type":"media_unsubscribe","userId":"alice","kind":"subvideo"}`,
		`{"type":"media_track_published","userId":"bob","kind":"video"}`,
		`{"type":"media_error","code":"LimitExceeded.Tracks","message":"x","ref":"media_offer","id":"o1"}`,
		`{"type":"media_offer","pc":"pub","sdp":""}`,
		`{"type":"media_offer","pc":"xx","sdp":"v=0"}`,
		`{"type":"nope"}`, `{}`, `[]`, `{"type":1}`, ``, `{"type":"media_candidate","pc":"sub"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, e := Decode(b)
		if e != nil {
			if e.Code == "" {
				t.Fatal("refusal without a code")
			}
			return
		}
		if c := m.Check(); c != nil {
			t.Fatalf("decoded message fails Check: %v", c)
		}
		m2, e := Decode(m.Encode())
		if e != nil {
			t.Fatalf("re-decoding %s: %v", m.Encode(), e)
		}
		if !bytes.Equal(m.Encode(), m2.Encode()) {
			t.Fatalf("not stable: %s vs %s", m.Encode(), m2.Encode())
		}
	})
}

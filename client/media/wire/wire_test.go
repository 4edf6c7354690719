package wire

import (
	"strings"
	"testing"
)

func TestDecodeRefusals(t *testing.T) {
	cases := []struct{ in, code, field string }{
		{`not json`, CodeInvalidMessage, "JSON object"},
		{`{"type":`, CodeInvalidMessage, "malformed"},
		{`{"pc":"pub"}`, CodeInvalidMessage, "no type"},
		{`{"type":"media_dance"}`, CodeUnknownType, "media_dance"},
		{`{"type":"media_offer","pc":"up","sdp":"v=0"}`, CodeInvalidMessage, "pc"},
		{`{"type":"media_offer","pc":"pub"}`, CodeInvalidMessage, "sdp"},
		{`{"type":"media_offer","pc":"pub","sdp":"v=0","tracks":[{"trackId":"","kind":"video"}]}`, CodeInvalidMessage, "trackId"},
		{`{"type":"media_offer","pc":"pub","sdp":"v=0","tracks":[{"trackId":"a","kind":"smell"}]}`, CodeInvalidMessage, "kind"},
		{`{"type":"media_offer","pc":"pub","sdp":"v=0","tracks":[{"trackId":"a","kind":"audio","bitrate":-1}]}`, CodeInvalidMessage, "bitrate"},
		{`{"type":"media_candidate","pc":"pub"}`, CodeInvalidMessage, "candidate"},
		{`{"type":"media_renegotiate","pc":"pub"}`, CodeInvalidMessage, "pc"},
		{`{"type":"media_subscribe","userId":"a b","kind":"audio"}`, CodeInvalidMessage, "userId"},
		{`{"type":"media_subscribe","userId":"ab","kind":"radio"}`, CodeInvalidMessage, "kind"},
		{`{"type":"media_error"}`, CodeInvalidMessage, "code"},
		{`{"type":"media_renegotiate","pc":"sub","id":"` + strings.Repeat("x", 65) + `"}`, CodeInvalidMessage, "id"},
		{`{"type":"media_offer","pc":"pub","sdp":"` + strings.Repeat("x", MaxSDPBytes+1) + `"}`, CodeInvalidMessage, "sdp"},
		{strings.Repeat(" ", MaxMessageBytes+1), CodeMessageTooLarge, "bytes"},
	}
	for _, c := range cases {
		_, e := Decode([]byte(c.in))
		if e == nil || e.Code != c.code || !strings.Contains(e.Message, c.field) {
			t.Errorf("%.60s: got %v, want %s naming %q", c.in, e, c.code, c.field)
		}
	}
}

// TestResetIsServerOnly: media_reset decodes (the client takes it from
// the server) but is not a message a client may send.
func TestResetIsServerOnly(t *testing.T) {
	m, e := Decode([]byte(`{"type":"media_reset"}`))
	if e != nil || m.Type != TypeReset {
		t.Fatalf("media_reset: %+v %v", m, e)
	}
	if FromClient(TypeReset) {
		t.Fatal("media_reset accepted from clients")
	}
}

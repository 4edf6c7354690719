package protocol_test

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/trtcd/trtcd/protocol"
)

// FuzzDecodeFrame: Decode never panics; a refusal has a code with a close
// code; an accepted frame has a known type and survives encoding and
// decoding again unchanged in meaning.
func FuzzDecodeFrame(f *testing.F) {
	for _, s := range []string{
		`{"type":"join","sdkAppId":1400000001,"userId":"alice","userSig":"x","roomId":1234}`,
		`{"type":"join","sdkAppId":1400000001,"userId":"alice","userSig":"x","strRoomId":"a b","role":"audience"}`,
		`{"type":"ping"}`, `{"type":"leave"}`, `{}`, `[]`, `null`, `{"type":1}`,
		`{"type":"join","roomId":1e3,"sdkAppId":"1"}`, `{"type":"join","roomId":-1,"strRoomId":null}`,
		`{"type":"join","sdkAppId":1,"userId":"a","roomId":1,"device":"Android 14","sdkVersion":"11.8"}`,
		`{"type":"join","device":"a\u0007","sdkVersion":"\ud800"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, e := protocol.Decode(b, 0)
		if e != nil {
			if e.Code == "" || e.Message == "" || e.CloseCode() != protocol.NewError(e.Code, "").CloseCode() {
				t.Fatalf("error without code: %+v", e)
			}
			return
		}
		switch fr.Type {
		case protocol.TypeJoin, protocol.TypePing, protocol.TypeLeave:
		default:
			t.Fatalf("accepted type %q", fr.Type)
		}
		if len(fr.Device) > protocol.MaxClientInfoLen || len(fr.SdkVersion) > protocol.MaxClientInfoLen {
			t.Fatalf("accepted client details over the limit: %q %q", fr.Device, fr.SdkVersion)
		}
		enc, err := json.Marshal(fr)
		if err != nil {
			t.Fatalf("%+v does not encode: %v", fr, err)
		}
		again, e := protocol.Decode(enc, len(enc))
		if e != nil {
			t.Fatalf("%s re-encoded as %s: %v", b, enc, e)
		}
		for _, pair := range [][2]json.RawMessage{{fr.SdkAppID, again.SdkAppID}, {fr.RoomID, again.RoomID}} {
			n1, ok1 := protocol.PositiveInt(pair[0])
			n2, ok2 := protocol.PositiveInt(pair[1])
			if n1 != n2 || ok1 != ok2 || (pair[0] == nil) != (pair[1] == nil) {
				t.Fatalf("%s: number %s came back as %s", b, pair[0], pair[1])
			}
		}
		fr.SdkAppID, fr.RoomID, again.SdkAppID, again.RoomID = nil, nil, nil, nil
		if !reflect.DeepEqual(fr, again) {
			t.Fatalf("%s: %+v came back as %+v", b, fr, again)
		}
	})
}

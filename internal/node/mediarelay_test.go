package node

import (
	"testing"

	"github.com/trtcd/trtcd/client/media/wire"
	"github.com/trtcd/trtcd/internal/rooms"
)

// FuzzDecodeRelay: a relayed message never panics the decoder; what it
// accepts names a room and, where the operation needs them, a peer and
// valid users, and encodes back to a message it accepts again.
func FuzzDecodeRelay(f *testing.F) {
	room := rooms.NumRoom(1400000001, 7).String()
	for _, m := range []relayMsg{
		{Op: opJoin, From: "n1#ab", Room: room, Peer: "p1", User: "alice", Role: rooms.Audience},
		{Op: opMsg, From: "n1#ab", Room: room, Peer: "p1", Msg: wire.Message{Type: wire.TypeRenegotiate, PC: wire.PCSub}.Encode()},
		{Op: opOut, From: "n0#cd", Room: room, Peer: "p1", Msg: wire.Message{Type: wire.TypeReset}.Encode()},
		{Op: opRemove, From: "n2#ef", Room: room, Users: []string{"alice", "bob"}, Req: 3},
		{Op: opBlock, From: "n2#ef", Room: room, User: "alice", Video: true, Req: 4},
		{Op: opAck, From: "n0#cd", Req: 4},
		{Op: opMerge, From: "n0#cd", Room: room, Blocks: map[string][2]bool{"alice": {false, true}}},
	} {
		f.Add(m.encode())
	}
	f.Add([]byte(`{"op":"join","from":"x","room":"1:s:","peer":"p"}`))
	f.Add([]byte(`{"op":"remove","from":"x","room":"1:n:1","users":["a.b"]}`))
	f.Add([]byte(`[1,2]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, k, err := decodeRelay(b)
		if err != nil {
			return
		}
		if m.From == "" {
			t.Fatal("accepted without a sender")
		}
		if m.Op == opAck {
			return
		}
		if _, perr := rooms.ParseKey(m.Room); perr != nil || k.String() != m.Room {
			t.Fatalf("accepted room %q (%v)", m.Room, perr)
		}
		if _, _, err := decodeRelay(m.encode()); err != nil {
			t.Fatalf("re-encoded %q refused: %v", m.encode(), err)
		}
	})
}

// TestDecodeRelayRefusals: messages a node must not act on are refused.
func TestDecodeRelayRefusals(t *testing.T) {
	for _, tc := range []string{
		`not json`,
		`{"op":"ack"}`, // no sender
		`{"op":"join","from":"n","room":"1:n:1","user":"alice"}`, // no peer
		`{"op":"join","from":"n","room":"1:n:1","peer":"p","user":"a b"}`,
		`{"op":"remove","from":"n","room":"1:n:1","users":["ok","../x"]}`,
		`{"op":"dismiss","from":"n","room":"nowhere"}`,
		`{"op":"merge","from":"n","room":"1:n:1","blocks":{"a b":[true,false]}}`,
		`{"op":"explode","from":"n","room":"1:n:1"}`,
	} {
		if _, _, err := decodeRelay([]byte(tc)); err == nil {
			t.Errorf("%s: accepted", tc)
		}
	}
}

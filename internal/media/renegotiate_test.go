package media_test

import (
	"testing"

	"github.com/trtcd/trtcd/client/media/wire"
	"github.com/trtcd/trtcd/internal/media"
	"github.com/trtcd/trtcd/internal/rooms"
)

// A member that asks for the sub connection's offer before anything is
// published (as the browser SDK does at its join, to join the room's media)
// is sent no empty offer, which no answer could complete; it receives the
// tracks published later.
func TestRenegotiateBeforeAnyTrack(t *testing.T) {
	e := newEnv(t, media.Config{})
	b := e.join("bob", rooms.Audience)
	if err := b.p.Handle(wire.Message{Type: wire.TypeRenegotiate, PC: wire.PCSub}); err != nil {
		t.Fatalf("renegotiate: %v", err)
	}
	if b.sent.has(wire.TypeOffer, "", "") {
		t.Fatal("an offer without tracks was sent")
	}
	a := e.join("alice", rooms.Anchor)
	e.publish(a, av...)
	grows(t, "audio from alice", packets(b.c, "alice", wire.Audio), 10)
	grows(t, "video from alice", packets(b.c, "alice", wire.Video), 10)
}

package media_test

import (
	"testing"

	"github.com/trtcd/trtcd/client/media/wire"
	"github.com/trtcd/trtcd/internal/media"
	"github.com/trtcd/trtcd/internal/rooms"
)

func TestPublishReachesAnchorsAndAudience(t *testing.T) {
	e := newEnv(t, media.Config{})
	a := e.join("alice", rooms.Anchor)
	b := e.join("bob", rooms.Anchor)
	c := e.join("carol", rooms.Audience)
	e.publish(a, av...)
	for _, m := range []*member{b, c} {
		grows(t, "audio from alice", packets(m.c, "alice", wire.Audio), 10)
		grows(t, "video from alice", packets(m.c, "alice", wire.Video), 10)
	}
	if got := a.c.Received("alice", wire.Audio).Packets; got != 0 {
		t.Fatalf("alice received her own audio: %d packets", got)
	}
	if st := b.c.Received("alice", wire.Video); st.Codec != "video/VP8" || st.Bytes == 0 {
		t.Fatalf("bob's video from alice: %+v", st)
	}
}

package signal

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/trtcd/trtcd/client/media/wire"
	"github.com/trtcd/trtcd/internal/rooms"
)

// Media is the media plane as signalling sees it (internal/node wires
// internal/media to it). A session joins its room's media with its first
// media_ frame, not at the room join: a media peer costs about 35 KB and
// three goroutines, four times an idle client (docs/protocol.md).
type Media interface {
	// Join adds user, with role, to the media of room; send queues the
	// media plane's messages for the client and never blocks.
	Join(room rooms.Key, user string, role rooms.Role, send func(wire.Message) error) (MediaPeer, error)
	// Left says that user's session in room ended for reason (after its
	// peer's Leave, if it had one): unless it was replaced (duplicate),
	// the user is gone and its media state (blocking) goes too.
	Left(room rooms.Key, user string, reason rooms.Reason)
}

// MediaPeer is one session's media.
type MediaPeer interface {
	// Handle takes one media_ message from the client; refusals are
	// answered to the client by the peer itself.
	Handle(wire.Message) error
	// SetRole follows a role switch: an audience member stops publishing.
	SetRole(rooms.Role) error
	// Leave removes the peer (if a later join has not replaced it): its
	// connections close and its tracks end for every subscriber.
	Leave(reason rooms.Reason)
}

// MediaQueueLen is how many media messages a client's outbound queue holds
// beside its room notices (Config.QueueLen) before the client counts as
// slow: joining a room with many published tracks sends a
// media_track_published per track at once.
const MediaQueueLen = 512

// mediaPrefix starts the type of every media message.
const mediaPrefix = "media_"

// isMedia reports whether a frame is a media message: one JSON object whose
// type starts with media_. Other frames, and frames that are not JSON, are
// left to the room protocol's decoder.
func isMedia(b []byte) bool {
	if !bytes.Contains(b, []byte(`"`+mediaPrefix)) {
		return false
	}
	var t struct {
		Type string `json:"type"`
	}
	return json.Unmarshal(b, &t) == nil && strings.HasPrefix(t.Type, mediaPrefix)
}

// handleMedia decodes one media frame and hands it to the session's media
// peer, joining the room's media first if needed. Nothing here ends the
// session: a refused message is answered with a media_error.
func (c *conn) handleMedia(b []byte) {
	c.s.stats.mediaIn.Add(1)
	m, we := wire.Decode(b)
	if we != nil {
		c.mediaError(we, "")
		return
	}
	if c.s.cfg.Media == nil {
		c.mediaError(wire.Errorf(wire.CodeMediaDisabled, "this server does not run the media plane (media.enabled)"), m.Type)
		return
	}
	if c.mpeer == nil {
		if c.kicked.Load() {
			return // out of the room: the connection is closing
		}
		p, err := c.s.cfg.Media.Join(c.room, c.user, c.role, c.sendMedia)
		if err != nil {
			c.mediaError(wire.Errorf(wire.CodeClosed, "the room's media is closed"), m.Type)
			return
		}
		c.mpeer = p
		if c.kicked.Load() { // kicked while joining: the removal may have missed p
			p.Leave(rooms.ReasonRemoved)
			return
		}
		if m.Type == wire.TypeRenegotiate {
			// The join offers the room's tracks, if there are any; an
			// offer without them would have nothing to negotiate.
			return
		}
	}
	if c.mpeer.Handle(m) != nil {
		c.s.stats.mediaRefused.Add(1)
	}
}

// mediaError answers a refused media frame.
func (c *conn) mediaError(e *wire.Error, ref string) {
	c.s.stats.mediaRefused.Add(1)
	m := e.Msg()
	if wire.FromClient(ref) {
		m.Ref = ref
	}
	c.sendMedia(m)
}

// sendMedia queues a media message for the client without blocking.
func (c *conn) sendMedia(m wire.Message) error {
	if !c.enqueue(outMsg{raw: m.Encode()}) {
		return errDropped
	}
	c.s.stats.mediaOut.Add(1)
	return nil
}

// leaveMedia removes the session's media peer when the session ends.
func (c *conn) leaveMedia(reason rooms.Reason) {
	if c.mpeer != nil {
		c.mpeer.Leave(reason)
	}
	if c.s.cfg.Media != nil {
		c.s.cfg.Media.Left(c.room, c.user, reason)
	}
}

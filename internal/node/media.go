package node

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/trtcd/trtcd/client/media/wire"
	"github.com/trtcd/trtcd/internal/config"
	"github.com/trtcd/trtcd/internal/media"
	"github.com/trtcd/trtcd/internal/rooms"
	"github.com/trtcd/trtcd/internal/signal"
)

// mediaPlane is this node's SFU as the other parts see it: signalling joins
// sessions to it (signal.Media), and the room actions cut and block media
// through it. A room's media is media.Server.Room(rooms.Key.String()); it
// is let go (CloseIfIdle) when its last peer leaves and nobody is blocked.
type mediaPlane struct {
	srv *media.Server
	log *slog.Logger
	cl  *clusterMedia // cluster mode: rooms' media placed across the nodes; nil on one node
}

// joinRetries bounds the retries of a join that met a room being let go.
const joinRetries = 3

func newMediaPlane(cfg config.Config, log *slog.Logger, onEvent func(media.MediaEvent)) (*mediaPlane, error) {
	srv, err := media.NewServer(media.Config{
		UDPPort: cfg.Media.UDPPort, TCPPort: cfg.Media.TCPPort, PublicIPs: cfg.Media.PublicIPs,
		Networks: cfg.MediaPrefixes(), OnMediaEvent: onEvent,
	}, log)
	if err != nil {
		return nil, err
	}
	return &mediaPlane{srv: srv, log: log}, nil
}

// Join implements signal.Media.
func (m *mediaPlane) Join(room rooms.Key, user string, role rooms.Role, send func(wire.Message) error) (signal.MediaPeer, error) {
	if m.cl != nil {
		return m.cl.join(room, user, role, send)
	}
	return m.joinLocal(room, user, role, send)
}

// joinLocal joins user to room's media on this node's SFU.
func (m *mediaPlane) joinLocal(room rooms.Key, user string, role rooms.Role, send func(wire.Message) error) (signal.MediaPeer, error) {
	for i := 0; ; i++ {
		r := m.srv.Room(room.String())
		p, err := r.Join(user, role, send)
		if errors.Is(err, media.ErrClosed) && i < joinRetries {
			continue // the room was let go meanwhile: a fresh one
		}
		if err != nil {
			return nil, err
		}
		return mediaPeer{r, p}, nil
	}
}

// Left implements signal.Media: a user that left takes its blocking along.
func (m *mediaPlane) Left(room rooms.Key, user string, reason rooms.Reason) {
	if reason == rooms.ReasonDuplicate {
		return
	}
	if m.cl != nil {
		m.cl.left(room, user, reason)
		return
	}
	m.leftLocal(room, user, reason)
}

// leftLocal: user left room; its blocking on this node's SFU goes.
func (m *mediaPlane) leftLocal(room rooms.Key, user string, reason rooms.Reason) {
	if reason == rooms.ReasonDuplicate {
		return
	}
	if r := m.srv.Existing(room.String()); r != nil {
		r.SetBlocked(user, false, false)
		r.CloseIfIdle()
	}
}

// remove cuts the media of users removed from room (RemoveUser): their
// connections close and their tracks end for every subscriber.
func (m *mediaPlane) remove(room rooms.Key, users []string) {
	if m.cl != nil {
		m.cl.remove(room, users)
		return
	}
	m.removeLocal(room, users)
}

// removeLocal is remove on this node's SFU.
func (m *mediaPlane) removeLocal(room rooms.Key, users []string) {
	r := m.srv.Existing(room.String())
	if r == nil {
		return // nobody in the room has media or is blocked
	}
	for _, u := range users {
		r.Remove(u, string(rooms.ReasonRemoved))
		r.SetBlocked(u, false, false)
	}
	r.CloseIfIdle()
}

// dismiss closes room's media (DismissRoom).
func (m *mediaPlane) dismiss(room rooms.Key) {
	if m.cl != nil {
		m.cl.dismiss(room)
		return
	}
	m.dismissLocal(room)
}

// dismissLocal is dismiss on this node's SFU.
func (m *mediaPlane) dismissLocal(room rooms.Key) {
	if r := m.srv.Existing(room.String()); r != nil {
		r.Close()
	}
}

// block withholds or releases user's audio and video; it returns once
// blocked packets are no longer forwarded.
func (m *mediaPlane) block(room rooms.Key, user string, audio, video bool) {
	if m.cl != nil {
		m.cl.block(room, user, audio, video)
		return
	}
	m.blockLocal(room, user, audio, video)
}

// blockLocal is block on this node's SFU.
func (m *mediaPlane) blockLocal(room rooms.Key, user string, audio, video bool) {
	for i := 0; i <= joinRetries; i++ {
		r := m.srv.Room(room.String())
		r.SetBlocked(user, audio, video)
		if !audio && !video {
			r.CloseIfIdle()
		}
		if !r.Closed() {
			return
		}
	}
}

// mediaPeer is one session's media peer.
type mediaPeer struct {
	r *media.Room
	p *media.Peer
}

func (p mediaPeer) Handle(m wire.Message) error { return p.p.Handle(m) }

func (p mediaPeer) SetRole(role rooms.Role) error {
	if p.p.Closed() {
		return media.ErrNotJoined
	}
	return p.r.SetRole(p.p.User(), role)
}

func (p mediaPeer) Leave(reason rooms.Reason) {
	p.r.RemovePeer(p.p, string(reason))
	p.r.CloseIfIdle()
}

// roomActions are the room service as the TRTC actions use it, with the
// media plane following each change before the action answers: RemoveUser
// closes the removed users' connections and ends their tracks for every
// subscriber, DismissRoom closes the room's media, SetUserBlocked stops
// forwarding and tells the room. Without a media plane (media off) only
// the notices go out.
type roomActions struct {
	Rooms *rooms.Service
	hub   *rooms.Hub
	media *mediaPlane // nil: media off
}

func (a roomActions) Remove(ctx context.Context, room rooms.Key, users []string) error {
	err := a.Rooms.Remove(ctx, room, users)
	if err == nil && a.media != nil {
		a.media.remove(room, users)
	}
	return err
}

func (a roomActions) Dismiss(ctx context.Context, room rooms.Key) error {
	err := a.Rooms.Dismiss(ctx, room)
	if err == nil && a.media != nil {
		a.media.dismiss(room)
	}
	return err
}

// Members lists the room's members (SetUserBlocked checks the user is one).
func (a roomActions) Members(ctx context.Context, room rooms.Key) ([]rooms.Member, error) {
	return a.Rooms.Members(ctx, room)
}

// SetBlocked blocks or releases user's audio and video and tells the room's
// sessions (the user included) with a user_blocked notice.
func (a roomActions) SetBlocked(ctx context.Context, room rooms.Key, user string, audio, video bool) error {
	if a.media != nil {
		a.media.block(room, user, audio, video)
	}
	now := time.Now()
	a.hub.Announce(room, &rooms.Notice{Type: rooms.UserBlocked, Room: room, UserID: user, Audio: audio, Video: video, Time: now})
	if a.media != nil && a.media.cl != nil {
		a.media.cl.announceBlocked(room, user, audio, video, now)
	}
	return nil
}

package rooms

import (
	"context"

	"github.com/trtcd/trtcd/internal/eventlog"
)

// Service is the room domain as the actions see it (the TRTC API today, a
// console later): changes committed in the registry, whichever node holds
// the sessions concerned. Each returns once the change and its events are
// committed; the sessions hear of it through their nodes' hubs.
type Service struct {
	reg Registry
}

// NewService serves the rooms of reg.
func NewService(reg Registry) *Service { return &Service{reg: reg} }

// Remove removes users from a room (RemoveUser); the removed sessions are
// kicked with reason removed. ErrRoomNotFound when the room has no members.
func (s *Service) Remove(ctx context.Context, room Key, userIDs []string) error {
	return s.reg.Remove(ctx, room, userIDs)
}

// Dismiss removes everyone from a room (DismissRoom).
func (s *Service) Dismiss(ctx context.Context, room Key) error { return s.reg.Dismiss(ctx, room) }

// Members lists a room's members (anchors and audience).
func (s *Service) Members(ctx context.Context, room Key) ([]Member, error) {
	return s.reg.Members(ctx, room)
}

// SwitchRole gives the user whose current session is sessionID the role and
// returns the change's sequence number (Registry.SwitchRole).
func (s *Service) SwitchRole(ctx context.Context, room Key, userID, sessionID string, role Role) (uint64, error) {
	return s.reg.SwitchRole(ctx, room, userID, sessionID, role)
}

// LogMedia records a member's media event (Registry.LogMedia): the media
// plane's 201-206, as log events of the room.
func (s *Service) LogMedia(ctx context.Context, room Key, userID string, typ eventlog.Type) (uint64, error) {
	return s.reg.LogMedia(ctx, room, userID, typ)
}

package rooms

import (
	"context"
	"errors"
	"slices"
	"strings"
)

// MaxListedRooms bounds how many rooms one listing answers (the console's
// live rooms page); the rest are left out and Truncated says so.
const MaxListedRooms = 1000

// RoomInfo is one live room as a listing shows it.
type RoomInfo struct {
	Key     Key
	Members int // everyone, audience included
	Anchors int
}

// Lister is implemented by registries that can list an app's live rooms:
// the in-memory registry from its map, the Redis one by scanning member
// keys. The listing is a snapshot, not ordered against room events.
type Lister interface {
	Rooms(ctx context.Context, app uint64, max int) (rooms []RoomInfo, truncated bool, err error)
}

// ErrNoListing: the registry cannot list rooms.
var ErrNoListing = errors.New("rooms: the registry cannot list rooms")

// Rooms lists the app's live rooms (cluster-wide: it asks the registry,
// not this node's sessions), sorted by key, at most MaxListedRooms.
func (s *Service) Rooms(ctx context.Context, app uint64) ([]RoomInfo, bool, error) {
	l, ok := s.reg.(Lister)
	if !ok {
		return nil, false, ErrNoListing
	}
	out, trunc, err := l.Rooms(ctx, app, MaxListedRooms)
	slices.SortFunc(out, func(a, b RoomInfo) int {
		if a.Key.IsStr() != b.Key.IsStr() {
			if a.Key.IsStr() {
				return 1
			}
			return -1
		}
		if a.Key.Num != b.Key.Num {
			if a.Key.Num < b.Key.Num {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Key.Str, b.Key.Str)
	})
	return out, trunc, err
}

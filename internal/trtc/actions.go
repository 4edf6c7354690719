// Package trtc is the TRTC product on the cloud API front door: the room
// actions of service trtc, version 2019-07-22. Handlers validate in field
// order, make one call into rooms, and map its errors to the cloud's codes.
package trtc

import (
	"context"
	"errors"
	"fmt"

	"github.com/trtcd/trtcd/internal/cloudapi"
	"github.com/trtcd/trtcd/internal/rooms"
)

const (
	Service = "trtc"
	Version = "2019-07-22"
	// MaxUserIDs is how many users one RemoveUser may name.
	MaxUserIDs = 10
	// DefaultRateLimit is calls per second per account and action.
	DefaultRateLimit = 20
)

// DefaultRegions are the regions the cloud documents for these actions.
var DefaultRegions = []string{"ap-beijing", DefaultClientRegion, "ap-singapore"}

// DefaultClientRegion is the region trtcd's own clients (`trtcd api`, the
// load tool) name unless told otherwise, as the cloud's examples do.
const DefaultClientRegion = "ap-guangzhou"

// Rooms is what the actions need from the room domain.
type Rooms interface {
	Remove(ctx context.Context, room rooms.Key, userIDs []string) error
	Dismiss(ctx context.Context, room rooms.Key) error
}

// Owner says which account owns an SdkAppId.
type Owner func(sdkappid uint64) (account string, ok bool)

// Register adds the four room actions to the catalog.
func Register(cat *cloudapi.Catalog, rs Rooms, owner Owner, regions []string) {
	if len(regions) == 0 {
		regions = DefaultRegions
	}
	a := &actions{rooms: rs, owner: owner}
	withUsers := []cloudapi.Param{{Name: "SdkAppId", Type: cloudapi.Integer}, {Name: "RoomId", Type: cloudapi.Integer}, {Name: "UserIds", Type: cloudapi.StringArray}}
	strWithUsers := []cloudapi.Param{{Name: "SdkAppId", Type: cloudapi.Integer}, {Name: "RoomId", Type: cloudapi.String}, {Name: "UserIds", Type: cloudapi.StringArray}}
	for _, def := range []struct {
		name   string
		params []cloudapi.Param
		h      cloudapi.Handler
	}{
		{"RemoveUser", withUsers, a.removeUser(false)},
		{"RemoveUserByStrRoomId", strWithUsers, a.removeUser(true)},
		{"DismissRoom", withUsers[:2], a.dismissRoom(false)},
		{"DismissRoomByStrRoomId", strWithUsers[:2], a.dismissRoom(true)},
	} {
		cat.Register(cloudapi.Action{Service: Service, Version: Version, Name: def.name, Regions: regions,
			RateLimit: DefaultRateLimit, Params: def.params, Handle: def.h})
	}
}

type actions struct {
	rooms Rooms
	owner Owner
}

func (a *actions) removeUser(str bool) cloudapi.Handler {
	return func(ctx context.Context, c *cloudapi.Call) (any, error) {
		room, err := a.room(c, str)
		if err != nil {
			return nil, err
		}
		users, err := userIDs(c.Params)
		if err != nil {
			return nil, err
		}
		return nil, roomError(a.rooms.Remove(ctx, room, users), room)
	}
}

func (a *actions) dismissRoom(str bool) cloudapi.Handler {
	return func(ctx context.Context, c *cloudapi.Call) (any, error) {
		room, err := a.room(c, str)
		if err != nil {
			return nil, err
		}
		return nil, roomError(a.rooms.Dismiss(ctx, room), room)
	}
}

// room validates SdkAppId (presence, type, ownership) and then RoomId.
func (a *actions) room(c *cloudapi.Call, str bool) (rooms.Key, error) {
	return roomParams(c, a.owner, str, roomIDParam)
}

// roomParam is an action family's room parameter and its errors: RoomId,
// or StrRoomId (SetUserBlockedByStrRoomId).
type roomParam struct {
	name           string
	missing        func() *cloudapi.Error
	invalid, value func(why string) *cloudapi.Error
}

var roomIDParam = roomParam{"RoomId", ErrMissingRoomID, ErrInvalidRoomID, ErrInvalidRoomIDValue}

// roomParams validates SdkAppId (presence, type, ownership) and then the
// room parameter rp.
func roomParams(c *cloudapi.Call, owner Owner, str bool, rp roomParam) (rooms.Key, error) {
	app, st := c.Params.Uint("SdkAppId")
	switch {
	case st == cloudapi.Missing:
		return rooms.Key{}, ErrMissingSdkAppID()
	case st != cloudapi.OK || app == 0:
		return rooms.Key{}, ErrInvalidSdkAppID()
	}
	// Unknown apps answer like other accounts' apps: existence does not leak.
	if acct, ok := owner(app); !ok || acct != c.Account {
		return rooms.Key{}, ErrUnauthorizedSdkAppID(app)
	}
	if str {
		s, st := c.Params.String(rp.name)
		switch {
		case st == cloudapi.Missing:
			return rooms.Key{}, rp.missing()
		case st != cloudapi.OK:
			return rooms.Key{}, rp.invalid("it must be a string for this action")
		case !rooms.ValidStrRoom(s):
			return rooms.Key{}, rp.value("a string " + rp.name + " must be 1-64 bytes of letters, digits, space and !#$%&()+-:;<=.>?@[]^_{}|~,")
		}
		return rooms.StrRoom(app, s), nil
	}
	n, st := c.Params.Uint(rp.name)
	switch {
	case st == cloudapi.Missing:
		return rooms.Key{}, rp.missing()
	case st == cloudapi.WrongType:
		return rooms.Key{}, rp.invalid("it must be an integer for this action")
	case st == cloudapi.OutOfRange || !rooms.ValidRoomNum(n):
		return rooms.Key{}, rp.value("a numeric " + rp.name + " must be from 1 to 4294967294")
	}
	return rooms.NumRoom(app, n), nil
}

// userIDs validates UserIds: 1–10 entries (counted before duplicates are
// merged), each a valid UserId; duplicates count once.
func userIDs(p cloudapi.Params) ([]string, error) {
	ids, st := p.Strings("UserIds")
	switch {
	case st == cloudapi.Missing:
		return nil, ErrMissingUserIDs()
	case st != cloudapi.OK:
		return nil, ErrInvalidUserIDs("it must be an array of strings")
	case len(ids) == 0:
		return nil, ErrInvalidUserIDs("it must not be empty")
	case len(ids) > MaxUserIDs:
		return nil, ErrInvalidUserIDs(fmt.Sprintf("at most %d users can be removed at once, %d were given", MaxUserIDs, len(ids)))
	}
	seen := make(map[string]bool, len(ids))
	out := ids[:0]
	for i, id := range ids {
		if !rooms.ValidUserID(id) {
			return nil, ErrInvalidUserIDs(fmt.Sprintf("UserIds.%d is not 1-32 characters of A-Z a-z 0-9 _ -", i))
		}
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out, nil
}

// roomError maps the domain's errors to the cloud's codes.
func roomError(err error, room rooms.Key) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, rooms.ErrRoomNotFound):
		kind := fmt.Sprintf("numeric room %d", room.Num)
		if room.IsStr() {
			kind = fmt.Sprintf("string room %q", room.Str)
		}
		return ErrRoomNotExist(kind)
	default:
		return ErrGetRoomFromCacheError()
	}
}

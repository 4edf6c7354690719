package trtc

import (
	"context"
	"fmt"

	"github.com/trtcd/trtcd/internal/cloudapi"
	"github.com/trtcd/trtcd/internal/rooms"
)

// Blocking is what SetUserBlocked needs from the room domain: the room's
// members, and a block applied to the user's media and told to the room.
type Blocking interface {
	Members(ctx context.Context, room rooms.Key) ([]rooms.Member, error)
	// SetBlocked withholds (true) or forwards again (false) the user's
	// audio and video; it returns once blocked packets are no longer
	// forwarded, and tells the room's members (the user included).
	SetBlocked(ctx context.Context, room rooms.Key, user string, audio, video bool) error
}

// IsMute values: what SetUserBlocked blocks.
const (
	MuteNone  = 0 // audio and video allowed
	MuteBoth  = 1 // audio and video blocked
	MuteAudio = 2 // audio blocked
	MuteVideo = 3 // video (and screen share) blocked
)

var strRoomIDParam = roomParam{"StrRoomId", ErrMissingStrRoomID, ErrInvalidStrRoomID, ErrInvalidStrRoomIDValue}

// RegisterBlocking adds SetUserBlocked and SetUserBlockedByStrRoomId (its
// room parameter is StrRoomId) to the catalog.
func RegisterBlocking(cat *cloudapi.Catalog, b Blocking, owner Owner, regions []string) {
	if len(regions) == 0 {
		regions = DefaultRegions
	}
	I, S := cloudapi.Integer, cloudapi.String
	p := func(name string, t cloudapi.ParamType) cloudapi.Param { return cloudapi.Param{Name: name, Type: t} }
	for _, def := range []struct {
		name   string
		str    bool
		params []cloudapi.Param
	}{
		{"SetUserBlocked", false, []cloudapi.Param{p("SdkAppId", I), p("RoomId", I), p("UserId", S), p("IsMute", I)}},
		{"SetUserBlockedByStrRoomId", true, []cloudapi.Param{p("SdkAppId", I), p("StrRoomId", S), p("UserId", S), p("IsMute", I)}},
	} {
		cat.Register(cloudapi.Action{Service: Service, Version: Version, Name: def.name, Regions: regions,
			RateLimit: DefaultRateLimit, Params: def.params, Handle: setUserBlocked(b, owner, def.str)})
	}
}

// setUserBlocked validates in field order (SdkAppId, the room, UserId,
// IsMute), then needs the room to exist and the user to be in it.
func setUserBlocked(b Blocking, owner Owner, str bool) cloudapi.Handler {
	rp := roomIDParam
	if str {
		rp = strRoomIDParam
	}
	return func(ctx context.Context, c *cloudapi.Call) (any, error) {
		room, err := roomParams(c, owner, str, rp)
		if err != nil {
			return nil, err
		}
		user, st := c.Params.String("UserId")
		switch {
		case st == cloudapi.Missing:
			return nil, ErrMissingUserID()
		case st != cloudapi.OK:
			return nil, ErrInvalidUserID("it must be a string")
		case !rooms.ValidUserID(user):
			return nil, ErrInvalidUserID("it must be 1-32 characters of A-Z a-z 0-9 _ -")
		}
		mute, st := c.Params.Uint("IsMute")
		switch {
		case st == cloudapi.Missing:
			return nil, ErrMissingIsMute()
		case st == cloudapi.WrongType:
			return nil, ErrInvalidIsMute("it must be an integer")
		case st == cloudapi.OutOfRange || mute > MuteVideo:
			return nil, ErrInvalidIsMuteValue(fmt.Sprintf("it must be 0 (allow audio and video), 1 (block both), 2 (block audio) or 3 (block video), not %d", mute))
		}
		ms, err := b.Members(ctx, room)
		if err != nil || len(ms) == 0 {
			if err == nil {
				err = rooms.ErrRoomNotFound
			}
			return nil, roomError(err, room)
		}
		in := false
		for _, m := range ms {
			in = in || m.UserID == user
		}
		if !in {
			return nil, ErrUserNotExist(user)
		}
		audio, video := mute == MuteBoth || mute == MuteAudio, mute == MuteBoth || mute == MuteVideo
		return nil, roomError(b.SetBlocked(ctx, room, user, audio, video), room)
	}
}

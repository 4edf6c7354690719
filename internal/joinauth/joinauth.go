// Package joinauth decides whether a join may enter a room: it checks the
// request's identity fields, finds the app, verifies the UserSig and the
// PrivateMapKey, and applies the app's policy (require_privatemapkey) and
// the clock policy (usersig_max_skew). Every transport that admits clients
// calls it (the WebSocket join today), so all of them refuse the same joins
// with the same protocol codes.
package joinauth

import (
	"errors"
	"time"

	"github.com/trtcd/trtcd/internal/rooms"
	"github.com/trtcd/trtcd/protocol"
	"github.com/trtcd/trtcd/usersig"
)

// App is what the server knows of an app to admit its clients.
type App struct {
	Key                  string // the UserSig secret key
	RequirePrivateMapKey bool   // policy: every join must carry a valid PrivateMapKey
}

// Apps finds an app by SdkAppId.
type Apps func(sdkappid uint64) (App, bool)

// Config is the authorisation policy; zero values take the defaults.
type Config struct {
	// MaxSkew is how far ahead of Now a UserSig's (or PrivateMapKey's)
	// TLS.time may be (config key usersig_max_skew); default
	// usersig.DefaultMaxSkew.
	MaxSkew time.Duration
	Now     func() time.Time // default time.Now
}

// Request is a join as a transport received it. The transport keeps what
// its own format could not express as a zero value of the field, so that the
// checks, and their order, are the same for every transport.
type Request struct {
	SdkAppID uint64 // 0 when missing or not a positive integer
	UserID   string
	// RoomID is the numeric room, nil when the join names none; a roomId
	// that was given but is not a positive integer is a pointer to 0.
	RoomID        *uint64
	StrRoomID     *string // the string room, nil when the join names none
	Role          string  // protocol.RoleAnchor (also for ""), protocol.RoleAudience
	UserSig       string
	PrivateMapKey string
}

// Grant is an admitted join: who enters which room as what, and what it may
// do there.
type Grant struct {
	Room   rooms.Key
	UserID string
	Role   rooms.Role
	// Privilege holds the usersig.Priv* bits the join may use: its
	// PrivateMapKey's, or usersig.PrivAll when it carried none (a UserSig
	// alone grants everything).
	Privilege uint32
}

// Can says whether the grant holds every bit of priv (usersig.Priv*).
func (g Grant) Can(priv uint32) bool { return g.Privilege&priv == priv }

// Refusal is a refused join: the error to send to the client (its Code,
// Message, Reason and TRTCCode) and, when the request's fields were valid,
// the room and user it named, for the transport's log.
type Refusal struct {
	protocol.Error
	Room   rooms.Key // zero when the request's fields were invalid
	UserID string    // "" when the request's fields were invalid
}

// Authorizer applies the join authorisation; it is safe for concurrent use.
type Authorizer struct {
	apps Apps
	v    usersig.Verifier
	now  func() time.Time
}

// New is the authoriser of the apps apps, with the policy cfg.
func New(apps Apps, cfg Config) *Authorizer {
	if cfg.MaxSkew <= 0 {
		cfg.MaxSkew = usersig.DefaultMaxSkew
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Authorizer{apps: apps, v: usersig.Verifier{MaxSkew: cfg.MaxSkew}, now: cfg.Now}
}

// Authorize checks a join, in this order: the fields (sdkAppId, userId, the
// room, role), the app, the UserSig, then the PrivateMapKey (verified when
// given, required when the app says so). It answers a Grant, or the first
// failure as a Refusal with its protocol code.
func (a *Authorizer) Authorize(req Request) (Grant, *Refusal) {
	g, r := parse(req)
	if r != nil {
		return Grant{}, r
	}
	refuse := func(e *protocol.Error) (Grant, *Refusal) {
		return Grant{}, &Refusal{Error: *e, Room: g.Room, UserID: g.UserID}
	}
	app, ok := a.apps(g.Room.App)
	if !ok {
		return refuse(protocol.NewError(protocol.CodeSdkAppIDNotExist, "sdkAppId %d is not configured on this server", g.Room.App))
	}
	now := a.now()
	if _, err := a.v.Verify(req.UserSig, g.Room.App, app.Key, g.UserID, now); err != nil {
		why := reason(err)
		return refuse(protocol.NewError(protocol.CodeUserSig, "userSig verification failed: %s", why).WithReason(why))
	}
	g.Privilege = usersig.PrivAll
	if req.PrivateMapKey == "" {
		if app.RequirePrivateMapKey {
			why := string(usersig.ReasonMapRequired)
			return refuse(protocol.NewError(protocol.CodePrivateMapKey, "this app requires a privateMapKey to enter a room").WithReason(why))
		}
		return g, nil
	}
	ub, err := a.v.CheckPrivateMapKey(req.PrivateMapKey, g.Room.App, app.Key, g.UserID, now, g.Room.Num, g.Room.Str)
	if err != nil {
		why := reason(err)
		return refuse(protocol.NewError(protocol.CodePrivateMapKey, "privateMapKey verification failed: %s", why).WithReason(why))
	}
	g.Privilege = ub.Privilege
	return g, nil
}

// reason is the stable words of a credential failure.
func reason(err error) string {
	var ue *usersig.Error
	if errors.As(err, &ue) {
		return string(ue.Reason)
	}
	return err.Error()
}

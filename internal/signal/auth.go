package signal

import (
	"errors"

	"github.com/trtcd/trtcd/usersig"
)

// App is what the server knows of an app to admit its clients.
type App struct {
	Key                  string // the UserSig secret key
	RequirePrivateMapKey bool   // policy: every join must carry a valid PrivateMapKey
}

// Apps finds an app by SdkAppId.
type Apps func(sdkappid uint64) (App, bool)

// authorize checks the app, the UserSig and the PrivateMapKey: verified
// when given, and required when the app says so.
func (s *Server) authorize(j joinRequest) *protoError {
	app, ok := s.apps(j.room.App)
	if !ok {
		return perr(CodeSdkAppIDNotExist, "sdkAppId %d is not configured on this server", j.room.App)
	}
	now := s.cfg.Now()
	v := usersig.Verifier{MaxSkew: s.cfg.MaxSkew}
	if _, err := v.Verify(j.userSig, j.room.App, app.Key, j.userID, now); err != nil {
		r := reason(err)
		return perr(CodeUserSig, "userSig verification failed: %s", r).withReason(r)
	}
	if j.privateMapKey == "" && app.RequirePrivateMapKey {
		r := string(usersig.ReasonMapRequired)
		return perr(CodePrivateMapKey, "this app requires a privateMapKey to enter a room").withReason(r)
	}
	if j.privateMapKey != "" {
		if err := v.VerifyPrivateMapKey(j.privateMapKey, j.room.App, app.Key, j.userID, now, j.room.Num, j.room.Str); err != nil {
			r := reason(err)
			return perr(CodePrivateMapKey, "privateMapKey verification failed: %s", r).withReason(r)
		}
	}
	return nil
}

func reason(err error) string {
	var ue *usersig.Error
	if errors.As(err, &ue) {
		return string(ue.Reason)
	}
	return err.Error()
}

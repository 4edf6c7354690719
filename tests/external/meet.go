// Package external uses trtcd's public packages the way an app outside the
// trtcd module does: package usersig on the app server to mint tickets,
// package client in the app to join, package protocol for the codes. It is
// its own module (with a replace directive to this checkout), so it builds
// only if those packages need nothing from trtcd's internal/ tree; its test
// runs it against a real `trtcd serve` process.
package external

import (
	"context"
	"fmt"
	"time"

	"github.com/trtcd/trtcd/client"
	"github.com/trtcd/trtcd/protocol"
	"github.com/trtcd/trtcd/usersig"
)

// App is an app as its server knows it: the SdkAppId and the secret key.
type App struct {
	SdkAppID uint64
	Key      string
}

// Ticket is what the app server hands its client to enter room: a UserSig
// valid for a day, and with withKey a PrivateMapKey for that room only,
// allowing to enter and receive.
func (a App) Ticket(user string, room uint32, withKey bool) client.JoinParams {
	p := client.JoinParams{SdkAppID: a.SdkAppID, UserID: user, RoomID: uint64(room),
		UserSig: usersig.Generate(a.SdkAppID, a.Key, user, 24*time.Hour, time.Now(), nil)}
	if withKey {
		p.PrivateMapKey = usersig.GeneratePrivateMapKey(a.SdkAppID, a.Key, user, time.Hour, time.Now(), room, "",
			usersig.PrivEnterRoom|usersig.PrivRecvAudio|usersig.PrivRecvVideo)
	}
	return p
}

// Meet has alice and bob enter room, and bob leave again; it returns what
// alice saw, one line per message.
func Meet(ctx context.Context, server string, a App, room uint32, withKey bool) ([]string, error) {
	alice, err := client.Join(ctx, server, a.Ticket("alice", room, withKey), client.Options{})
	if err != nil {
		return nil, err
	}
	defer alice.Close()
	seen := []string{fmt.Sprintf("%s %v", alice.Joined().Type, alice.Joined().Members)}
	bob, err := client.Join(ctx, server, a.Ticket("bob", room, withKey), client.Options{})
	if err != nil {
		return seen, err
	}
	if err := bob.Leave(ctx); err != nil {
		return seen, err
	}
	for len(seen) < 3 {
		select {
		case e, ok := <-alice.Events():
			if !ok {
				return seen, fmt.Errorf("alice's connection ended: %v", alice.Err())
			}
			switch e.Type {
			case protocol.TypeUserEntered:
				seen = append(seen, fmt.Sprintf("%s %s %s", e.Type, e.UserID, e.Role))
			case protocol.TypeUserLeft:
				seen = append(seen, fmt.Sprintf("%s %s %s", e.Type, e.UserID, e.Reason))
			}
		case <-ctx.Done():
			return seen, ctx.Err()
		}
	}
	return seen, alice.Leave(ctx)
}

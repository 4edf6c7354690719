package usersig_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/trtcd/trtcd/usersig"
)

// An app server mints a UserSig for its user, and one that also carries a
// PrivateMapKey for one room; trtcd checks them when the user joins.
func Example() {
	const (
		sdkAppID = 1400000001
		key      = "the-app-secret-key-from-the-trtcd-config"
	)
	now := time.Now()

	sig := usersig.Generate(sdkAppID, key, "alice", 24*time.Hour, now, nil)
	pmk := usersig.GeneratePrivateMapKey(sdkAppID, key, "alice", time.Hour, now, 1234, "",
		usersig.PrivEnterRoom|usersig.PrivRecvAudio|usersig.PrivRecvVideo)

	// What trtcd does with them at the join:
	v := usersig.Verifier{MaxSkew: usersig.DefaultMaxSkew}
	claims, err := v.Verify(sig, sdkAppID, key, "alice", now)
	fmt.Println("usersig:", err, claims.Expire)
	ub, err := v.CheckPrivateMapKey(pmk, sdkAppID, key, "alice", now, 1234, "")
	fmt.Println("privatemapkey for room 1234:", err, ub.Privilege&usersig.PrivSendVideo != 0)

	// A refusal says why.
	err = v.VerifyPrivateMapKey(pmk, sdkAppID, key, "alice", now, 999, "")
	var ue *usersig.Error
	if errors.As(err, &ue) {
		fmt.Println("room 999:", ue.Reason)
	}
	_, err = v.Verify(sig, sdkAppID, key, "bob", now)
	fmt.Println(err)
	// Output:
	// usersig: <nil> 24h0m0s
	// privatemapkey for room 1234: <nil> false
	// room 999: privatemapkey is for another room
	// usersig: identifier not match
}

package usersig

import (
	"encoding/binary"
	"time"
)

// Privilege bits of a PrivateMapKey.
const (
	PrivCreateRoom = 1
	PrivEnterRoom  = 2
	PrivAll        = 255
)

// Userbuf is the binary payload of a PrivateMapKey (fact sheet §5.3), all
// integers big-endian.
type Userbuf struct {
	UserID      string
	SdkAppID    uint32
	RoomID      uint32 // 0 when StrRoomID is used
	ExpiresAt   uint32 // absolute Unix time
	Privilege   uint32
	AccountType uint32 // always 0 from the official libraries
	StrRoomID   string // only when the version byte is 1
	isStr       bool
}

// Encode lays the userbuf out as the official libraries do.
func (u Userbuf) Encode() []byte {
	str := u.isStr || u.StrRoomID != ""
	b := []byte{0}
	if str {
		b[0] = 1
	}
	b = binary.BigEndian.AppendUint16(b, uint16(len(u.UserID)))
	b = append(b, u.UserID...)
	b = binary.BigEndian.AppendUint32(b, u.SdkAppID)
	b = binary.BigEndian.AppendUint32(b, u.RoomID)
	b = binary.BigEndian.AppendUint32(b, u.ExpiresAt)
	b = binary.BigEndian.AppendUint32(b, u.Privilege)
	b = binary.BigEndian.AppendUint32(b, u.AccountType)
	if str {
		b = binary.BigEndian.AppendUint16(b, uint16(len(u.StrRoomID)))
		b = append(b, u.StrRoomID...)
	}
	return b
}

// ParseUserbuf reads a userbuf; any length mismatch is malformed.
func ParseUserbuf(b []byte) (Userbuf, error) {
	var u Userbuf
	bad := fail(ReasonMapMalformed)
	if len(b) < 3 || b[0] > 1 {
		return u, bad
	}
	n := int(binary.BigEndian.Uint16(b[1:3]))
	rest := b[3:]
	if len(rest) < n+20 {
		return u, bad
	}
	u.UserID = string(rest[:n])
	rest = rest[n:]
	u.SdkAppID = binary.BigEndian.Uint32(rest[0:])
	u.RoomID = binary.BigEndian.Uint32(rest[4:])
	u.ExpiresAt = binary.BigEndian.Uint32(rest[8:])
	u.Privilege = binary.BigEndian.Uint32(rest[12:])
	u.AccountType = binary.BigEndian.Uint32(rest[16:])
	rest = rest[20:]
	if b[0] == 1 {
		u.isStr = true
		if len(rest) < 2 {
			return u, bad
		}
		m := int(binary.BigEndian.Uint16(rest))
		if len(rest) != 2+m {
			return u, bad
		}
		u.StrRoomID = string(rest[2:])
	} else if len(rest) != 0 {
		return u, bad
	}
	return u, nil
}

// GeneratePrivateMapKey makes a PrivateMapKey for one room (strRoomID wins
// when not empty), valid for expire from now.
func GeneratePrivateMapKey(sdkappid uint64, key, userid string, expire time.Duration, now time.Time, roomID uint32, strRoomID string, privilege uint32) string {
	ub := Userbuf{UserID: userid, SdkAppID: uint32(sdkappid), ExpiresAt: uint32(now.Add(expire).Unix()), Privilege: privilege, StrRoomID: strRoomID}
	if strRoomID == "" {
		ub.RoomID = roomID
	}
	return Generate(sdkappid, key, userid, expire, now, ub.Encode())
}

// VerifyPrivateMapKey checks a PrivateMapKey with DefaultMaxSkew.
func VerifyPrivateMapKey(pmk string, sdkappid uint64, key, userid string, now time.Time, roomID uint64, strRoomID string) error {
	return Verifier{MaxSkew: DefaultMaxSkew}.VerifyPrivateMapKey(pmk, sdkappid, key, userid, now, roomID, strRoomID)
}

// VerifyPrivateMapKey checks a PrivateMapKey as a UserSig, then its userbuf:
// the same user and app, not expired, the enter-room bit, and the room.
func (v Verifier) VerifyPrivateMapKey(pmk string, sdkappid uint64, key, userid string, now time.Time, roomID uint64, strRoomID string) error {
	c, err := v.Verify(pmk, sdkappid, key, userid, now)
	if err != nil {
		return err
	}
	if c.Userbuf == nil {
		return fail(ReasonUserbuf)
	}
	u, err := ParseUserbuf(c.Userbuf)
	if err != nil {
		return err
	}
	if u.UserID != userid || uint64(u.SdkAppID) != sdkappid {
		return fail(ReasonUserbuf)
	}
	if now.Unix() > int64(u.ExpiresAt) {
		return fail(ReasonMapExpired)
	}
	if u.Privilege&PrivEnterRoom == 0 {
		return fail(ReasonNoPrivilege)
	}
	if strRoomID != "" {
		if !u.isStr || u.StrRoomID != strRoomID {
			return fail(ReasonRoom)
		}
	} else if u.isStr || uint64(u.RoomID) != roomID {
		return fail(ReasonRoom)
	}
	return nil
}

package usersig

import (
	"encoding/binary"
	"time"
)

// Privilege bits of a PrivateMapKey (its userbuf's privilege map). trtcd
// requires PrivEnterRoom to enter; the media bits are carried for the media
// plane.
const (
	PrivCreateRoom    = 1   // create the room (be its first member)
	PrivEnterRoom     = 2   // enter the room
	PrivSendAudio     = 4   // send audio
	PrivRecvAudio     = 8   // receive audio
	PrivSendVideo     = 16  // send video
	PrivRecvVideo     = 32  // receive video
	PrivSendSubstream = 64  // send the substream (screen sharing)
	PrivRecvSubstream = 128 // receive the substream
	PrivAll           = 255 // every privilege
)

// Userbuf is the binary payload of a PrivateMapKey, laid out as the official
// libraries do, all integers big-endian: a version byte (0: numeric room,
// 1: string room), the user id's length (2 bytes) and bytes, then SdkAppID,
// RoomID, ExpiresAt, Privilege and AccountType (4 bytes each), and for
// version 1 the string room's length (2 bytes) and bytes.
type Userbuf struct {
	UserID      string
	SdkAppID    uint32
	RoomID      uint32 // 0 when StrRoomID is used
	ExpiresAt   uint32 // absolute Unix time
	Privilege   uint32 // Priv* bits
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
	_, err := v.CheckPrivateMapKey(pmk, sdkappid, key, userid, now, roomID, strRoomID)
	return err
}

// CheckPrivateMapKey is VerifyPrivateMapKey that also returns the verified
// userbuf, whose Privilege says what the holder may do in the room.
func (v Verifier) CheckPrivateMapKey(pmk string, sdkappid uint64, key, userid string, now time.Time, roomID uint64, strRoomID string) (Userbuf, error) {
	c, err := v.Verify(pmk, sdkappid, key, userid, now)
	if err != nil {
		return Userbuf{}, err
	}
	if c.Userbuf == nil {
		return Userbuf{}, fail(ReasonUserbuf)
	}
	u, err := ParseUserbuf(c.Userbuf)
	if err != nil {
		return Userbuf{}, err
	}
	if u.UserID != userid || uint64(u.SdkAppID) != sdkappid {
		return Userbuf{}, fail(ReasonUserbuf)
	}
	if now.Unix() > int64(u.ExpiresAt) {
		return Userbuf{}, fail(ReasonMapExpired)
	}
	if u.Privilege&PrivEnterRoom == 0 {
		return Userbuf{}, fail(ReasonNoPrivilege)
	}
	if strRoomID != "" {
		if !u.isStr || u.StrRoomID != strRoomID {
			return Userbuf{}, fail(ReasonRoom)
		}
	} else if u.isStr || uint64(u.RoomID) != roomID {
		return Userbuf{}, fail(ReasonRoom)
	}
	return u, nil
}

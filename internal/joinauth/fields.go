package joinauth

import (
	"github.com/trtcd/trtcd/internal/rooms"
	"github.com/trtcd/trtcd/protocol"
)

// MaxSdkAppID is the largest SdkAppId: a 32-bit number, as in PrivateMapKeys.
const MaxSdkAppID = 1<<32 - 1

// parse checks the request's identity fields in the order sdkAppId, userId,
// room, role. Credentials are checked afterwards.
func parse(req Request) (Grant, *Refusal) {
	var g Grant
	bad := func(code, format string, args ...any) (Grant, *Refusal) {
		return Grant{}, &Refusal{Error: *protocol.NewError(code, format, args...)}
	}
	app := req.SdkAppID
	if app == 0 || app > MaxSdkAppID {
		return bad(protocol.CodeInvalidSdkAppID, "sdkAppId must be a positive integer")
	}
	if !rooms.ValidUserID(req.UserID) {
		return bad(protocol.CodeInvalidUserID, "userId must be 1-32 characters of A-Z a-z 0-9 _ -")
	}
	switch {
	case req.RoomID != nil && req.StrRoomID != nil:
		return bad(protocol.CodeInvalidRoomID, "give roomId or strRoomId, not both")
	case req.StrRoomID != nil:
		if !rooms.ValidStrRoom(*req.StrRoomID) {
			return bad(protocol.CodeInvalidRoomID, "strRoomId must be 1-64 bytes of letters, digits, space and !#$%%&()+-:;<=.>?@[]^_{}|~,")
		}
		g.Room = rooms.StrRoom(app, *req.StrRoomID)
	case req.RoomID != nil:
		if !rooms.ValidRoomNum(*req.RoomID) {
			return bad(protocol.CodeInvalidRoomID, "roomId must be an integer from 1 to 4294967294")
		}
		g.Room = rooms.NumRoom(app, *req.RoomID)
	default:
		return bad(protocol.CodeInvalidRoomID, "roomId or strRoomId is required")
	}
	role, ok := rooms.ParseRole(req.Role)
	if !ok {
		return bad(protocol.CodeInvalidRole, "role must be anchor or audience")
	}
	g.UserID, g.Role = req.UserID, role
	return g, nil
}

// FromFrame is the Request of a join frame: sdkAppId and roomId must be JSON
// integers (protocol.PositiveInt); anything else is kept as 0, which
// Authorize refuses with that field's code.
func FromFrame(f protocol.ClientFrame) Request {
	app, _ := protocol.PositiveInt(f.SdkAppID)
	req := Request{SdkAppID: app, UserID: f.UserID, StrRoomID: f.StrRoomID, Role: f.Role, UserSig: f.UserSig, PrivateMapKey: f.PrivateMapKey}
	if f.RoomID != nil {
		n, _ := protocol.PositiveInt(f.RoomID)
		req.RoomID = &n
	}
	return req
}

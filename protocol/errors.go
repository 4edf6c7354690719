package protocol

import "fmt"

// WebSocket close codes the server closes with.
const (
	CloseNormal      = 1000 // after a leave
	CloseGoingAway   = 1001 // the server is shutting down
	CloseUnsupported = 1003 // after an error answering a binary frame (RFC 6455: unsupported data)
	CloseKicked      = 4001 // after a kicked message
	CloseJoinRefused = 4003 // after an error answering a join
	CloseBadFrame    = 4004 // after an error answering a bad frame
	CloseIdle        = 4008 // no frame within the idle timeout
	CloseSlow        = 4009 // the client did not read its messages fast enough
	CloseInternal    = 4011 // the server could not complete the join
)

// Error codes of the client protocol: the code of an error message.
const (
	CodeInvalidFrame       = "InvalidFrame"
	CodeFrameTooLarge      = "FrameTooLarge"
	CodeBinaryFrame        = "BinaryFrame"
	CodeUnknownType        = "UnknownType"
	CodeNotJoined          = "NotJoined"
	CodeAlreadyJoined      = "AlreadyJoined"
	CodeJoinTimeout        = "JoinTimeout"
	CodeInvalidSdkAppID    = "InvalidParameter.SdkAppId"
	CodeInvalidUserID      = "InvalidParameter.UserId"
	CodeInvalidRoomID      = "InvalidParameter.RoomId"
	CodeInvalidRole        = "InvalidParameter.Role"
	CodeSdkAppIDNotExist   = "FailedOperation.SdkAppIdNotExist"
	CodeUserSig            = "AuthFailure.UserSig"
	CodePrivateMapKey      = "AuthFailure.PrivateMapKey"
	CodeServiceUnavailable = "ServiceUnavailable"
	CodeServerFull         = "ServerFull"
	CodeInternalError      = "InternalError"
	CodeRoleUnchanged      = "FailedOperation.RoleUnchanged" // switch_role to the role the client has
	CodeSwitchRole         = "FailedOperation.SwitchRole"    // switch_role could not be committed
)

// CloseNone in the error table: the error answers a switch_role and the
// connection stays open.
const CloseNone = 0

// IsSwitchError reports whether code is one a switch_role may be answered
// with (InvalidParameter.Role, FailedOperation.RoleUnchanged,
// FailedOperation.SwitchRole): after the join, such an error answers the
// client's switch and closes nothing.
func IsSwitchError(code string) bool {
	return code == CodeInvalidRole || code == CodeRoleUnchanged || code == CodeSwitchRole
}

// errorRow is a code's row: the TRTC client error code closest in meaning
// (0 when there is none) and the close code that follows the message.
type errorRow struct {
	trtc  int
	close int
}

// errorTable is the protocol's one error table.
var errorTable = map[string]errorRow{
	CodeInvalidFrame:       {0, CloseBadFrame},
	CodeFrameTooLarge:      {0, CloseBadFrame},
	CodeBinaryFrame:        {0, CloseUnsupported},
	CodeUnknownType:        {0, CloseBadFrame},
	CodeNotJoined:          {0, CloseBadFrame},
	CodeAlreadyJoined:      {0, CloseBadFrame},
	CodeJoinTimeout:        {-3308, CloseIdle},
	CodeInvalidSdkAppID:    {-3317, CloseJoinRefused},
	CodeInvalidUserID:      {-3319, CloseJoinRefused},
	CodeInvalidRoomID:      {-3318, CloseJoinRefused},
	CodeInvalidRole:        {-3316, CloseJoinRefused},
	CodeSdkAppIDNotExist:   {-3317, CloseJoinRefused},
	CodeUserSig:            {-3320, CloseJoinRefused},
	CodePrivateMapKey:      {-100006, CloseJoinRefused},
	CodeServiceUnavailable: {-100013, CloseGoingAway},
	CodeServerFull:         {0, CloseJoinRefused},
	CodeInternalError:      {-3301, CloseInternal},
	CodeRoleUnchanged:      {0, CloseNone},
	CodeSwitchRole:         {0, CloseNone},
}

// Codes lists every error code, for tables and tests.
func Codes() []string {
	out := make([]string, 0, len(errorTable))
	for c := range errorTable {
		out = append(out, c)
	}
	return out
}

// Error is the content of an error message: a refused join or a bad frame.
// Reason, for a refused UserSig or PrivateMapKey, names why in stable words
// (the usersig package's Reason values).
type Error struct {
	Code     string
	Message  string
	Reason   string
	TRTCCode int
}

func (e *Error) Error() string { return fmt.Sprintf("trtcd: %s: %s", e.Code, e.Message) }

// NewError makes the error for code, with its TRTC code from the table and
// a message from format. code must be one of the Code constants: an unknown
// one panics, as it is a programming error.
func NewError(code, format string, args ...any) *Error {
	row, ok := errorTable[code]
	if !ok {
		panic("protocol: no row for error code " + code)
	}
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), TRTCCode: row.trtc}
}

// WithReason sets Reason and returns e.
func (e *Error) WithReason(r string) *Error { e.Reason = r; return e }

// CloseCode is the WebSocket close code that follows this error (CloseNone:
// none, the connection stays open); for a code the table does not know
// (from a newer server), CloseBadFrame. An error answering a switch_role
// never closes the connection (IsSwitchError), whatever its row says.
func (e *Error) CloseCode() int {
	if row, ok := errorTable[e.Code]; ok {
		return row.close
	}
	return CloseBadFrame
}

// AsMessage is the error message that carries e.
func (e *Error) AsMessage() ServerMessage {
	return ServerMessage{Type: TypeError, Code: e.Code, Message: e.Message, Reason: e.Reason, TRTCCode: e.TRTCCode}
}

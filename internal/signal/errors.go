package signal

import "fmt"

// WebSocket close codes (documented in docs/protocol.md).
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

// Error codes of the client protocol. Each row: the TRTC client error code
// closest in meaning (0 when there is none) and the close code that follows.
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
)

type errorRow struct {
	trtc  int
	close int
}

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
}

// protoError is an error sent to a client before its connection is closed.
type protoError struct {
	Code     string
	Message  string
	Reason   string // why a credential failed: a usersig.Reason, sent as "reason"
	TRTCCode int
	Close    int
}

func (e *protoError) withReason(r string) *protoError { e.Reason = r; return e }

func perr(code, format string, args ...any) *protoError {
	row, ok := errorTable[code]
	if !ok {
		panic("signal: no row for error code " + code)
	}
	return &protoError{Code: code, Message: fmt.Sprintf(format, args...), TRTCCode: row.trtc, Close: row.close}
}

package trtc

import (
	"fmt"

	"github.com/trtcd/trtcd/internal/cloudapi"
)

// The TRTC error codes these actions return (the RemoveUser page's table;
// docs/api.md says when each is returned).
const (
	CodeRoomNotExist          = "FailedOperation.RoomNotExist"
	CodeGetRoomFromCacheError = "InternalError.GetRoomFromCacheError"
	CodeInvalidRoomID         = "InvalidParameter.RoomId"
	CodeInvalidSdkAppID       = "InvalidParameter.SdkAppId"
	CodeInvalidUserIDs        = "InvalidParameter.UserIds"
	CodeInvalidRoomIDValue    = "InvalidParameterValue.RoomId"
	CodeMissingRoomID         = "MissingParameter.RoomId"
	CodeMissingSdkAppID       = "MissingParameter.SdkAppId"
	CodeMissingUserIDs        = "MissingParameter.UserIds"
	CodeUnauthorizedSdkAppID  = "UnauthorizedOperation.SdkAppId"
)

// The codes of the data-monitoring actions (from the official SDKs' lists
// for DescribeRoomInfo, DescribeUserInfo, DescribeUserEvent and
// DescribeScaleInfo), plus two of trtcd's own: InvalidParameter.CommId and
// FailedOperation.HistoryNotConfigured.
const (
	CodeMissingStartTs       = "MissingParameter.StartTs"
	CodeMissingEndTs         = "MissingParameter.EndTs"
	CodeMissingCommID        = "MissingParameter.CommId"
	CodeMissingUserID        = "MissingParameter.UserId"
	CodeInvalidStartTs       = "InvalidParameter.StartTs"
	CodeInvalidEndTs         = "InvalidParameter.EndTs"
	CodeStartTsOversize      = "InvalidParameter.StartTsOversize"
	CodeQueryScaleOversize   = "InvalidParameter.QueryScaleOversize"
	CodeInvalidPageNumber    = "InvalidParameter.PageNumber"
	CodeInvalidPageSize      = "InvalidParameter.PageSize"
	CodePageSizeOversize     = "InvalidParameter.PageSizeOversize"
	CodeInvalidCommID        = "InvalidParameter.CommId"
	CodeInvalidUserID        = "InvalidParameter.UserId"
	CodeDBError              = "InternalError.DBError"
	CodeHistoryNotConfigured = "FailedOperation.HistoryNotConfigured"
)

// The errors with their messages, one constructor per code, in the order of
// the codes above.

// ErrRoomNotExist: room names the room, e.g. `numeric room 1234`.
func ErrRoomNotExist(room string) *cloudapi.Error {
	return &cloudapi.Error{Code: CodeRoomNotExist, Message: "The room does not exist: " + room + " has no members."}
}

func ErrGetRoomFromCacheError() *cloudapi.Error {
	return &cloudapi.Error{Code: CodeGetRoomFromCacheError, Message: "Failed to get room information: the room registry is unavailable, please retry."}
}

func ErrInvalidRoomID(why string) *cloudapi.Error {
	return &cloudapi.Error{Code: CodeInvalidRoomID, Message: "RoomId is incorrect: " + why + "."}
}

func ErrInvalidSdkAppID() *cloudapi.Error {
	return &cloudapi.Error{Code: CodeInvalidSdkAppID, Message: "SdkAppId is incorrect: it must be a positive integer."}
}

func ErrInvalidUserIDs(why string) *cloudapi.Error {
	return &cloudapi.Error{Code: CodeInvalidUserIDs, Message: "UserIds is incorrect: " + why + "."}
}

func ErrInvalidRoomIDValue(why string) *cloudapi.Error {
	return &cloudapi.Error{Code: CodeInvalidRoomIDValue, Message: "Invalid RoomId: " + why + "."}
}

func ErrMissingRoomID() *cloudapi.Error {
	return &cloudapi.Error{Code: CodeMissingRoomID, Message: "RoomId is missing."}
}

func ErrMissingSdkAppID() *cloudapi.Error {
	return &cloudapi.Error{Code: CodeMissingSdkAppID, Message: "SdkAppId is missing."}
}

func ErrMissingUserIDs() *cloudapi.Error {
	return &cloudapi.Error{Code: CodeMissingUserIDs, Message: "UserIds is missing."}
}

func ErrUnauthorizedSdkAppID(app uint64) *cloudapi.Error {
	return &cloudapi.Error{Code: CodeUnauthorizedSdkAppID, Message: fmt.Sprintf("No permission to manipulate SdkAppId %d.", app)}
}

// The data-monitoring actions' errors.

func ErrMissingStartTs() *cloudapi.Error {
	return &cloudapi.Error{Code: CodeMissingStartTs, Message: "StartTime is missing."}
}

func ErrMissingEndTs() *cloudapi.Error {
	return &cloudapi.Error{Code: CodeMissingEndTs, Message: "EndTime is missing."}
}

func ErrMissingCommID() *cloudapi.Error {
	return &cloudapi.Error{Code: CodeMissingCommID, Message: "CommId is missing."}
}

func ErrMissingUserID() *cloudapi.Error {
	return &cloudapi.Error{Code: CodeMissingUserID, Message: "UserId is missing."}
}

func ErrInvalidStartTs(why string) *cloudapi.Error {
	return &cloudapi.Error{Code: CodeInvalidStartTs, Message: "StartTime is incorrect: " + why + "."}
}

func ErrInvalidEndTs(why string) *cloudapi.Error {
	return &cloudapi.Error{Code: CodeInvalidEndTs, Message: "EndTime is incorrect: " + why + "."}
}

// ErrStartTsOversize: start is the StartTime given; kept how far back
// history reaches, e.g. "14 days".
func ErrStartTsOversize(start uint64, kept string) *cloudapi.Error {
	return &cloudapi.Error{Code: CodeStartTsOversize, Message: fmt.Sprintf("StartTime %d is too old: only the last %s can be queried.", start, kept)}
}

// ErrQueryScaleOversize: span is the range asked for, limit the longest allowed.
func ErrQueryScaleOversize(span, limit string) *cloudapi.Error {
	return &cloudapi.Error{Code: CodeQueryScaleOversize, Message: fmt.Sprintf("The range from StartTime to EndTime is %s, longer than the %s this action allows.", span, limit)}
}

func ErrInvalidPageNumber() *cloudapi.Error {
	return &cloudapi.Error{Code: CodeInvalidPageNumber, Message: "PageNumber is incorrect: it must be a non-negative integer."}
}

func ErrInvalidPageSize(max int) *cloudapi.Error {
	return &cloudapi.Error{Code: CodeInvalidPageSize, Message: fmt.Sprintf("PageSize is incorrect: it must be an integer from 1 to %d.", max)}
}

func ErrPageSizeOversize(size uint64, max int) *cloudapi.Error {
	return &cloudapi.Error{Code: CodePageSizeOversize, Message: fmt.Sprintf("PageSize %d is too large: at most %d.", size, max)}
}

func ErrInvalidCommID(why string) *cloudapi.Error {
	return &cloudapi.Error{Code: CodeInvalidCommID, Message: "CommId is incorrect: " + why + "."}
}

func ErrInvalidUserID(why string) *cloudapi.Error {
	return &cloudapi.Error{Code: CodeInvalidUserID, Message: "UserId is incorrect: " + why + "."}
}

func ErrDBError() *cloudapi.Error {
	return &cloudapi.Error{Code: CodeDBError, Message: "Failed to read the history database, please retry."}
}

func ErrHistoryNotConfigured() *cloudapi.Error {
	return &cloudapi.Error{Code: CodeHistoryNotConfigured, Message: "History is not configured on this server: cluster mode needs `history: postgres://...` in the config (or history is off)."}
}

// The codes of SetUserBlocked and SetUserBlockedByStrRoomId beyond the
// ones above: the string variant's room parameter is StrRoomId, IsMute is
// 0..3, and a user who is not in the room is FailedOperation.UserNotExist
// (trtcd's choice: the cloud's pages list no code for it; docs/api.md).
const (
	CodeMissingStrRoomID      = "MissingParameter.StrRoomId"
	CodeInvalidStrRoomID      = "InvalidParameter.StrRoomId"
	CodeInvalidStrRoomIDValue = "InvalidParameterValue.StrRoomId"
	CodeMissingIsMute         = "MissingParameter.IsMute"
	CodeInvalidIsMute         = "InvalidParameter.IsMute"
	CodeInvalidIsMuteValue    = "InvalidParameterValue.IsMute"
	CodeUserNotExist          = "FailedOperation.UserNotExist"
)

func ErrMissingStrRoomID() *cloudapi.Error {
	return &cloudapi.Error{Code: CodeMissingStrRoomID, Message: "StrRoomId is missing."}
}

func ErrInvalidStrRoomID(why string) *cloudapi.Error {
	return &cloudapi.Error{Code: CodeInvalidStrRoomID, Message: "StrRoomId is incorrect: " + why + "."}
}

func ErrInvalidStrRoomIDValue(why string) *cloudapi.Error {
	return &cloudapi.Error{Code: CodeInvalidStrRoomIDValue, Message: "Invalid StrRoomId: " + why + "."}
}

func ErrMissingIsMute() *cloudapi.Error {
	return &cloudapi.Error{Code: CodeMissingIsMute, Message: "IsMute is missing."}
}

func ErrInvalidIsMute(why string) *cloudapi.Error {
	return &cloudapi.Error{Code: CodeInvalidIsMute, Message: "IsMute is incorrect: " + why + "."}
}

func ErrInvalidIsMuteValue(why string) *cloudapi.Error {
	return &cloudapi.Error{Code: CodeInvalidIsMuteValue, Message: "Invalid IsMute: " + why + "."}
}

// ErrUserNotExist: user is the UserId, which is not in the room.
func ErrUserNotExist(user string) *cloudapi.Error {
	return &cloudapi.Error{Code: CodeUserNotExist, Message: fmt.Sprintf("The user does not exist: %q is not in the room.", user)}
}

package trtc

import "github.com/trtcd/trtcd/internal/cloudapi"

// The TRTC error codes these actions return (the RemoveUser page's table).
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

// The codes of SetUserBlocked and SetUserBlockedByStrRoomId beyond the
// ones above: the string variant's room parameter is StrRoomId, IsMute is
// 0..3, and a user who is not in the room is FailedOperation.UserNotExist
// (trtcd's choice: the cloud's pages list no code for it).
const (
	CodeMissingStrRoomID      = "MissingParameter.StrRoomId"
	CodeInvalidStrRoomID      = "InvalidParameter.StrRoomId"
	CodeInvalidStrRoomIDValue = "InvalidParameterValue.StrRoomId"
	CodeMissingIsMute         = "MissingParameter.IsMute"
	CodeInvalidIsMute         = "InvalidParameter.IsMute"
	CodeInvalidIsMuteValue    = "InvalidParameterValue.IsMute"
	CodeUserNotExist          = "FailedOperation.UserNotExist"
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

func init() {
	cloudapi.RegisterMessages(map[string]string{
		CodeRoomNotExist:          "The room does not exist: %s has no members.",
		CodeGetRoomFromCacheError: "Failed to get room information: the room registry is unavailable, please retry.",
		CodeInvalidRoomID:         "RoomId is incorrect: %s.",
		CodeInvalidSdkAppID:       "SdkAppId is incorrect: it must be a positive integer.",
		CodeInvalidUserIDs:        "UserIds is incorrect: %s.",
		CodeInvalidRoomIDValue:    "Invalid RoomId: %s.",
		CodeMissingRoomID:         "RoomId is missing.",
		CodeMissingSdkAppID:       "SdkAppId is missing.",
		CodeMissingUserIDs:        "UserIds is missing.",
		CodeUnauthorizedSdkAppID:  "No permission to manipulate SdkAppId %d.",

		CodeMissingStrRoomID:      "StrRoomId is missing.",
		CodeInvalidStrRoomID:      "StrRoomId is incorrect: %s.",
		CodeInvalidStrRoomIDValue: "Invalid StrRoomId: %s.",
		CodeMissingIsMute:         "IsMute is missing.",
		CodeInvalidIsMute:         "IsMute is incorrect: %s.",
		CodeInvalidIsMuteValue:    "Invalid IsMute: %s.",
		CodeUserNotExist:          "The user does not exist: %q is not in the room.",

		CodeMissingStartTs:       "StartTime is missing.",
		CodeMissingEndTs:         "EndTime is missing.",
		CodeMissingCommID:        "CommId is missing.",
		CodeMissingUserID:        "UserId is missing.",
		CodeInvalidStartTs:       "StartTime is incorrect: %s.",
		CodeInvalidEndTs:         "EndTime is incorrect: %s.",
		CodeStartTsOversize:      "StartTime %d is too old: only the last %s can be queried.",
		CodeQueryScaleOversize:   "The range from StartTime to EndTime is %s, longer than the %s this action allows.",
		CodeInvalidPageNumber:    "PageNumber is incorrect: it must be a non-negative integer.",
		CodeInvalidPageSize:      "PageSize is incorrect: it must be an integer from 1 to %d.",
		CodePageSizeOversize:     "PageSize %d is too large: at most %d.",
		CodeInvalidCommID:        "CommId is incorrect: %s.",
		CodeInvalidUserID:        "UserId is incorrect: %s.",
		CodeDBError:              "Failed to read the history database, please retry.",
		CodeHistoryNotConfigured: "History is not configured on this server: cluster mode needs `history: postgres://...` in the config (or history is off).",
	})
}

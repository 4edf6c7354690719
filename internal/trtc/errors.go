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
	})
}

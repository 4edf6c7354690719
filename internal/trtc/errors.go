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

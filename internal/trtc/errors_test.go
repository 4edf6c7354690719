package trtc

import (
	"testing"

	"github.com/trtcd/trtcd/internal/cloudapi"
)

// TestErrorConstructors: each code's constructor gives the code and the
// message, byte for byte.
func TestErrorConstructors(t *testing.T) {
	for _, c := range []struct {
		e          *cloudapi.Error
		code, want string
	}{
		{ErrRoomNotExist("numeric room 1234"), "FailedOperation.RoomNotExist", "The room does not exist: numeric room 1234 has no members."},
		{ErrGetRoomFromCacheError(), "InternalError.GetRoomFromCacheError", "Failed to get room information: the room registry is unavailable, please retry."},
		{ErrInvalidRoomID("it must be an integer for this action"), "InvalidParameter.RoomId", "RoomId is incorrect: it must be an integer for this action."},
		{ErrInvalidSdkAppID(), "InvalidParameter.SdkAppId", "SdkAppId is incorrect: it must be a positive integer."},
		{ErrInvalidUserIDs("it must not be empty"), "InvalidParameter.UserIds", "UserIds is incorrect: it must not be empty."},
		{ErrInvalidRoomIDValue("100% wrong"), "InvalidParameterValue.RoomId", "Invalid RoomId: 100% wrong."},
		{ErrMissingRoomID(), "MissingParameter.RoomId", "RoomId is missing."},
		{ErrMissingSdkAppID(), "MissingParameter.SdkAppId", "SdkAppId is missing."},
		{ErrMissingUserIDs(), "MissingParameter.UserIds", "UserIds is missing."},
		{ErrUnauthorizedSdkAppID(1400000001), "UnauthorizedOperation.SdkAppId", "No permission to manipulate SdkAppId 1400000001."},
	} {
		if c.e.Code != c.code || c.e.Message != c.want {
			t.Errorf("got %s: %q\nwant %s: %q", c.e.Code, c.e.Message, c.code, c.want)
		}
	}
}

package devtools_test

import (
	trtcsdk "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/trtc/v20190722"

	tk "github.com/trtcd/trtcd/internal/testkit"
)

func removeUser(room uint64, users ...string) *trtcsdk.RemoveUserRequest {
	return removeUserApp(tk.App, room, users...)
}

func removeUserApp(app, room uint64, users ...string) *trtcsdk.RemoveUserRequest {
	r := trtcsdk.NewRemoveUserRequest()
	r.SdkAppId, r.RoomId, r.UserIds = tk.U64(app), tk.U64(room), tk.Users(users...)
	return r
}

func dismiss(room uint64) *trtcsdk.DismissRoomRequest {
	r := trtcsdk.NewDismissRoomRequest()
	r.SdkAppId, r.RoomId = tk.U64(tk.App), tk.U64(room)
	return r
}

module github.com/trtcd/trtcd

go 1.26.8

require (
	github.com/google/uuid v1.6.0
	github.com/gorilla/websocket v1.5.3
	github.com/tencentcloud/tencentcloud-sdk-go v1.0.162
	go.uber.org/goleak v1.3.0
	golang.org/x/time v0.16.0
)

module github.com/trtcd/trtcd

go 1.26.8

require (
	github.com/google/uuid v1.6.0
	github.com/tencentcloud/tencentcloud-sdk-go v1.0.162
	golang.org/x/time v0.16.0
)

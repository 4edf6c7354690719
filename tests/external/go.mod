module github.com/trtcd/trtcd/tests/external

go 1.26.8

require github.com/trtcd/trtcd v0.0.0

require github.com/gorilla/websocket v1.5.3 // indirect

replace github.com/trtcd/trtcd => ../..

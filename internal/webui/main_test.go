package webui_test

import (
	"testing"

	"go.uber.org/goleak"
)

// Every test must leave no goroutine behind: not the server's, not a
// browser driver's.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		goleak.IgnoreTopFunction("net/http.(*persistConn).readLoop"),
		goleak.IgnoreTopFunction("net/http.(*persistConn).writeLoop"))
}

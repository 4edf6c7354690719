package signal_test

import (
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/trtcd/trtcd/client"
	"github.com/trtcd/trtcd/internal/signal"
	"github.com/trtcd/trtcd/protocol"
)

// TestJoinRefusedWhenDescriptorsRunLow: while open descriptors reach the
// limit less the headroom, a join is answered ServerFull and the room does
// not change; when descriptors are free again, joins are admitted.
func TestJoinRefusedWhenDescriptorsRunLow(t *testing.T) {
	var open atomic.Int64
	e := newEnv(t, signal.Config{FDHeadroom: 16, Descriptors: func() (int64, int64) { return open.Load(), 100 }})
	alice := e.join(e.params("alice"))
	open.Store(84)
	_, err := client.Join(e.ctx, e.srv.URL, e.params("bob"), client.Options{})
	var ce *client.Error
	if !errors.As(err, &ce) || ce.Code != protocol.CodeServerFull || !strings.Contains(ce.Message, "84 of 100 file descriptors") {
		t.Fatalf("join at 84 of 100 open: %v", err)
	}
	quiet(t, alice)
	if got := e.members(e.room); len(got) != 1 {
		t.Fatalf("members %v", got)
	}
	if got := e.sig.RefusedJoins(); got != (signal.RefusedJoins{FDHeadroom: 1}) {
		t.Fatalf("refused %+v", got)
	}
	open.Store(83)
	e.join(e.params("bob"))
}

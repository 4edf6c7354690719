package node

import (
	"context"

	"github.com/trtcd/trtcd/internal/callbacks"
	"github.com/trtcd/trtcd/internal/eventlog"
)

// CallbacksGroup is the consumer group that sends the apps' event callbacks.
const CallbacksGroup = "callbacks"

// openCallbacks feeds the callback sender from the event log's callbacks
// group, when some app has a callback. HandleBatch returns once the events are in
// the durable outbox (or deliberately skipped), so acknowledging after it
// loses nothing; the sender delivers from the outbox from Start to Shutdown.
func (n *Node) openCallbacks() error {
	any := false
	for _, a := range n.Config.Accounts {
		for _, app := range a.Apps {
			any = any || app.Callback != nil
		}
	}
	if !any {
		return nil
	}
	s, err := callbacks.Open(n.Config, CallbacksGroup, n.Logger)
	if err != nil {
		return err
	}
	if _, err := n.AddBatchGroup(CallbacksGroup, func(ctx context.Context, evs []eventlog.Event) error {
		return s.HandleBatch(ctx, records(evs))
	}); err != nil {
		s.Close()
		return err
	}
	n.Callbacks = s
	return nil
}

// records are evs as the log's readers take them.
func records(evs []eventlog.Event) []eventlog.Record {
	out := make([]eventlog.Record, len(evs))
	for i, ev := range evs {
		out[i] = ev.Record()
	}
	return out
}

// startCallbacks runs the sender's delivery until Shutdown.
func (n *Node) startCallbacks() {
	if n.Callbacks == nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		n.Callbacks.Run(ctx)
	}()
	n.stopCallbacks = func() { cancel(); <-done; n.Callbacks.Close() }
}

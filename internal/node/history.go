package node

import (
	"context"
	"errors"

	"github.com/trtcd/trtcd/internal/cloudapi"
	"github.com/trtcd/trtcd/internal/eventlog"
	"github.com/trtcd/trtcd/internal/history"
	"github.com/trtcd/trtcd/internal/trtc"
)

// HistoryGroup is the consumer group that writes the room and user history.
const HistoryGroup = "history"

// openHistory opens the history store the config names (nil when history is
// not configured), registers the monitoring actions on it and feeds it from
// the event log's history group. Events the store can never keep are
// acknowledged; any other failure leaves the event to come again.
func (n *Node) openHistory(cat *cloudapi.Catalog, owner trtc.Owner) error {
	cfg := n.Config
	store, err := history.Open(context.Background(), history.Settings{DataDir: cfg.DataDir, URL: cfg.History,
		Clustered: cfg.Redis != "", Retention: cfg.HistoryRetention.Duration}, history.Options{Log: n.Logger})
	if err != nil {
		return err
	}
	trtc.RegisterMonitoring(cat, store, owner, trtc.MonitoringOptions{Regions: cfg.Regions})
	if store == nil {
		return nil
	}
	n.History = store
	_, err = n.AddBatchGroup(HistoryGroup, func(ctx context.Context, evs []eventlog.Event) error {
		err := store.ApplyAll(ctx, records(evs))
		if errors.Is(err, history.ErrBadEvent) {
			n.Logger.Warn("history: events dropped", "room", evs[0].Room, "events", len(evs), "err", err)
			return nil
		}
		return err
	})
	if err != nil {
		store.Close()
		n.History = nil
	}
	return err
}

// startRetention runs the history store's periodic delete until Shutdown.
func (n *Node) startRetention() {
	if n.History == nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		n.History.RunRetention(ctx)
	}()
	n.stopRetention = func() { cancel(); <-done }
}

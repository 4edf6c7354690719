package node

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/trtcd/trtcd/internal/cluster"
	"github.com/trtcd/trtcd/internal/eventlog"
	"github.com/trtcd/trtcd/internal/metrics"
	"github.com/trtcd/trtcd/internal/rooms"
)

// Log is the room event log every committed change appends to:
// *eventlog.Memory on a single node, *eventlog.Redis in a cluster. Readers
// register consumer groups on it with Node.AddGroup.
type Log interface {
	Group(name string, h eventlog.Handler) (*eventlog.Group, error)
	GroupBatch(name string, h eventlog.BatchHandler) (*eventlog.Group, error)
}

// groups are the consumer groups this node runs.
type groups struct {
	mu      sync.Mutex
	list    []*eventlog.Group
	started bool
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

// AddGroup registers a consumer of group name on the node's event log, run
// from Start until Shutdown: h sees every event of every room once among the
// nodes running the group, in room order, at least once (docs/eventlog.md).
// Call it before Start; at most MaxGroups groups, each name once.
func (n *Node) AddGroup(name string, h eventlog.Handler) (*eventlog.Group, error) {
	return n.addGroup(name, func() (*eventlog.Group, error) { return n.Log.Group(name, h) })
}

// AddBatchGroup is AddGroup for a consumer that takes each read's events at
// once (and writes them in one transaction).
func (n *Node) AddBatchGroup(name string, h eventlog.BatchHandler) (*eventlog.Group, error) {
	return n.addGroup(name, func() (*eventlog.Group, error) { return n.Log.GroupBatch(name, h) })
}

func (n *Node) addGroup(name string, mk func() (*eventlog.Group, error)) (*eventlog.Group, error) {
	n.groups.mu.Lock()
	defer n.groups.mu.Unlock()
	if n.groups.started {
		return nil, errors.New("node: AddGroup after Start")
	}
	if len(n.groups.list) >= MaxGroups {
		return nil, fmt.Errorf("node: group %q: at most %d groups (MaxGroups)", name, MaxGroups)
	}
	for _, g := range n.groups.list {
		if g.Name() == name {
			return nil, fmt.Errorf("node: group %q: registered twice", name)
		}
	}
	g, err := mk()
	if err != nil {
		return nil, err
	}
	n.groups.list = append(n.groups.list, g)
	return g, nil
}

// Groups are the consumer groups registered with AddGroup: each one's Lag()
// and Stats().
func (n *Node) Groups() []*eventlog.Group {
	n.groups.mu.Lock()
	defer n.groups.mu.Unlock()
	return append([]*eventlog.Group(nil), n.groups.list...)
}

// EventsAppended is the number of events this node's changes appended to
// the event log.
func (n *Node) EventsAppended() uint64 {
	switch r := n.Registry.(type) {
	case *rooms.Memory:
		return r.Stats().Appended
	case *cluster.Registry:
		return r.Stats().Appended
	}
	return 0
}

func (n *Node) startGroups() {
	n.groups.mu.Lock()
	defer n.groups.mu.Unlock()
	n.groups.started = true
	if m, ok := n.Log.(*eventlog.Memory); ok {
		m.Seal() // no group comes later: keep only what a group has not acknowledged
	}
	ctx, cancel := context.WithCancel(context.Background())
	n.groups.cancel = cancel
	for _, g := range n.groups.list {
		n.groups.wg.Add(1)
		go func() {
			defer n.groups.wg.Done()
			if err := g.Run(ctx); err != nil {
				n.Logger.Error("consumer group stopped", "group", g.Name(), "err", err)
			}
		}()
	}
}

// stopGroups ends the groups' runs and waits for them: an event whose
// handler is cut short is not acknowledged, and comes again.
func (n *Node) stopGroups() {
	n.groups.mu.Lock()
	cancel := n.groups.cancel
	n.groups.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	n.groups.wg.Wait()
}

// logMetrics is what /metrics reads of the node's event log: the events
// appended, and each group's consumed count (this node) and lag (the
// group's, as last measured).
type logMetrics struct{ n *Node }

func (m logMetrics) Appended() uint64 { return m.n.EventsAppended() }

func (m logMetrics) Groups() []metrics.GroupLag {
	var out []metrics.GroupLag
	for _, g := range m.n.Groups() {
		out = append(out, metrics.GroupLag{Group: g.Name(), Consumed: uint64(g.Stats().Delivered), Lag: uint64(max(g.Lag().Count, 0))})
	}
	return out
}

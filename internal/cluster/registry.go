// Package cluster is the Redis registry: many trtcd nodes share one Redis,
// which serialises every room. Each membership change is one Lua script that
// changes the room, takes its next sequence number and publishes the event;
// nodes hear the events of the rooms where they hold sessions. Per-node
// liveness keys and a sweeper remove the members of nodes that died.
package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/trtcd/trtcd/internal/rooms"
)

// Options tune the registry; zero values take the defaults.
type Options struct {
	NodeID    string
	LiveTTL   time.Duration // the node's liveness key lives this long unless refreshed; default 5 s
	Heartbeat time.Duration // refresh, sweep and retry interval; default 1 s
	OpTimeout time.Duration // one Redis operation; default 800 ms (API answers within 1 s)
	Log       *slog.Logger
}

func (o *Options) defaults() {
	if o.LiveTTL <= 0 {
		o.LiveTTL = 5 * time.Second
	}
	if o.Heartbeat <= 0 {
		o.Heartbeat = time.Second
	}
	if o.OpTimeout <= 0 {
		o.OpTimeout = 800 * time.Millisecond
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
}

// Registry is a rooms.Registry on Redis.
type Registry struct {
	rdb  redis.UniversalClient
	opt  Options
	sink func(rooms.Event)

	watch *watcher

	localMu sync.Mutex
	local   func() map[rooms.Key][]rooms.Member // the hub's live sessions, for re-registration
	pending []pendingLeave                      // leaves that failed while Redis was away

	stop chan struct{}
	done sync.WaitGroup
}

type pendingLeave struct {
	room          rooms.Key
	user, session string
	reason        rooms.Reason
}

// NewClient makes the go-redis client for a redis:// URL: a single server;
// with master_name=…, a Sentinel group; with addr=… (more seeds), a Redis
// Cluster. Timeouts are short and a refused connection is not retried, so
// that an unreachable Redis fails fast (API answers within a second).
func NewClient(url string) (redis.UniversalClient, error) {
	switch {
	case hasParam(url, "master_name"):
		o, err := redis.ParseFailoverURL(url)
		if err != nil {
			return nil, err
		}
		failFast(&o.DialTimeout, &o.ReadTimeout, &o.WriteTimeout, &o.PoolTimeout, &o.MaxRetries, &o.ContextTimeoutEnabled)
		return redis.NewFailoverClient(o), nil
	case hasParam(url, "addr"):
		o, err := redis.ParseClusterURL(url)
		if err != nil {
			return nil, err
		}
		failFast(&o.DialTimeout, &o.ReadTimeout, &o.WriteTimeout, &o.PoolTimeout, &o.MaxRetries, &o.ContextTimeoutEnabled)
		o.DialerRetries = 1
		return redis.NewClusterClient(o), nil
	}
	o, err := redis.ParseURL(url)
	if err != nil {
		return nil, err
	}
	failFast(&o.DialTimeout, &o.ReadTimeout, &o.WriteTimeout, &o.PoolTimeout, &o.MaxRetries, &o.ContextTimeoutEnabled)
	o.DialerRetries = 1
	return redis.NewClient(o), nil
}

// failFast sets the same short limits on any of go-redis's option structs.
func failFast(dial, read, write, pool *time.Duration, retries *int, ctxTimeouts *bool) {
	const t = 500 * time.Millisecond
	*dial, *read, *write, *pool, *retries, *ctxTimeouts = t, t, t, t, -1, true
}

func hasParam(url, name string) bool {
	_, q, ok := strings.Cut(url, "?")
	if !ok {
		return false
	}
	for _, kv := range strings.Split(q, "&") {
		if k, _, _ := strings.Cut(kv, "="); k == name {
			return true
		}
	}
	return false
}

// New registers this node in Redis and starts its heartbeat and sweeper.
func New(ctx context.Context, rdb redis.UniversalClient, opt Options) (*Registry, error) {
	opt.defaults()
	if opt.NodeID == "" {
		return nil, errors.New("cluster: node id is required")
	}
	r := &Registry{rdb: rdb, opt: opt, sink: func(rooms.Event) {}, stop: make(chan struct{})}
	cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if err := rdb.Ping(cctx).Err(); err != nil {
		return nil, fmt.Errorf("cluster: redis: %w", err)
	}
	if err := r.register(cctx); err != nil {
		return nil, fmt.Errorf("cluster: redis: %w", err)
	}
	r.watch = newWatcher(rdb, r.deliver, opt.Log)
	r.done.Add(1)
	go r.beat()
	return r, nil
}

// SetLocalMembers gives the registry the hub's view of this node's live
// sessions, which it re-registers when Redis has lost them.
func (r *Registry) SetLocalMembers(f func() map[rooms.Key][]rooms.Member) {
	r.localMu.Lock()
	r.local = f
	r.localMu.Unlock()
}

func (r *Registry) SetSink(f func(rooms.Event)) { r.sink = f }

func (r *Registry) deliver(payload string) {
	e, err := decodeEvent(payload)
	if err != nil {
		r.opt.Log.Error("bad room event", "err", err)
		return
	}
	r.sink(e)
}

func (r *Registry) opCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, r.opt.OpTimeout)
}

func unavailable(err error) error { return fmt.Errorf("%w: %v", rooms.ErrUnavailable, err) }

func (r *Registry) Enter(ctx context.Context, room rooms.Key, m rooms.Member) (rooms.Snapshot, error) {
	ctx, cancel := r.opCtx(ctx)
	defer cancel()
	k := keysOf(room)
	// The node index is written first, so it is always a superset of the
	// members this node holds: a sweep of this node then finds them all.
	if err := r.rdb.SAdd(ctx, sessionsKey(r.opt.NodeID), sessionEntry(room, m.UserID, m.SessionID)).Err(); err != nil {
		return rooms.Snapshot{}, unavailable(err)
	}
	role := "0"
	if m.Role == rooms.Audience {
		role = "1"
	}
	res, err := enterScript.Run(ctx, r.rdb, []string{k.members, k.anchors, k.seq}, m.UserID, encodeMember(m), role, encodeRoom(room), k.channel).Slice()
	if err != nil || len(res) == 0 {
		return rooms.Snapshot{}, unavailable(err)
	}
	seq, err := strconv.ParseUint(fmt.Sprint(res[0]), 10, 64)
	if err != nil {
		return rooms.Snapshot{}, unavailable(err)
	}
	snap := rooms.Snapshot{Seq: seq}
	for _, v := range res[1:] {
		var w wireMember
		if s, ok := v.(string); ok && json.Unmarshal([]byte(s), &w) == nil {
			snap.Anchors = append(snap.Anchors, w.member())
		}
	}
	return snap, nil
}

func (r *Registry) Leave(ctx context.Context, room rooms.Key, userID, sessionID string, reason rooms.Reason) error {
	if err := r.leave(ctx, room, userID, sessionID, reason); err != nil {
		// Retried by the heartbeat once Redis answers, so no ghost stays.
		r.localMu.Lock()
		r.pending = append(r.pending, pendingLeave{room, userID, sessionID, reason})
		r.localMu.Unlock()
		return err
	}
	return nil
}

func (r *Registry) leave(ctx context.Context, room rooms.Key, userID, sessionID string, reason rooms.Reason) error {
	ctx, cancel := r.opCtx(ctx)
	defer cancel()
	k := keysOf(room)
	if err := leaveScript.Run(ctx, r.rdb, []string{k.members, k.anchors, k.seq}, userID, sessionID, string(reason), encodeRoom(room), k.channel).Err(); err != nil {
		return unavailable(err)
	}
	if err := r.rdb.SRem(ctx, sessionsKey(r.opt.NodeID), sessionEntry(room, userID, sessionID)).Err(); err != nil {
		return unavailable(err)
	}
	return nil
}

func (r *Registry) Remove(ctx context.Context, room rooms.Key, userIDs []string) error {
	ctx, cancel := r.opCtx(ctx)
	defer cancel()
	k := keysOf(room)
	args := []any{encodeRoom(room), k.channel}
	for _, u := range userIDs {
		args = append(args, u)
	}
	n, err := removeScript.Run(ctx, r.rdb, []string{k.members, k.anchors, k.seq}, args...).Int()
	if err != nil {
		return unavailable(err)
	}
	if n < 0 {
		return rooms.ErrRoomNotFound
	}
	return nil
}

func (r *Registry) Dismiss(ctx context.Context, room rooms.Key) error {
	ctx, cancel := r.opCtx(ctx)
	defer cancel()
	k := keysOf(room)
	n, err := dismissScript.Run(ctx, r.rdb, []string{k.members, k.anchors, k.seq}, encodeRoom(room), k.channel).Int()
	if err != nil {
		return unavailable(err)
	}
	if n < 0 {
		return rooms.ErrRoomNotFound
	}
	return nil
}

func (r *Registry) Members(ctx context.Context, room rooms.Key) ([]rooms.Member, error) {
	ctx, cancel := r.opCtx(ctx)
	defer cancel()
	vals, err := r.rdb.HVals(ctx, keysOf(room).members).Result()
	if err != nil {
		return nil, unavailable(err)
	}
	var out []rooms.Member
	for _, v := range vals {
		var w wireMember
		if json.Unmarshal([]byte(v), &w) == nil {
			out = append(out, w.member())
		}
	}
	return out, nil
}

func (r *Registry) Watch(ctx context.Context, room rooms.Key) error {
	ctx, cancel := r.opCtx(ctx)
	defer cancel()
	if err := r.watch.subscribe(ctx, keysOf(room).channel); err != nil {
		return unavailable(err)
	}
	return nil
}

func (r *Registry) Unwatch(ctx context.Context, room rooms.Key) error {
	ctx, cancel := r.opCtx(ctx)
	defer cancel()
	return r.watch.unsubscribe(ctx, keysOf(room).channel)
}

// Close stops the heartbeat and deregisters the node (its sessions have
// been left by then), so a rolling restart leaves nothing to sweep.
func (r *Registry) Close() error {
	select {
	case <-r.stop:
		return nil
	default:
	}
	close(r.stop)
	r.done.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	r.retryPending(ctx)
	// Deregister. If some member could not be removed, stay listed without a
	// liveness key: the sweeper then removes what is left.
	r.rdb.Del(ctx, aliveKey(r.opt.NodeID))
	if n, err := r.rdb.SCard(ctx, sessionsKey(r.opt.NodeID)).Result(); err == nil && n == 0 {
		r.rdb.SRem(ctx, nodesKey(), r.opt.NodeID)
	}
	err := r.watch.close()
	return errors.Join(err, r.rdb.Close())
}

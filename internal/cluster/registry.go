// Package cluster is the Redis registry: many trtcd nodes share one Redis,
// which serialises every room. Each membership change is one Lua script that
// changes the room, takes its next sequence numbers, appends its events to
// the room event log (Redis Streams, internal/eventlog) and publishes the
// change; nodes hear the changes of the rooms where they hold sessions. Per-process
// liveness keys and a sweeper remove the members of processes that died.
package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/trtcd/trtcd/internal/eventlog"
	"github.com/trtcd/trtcd/internal/rooms"
)

// Options tune the registry; zero values take the defaults.
type Options struct {
	NodeID         string
	LiveTTL        time.Duration // the process's liveness key lives this long unless refreshed; default 5 s
	Heartbeat      time.Duration // refresh, sweep and retry interval; default 1 s
	OpTimeout      time.Duration // one Redis operation, and a change's deadline; default DefaultOpTimeout
	ResolveTimeout time.Duration // finding out a change's outcome after a lost answer; default 2 s
	LogMaxLen      int64         // the event log's streams are trimmed to about this length; default eventlog.DefaultMaxLen
	Log            *slog.Logger

	sleep func(time.Duration, <-chan struct{}) bool // the watcher's reconnect pause (tests)
}

func (o *Options) defaults() {
	if o.LiveTTL <= 0 {
		o.LiveTTL = 5 * time.Second
	}
	if o.Heartbeat <= 0 {
		o.Heartbeat = time.Second
	}
	if o.OpTimeout <= 0 {
		o.OpTimeout = DefaultOpTimeout
	}
	if o.ResolveTimeout <= 0 {
		o.ResolveTimeout = DefaultResolveTimeout
	}
	if o.LogMaxLen <= 0 {
		o.LogMaxLen = eventlog.DefaultMaxLen
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
}

// Registry is a rooms.Registry on Redis.
type Registry struct {
	rdb  redis.UniversalClient
	opt  Options
	inc  string // this process's incarnation: node id # boot id
	sink func(rooms.Event)

	watch  *watcher
	offset atomic.Int64  // Redis's clock minus ours, ns
	ops    atomic.Uint64 // change counter, for outcome records
	stats  stats

	localMu sync.Mutex
	local   func() map[rooms.Key][]rooms.Member // the hub's live sessions, for re-registration
	rereg   []func(context.Context) error       // more state written back on re-registration
	own     map[string]rooms.Member             // session → member entered through this registry
	pending []pending                           // work that failed while Redis was away
	known   map[string]bool                     // other incarnations listed at the last beat
	settle  settling                            // after a re-registration: who must be back

	stop chan struct{}
	done sync.WaitGroup
}

// NewClient makes the go-redis client for a redis:// URL: a single server;
// with master_name=…, a Sentinel group; with addr=… (more seeds), a Redis
// Cluster. Timeouts are short and a refused connection is not retried, so
// that an unreachable Redis fails fast (API answers within a second). Errors
// never show the URL's password.
func NewClient(url string) (redis.UniversalClient, error) {
	c, err := newClient(url, 0)
	return c, RedactError(err, url)
}

// NewLogClient is NewClient with a pool of poolSize connections (per
// server), for the event log's blocking reads (eventlog.Redis).
func NewLogClient(url string, poolSize int) (redis.UniversalClient, error) {
	c, err := newClient(url, poolSize)
	return c, RedactError(err, url)
}

func newClient(url string, poolSize int) (redis.UniversalClient, error) {
	switch {
	case hasParam(url, "master_name"):
		o, err := redis.ParseFailoverURL(url)
		if err != nil {
			return nil, err
		}
		failFast(&o.DialTimeout, &o.ReadTimeout, &o.WriteTimeout, &o.PoolTimeout, &o.MaxRetries, &o.ContextTimeoutEnabled)
		if poolSize > 0 {
			o.PoolSize = poolSize
		}
		return redis.NewFailoverClient(o), nil
	case hasParam(url, "addr"):
		o, err := redis.ParseClusterURL(url)
		if err != nil {
			return nil, err
		}
		failFast(&o.DialTimeout, &o.ReadTimeout, &o.WriteTimeout, &o.PoolTimeout, &o.MaxRetries, &o.ContextTimeoutEnabled)
		o.DialerRetries = 1
		if poolSize > 0 {
			o.PoolSize = poolSize
		}
		return redis.NewClusterClient(o), nil
	}
	o, err := redis.ParseURL(url)
	if err != nil {
		return nil, err
	}
	failFast(&o.DialTimeout, &o.ReadTimeout, &o.WriteTimeout, &o.PoolTimeout, &o.MaxRetries, &o.ContextTimeoutEnabled)
	o.DialerRetries = 1
	if poolSize > 0 {
		o.PoolSize = poolSize
	}
	return redis.NewClient(o), nil
}

// DefaultOpTimeout bounds one Redis operation (a room script, a rate-limit
// check) and sets a change's deadline (docs/architecture.md, Cluster faults).
const DefaultOpTimeout = 800 * time.Millisecond

// ClientTimeout is go-redis's dial, read, write and pool timeout: short, so
// that an unreachable Redis fails an API call within a second.
const ClientTimeout = 500 * time.Millisecond

// failFast sets the same short limits on any of go-redis's option structs.
func failFast(dial, read, write, pool *time.Duration, retries *int, ctxTimeouts *bool) {
	const t = ClientTimeout
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

// New registers this process in Redis and starts its heartbeat and sweeper.
// Until ctx ends it waits for an unreachable Redis, retrying with backoff.
func New(ctx context.Context, rdb redis.UniversalClient, opt Options) (*Registry, error) {
	opt.defaults()
	if opt.NodeID == "" {
		return nil, errors.New("cluster: node id is required")
	}
	boot := make([]byte, 6)
	rand.Read(boot)
	r := &Registry{rdb: rdb, opt: opt, inc: opt.NodeID + "#" + hex.EncodeToString(boot), sink: func(rooms.Event) {},
		own: map[string]rooms.Member{}, known: map[string]bool{}, stop: make(chan struct{})}
	if err := r.waitForRedis(ctx); err != nil {
		return nil, err
	}
	cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if err := r.register(cctx); err != nil {
		return nil, fmt.Errorf("cluster: redis: %w", err)
	}
	r.watch = newWatcher(rdb, r.deliver, opt.Log, opt.sleep)
	r.done.Add(1)
	go r.beat()
	return r, nil
}

// waitForRedis pings Redis until it answers (and measures its clock),
// pausing with backoff between attempts, until ctx ends. The wait is logged
// once.
func (r *Registry) waitForRedis(ctx context.Context) error {
	b := backoff{jitter: uniformJitter}
	logged := false
	for {
		pctx, cancel := context.WithTimeout(ctx, time.Second)
		err := r.rdb.Ping(pctx).Err()
		if err == nil {
			err = r.syncClock(pctx)
		}
		cancel()
		if err == nil {
			if logged {
				r.opt.Log.Info("redis answered: starting")
			}
			return nil
		}
		r.stats.startupRetries.Add(1)
		if !logged {
			r.opt.Log.Warn("redis does not answer yet: retrying with backoff", "err", err.Error())
			logged = true
		}
		if !sleepUnlessStopped(b.next(), ctx.Done()) {
			return fmt.Errorf("cluster: %w within the start-up timeout: %v", errNoRedis, err)
		}
	}
}

// Incarnation is this process's name in Redis: the node id and a random boot
// id, so that a process restarted with the same node id never passes for
// its dead predecessor.
func (r *Registry) Incarnation() string { return r.inc }

// SetLocalMembers gives the registry the hub's view of this node's live
// sessions, which it re-registers when Redis has lost them.
func (r *Registry) SetLocalMembers(f func() map[rooms.Key][]rooms.Member) {
	r.localMu.Lock()
	r.local = f
	r.localMu.Unlock()
}

// OnReregister adds f to what this process writes back when it
// re-registers (its liveness key was gone: Redis restarted empty, or it was
// swept after a stall), after its members and before it is listed again.
// f returning an error makes the re-registration start again next beat, so
// f must be safe to repeat.
func (r *Registry) OnReregister(f func(ctx context.Context) error) {
	r.localMu.Lock()
	r.rereg = append(r.rereg, f)
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

var errNoRedis = errors.New("redis did not answer")

func unavailable(err error) error { return fmt.Errorf("%w: %v", rooms.ErrUnavailable, err) }

func roleArg(role rooms.Role) string {
	if role == rooms.Audience {
		return "1"
	}
	return "0"
}

// Enter: the session-index entry, then the enter script, both fenced by one
// deadline. A refused join is undone by the heartbeat once the deadline has
// passed on Redis's clock: if it had committed after all, its member is
// removed and announced as left (reason timeout), and its entry goes.
func (r *Registry) Enter(ctx context.Context, room rooms.Key, m rooms.Member) (rooms.Snapshot, error) {
	dl := r.deadline()
	snap, err := r.enter(ctx, room, m, dl)
	if err != nil {
		r.queue(pending{room: room, user: m.UserID, session: m.SessionID, reason: rooms.ReasonTimeout, notBefore: dl, join: true})
		return rooms.Snapshot{}, unavailable(err)
	}
	r.localMu.Lock()
	r.own[m.SessionID] = m
	r.localMu.Unlock()
	return snap, nil
}

func (r *Registry) enter(ctx context.Context, room rooms.Key, m rooms.Member, dl int64) (rooms.Snapshot, error) {
	// The node index is written first, so it is always a superset of the
	// members this process holds: a sweep of it then finds them all.
	cctx, cancel := r.opCtx(ctx)
	err := sessAddScript.Run(cctx, r.rdb, []string{sessionsKey(r.inc)}, sessionEntry(room, m.UserID, m.SessionID), dl).Err()
	cancel()
	if err != nil {
		return rooms.Snapshot{}, err
	}
	k := keysOf(room)
	op := k.op(r.opID())
	res, err := r.strs(r.fenced(ctx, enterScript, k.change(op), op, dl,
		m.UserID, encodeMember(m), roleArg(m.Role), encodeRoom(room), k.channel, dl, outcomeTTL.Milliseconds(), k.room, r.opt.LogMaxLen))
	if err != nil {
		return rooms.Snapshot{}, err
	}
	if len(res) < 2 {
		return rooms.Snapshot{}, fmt.Errorf("unexpected answer %v", res)
	}
	seq, err := strconv.ParseUint(res[0], 10, 64)
	if err != nil {
		return rooms.Snapshot{}, err
	}
	r.appended(res[1])
	snap := rooms.Snapshot{Seq: seq}
	for _, v := range res[2:] {
		var w wireMember
		if json.Unmarshal([]byte(v), &w) == nil {
			snap.Anchors = append(snap.Anchors, w.member())
		}
	}
	return snap, nil
}

func (r *Registry) Leave(ctx context.Context, room rooms.Key, userID, sessionID string, reason rooms.Reason) error {
	r.localMu.Lock()
	m, had := r.own[sessionID]
	delete(r.own, sessionID)
	r.localMu.Unlock()
	if _, err := r.leave(ctx, room, userID, sessionID, reason, 0); err != nil {
		// Retried by the heartbeat once Redis answers, so no ghost stays. If
		// Redis lost its data meanwhile, the member is re-registered first,
		// so that its leaving is still announced.
		p := pending{room: room, user: userID, session: sessionID, reason: reason}
		if had {
			p.member = &m
		}
		r.queue(p)
		return unavailable(err)
	}
	return nil
}

// leave runs the leave script (not before notBefore, if set) and drops the
// session's index entry. It answers whether a member was removed.
func (r *Registry) leave(ctx context.Context, room rooms.Key, userID, sessionID string, reason rooms.Reason, notBefore int64) (bool, error) {
	ctx, cancel := r.opCtx(ctx)
	defer cancel()
	nb := ""
	if notBefore > 0 {
		nb = strconv.FormatInt(notBefore, 10)
	}
	n, err := r.runLeave(ctx, room, userID, sessionID, reason, nb)
	if err != nil {
		return false, err
	}
	if err := r.rdb.SRem(ctx, sessionsKey(r.inc), sessionEntry(room, userID, sessionID)).Err(); err != nil {
		return false, err
	}
	return n > 0, nil
}

// runLeave runs the leave script and counts the events it appended.
func (r *Registry) runLeave(ctx context.Context, room rooms.Key, userID, sessionID string, reason rooms.Reason, notBefore string) (int64, error) {
	k := keysOf(room)
	n, err := leaveScript.Run(ctx, r.rdb, []string{k.members, k.anchors, k.seq, k.stream, k.counter},
		userID, sessionID, string(reason), encodeRoom(room), k.channel, notBefore, k.room, r.opt.LogMaxLen).Int64()
	if err == nil {
		r.stats.appended.Add(uint64(max(n, 0)))
	}
	return n, err
}

func (r *Registry) Remove(ctx context.Context, room rooms.Key, userIDs []string) error {
	k := keysOf(room)
	op, dl := k.op(r.opID()), r.deadline()
	args := []any{dl, outcomeTTL.Milliseconds(), encodeRoom(room), k.channel, k.room, r.opt.LogMaxLen}
	for _, u := range userIDs {
		args = append(args, u)
	}
	return r.changed(r.strs(r.fenced(ctx, removeScript, k.change(op), op, dl, args...)))
}

func (r *Registry) Dismiss(ctx context.Context, room rooms.Key) error {
	k := keysOf(room)
	op, dl := k.op(r.opID()), r.deadline()
	return r.changed(r.strs(r.fenced(ctx, dismissScript, k.change(op), op, dl,
		dl, outcomeTTL.Milliseconds(), encodeRoom(room), k.channel, k.room, r.opt.LogMaxLen)))
}

// changed reads a removal's or dismissal's answer {removed, appended}:
// removed -1 is an empty room.
func (r *Registry) changed(res []string, err error) error {
	if err != nil {
		return unavailable(err)
	}
	if len(res) != 2 {
		return unavailable(fmt.Errorf("unexpected answer %v", res))
	}
	r.appended(res[1])
	if res[0] == "-1" {
		return rooms.ErrRoomNotFound
	}
	return nil
}

// SwitchRole: one fenced script, like a removal.
func (r *Registry) SwitchRole(ctx context.Context, room rooms.Key, userID, sessionID string, role rooms.Role) (uint64, error) {
	k := keysOf(room)
	op, dl := k.op(r.opID()), r.deadline()
	res, err := r.strs(r.fenced(ctx, switchScript, k.change(op), op, dl,
		userID, sessionID, roleArg(role), dl, outcomeTTL.Milliseconds(), encodeRoom(room), k.channel, k.room, r.opt.LogMaxLen))
	if err != nil {
		return 0, unavailable(err)
	}
	if len(res) != 2 {
		return 0, unavailable(fmt.Errorf("unexpected answer %v", res))
	}
	switch res[0] {
	case "-1":
		return 0, rooms.ErrRoomNotFound
	case "-2":
		return 0, rooms.ErrNotMember
	case "-3":
		return 0, rooms.ErrSameRole
	}
	seq, err := strconv.ParseUint(res[0], 10, 64)
	if err != nil {
		return 0, unavailable(fmt.Errorf("unexpected answer %v", res))
	}
	r.appended(res[1])
	r.localMu.Lock()
	if m, ok := r.own[sessionID]; ok {
		m.Role = role
		r.own[sessionID] = m
	}
	r.localMu.Unlock()
	return seq, nil
}

// LogMedia: one script on the room's keys, refused after the change
// deadline like the others. A lost answer is reported as unavailable; the
// event may then be in the log (there is no outcome record to ask).
func (r *Registry) LogMedia(ctx context.Context, room rooms.Key, userID string, typ eventlog.Type) (uint64, error) {
	if !rooms.IsMediaType(typ) {
		return 0, rooms.ErrNotMediaType
	}
	k := keysOf(room)
	cctx, cancel := r.opCtx(ctx)
	defer cancel()
	reply, err := mediaScript.Run(cctx, r.rdb, []string{k.members, k.seq, k.stream, k.counter, mediaKey(room), mediaTracksKey(room)},
		userID, string(typ), r.deadline(), k.room, r.opt.LogMaxLen, r.inc, trackOp[typ], MediaTracksTTL.Milliseconds()).Result()
	res, err := r.strs(reply, "", err)
	if err != nil {
		return 0, unavailable(err)
	}
	if len(res) != 2 {
		return 0, unavailable(fmt.Errorf("unexpected answer %v", res))
	}
	switch res[0] {
	case "-2":
		return 0, rooms.ErrNotMember
	case "-3":
		return 0, ErrNotMediaNode
	case "-4":
		return 0, ErrNotStarted
	}
	seq, err := strconv.ParseUint(res[0], 10, 64)
	if err != nil {
		return 0, unavailable(fmt.Errorf("unexpected answer %v", res))
	}
	r.appended(res[1])
	return seq, nil
}

// strs reads a fenced script's answer, or its outcome record (JSON), as
// the list of strings both are.
func (r *Registry) strs(reply any, rec string, err error) ([]string, error) {
	if err != nil {
		return nil, err
	}
	if rec != "" {
		var list []string
		if err := json.Unmarshal([]byte(rec), &list); err != nil {
			return nil, fmt.Errorf("outcome record %q: %v", rec, err)
		}
		return list, nil
	}
	list, ok := reply.([]any)
	if !ok {
		return nil, fmt.Errorf("unexpected answer %v", reply)
	}
	out := make([]string, len(list))
	for i, v := range list {
		out[i] = fmt.Sprint(v)
	}
	return out, nil
}

// appended counts the events a change appended to the log (its answer's
// text).
func (r *Registry) appended(n string) {
	if v, err := strconv.ParseUint(n, 10, 64); err == nil {
		r.stats.appended.Add(v)
	}
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

// Close stops the heartbeat and deregisters the process (its sessions have
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
	r.retryPending(ctx, true)
	// Deregister. If some member could not be removed, stay listed without a
	// liveness key: the sweeper then removes what is left.
	r.rdb.Del(ctx, aliveKey(r.inc))
	if n, err := r.rdb.SCard(ctx, sessionsKey(r.inc)).Result(); err == nil && n == 0 {
		r.rdb.SRem(ctx, nodesKey(), r.inc)
	}
	err := r.watch.close()
	return errors.Join(err, r.rdb.Close())
}

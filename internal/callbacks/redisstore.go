package callbacks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/trtcd/trtcd/internal/eventlog"
)

// OwnershipRefresh is how often a cluster node reads which shards' outboxes
// it delivers (the event log's lease of the callbacks group on each shard).
const OwnershipRefresh = time.Second

// RedisOpTimeout bounds one call (or pipeline) of the Redis outbox; a call
// that fails is retried as the operation it belongs to is (Handle by the
// log, a mark by a later delivery).
const RedisOpTimeout = 5 * time.Second

// RedisStore is the outbox of a cluster: one per event-log shard in the
// cluster's Redis, every key of shard NN tagged {ev:NN} so that each script
// touches one slot. A shard's outbox is delivered by the node holding the
// log's lease of group (the callbacks consumer group) on that shard, the
// same node that feeds it: when that node dies its lease expires, another
// node takes the shard and with it the pending events, in room order.
//
// Keys of shard NN, prefix trtcd:{ev:NN}:cb: —
//
//	n          counter; a row's id is n*64+NN (ids grow per shard, so per room)
//	rows       hash id -> row JSON (pending rows only)
//	fail       hash id -> "<attempts> <last error>"
//	room:<key> sorted set of the room's pending ids (score id)
//	rooms      set of room keys with pending rows
//	age        sorted set id -> event time ms (depth, oldest)
//	ev         hash event id -> row id: pending, or delivered and not pruned
//	done       sorted set event id -> delivery time ms (pruned after DeliveredRetention)
//	dead       hash id -> DeadLetter JSON
//	deadev     hash event id -> id of its dead letter
type RedisStore struct {
	rdb    redis.UniversalClient
	owner  string // lease value prefix of this node: "<NodeID>/"
	group  string
	closer func() error

	mu    sync.RWMutex
	owned [eventlog.Shards]bool

	stop chan struct{}
	done chan struct{}
	once sync.Once
}

var _ Outbox = (*RedisStore)(nil)

// NewRedisStore keeps the outbox in rdb; the node named nodeID delivers the
// shards whose lease of group it holds. closer, when set, runs on Close
// (closing rdb). With nodeID empty the store delivers nothing (for the
// dead-letter commands).
func NewRedisStore(rdb redis.UniversalClient, nodeID, group string, closer func() error) *RedisStore {
	st := &RedisStore{rdb: rdb, group: group, closer: closer, stop: make(chan struct{}), done: make(chan struct{})}
	if nodeID == "" {
		close(st.done)
		return st
	}
	st.owner = nodeID + "/"
	st.refresh()
	go st.follow()
	return st
}

func cbKey(shard int, name string) string { return "trtcd:" + eventlog.HashTag(shard) + ":cb:" + name }

func (st *RedisStore) follow() {
	defer close(st.done)
	t := time.NewTicker(OwnershipRefresh)
	defer t.Stop()
	for {
		select {
		case <-st.stop:
			return
		case <-t.C:
			st.refresh()
		}
	}
}

// refresh reads the 64 leases. A failed read keeps what was known: the
// lease check of the log fences a node that lost Redis anyway.
func (st *RedisStore) refresh() {
	ctx, cancel := context.WithTimeout(context.Background(), RedisOpTimeout)
	defer cancel()
	p := st.rdb.Pipeline()
	cmds := make([]*redis.StringCmd, eventlog.Shards)
	for s := range cmds {
		cmds[s] = p.Get(ctx, eventlog.LeaseKey(s, st.group))
	}
	p.Exec(ctx)
	var owned [eventlog.Shards]bool
	for s, c := range cmds {
		if c.Err() != nil && !errors.Is(c.Err(), redis.Nil) {
			return
		}
		owned[s] = strings.HasPrefix(c.Val(), st.owner)
	}
	st.mu.Lock()
	st.owned = owned
	st.mu.Unlock()
}

func (st *RedisStore) owns(room string) bool {
	if st.owner == "" {
		return false
	}
	s := eventlog.Shard(room)
	st.mu.RLock()
	defer st.mu.RUnlock()
	return st.owned[s]
}

// OwnedShards is how many shards' outboxes this node delivers now.
func (st *RedisStore) OwnedShards() int {
	st.mu.RLock()
	defer st.mu.RUnlock()
	n := 0
	for _, o := range st.owned {
		if o {
			n++
		}
	}
	return n
}

// Close stops following the leases and closes the client.
func (st *RedisStore) Close() error {
	st.once.Do(func() {
		if st.owner != "" {
			close(st.stop)
		}
	})
	<-st.done
	if st.closer != nil {
		c := st.closer
		st.closer = nil
		return c()
	}
	return nil
}

// redisRow is a row's JSON in the rows hash.
type redisRow struct {
	App     uint64          `json:"a"`
	Room    string          `json:"r"`
	Seq     uint64          `json:"q"`
	EType   int             `json:"t"`
	EventMs int64           `json:"e"`
	Info    json.RawMessage `json:"i"`
	StartMs int64           `json:"s"`
}

func (r *row) eventID() string { return EventID(r.room, r.seq, r.etype, r.eventMs) }

// luaInsert adds a row unless its event is held (pending or delivered and
// not pruned) or dead. KEYS n, rows, room, rooms, age, ev, deadev; ARGV
// shard, event id, room key, event ms, row JSON. Returns the id, or 0.
const luaInsertBody = `
local function cb_insert(K, shard, eid, room, ems, js)
  if redis.call('HEXISTS', K[6], eid) == 1 or redis.call('HEXISTS', K[7], eid) == 1 then return 0 end
  local id = string.format('%d', redis.call('INCR', K[1]) * 64 + tonumber(shard))
  redis.call('HSET', K[2], id, js)
  redis.call('ZADD', K[3], id, id)
  redis.call('SADD', K[4], room)
  redis.call('ZADD', K[5], ems, id)
  redis.call('HSET', K[6], eid, id)
  return tonumber(id)
end
`

var (
	insertScript = redis.NewScript(luaInsertBody + `return cb_insert(KEYS, ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5])`)
	// KEYS n, rows, room, rooms, age, ev, deadev, dead, done; ARGV as insert, then the dead letter's id.
	replayScript = redis.NewScript(luaInsertBody + `
if redis.call('HDEL', KEYS[8], ARGV[6]) == 0 then return 0 end
redis.call('HDEL', KEYS[7], ARGV[2])
redis.call('HDEL', KEYS[6], ARGV[2])
redis.call('ZREM', KEYS[9], ARGV[2])
return cb_insert(KEYS, ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5])`)
	// KEYS room, rows, fail; ARGV after id, limit.
	pendingScript = redis.NewScript(`
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. ARGV[1], '+inf', 'LIMIT', 0, tonumber(ARGV[2]))
local out = {}
for _, id in ipairs(ids) do
  out[#out+1] = id
  out[#out+1] = redis.call('HGET', KEYS[2], id) or ''
  out[#out+1] = redis.call('HGET', KEYS[3], id) or ''
end
return out`)
	// removeRow is shared by delivered and dead: KEYS rows, room, rooms, age, fail.
	luaRemove = `
local function cb_remove(K, id, room)
  if redis.call('HDEL', K[1], id) == 0 then return false end
  redis.call('ZREM', K[2], id)
  if redis.call('ZCARD', K[2]) == 0 then redis.call('SREM', K[3], room) end
  redis.call('ZREM', K[4], id)
  redis.call('HDEL', K[5], id)
  return true
end
`
	// KEYS rows, room, rooms, age, fail, done; ARGV id, room key, event id, now ms.
	deliveredScript = redis.NewScript(luaRemove + `
if not cb_remove(KEYS, ARGV[1], ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[6], ARGV[4], ARGV[3])
return 1`)
	// KEYS rows, room, rooms, age, fail, ev, dead, deadev; ARGV id, room key, event id, dead letter JSON.
	deadScript = redis.NewScript(luaRemove + `
if not cb_remove(KEYS, ARGV[1], ARGV[2]) then return 0 end
redis.call('HDEL', KEYS[6], ARGV[3])
redis.call('HSET', KEYS[7], ARGV[1], ARGV[4])
redis.call('HSET', KEYS[8], ARGV[3], ARGV[1])
return 1`)
	// KEYS rows, fail; ARGV id, "<attempts> <error>".
	failScript = redis.NewScript(`
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
return 1`)
	// KEYS done, ev; ARGV cutoff ms.
	pruneScript = redis.NewScript(`
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, 5000)
for _, e in ipairs(ids) do
  redis.call('HDEL', KEYS[2], e)
  redis.call('ZREM', KEYS[1], e)
end
return #ids`)
)

func roomKeyOf(shard int, room string) string { return cbKey(shard, "room:"+room) }

func (st *RedisStore) insertKeys(room string) (int, []string) {
	s := eventlog.Shard(room)
	return s, []string{cbKey(s, "n"), cbKey(s, "rows"), roomKeyOf(s, room), cbKey(s, "rooms"), cbKey(s, "age"),
		cbKey(s, "ev"), cbKey(s, "deadev")}
}

func rowJSON(r *row) (string, error) {
	b, err := json.Marshal(redisRow{App: r.app, Room: r.room, Seq: r.seq, EType: r.etype, EventMs: r.eventMs, Info: r.info, StartMs: r.startMs})
	return string(b), err
}

func (st *RedisStore) insert(ctx context.Context, rows []*row) ([]bool, error) {
	ctx, cancel := context.WithTimeout(ctx, RedisOpTimeout)
	defer cancel()
	p := st.rdb.Pipeline()
	cmds := make([]*redis.Cmd, len(rows))
	for i, r := range rows {
		js, err := rowJSON(r)
		if err != nil {
			return nil, err
		}
		s, keys := st.insertKeys(r.room)
		cmds[i] = insertScript.Eval(ctx, p, keys, s, r.eventID(), r.room, r.eventMs, js)
	}
	if _, err := p.Exec(ctx); err != nil {
		return nil, fmt.Errorf("callbacks: redis outbox: %w", err)
	}
	added := make([]bool, len(rows))
	for i, c := range cmds {
		id, err := c.Int64()
		if err != nil {
			return nil, err
		}
		if id > 0 {
			rows[i].id, added[i] = id, true
		}
	}
	return added, nil
}

func (st *RedisStore) pending(room string, afterID int64, limit int) ([]*row, error) {
	ctx, cancel := context.WithTimeout(context.Background(), RedisOpTimeout)
	defer cancel()
	s := eventlog.Shard(room)
	vals, err := pendingScript.Run(ctx, st.rdb, []string{roomKeyOf(s, room), cbKey(s, "rows"), cbKey(s, "fail")}, afterID, limit).StringSlice()
	if err != nil {
		return nil, err
	}
	var out []*row
	for i := 0; i+2 < len(vals); i += 3 {
		if vals[i+1] == "" { // delivered meanwhile
			continue
		}
		id, err := strconv.ParseInt(vals[i], 10, 64)
		if err != nil {
			return nil, err
		}
		var rr redisRow
		if err := json.Unmarshal([]byte(vals[i+1]), &rr); err != nil {
			return nil, fmt.Errorf("callbacks: redis outbox row %d: %w", id, err)
		}
		r := &row{id: id, app: rr.App, room: rr.Room, seq: rr.Seq, etype: rr.EType, eventMs: rr.EventMs, info: rr.Info, startMs: rr.StartMs}
		if a, _, ok := strings.Cut(vals[i+2], " "); ok {
			r.attempts, _ = strconv.Atoi(a)
		}
		out = append(out, r)
	}
	return out, nil
}

// appOfRoom reads the SdkAppId from a room key ("1400000001:n:1234").
func appOfRoom(room string) (uint64, bool) {
	a, _, ok := strings.Cut(room, ":")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseUint(a, 10, 64)
	return n, err == nil
}

func (st *RedisStore) pendingRooms() ([]roomRef, error) {
	ctx, cancel := context.WithTimeout(context.Background(), RedisOpTimeout)
	defer cancel()
	p := st.rdb.Pipeline()
	var cmds []*redis.StringSliceCmd
	for s := 0; s < eventlog.Shards; s++ {
		st.mu.RLock()
		o := st.owned[s]
		st.mu.RUnlock()
		if o {
			cmds = append(cmds, p.SMembers(ctx, cbKey(s, "rooms")))
		}
	}
	if len(cmds) == 0 {
		return nil, nil
	}
	if _, err := p.Exec(ctx); err != nil {
		return nil, err
	}
	var out []roomRef
	for _, c := range cmds {
		for _, room := range c.Val() {
			if app, ok := appOfRoom(room); ok {
				out = append(out, roomRef{app: app, room: room})
			}
		}
	}
	return out, nil
}

// The marks are synchronous calls run from the queue's store goroutine
// (after mu is released); a failure only means the event is sent again or
// its attempt count is not kept.
func (st *RedisStore) markDelivered(r *row, nowMs int64, attempts int, after func()) {
	ctx, cancel := context.WithTimeout(context.Background(), RedisOpTimeout)
	defer cancel()
	s := eventlog.Shard(r.room)
	deliveredScript.Run(ctx, st.rdb, []string{cbKey(s, "rows"), roomKeyOf(s, r.room), cbKey(s, "rooms"), cbKey(s, "age"),
		cbKey(s, "fail"), cbKey(s, "done")}, r.id, r.room, r.eventID(), nowMs)
	if after != nil {
		after()
	}
}

func (st *RedisStore) markFailed(r *row, attempts int, lastErr string) {
	ctx, cancel := context.WithTimeout(context.Background(), RedisOpTimeout)
	defer cancel()
	s := eventlog.Shard(r.room)
	failScript.Run(ctx, st.rdb, []string{cbKey(s, "rows"), cbKey(s, "fail")}, r.id, strconv.Itoa(attempts)+" "+lastErr)
}

func (st *RedisStore) moveDead(r *row, attempts int, lastErr string, nowMs int64, after func()) {
	defer func() {
		if after != nil {
			after()
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), RedisOpTimeout)
	defer cancel()
	d := DeadLetter{ID: r.id, App: r.app, Room: r.room, Seq: r.seq, EventType: r.etype, EventMs: r.eventMs,
		Attempts: attempts, LastError: lastErr, DeadMs: nowMs, EventInfo: r.info}
	b, err := json.Marshal(d)
	if err != nil {
		return
	}
	s := eventlog.Shard(r.room)
	deadScript.Run(ctx, st.rdb, []string{cbKey(s, "rows"), roomKeyOf(s, r.room), cbKey(s, "rooms"), cbKey(s, "age"),
		cbKey(s, "fail"), cbKey(s, "ev"), cbKey(s, "dead"), cbKey(s, "deadev")}, r.id, r.room, r.eventID(), string(b))
}

func (st *RedisStore) prune(nowMs int64) (int64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), RedisOpTimeout)
	defer cancel()
	cutoff := nowMs - DeliveredRetention.Milliseconds()
	var n int64
	for s := 0; s < eventlog.Shards; s++ {
		st.mu.RLock()
		o := st.owned[s]
		st.mu.RUnlock()
		if !o {
			continue
		}
		k, err := pruneScript.Run(ctx, st.rdb, []string{cbKey(s, "done"), cbKey(s, "ev")}, cutoff).Int64()
		if err != nil {
			return n, err
		}
		n += k
	}
	return n, nil
}

// Depth sums the 64 shards.
func (st *RedisStore) Depth() (pending int64, oldestMs int64, dead int64, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), RedisOpTimeout)
	defer cancel()
	p := st.rdb.Pipeline()
	type shardCmds struct {
		n, d   *redis.IntCmd
		oldest *redis.ZSliceCmd
	}
	cmds := make([]shardCmds, eventlog.Shards)
	for s := range cmds {
		cmds[s] = shardCmds{p.HLen(ctx, cbKey(s, "rows")), p.HLen(ctx, cbKey(s, "dead")),
			p.ZRangeWithScores(ctx, cbKey(s, "age"), 0, 0)}
	}
	if _, err = p.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return 0, 0, 0, err
	}
	for _, c := range cmds {
		pending += c.n.Val()
		dead += c.d.Val()
		if z := c.oldest.Val(); len(z) > 0 && (oldestMs == 0 || int64(z[0].Score) < oldestMs) {
			oldestMs = int64(z[0].Score)
		}
	}
	return pending, oldestMs, dead, nil
}

// DeadLetters lists the dead letters of every shard that f selects, oldest first.
func (st *RedisStore) DeadLetters(f DeadFilter) ([]DeadLetter, error) {
	ctx, cancel := context.WithTimeout(context.Background(), RedisOpTimeout)
	defer cancel()
	p := st.rdb.Pipeline()
	cmds := make([]*redis.StringSliceCmd, eventlog.Shards)
	for s := range cmds {
		cmds[s] = p.HVals(ctx, cbKey(s, "dead"))
	}
	if _, err := p.Exec(ctx); err != nil {
		return nil, fmt.Errorf("callbacks: redis outbox: %w", err)
	}
	out := []DeadLetter{}
	for _, c := range cmds {
		for _, v := range c.Val() {
			var d DeadLetter
			if err := json.Unmarshal([]byte(v), &d); err != nil {
				return nil, fmt.Errorf("callbacks: redis dead letter: %w", err)
			}
			if (f.App == 0 || d.App == f.App) && (len(f.IDs) == 0 || slices.Contains(f.IDs, d.ID)) {
				out = append(out, d)
			}
		}
	}
	slices.SortFunc(out, func(a, b DeadLetter) int {
		if a.DeadMs != b.DeadMs {
			return int(a.DeadMs - b.DeadMs)
		}
		return int(a.ID - b.ID)
	})
	return out, nil
}

// Replay moves the selected dead letters back into their shards' outboxes,
// each room's in their original order, with a fresh retry horizon; the
// node delivering the shard picks them up within RescanInterval.
func (st *RedisStore) Replay(ctx context.Context, f DeadFilter) (int64, error) {
	dl, err := st.DeadLetters(f)
	if err != nil {
		return 0, err
	}
	slices.SortFunc(dl, func(a, b DeadLetter) int { return int(a.ID - b.ID) }) // ids grow per room
	now := time.Now().UnixMilli()
	var n int64
	for _, d := range dl {
		r := &row{app: d.App, room: d.Room, seq: d.Seq, etype: d.EventType, eventMs: d.EventMs, info: d.EventInfo, startMs: now}
		js, err := rowJSON(r)
		if err != nil {
			return n, err
		}
		s, keys := st.insertKeys(r.room)
		keys = append(keys, cbKey(s, "dead"), cbKey(s, "done"))
		c, cancel := context.WithTimeout(ctx, RedisOpTimeout)
		id, err := replayScript.Run(c, st.rdb, keys, s, r.eventID(), r.room, r.eventMs, js, d.ID).Int64()
		cancel()
		if err != nil {
			return n, fmt.Errorf("callbacks: redis outbox: %w", err)
		}
		if id > 0 {
			n++
		}
	}
	return n, nil
}

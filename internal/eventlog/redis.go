package eventlog

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis is the cluster log: Shards streams, appended by the committing Lua
// scripts (LuaAppend). A group reads each shard through one lease holder at
// a time, which reads the shard's stream as the group's single consumer
// ConsumerName: pending entries first (ID 0), then new ones (">"), in
// order, acknowledging each after its handler (XACK, with the group's
// cursor, in one script that first checks the lease).
//
// Blocking reads hold a connection each: give the log a client of its own
// with PoolSize ≥ Shards × groups + 8.
type Redis struct {
	rdb redis.UniversalClient
	opt Options
}

// ConsumerName is the one consumer name every owner of a shard reads as,
// so that a new owner inherits the previous one's pending entries.
const ConsumerName = "owner"

// NewRedis makes the log on rdb.
func NewRedis(rdb redis.UniversalClient, opt Options) *Redis {
	opt.defaults()
	return &Redis{rdb: rdb, opt: opt}
}

// Group makes a consumer of group name on this node; Run it.
func (r *Redis) Group(name string, h Handler) (*Group, error) {
	return newGroup(r, r.opt, name, h, nil)
}

// GroupBatch is Group with a handler that takes each read's events at once.
func (r *Redis) GroupBatch(name string, h BatchHandler) (*Group, error) {
	return newGroup(r, r.opt, name, nil, h)
}

// appendScript is what the registries' scripts do, on its own: take the
// room's next seq, the time, and append. KEYS stream, counter, seq;
// ARGV maxlen, room, other fields... Returns {seq, time, id}.
var appendScript = redis.NewScript(LuaAppend + `
local seq = string.format('%d', redis.call('INCR', KEYS[3]))
local t = evlog_nowms()
local f = {'r', ARGV[2], 'q', seq, 't', t}
for i = 3, #ARGV do f[#f + 1] = ARGV[i] end
local id = evlog_append(KEYS[1], KEYS[2], ARGV[1], f)
return {seq, t, id}
`)

// Append appends ev on its own, taking the room's seq from a counter of its
// own in the same script, and returns the event as stored. It is for tests,
// benchmarks and tools; the registries append inside their own scripts.
func (r *Redis) Append(ctx context.Context, ev Event) (Event, error) {
	ev.Seq, ev.TimeMs = 1, 0
	if err := ev.Validate(); err != nil {
		return Event{}, err
	}
	keys := AppendKeys(ev.Room)
	f := ev.Fields()[6:] // without r, q, t
	args := make([]any, 0, 2+len(f))
	args = append(args, r.opt.MaxLen, ev.Room)
	for _, x := range f {
		args = append(args, x)
	}
	res, err := appendScript.Run(ctx, r.rdb, []string{keys[0], keys[1], seqKey(ev.Room)}, args...).StringSlice()
	if err != nil {
		return Event{}, err
	}
	if len(res) != 3 {
		return Event{}, fmt.Errorf("eventlog: append returned %v", res)
	}
	ev.Seq, _ = strconv.ParseUint(res[0], 10, 64)
	ev.TimeMs, _ = strconv.ParseInt(res[1], 10, 64)
	return ev, nil
}

// Lease scripts: KEYS lease; ARGV token (, ttl ms).
const renewLua = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0`
const releaseLua = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`

// ackScript: KEYS stream, cursor, lease; ARGV group, token, id, n ("" when
// unknown). Acknowledges only while the lease is the caller's (a stalled
// former owner is fenced off) and moves the group's cursor to "n id".
var ackScript = redis.NewScript(`
if redis.call('GET', KEYS[3]) ~= ARGV[2] then return 0 end
redis.call('XACK', KEYS[1], ARGV[1], ARGV[3])
if ARGV[4] ~= '' then redis.call('SET', KEYS[2], ARGV[4] .. ' ' .. ARGV[3]) end
return 1
`)

func (r *Redis) ttlMs() int64 { return r.opt.LeaseTTL.Milliseconds() }

func (r *Redis) join(ctx context.Context, group, id string) (int, error) {
	now := time.Now().UnixMilli()
	k := membersKey(group)
	p := r.rdb.Pipeline()
	p.ZAdd(ctx, k, redis.Z{Score: float64(now + r.ttlMs()), Member: id})
	p.ZRemRangeByScore(ctx, k, "-inf", strconv.FormatInt(now, 10))
	n := p.ZCard(ctx, k)
	p.PExpire(ctx, k, 4*r.opt.LeaseTTL)
	if _, err := p.Exec(ctx); err != nil {
		return 0, err
	}
	return int(n.Val()), nil
}

func (r *Redis) leave(ctx context.Context, group, id string) {
	r.rdb.ZRem(ctx, membersKey(group), id)
}

func (r *Redis) acquire(ctx context.Context, group, id string, shards []int, need int) ([]int, error) {
	if len(shards) == 0 || need <= 0 {
		return nil, nil
	}
	p := r.rdb.Pipeline()
	cmds := make([]*redis.BoolCmd, len(shards))
	for i, s := range shards {
		cmds[i] = p.SetNX(ctx, leaseKey(s, group), id, r.opt.LeaseTTL)
	}
	_, err := p.Exec(ctx)
	var got []int
	for i, c := range cmds {
		if c.Err() == nil && c.Val() {
			if len(got) < need {
				got = append(got, shards[i])
			} else {
				r.release(ctx, group, id, shards[i])
			}
		}
	}
	return got, err
}

func (r *Redis) renew(ctx context.Context, group, id string, shards []int) ([]int, error) {
	if len(shards) == 0 {
		return nil, nil
	}
	p := r.rdb.Pipeline()
	cmds := make([]*redis.Cmd, len(shards))
	for i, s := range shards {
		cmds[i] = p.Eval(ctx, renewLua, []string{leaseKey(s, group)}, id, r.ttlMs())
	}
	if _, err := p.Exec(ctx); err != nil {
		return nil, err
	}
	var kept []int
	for i, c := range cmds {
		if n, _ := c.Int(); n == 1 {
			kept = append(kept, shards[i])
		}
	}
	return kept, nil
}

func (r *Redis) release(ctx context.Context, group, id string, shard int) {
	r.rdb.Eval(ctx, releaseLua, []string{leaseKey(shard, group)}, id)
}

// ensureGroup creates the group at the start of the stream (and the stream)
// if missing, as after a Redis that restarted empty, and its cursor.
func (r *Redis) ensureGroup(ctx context.Context, group string, shard int) error {
	err := r.rdb.XGroupCreateMkStream(ctx, StreamKey(shard), group, "0").Err()
	if err != nil && !strings.HasPrefix(err.Error(), "BUSYGROUP") {
		return err
	}
	return r.rdb.SetNX(ctx, cursorKey(shard, group), "0 0-0", 0).Err()
}

func (r *Redis) open(ctx context.Context, group, id string, shard int) (reader, error) {
	if err := r.ensureGroup(ctx, group, shard); err != nil {
		return nil, err
	}
	owner, err := r.rdb.Get(ctx, leaseKey(shard, group)).Result()
	if errors.Is(err, redis.Nil) || (err == nil && owner != id) {
		return nil, errLeaseLost
	}
	if err != nil {
		return nil, err
	}
	cur, err := r.rdb.Get(ctx, cursorKey(shard, group)).Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, err
	}
	n, _, _ := parseCursor(cur)
	return &redisReader{r: r, group: group, id: id, shard: shard, pending: true, from: "0", lastN: n}, nil
}

func parseCursor(s string) (uint64, string, bool) {
	ns, id, ok := strings.Cut(s, " ")
	n, err := strconv.ParseUint(ns, 10, 64)
	return n, id, ok && err == nil
}

func (r *Redis) lag(ctx context.Context, group string) (Lag, error) {
	p := r.rdb.Pipeline()
	counts := make([]*redis.StringCmd, Shards)
	curs := make([]*redis.StringCmd, Shards)
	for s := 0; s < Shards; s++ {
		counts[s] = p.Get(ctx, CounterKey(s))
		curs[s] = p.Get(ctx, cursorKey(s, group))
	}
	if _, err := p.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return Lag{}, err
	}
	now := time.Now()
	l := Lag{At: now}
	p = r.rdb.Pipeline()
	var heads []*redis.XMessageSliceCmd
	for s := 0; s < Shards; s++ {
		total, _ := strconv.ParseUint(counts[s].Val(), 10, 64)
		n, id, ok := parseCursor(curs[s].Val())
		if !ok {
			n, id = 0, "0-0"
		}
		if total > n {
			l.Count += int64(total - n)
			heads = append(heads, p.XRangeN(ctx, StreamKey(s), "("+id, "+", 1))
		}
	}
	if len(heads) == 0 {
		return l, nil
	}
	if _, err := p.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return Lag{}, err
	}
	for _, h := range heads {
		if ms := h.Val(); len(ms) == 1 {
			if t, err := strconv.ParseInt(fmt.Sprint(ms[0].Values["t"]), 10, 64); err == nil {
				l.Oldest = max(l.Oldest, now.Sub(time.UnixMilli(t)))
			}
		}
	}
	return l, nil
}

func (r *Redis) trim(ctx context.Context, shards []int) {
	minID := strconv.FormatInt(time.Now().Add(-r.opt.MaxAge).UnixMilli(), 10) + "-0"
	p := r.rdb.Pipeline()
	for _, s := range shards {
		p.XTrimMinIDApprox(ctx, StreamKey(s), minID, 0)
	}
	if _, err := p.Exec(ctx); err != nil {
		r.opt.Log.Warn("trimming the event log by age failed", "err", err)
	}
}

// redisReader reads one owned shard as ConsumerName.
type redisReader struct {
	r       *Redis
	group   string
	id      string
	shard   int
	pending bool   // still re-reading entries delivered to an earlier owner
	from    string // pending: read after this id
	lastN   uint64 // shard offset of the last entry read (0: none)
}

func (rd *redisReader) read(ctx context.Context, id string, block time.Duration) ([]redis.XMessage, error) {
	res, err := rd.r.rdb.XReadGroup(ctx, &redis.XReadGroupArgs{Group: rd.group, Consumer: ConsumerName,
		Streams: []string{StreamKey(rd.shard), id}, Count: int64(rd.r.opt.Batch), Block: block}).Result()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil && strings.HasPrefix(err.Error(), "NOGROUP") {
		// Redis lost the group, so it lost the lease too (restarted
		// empty): stop; the next owner makes the group again (open).
		return nil, errLeaseLost
	}
	if err != nil || len(res) == 0 {
		return nil, err
	}
	return res[0].Messages, nil
}

func (rd *redisReader) next(ctx context.Context) ([]entry, int64, error) {
	if rd.pending {
		msgs, err := rd.read(ctx, rd.from, -1)
		if err != nil {
			return nil, 0, err
		}
		if len(msgs) > 0 {
			rd.from = msgs[len(msgs)-1].ID
			es, lost := rd.entries(msgs)
			return es, lost, nil
		}
		rd.pending = false
	}
	msgs, err := rd.read(ctx, ">", rd.r.opt.BlockTime)
	if err != nil {
		return nil, 0, err
	}
	es, lost := rd.entries(msgs)
	return es, lost, nil
}

// entries decodes msgs and counts the shard offsets missing before them.
func (rd *redisReader) entries(msgs []redis.XMessage) ([]entry, int64) {
	es := make([]entry, len(msgs))
	var lost int64
	kv := make([]string, 0, 24)
	for i, m := range msgs {
		es[i].id = m.ID
		if m.Values == nil {
			es[i].gone = true
			continue
		}
		kv = kv[:0]
		for k, v := range m.Values {
			s, _ := v.(string)
			kv = append(kv, k, s)
		}
		if n, err := strconv.ParseUint(fmt.Sprint(m.Values["n"]), 10, 64); err == nil {
			es[i].n = n
			if n > rd.lastN+1 {
				lost += int64(n - rd.lastN - 1)
			}
			rd.lastN = n // below lastN: the counter restarted (Redis lost its data)
		}
		es[i].ev, es[i].bad = DecodeFields(kv)
	}
	return es, lost
}

func (rd *redisReader) ack(ctx context.Context, e entry) error {
	n := ""
	if e.n > 0 {
		n = strconv.FormatUint(e.n, 10)
	}
	res, err := ackScript.Run(ctx, rd.r.rdb, []string{StreamKey(rd.shard), cursorKey(rd.shard, rd.group), leaseKey(rd.shard, rd.group)},
		rd.group, rd.id, e.id, n).Int()
	if err != nil {
		return err
	}
	if res != 1 {
		return errLeaseLost
	}
	return nil
}

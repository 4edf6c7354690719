package eventlog

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"math/rand/v2"
	"os"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Handler processes one event. It returns nil once the event is done; the
// event is then acknowledged. An error makes the group retry the same event
// (RetryHandlerMin..RetryHandlerMax, jittered): the shard waits, nothing is
// skipped or reordered. Events may come again (at-least-once): dedupe by
// (Room, Seq).
type Handler func(ctx context.Context, ev Event) error

// BatchHandler processes the events of one read of a shard (at most
// Options.Batch, in shard order) at once, for consumers that write them in
// one transaction. nil: all are done, and are acknowledged. An error makes
// the group retry the whole batch as Handler's are retried, so events
// before the one that failed may come again.
type BatchHandler func(ctx context.Context, evs []Event) error

// Policies of the consumer side (docs/eventlog.md).
const (
	DefaultLeaseTTL  = 5 * time.Second // a shard's owner must renew its lease within this
	DefaultBlockTime = 2 * time.Second // one read waits this long for new events
	DefaultBatch     = 100             // events per read
	DefaultMaxAge    = 24 * time.Hour  // Redis: entries older than this are trimmed (MINID ~)
	TrimInterval     = time.Minute     // Redis: how often an owner trims its shards by age
	DefaultCapacity  = 1024            // Memory: events kept per shard (64 × 1024 in all)

	RetryMin        = 100 * time.Millisecond // Redis unreachable: first retry
	RetryMax        = 5 * time.Second        // ... and the cap (jittered)
	RetryHandlerMin = 200 * time.Millisecond // a handler error: first retry
	RetryHandlerMax = 30 * time.Second       // ... and the cap (jittered)
	MaxGroupNameLen = 32
)

// Options tune a log; zero values take the defaults.
type Options struct {
	NodeID    string        // names this node in leases and logs; default host-pid
	LeaseTTL  time.Duration // DefaultLeaseTTL; the takeover bound is LeaseTTL + LeaseTTL/3
	BlockTime time.Duration // DefaultBlockTime
	Batch     int           // DefaultBatch
	MaxLen    int64         // Redis: DefaultMaxLen (approximate, per shard)
	MaxAge    time.Duration // Redis: DefaultMaxAge
	Capacity  int           // Memory: DefaultCapacity per shard
	Log       *slog.Logger
}

func (o *Options) defaults() {
	if o.NodeID == "" {
		h, _ := os.Hostname()
		o.NodeID = h + "-" + strconv.Itoa(os.Getpid())
	}
	if o.LeaseTTL <= 0 {
		o.LeaseTTL = DefaultLeaseTTL
	}
	if o.BlockTime <= 0 {
		o.BlockTime = DefaultBlockTime
	}
	if o.Batch <= 0 {
		o.Batch = DefaultBatch
	}
	if o.MaxLen <= 0 {
		o.MaxLen = DefaultMaxLen
	}
	if o.MaxAge <= 0 {
		o.MaxAge = DefaultMaxAge
	}
	if o.Capacity <= 0 {
		o.Capacity = DefaultCapacity
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
}

// TakeoverBound is how long after a consumer's death (its last lease
// renewal) another consumer of the group at most waits before owning the
// dead one's shards, if it is running: the lease expires, and the next
// balancing tick takes the shard.
func (o Options) TakeoverBound() time.Duration {
	o.defaults()
	return o.LeaseTTL + o.LeaseTTL/3
}

// Lag is how far a group is behind: events appended but not yet
// acknowledged, and the age of the oldest of them.
type Lag struct {
	Count  int64
	Oldest time.Duration
	At     time.Time // when it was measured
}

// Stats are a group's counters on this node since it was made.
type Stats struct {
	Delivered int64 // handler returned nil
	Retries   int64 // handler errors (each retried)
	Lost      int64 // events trimmed by retention before this group handled them
	Bad       int64 // entries that could not be decoded (acknowledged and skipped)
	Acquired  int64 // shards taken over (start, balance, takeover)
	Owned     int   // shards owned now
}

// ValidGroupName: 1–32 bytes of a-z 0-9 _ -.
func ValidGroupName(s string) bool {
	if s == "" || len(s) > MaxGroupNameLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// backend is what Memory and Redis provide to the shared consumer logic.
type backend interface {
	// join registers consumer id of group as alive and counts the live ones.
	join(ctx context.Context, group, id string) (int, error)
	leave(ctx context.Context, group, id string)
	// acquire takes at most need of shards (in order) that nobody owns.
	acquire(ctx context.Context, group, id string, shards []int, need int) ([]int, error)
	// renew extends the leases of shards and returns those still owned.
	renew(ctx context.Context, group, id string, shards []int) ([]int, error)
	release(ctx context.Context, group, id string, shard int)
	// open starts reading an owned shard: unacknowledged entries first.
	open(ctx context.Context, group, id string, shard int) (reader, error)
	lag(ctx context.Context, group string) (Lag, error)
	// trim applies age retention to shards (Redis); may do nothing.
	trim(ctx context.Context, shards []int)
}

type reader interface {
	// next returns the next entries in shard order, waiting up to
	// BlockTime; lost counts events trimmed before they were read.
	next(ctx context.Context) (es []entry, lost int64, err error)
	// ack acknowledges e; errLeaseLost when the shard is no longer ours.
	ack(ctx context.Context, e entry) error
}

type entry struct {
	ev   Event
	id   string // stream entry id (Redis)
	n    uint64 // shard offset
	bad  error  // could not be decoded
	gone bool   // trimmed while pending
}

var errLeaseLost = errors.New("eventlog: lease lost")

// Group is one consumer of a named group on this node. Run it; read its
// Lag and Stats from anywhere.
type Group struct {
	name string
	h    Handler      // one event at a time, or
	hb   BatchHandler // a read's events at once
	b    backend
	opt  Options

	running                                 atomic.Bool
	delivered, retries, lost, bad, acquired atomic.Int64
	owned                                   atomic.Int64
	lastLag                                 atomic.Pointer[Lag]
}

func newGroup(b backend, opt Options, name string, h Handler, hb BatchHandler) (*Group, error) {
	if !ValidGroupName(name) {
		return nil, fmt.Errorf("%w: group: %q is not 1-%d bytes of a-z 0-9 _ -", ErrInvalid, name, MaxGroupNameLen)
	}
	if h == nil && hb == nil {
		return nil, fmt.Errorf("%w: handler: missing", ErrInvalid)
	}
	return &Group{name: name, h: h, hb: hb, b: b, opt: opt}, nil
}

// Name is the group's name.
func (g *Group) Name() string { return g.name }

// Lag is the group's lag as last measured by Run (every LeaseTTL/3); zero
// before the first measurement.
func (g *Group) Lag() Lag {
	if l := g.lastLag.Load(); l != nil {
		return *l
	}
	return Lag{}
}

// LagNow measures the group's lag (over every shard, whoever owns it).
func (g *Group) LagNow(ctx context.Context) (Lag, error) { return g.b.lag(ctx, g.name) }

// Stats are this consumer's counters.
func (g *Group) Stats() Stats {
	return Stats{Delivered: g.delivered.Load(), Retries: g.retries.Load(), Lost: g.lost.Load(),
		Bad: g.bad.Load(), Acquired: g.acquired.Load(), Owned: int(g.owned.Load())}
}

// Run consumes until ctx ends, then releases its shards and returns nil.
// An event whose handler was cut short by ctx is not acknowledged: the
// group's next owner of its shard delivers it again.
func (g *Group) Run(ctx context.Context) error {
	if !g.running.CompareAndSwap(false, true) {
		return fmt.Errorf("eventlog: group %q is already running on this Group", g.name)
	}
	defer g.running.Store(false)
	r := &run{g: g, id: fmt.Sprintf("%s/%08x", g.opt.NodeID, rand.Uint32()), ws: map[int]*worker{},
		exited: make(chan *worker, Shards), lastRenew: time.Now()}
	r.pref = preference(r.id)
	defer r.stop()
	tick := g.opt.LeaseTTL / 3
	fails := 0
	for {
		delay := tick
		if err := r.step(ctx); err != nil && ctx.Err() == nil {
			fails++
			delay = backoff(fails, RetryMin, RetryMax)
			if fails == 1 || fails%20 == 0 {
				g.opt.Log.Warn("event log unreachable", "group", g.name, "err", err, "failures", fails)
			}
			if time.Since(r.lastRenew) > g.opt.LeaseTTL {
				r.dropAll("leases not renewed within the lease TTL")
			}
		} else {
			fails = 0
		}
		t := time.NewTimer(delay)
	wait:
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case w := <-r.exited:
			r.reap(ctx, w)
			goto wait
		case <-t.C:
		}
	}
}

// run is the state of one Run.
type run struct {
	g         *Group
	id        string
	pref      []int
	ws        map[int]*worker
	exited    chan *worker
	wg        sync.WaitGroup
	lastRenew time.Time
	nextLag   time.Time
	nextTrim  time.Time
}

type worker struct {
	shard  int
	cancel context.CancelFunc
	drain  atomic.Bool // finish the current batch, then stop and release
	lost   atomic.Bool // the lease is gone: stop, do not release
}

// preference orders the shards for consumer id (rendezvous hashing), so
// that consumers prefer different shards.
func preference(id string) []int {
	type ranked struct {
		shard int
		h     uint32
	}
	rs := make([]ranked, Shards)
	for i := range rs {
		h := fnv.New32a()
		h.Write([]byte(id + ":" + strconv.Itoa(i)))
		rs[i] = ranked{i, h.Sum32()}
	}
	sort.Slice(rs, func(a, b int) bool { return rs[a].h < rs[b].h })
	out := make([]int, Shards)
	for i, r := range rs {
		out[i] = r.shard
	}
	return out
}

// step is one balancing tick: stay listed, renew leases, give up surplus
// shards, take missing ones, measure lag, trim.
func (r *run) step(ctx context.Context) error {
	g, b := r.g, r.g.b
	members, err := b.join(ctx, g.name, r.id)
	if err != nil {
		return err
	}
	var owned []int
	for s, w := range r.ws {
		if !w.lost.Load() {
			owned = append(owned, s)
		}
	}
	sort.Ints(owned)
	start := time.Now()
	kept, err := b.renew(ctx, g.name, r.id, owned)
	if err != nil {
		return err
	}
	r.lastRenew = start
	keep := map[int]bool{}
	for _, s := range kept {
		keep[s] = true
	}
	for _, s := range owned {
		if !keep[s] {
			g.opt.Log.Warn("lost the lease of a shard", "group", g.name, "shard", s)
			r.ws[s].lost.Store(true)
			r.ws[s].cancel()
		}
	}
	share := Shards
	if members > 1 {
		share = (Shards + members - 1) / members
	}
	var active []int // in preference order
	for _, s := range r.pref {
		if w := r.ws[s]; w != nil && !w.lost.Load() && !w.drain.Load() {
			active = append(active, s)
		}
	}
	if len(active) > share {
		for _, s := range active[share:] {
			r.ws[s].drain.Store(true)
		}
	} else if len(active) < share {
		var cands []int
		for _, s := range r.pref {
			if r.ws[s] == nil {
				cands = append(cands, s)
			}
		}
		got, err := b.acquire(ctx, g.name, r.id, cands, share-len(active))
		for _, s := range got {
			r.startWorker(ctx, s)
		}
		if err != nil {
			return err
		}
	}
	now := time.Now()
	if now.After(r.nextLag) {
		if l, err := b.lag(ctx, g.name); err == nil {
			g.lastLag.Store(&l)
		}
		r.nextLag = now.Add(g.opt.LeaseTTL / 3)
	}
	if now.After(r.nextTrim) {
		b.trim(ctx, active)
		r.nextTrim = now.Add(TrimInterval)
	}
	return nil
}

// dropAll stops every worker without releasing: their leases are in doubt.
func (r *run) dropAll(why string) {
	for s, w := range r.ws {
		if !w.lost.Load() {
			r.g.opt.Log.Warn("stopping a shard", "group", r.g.name, "shard", s, "why", why)
			w.lost.Store(true)
			w.cancel()
		}
	}
}

func (r *run) startWorker(ctx context.Context, shard int) {
	wctx, cancel := context.WithCancel(ctx)
	w := &worker{shard: shard, cancel: cancel}
	r.ws[shard] = w
	r.g.acquired.Add(1)
	r.g.owned.Add(1)
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		r.work(wctx, w)
		r.exited <- w
	}()
}

// reap forgets an exited worker and releases its lease unless it was lost.
func (r *run) reap(ctx context.Context, w *worker) {
	w.cancel()
	if r.ws[w.shard] == w {
		delete(r.ws, w.shard)
	}
	r.g.owned.Add(-1)
	if !w.lost.Load() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		r.g.b.release(rctx, r.g.name, r.id, w.shard)
		cancel()
	}
}

// stop ends every worker, releases what is still owned and leaves.
func (r *run) stop() {
	for _, w := range r.ws {
		w.cancel()
	}
	done := make(chan struct{})
	go func() { r.wg.Wait(); close(done) }()
	for {
		select {
		case w := <-r.exited:
			r.reap(context.Background(), w)
			continue
		case <-done:
		}
		break
	}
	for len(r.exited) > 0 {
		r.reap(context.Background(), <-r.exited)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	r.g.b.leave(ctx, r.g.name, r.id)
}

// work reads one owned shard and hands its events to the handler in order.
func (r *run) work(ctx context.Context, w *worker) {
	g := r.g
	var rd reader
	for fails := 1; ; fails++ {
		var err error
		if rd, err = g.b.open(ctx, g.name, r.id, w.shard); err == nil {
			break
		}
		if errors.Is(err, errLeaseLost) {
			w.lost.Store(true)
			return
		}
		if !sleep(ctx, backoff(fails, RetryMin, RetryMax)) {
			return
		}
	}
	fails := 0
	for !w.drain.Load() {
		es, lost, err := rd.next(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			if errors.Is(err, errLeaseLost) {
				w.lost.Store(true)
				return
			}
			fails++
			if !sleep(ctx, backoff(fails, RetryMin, RetryMax)) {
				return
			}
			continue
		}
		fails = 0
		if lost > 0 {
			g.lost.Add(lost)
			g.opt.Log.Error("a consumer group fell behind retention: events lost to it",
				"group", g.name, "shard", w.shard, "lost", lost)
		}
		if g.hb != nil {
			if !r.handleBatch(ctx, w, rd, es) {
				return
			}
			continue
		}
		for _, e := range es {
			if !r.handle(ctx, w, rd, e) {
				return
			}
		}
	}
}

// skip counts and logs an entry no handler gets; false for a good one.
func (r *run) skip(w *worker, e entry) bool {
	g := r.g
	switch {
	case e.bad != nil:
		g.bad.Add(1)
		g.opt.Log.Error("undecodable event skipped", "group", g.name, "shard", w.shard, "id", e.id, "err", e.bad)
	case e.gone:
		g.opt.Log.Warn("pending event was trimmed", "group", g.name, "shard", w.shard, "id", e.id)
	default:
		return false
	}
	return true
}

// retry runs fn until it succeeds; false when ctx ended first.
func (r *run) retry(ctx context.Context, ev Event, fn func() error) bool {
	g := r.g
	for attempt := 1; ; attempt++ {
		err := fn()
		if err == nil {
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		g.retries.Add(1)
		if attempt == 1 || attempt%10 == 0 {
			g.opt.Log.Warn("event handler failed; retrying", "group", g.name, "room", ev.Room, "seq", ev.Seq, "attempt", attempt, "err", err)
		}
		if !sleep(ctx, backoff(attempt, RetryHandlerMin, RetryHandlerMax)) {
			return false
		}
	}
}

// handleBatch runs the batch handler over es's good events until it
// succeeds, then acknowledges every entry in order. It returns false when
// the worker must stop; nothing of es is then acknowledged, unless the
// handler had already succeeded.
func (r *run) handleBatch(ctx context.Context, w *worker, rd reader, es []entry) bool {
	evs := make([]Event, 0, len(es))
	for _, e := range es {
		if !r.skip(w, e) {
			evs = append(evs, e.ev)
		}
	}
	if len(evs) > 0 {
		if !r.retry(ctx, evs[0], func() error { return r.g.hb(ctx, evs) }) {
			return false
		}
		r.g.delivered.Add(int64(len(evs)))
	}
	for _, e := range es {
		if !r.ack(ctx, w, rd, e) {
			return false
		}
	}
	return true
}

// handle runs the handler until it succeeds, then acknowledges. It returns
// false when the worker must stop (ctx ended, lease lost); the event is
// then not acknowledged, unless the handler had already succeeded.
func (r *run) handle(ctx context.Context, w *worker, rd reader, e entry) bool {
	if !r.skip(w, e) {
		if !r.retry(ctx, e.ev, func() error { return r.g.h(ctx, e.ev) }) {
			return false
		}
		r.g.delivered.Add(1)
	}
	return r.ack(ctx, w, rd, e)
}

// ack acknowledges a handled entry, retrying while the log is unreachable.
// It returns false when the worker must stop.
func (r *run) ack(ctx context.Context, w *worker, rd reader, e entry) bool {
	if ctx.Err() != nil {
		// Done but cut short: one try to acknowledge, to spare a redelivery.
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		rd.ack(actx, e)
		cancel()
		return false
	}
	for attempt := 1; ; attempt++ {
		err := rd.ack(ctx, e)
		if err == nil {
			return true
		}
		if errors.Is(err, errLeaseLost) {
			w.lost.Store(true)
			return false
		}
		if !sleep(ctx, backoff(attempt, RetryMin, RetryMax)) {
			return false
		}
	}
}

// backoff is min·2^(attempt-1), capped at max, with equal jitter.
func backoff(attempt int, min, max time.Duration) time.Duration {
	d := max
	if attempt < 30 {
		if x := min << (attempt - 1); x < max {
			d = x
		}
	}
	return d/2 + rand.N(d/2+1)
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

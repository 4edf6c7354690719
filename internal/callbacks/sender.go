package callbacks

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/trtcd/trtcd/internal/cluster"
	"github.com/trtcd/trtcd/internal/config"
)

// Named policies besides the configured ones (docs/callbacks.md).
const (
	// MaxAnswerBytes is the most of a receiver's answer body that is read;
	// a longer answer is a failure.
	MaxAnswerBytes = 4 << 10
	// MaxAnswerHeaderBytes bounds the answer's header block.
	MaxAnswerHeaderBytes = 16 << 10
	// RescanInterval is how often the store is scanned for pending events
	// the sender does not hold in memory (replayed dead letters).
	RescanInterval = 2 * time.Second
	// PruneInterval is how often delivered rows past DeliveredRetention
	// are deleted.
	PruneInterval = 10 * time.Second
	// laneBuffer is the most pending events of one room held in memory;
	// the rest are read from the store as the room's head is delivered.
	laneBuffer = 16
)

// AppConfig is one app's receiver.
type AppConfig struct {
	SdkAppID uint64
	URL      string
	Key      string
	Events   []int // EventTypes to send; empty: all
}

// Options is the sender's configuration; zero values are the defaults of
// internal/config.
type Options struct {
	Apps             []AppConfig
	Timeout          time.Duration
	RetryInterval    time.Duration
	RetryMaxInterval time.Duration
	RetryHorizon     time.Duration
	Concurrency      int
	// DialContext, when set, replaces the dialer (tests count bytes read).
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)
	// TLS, when set, is the TLS configuration for https receivers (tests
	// trust their receiver's certificate); default: the system's roots.
	TLS *tls.Config
}

// OptionsFrom reads the callback keys of a configuration.
func OptionsFrom(cfg config.Config) Options {
	o := Options{
		Timeout: cfg.Callbacks.Timeout.Duration, RetryInterval: cfg.Callbacks.RetryInterval.Duration,
		RetryMaxInterval: cfg.Callbacks.RetryMaxInterval.Duration, RetryHorizon: cfg.Callbacks.RetryHorizon.Duration,
		Concurrency: cfg.Callbacks.Concurrency,
	}
	for _, a := range cfg.Accounts {
		for _, app := range a.Apps {
			if cb := app.Callback; cb != nil && cb.URL != "" {
				o.Apps = append(o.Apps, AppConfig{SdkAppID: app.SdkAppID, URL: cb.URL, Key: cb.Key, Events: cb.Events})
			}
		}
	}
	return o
}

func (o *Options) fill() {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.Timeout, config.DefaultCallbackTimeout)
	def(&o.RetryInterval, config.DefaultCallbackRetryInterval)
	def(&o.RetryMaxInterval, config.DefaultCallbackRetryMax)
	def(&o.RetryHorizon, config.DefaultCallbackRetryHorizon)
	if o.RetryMaxInterval < o.RetryInterval {
		o.RetryMaxInterval = o.RetryInterval
	}
	if o.Concurrency <= 0 {
		o.Concurrency = config.DefaultCallbackConcurrency
	}
}

// Sender takes room events (Handle), keeps them in the outbox, and delivers
// them to each app's receiver.
type Sender struct {
	opts  Options
	store Outbox // nil when no app has a callback
	log   *slog.Logger
	apps  map[uint64]*appQueue
	m     *metrics

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	ran    bool
	closed bool

	resumed atomic.Bool // the first rescan has run (olderMayWait)
}

// Open is New with the store in cfg.DataDir, or in cluster mode (cfg.Redis
// set) in the cluster's Redis, delivered by shard as group's lease on the
// event log says (NewRedisStore). When no app has a callback it opens
// nothing, and Handle accepts and drops every event.
func Open(cfg config.Config, group string, log *slog.Logger) (*Sender, error) {
	opts := OptionsFrom(cfg)
	if len(opts.Apps) == 0 {
		return New(opts, nil, log), nil
	}
	if cfg.Redis != "" {
		rdb, err := cluster.NewClient(cfg.Redis)
		if err != nil {
			return nil, fmt.Errorf("config: redis: %v", err)
		}
		return New(opts, NewRedisStore(rdb, cfg.NodeID, group, rdb.Close), log), nil
	}
	dir := cfg.DataDir
	if dir == "" {
		dir = config.DefaultDataDir
	}
	st, err := OpenStore(dir)
	if err != nil {
		return nil, err
	}
	return New(opts, st, log), nil
}

// New makes a sender over store; Close closes the store too.
func New(opts Options, store Outbox, log *slog.Logger) *Sender {
	opts.fill()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Sender{opts: opts, store: store, log: log, apps: map[uint64]*appQueue{}, m: newMetrics()}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	if store == nil {
		opts.Apps = nil
	}
	for _, a := range opts.Apps {
		s.apps[a.SdkAppID] = newAppQueue(s, a)
	}
	return s
}

// Store is the sender's outbox (nil when no app has a callback).
func (s *Sender) Store() Outbox { return s.store }

// Handle puts one room event in the outbox. It returns nil once the event
// is committed to the store (or is one that gets no callback: an app without
// a receiver, a type the app's filter leaves out or that has no callback, an
// invalid event, or a redelivery of an event already held), so the caller
// may acknowledge it. An error means nothing was stored: try again. Handle
// may be called from many goroutines (their events share commits), but the
// events of one room must be handed over in order.
func (s *Sender) Handle(ctx context.Context, ev Event) error {
	return s.HandleBatch(ctx, []Event{ev})
}

// HandleBatch is Handle for several events, committed in one transaction:
// in order, all or none.
func (s *Sender) HandleBatch(ctx context.Context, evs []Event) error {
	rows := make([]*row, 0, len(evs))
	for _, ev := range evs {
		if r := s.accept(ev); r != nil {
			rows = append(rows, r)
		}
	}
	if len(rows) == 0 {
		return nil
	}
	if st, ok := s.store.(*Store); ok {
		// Write-behind: the rows are sent while the writer writes them; the
		// log's event is acknowledged once they are written.
		added, durable, err := st.accept(rows)
		if err != nil {
			return err
		}
		s.enqueue(rows, added)
		return durable(ctx)
	}
	added, err := s.store.insert(ctx, rows)
	if err != nil {
		return err
	}
	s.enqueue(rows, added)
	return nil
}

// olderMayWait tells whether the store may hold older pending events of a
// room that has no lane here than the one just handed over, so that a new
// lane must read the store first to keep the room's order: on one node
// until the first rescan has resumed what a previous run left; always in
// cluster mode, where the room's shard may have been delivered by another
// node until now, its pending rows in Redis.
func (s *Sender) olderMayWait() bool {
	_, cluster := s.store.(*RedisStore)
	return cluster || !s.resumed.Load()
}

// enqueue hands the added rows to their apps' lanes.
func (s *Sender) enqueue(rows []*row, added []bool) {
	for i, r := range rows {
		if !added[i] {
			s.m.duplicates.Add(1)
			continue
		}
		s.m.accepted.Add(1)
		if s.store.owns(r.room) {
			s.apps[r.app].add(r)
		}
	}
}

// accept renders an event into a row for its app, or counts why it gets no
// callback and returns nil.
func (s *Sender) accept(ev Event) *row {
	q := s.apps[ev.App]
	if q == nil {
		s.m.skip(SkipNoCallback)
		return nil
	}
	typ, info, err := Render(ev)
	switch {
	case errors.Is(err, errSkip):
		s.m.skip(SkipUnknownType)
		return nil
	case err != nil:
		s.m.skip(SkipInvalid)
		s.log.Warn("callback event dropped", "error", err.Error(), "app", ev.App, "room", ev.Room, "seq", ev.Seq, "type", ev.Type)
		return nil
	case !q.wants(typ):
		s.m.skip(SkipFiltered)
		return nil
	}
	return &row{app: ev.App, room: ev.Room, seq: ev.Seq, etype: typ, eventMs: ev.TimeMs, info: info, startMs: ev.TimeMs}
}

// Run delivers until ctx ends or Close is called: it resumes what the store
// holds, then follows Handle. It returns after its workers have stopped.
func (s *Sender) Run(ctx context.Context) error {
	s.mu.Lock()
	if s.ran || s.closed {
		s.mu.Unlock()
		return errors.New("callbacks: Run called twice or after Close")
	}
	s.ran = true
	if s.store != nil {
		s.wg.Add(len(s.apps)*s.opts.Concurrency + 1) // under mu: Close waits for them
	}
	s.mu.Unlock()
	stop := context.AfterFunc(ctx, s.cancel)
	defer stop()
	if s.store == nil {
		<-s.ctx.Done()
		return nil
	}
	for _, q := range s.apps {
		for i := 0; i < s.opts.Concurrency; i++ {
			go func() { defer s.wg.Done(); q.work() }()
		}
	}
	go func() { defer s.wg.Done(); s.housekeeping() }()
	<-s.ctx.Done()
	for _, q := range s.apps {
		q.shutdown()
	}
	s.wg.Wait()
	return nil
}

// Close stops delivery and closes the store. Events not delivered stay in
// the store for the next start.
func (s *Sender) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	s.cancel()
	for _, q := range s.apps {
		q.shutdown()
	}
	s.wg.Wait()
	for _, q := range s.apps {
		if q.wire != nil {
			q.wire.close()
		}
	}
	if s.store == nil {
		return nil
	}
	return s.store.Close()
}

// housekeeping rescans the store for rooms with pending events (at start:
// what a previous run left; later: replayed dead letters) and prunes
// delivered rows.
func (s *Sender) housekeeping() {
	rescan := time.NewTicker(RescanInterval)
	prune := time.NewTicker(PruneInterval)
	defer rescan.Stop()
	defer prune.Stop()
	s.rescan()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-rescan.C:
			s.rescan()
		case <-prune.C:
			if _, err := s.store.prune(time.Now().UnixMilli()); err != nil {
				s.log.Warn("callback outbox prune failed", "error", err.Error())
			}
		}
	}
}

func (s *Sender) rescan() {
	refs, err := s.store.pendingRooms()
	if err != nil {
		s.log.Warn("callback outbox scan failed", "error", err.Error())
		return
	}
	defer s.resumed.Store(true)
	var orphans []roomRef
	for _, ref := range refs {
		if q := s.apps[ref.app]; q != nil {
			q.resume(ref.room)
		} else {
			orphans = append(orphans, ref)
		}
	}
	for _, ref := range orphans {
		s.dropOrphans(ref)
	}
}

// dropOrphans moves the pending events of an app that no longer has a
// callback to the dead letters, where an operator can see and replay them.
func (s *Sender) dropOrphans(ref roomRef) {
	rows, err := s.store.pending(ref.room, 0, 1000)
	if err != nil {
		return
	}
	now := time.Now().UnixMilli()
	for _, r := range rows {
		s.store.moveDead(r, r.attempts, errNoCallback.Error(), now, nil)
		s.m.dead(r.app)
	}
}

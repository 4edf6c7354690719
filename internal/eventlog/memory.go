package eventlog

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// Memory is the single-node log: one ring per shard holding at most the
// last Capacity events. Append never waits for consumers; a consumer that
// falls more than Capacity events behind in a shard loses the overwritten
// ones (counted in Stats.Lost, logged). Consumers of one group in this
// process split the shards like nodes do in Redis. A ring grows as events
// come, and once the log is sealed it keeps only what some group has not
// yet acknowledged, so a node whose groups keep up holds almost nothing.
type Memory struct {
	opt    Options
	shards [Shards]memShard

	mu     sync.Mutex
	groups map[string]*memGroup
	sealed bool        // no group will be added: keep only unacknowledged events
	unread atomic.Bool // sealed without groups (Read)
}

type memShard struct {
	mu   sync.Mutex
	ring []Event       // offset o is at ring[o%len(ring)]; grows up to Capacity
	base uint64        // offset of the oldest event kept
	next uint64        // offset of the next append; offsets start at 1
	wake chan struct{} // closed by Append when a reader waits
	keep bool          // sealed with no group: keep nothing (under mu)
}

// memRingMin is a ring's first size; an emptied ring larger than
// memRingShrink is given back and starts again at memRingMin, so that a
// burst (consumers behind while joins come as fast as they can) does not
// leave every shard holding Capacity empty slots: 64 × 1024 events are
// 11 MB that the garbage collector would scan at every cycle.
const (
	memRingMin    = 8
	memRingShrink = 64
)

// memGroup is a group's shared state: its consumers, shard owners and
// per-shard cursors (the offset after the last acknowledged event).
type memGroup struct {
	members map[string]bool
	owner   [Shards]string
	cursor  [Shards]uint64
}

// NewMemory makes an empty log.
func NewMemory(opt Options) *Memory {
	opt.defaults()
	m := &Memory{opt: opt, groups: map[string]*memGroup{}}
	for i := range m.shards {
		m.shards[i].base, m.shards[i].next = 1, 1
		m.shards[i].keep = true
	}
	return m
}

// Seal says that the groups made so far are all there will be: from now on
// an event every group has acknowledged is dropped at once, and with no
// group at all nothing is kept. The node seals its log when it starts.
func (m *Memory) Seal() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sealed = true
	for i := range m.shards {
		m.trimLocked(i)
	}
}

// Read tells whether a group reads, or may yet read, what is appended: false
// once the log is sealed without groups, when Append keeps nothing and a
// writer may skip building the event.
func (m *Memory) Read() bool { return !m.unread.Load() }

// Retained is how many events the log holds now, all shards together.
func (m *Memory) Retained() int {
	n := 0
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.Lock()
		n += int(s.next - s.base)
		s.mu.Unlock()
	}
	return n
}

// Slots is the number of events the rings have room for, all shards
// together: what they hold in memory, empty or not.
func (m *Memory) Slots() int {
	n := 0
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.Lock()
		n += len(s.ring)
		s.mu.Unlock()
	}
	return n
}

// trimLocked drops shard i's events that every group has acknowledged; m.mu
// held.
func (m *Memory) trimLocked(i int) {
	if !m.sealed {
		return
	}
	s := &m.shards[i]
	s.mu.Lock()
	defer s.mu.Unlock()
	upTo := s.next
	for _, g := range m.groups {
		upTo = min(upTo, g.cursor[i])
	}
	s.keep = len(m.groups) > 0
	m.unread.Store(!s.keep)
	for ; s.base < upTo; s.base++ {
		s.ring[s.base%uint64(len(s.ring))] = Event{} // let its strings go
	}
	if s.base == s.next && len(s.ring) > memRingShrink {
		s.ring = make([]Event, memRingMin)
	}
}

// grow doubles s's ring (up to Capacity), keeping each offset's place
// valid; s.mu held.
func (s *memShard) grow(capacity int) {
	n := min(max(2*len(s.ring), memRingMin), capacity)
	ring := make([]Event, n)
	for o := s.base; o < s.next; o++ {
		ring[o%uint64(n)] = s.ring[o%uint64(len(s.ring))]
	}
	s.ring = ring
}

// Append adds a committed event. Call it in the same locked section as the
// change (the memory registry's room lock), so the log has each room's
// order. It takes one short lock and never waits for consumers.
func (m *Memory) Append(ev Event) error {
	if ev.Room == "" || ev.Seq == 0 || ev.Type == "" {
		return invalid("event", "room, seq and type are required")
	}
	s := &m.shards[Shard(ev.Room)]
	s.mu.Lock()
	switch {
	case !s.keep: // sealed, and no group reads it
		s.base = s.next + 1
	case s.next-s.base == uint64(len(s.ring)) && len(s.ring) < m.opt.Capacity:
		s.grow(m.opt.Capacity)
	case s.next-s.base == uint64(len(s.ring)): // full: the oldest goes
		s.ring[s.base%uint64(len(s.ring))] = Event{}
		s.base++
	}
	if s.keep {
		s.ring[s.next%uint64(len(s.ring))] = ev
	}
	s.next++
	if s.wake != nil {
		close(s.wake)
		s.wake = nil
	}
	s.mu.Unlock()
	return nil
}

// Group makes a consumer of group name on this log; Run it.
// The group's cursors start at the oldest event kept, and it counts for
// Seal from now on.
func (m *Memory) Group(name string, h Handler) (*Group, error) { return m.newGroupOn(name, h, nil) }

// GroupBatch is Group with a handler that takes each read's events at once.
func (m *Memory) GroupBatch(name string, h BatchHandler) (*Group, error) {
	return m.newGroupOn(name, nil, h)
}

func (m *Memory) newGroupOn(name string, h Handler, hb BatchHandler) (*Group, error) {
	g, err := newGroup(m, m.opt, name, h, hb)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.group(name)
	for i := range m.shards {
		m.trimLocked(i) // a group made after Seal: its shards keep events again
	}
	return g, nil
}

func (m *Memory) group(name string) *memGroup {
	g := m.groups[name]
	if g == nil {
		g = &memGroup{members: map[string]bool{}}
		for i := range g.cursor {
			g.cursor[i] = 1
		}
		m.groups[name] = g
	}
	return g
}

func (m *Memory) join(_ context.Context, group, id string) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	g := m.group(group)
	g.members[id] = true
	return len(g.members), nil
}

func (m *Memory) leave(_ context.Context, group, id string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.group(group).members, id)
}

func (m *Memory) acquire(_ context.Context, group, id string, shards []int, need int) ([]int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	g := m.group(group)
	var got []int
	for _, s := range shards {
		if len(got) == need {
			break
		}
		if g.owner[s] == "" {
			g.owner[s] = id
			got = append(got, s)
		}
	}
	return got, nil
}

func (m *Memory) renew(_ context.Context, group, id string, shards []int) ([]int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	g := m.group(group)
	var kept []int
	for _, s := range shards {
		if g.owner[s] == id {
			kept = append(kept, s)
		}
	}
	return kept, nil
}

func (m *Memory) release(_ context.Context, group, id string, shard int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if g := m.group(group); g.owner[shard] == id {
		g.owner[shard] = ""
	}
}

func (m *Memory) trim(context.Context, []int) {}

func (m *Memory) open(_ context.Context, group, id string, shard int) (reader, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	g := m.group(group)
	if g.owner[shard] != id {
		return nil, errLeaseLost
	}
	return &memReader{m: m, g: g, id: id, shard: shard, pos: g.cursor[shard]}, nil
}

// oldest is the offset of the oldest event still in s's ring; s.mu held.
func (s *memShard) oldest() uint64 { return s.base }

func (m *Memory) lag(_ context.Context, group string) (Lag, error) {
	m.mu.Lock()
	cursors := m.group(group).cursor
	m.mu.Unlock()
	now := time.Now()
	l := Lag{At: now}
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.Lock()
		from := max(cursors[i], s.oldest())
		if s.next > from {
			l.Count += int64(s.next - from)
			age := now.Sub(time.UnixMilli(s.ring[from%uint64(len(s.ring))].TimeMs))
			l.Oldest = max(l.Oldest, age)
		}
		s.mu.Unlock()
	}
	return l, nil
}

// memReader reads one shard for its owner: from the group's cursor (so
// unacknowledged events come again after a takeover), then onwards.
type memReader struct {
	m     *Memory
	g     *memGroup
	id    string
	shard int
	pos   uint64 // next offset to read
}

func (r *memReader) next(ctx context.Context) ([]entry, int64, error) {
	s := &r.m.shards[r.shard]
	timer := time.NewTimer(r.m.opt.BlockTime)
	defer timer.Stop()
	for {
		s.mu.Lock()
		var lost int64
		if o := s.oldest(); r.pos < o {
			lost, r.pos = int64(o-r.pos), o
		}
		if r.pos < s.next || lost > 0 {
			n := min(s.next-r.pos, uint64(r.m.opt.Batch))
			es := make([]entry, n)
			for i := range es {
				off := r.pos + uint64(i)
				es[i] = entry{ev: s.ring[off%uint64(len(s.ring))], n: off}
			}
			r.pos += n
			s.mu.Unlock()
			return es, lost, nil
		}
		if s.wake == nil {
			s.wake = make(chan struct{})
		}
		wake := s.wake
		s.mu.Unlock()
		select {
		case <-ctx.Done():
			return nil, 0, ctx.Err()
		case <-timer.C:
			return nil, 0, nil
		case <-wake:
		}
	}
}

func (r *memReader) ack(_ context.Context, e entry) error {
	r.m.mu.Lock()
	defer r.m.mu.Unlock()
	if r.g.owner[r.shard] != r.id {
		return errLeaseLost
	}
	if e.n+1 > r.g.cursor[r.shard] {
		r.g.cursor[r.shard] = e.n + 1
		r.m.trimLocked(r.shard)
	}
	return nil
}

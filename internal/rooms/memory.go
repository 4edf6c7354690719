package rooms

import (
	"context"
	"hash/maphash"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/trtcd/trtcd/internal/eventlog"
)

// Memory is the single-node registry. Rooms are spread over shards, each
// with its own mutex; a change, the append of its events to the event log
// and the publication of its Event happen under the room's shard lock, which
// gives each room one total order, the same in the log and for the sessions.
type Memory struct {
	shards   [64]memShard
	seed     maphash.Seed
	seq      atomic.Uint64 // one counter for all rooms: increasing per room, never reused
	sink     func(Event)
	now      func() time.Time
	log      *eventlog.Memory // nil: no log
	appended atomic.Uint64
}

type memShard struct {
	mu    sync.Mutex
	rooms map[Key]*memRoom
}

// memRoom keeps the anchors apart so that a join's snapshot costs the number
// of anchors, not the size of the room (a big audience is cheap to join).
type memRoom struct {
	key     string             // Key.String(), computed once for the log
	members map[string]*Member // userID → member (never changed in place: put replaces)
	anchors map[string]*Member // the anchors among them, sharing members' values
}

// put stores m once, shared by both maps: a member is kept once however many
// views list it (memory per client).
func (r *memRoom) put(m Member) {
	p := &m
	r.members[m.UserID] = p
	if m.Role == Anchor {
		r.anchors[m.UserID] = p
	} else {
		delete(r.anchors, m.UserID)
	}
}

// get is user's member record, copied.
func (r *memRoom) get(user string) (Member, bool) {
	if p := r.members[user]; p != nil {
		return *p, true
	}
	return Member{}, false
}

func (r *memRoom) remove(user string) {
	delete(r.members, user)
	delete(r.anchors, user)
}

// NewMemory returns an empty in-memory registry. now may be nil.
func NewMemory(now func() time.Time) *Memory {
	if now == nil {
		now = time.Now
	}
	m := &Memory{seed: maphash.MakeSeed(), now: now, sink: func(Event) {}}
	for i := range m.shards {
		m.shards[i].rooms = map[Key]*memRoom{}
	}
	return m
}

// SetLog makes every later change append its events to log (in the same
// locked step). Call it before any change.
func (m *Memory) SetLog(log *eventlog.Memory) { m.log = log }

func (m *Memory) SetSink(f func(Event)) { m.sink = f }

// MemoryStats are the memory registry's counters.
type MemoryStats struct {
	Appended uint64 // events appended to the event log
}

// Stats returns the registry's counters.
func (m *Memory) Stats() MemoryStats { return MemoryStats{Appended: m.appended.Load()} }

func (m *Memory) shard(k Key) *memShard {
	var h maphash.Hash
	h.SetSeed(m.seed)
	h.WriteString(k.Str)
	var b [16]byte
	for i := 0; i < 8; i++ {
		b[i] = byte(k.App >> (8 * i))
		b[8+i] = byte(k.Num >> (8 * i))
	}
	h.Write(b[:])
	return &m.shards[h.Sum64()%uint64(len(m.shards))]
}

// change is one committed change in progress: its events take the room's
// next sequence numbers and go to the log at once; the last one is the
// change's sequence number.
type change struct {
	m    *Memory
	room Key
	r    *memRoom
	at   time.Time
	seq  uint64
}

func (m *Memory) begin(room Key, r *memRoom) *change {
	return &change{m: m, room: room, r: r, at: m.now()}
}

// log appends one event of the change; mem may be nil (room_close).
func (c *change) log(typ eventlog.Type, mem *Member, reason Reason) {
	c.seq = c.m.seq.Add(1)
	if c.m.log == nil {
		return
	}
	if !c.m.log.Read() { // no group will ever read it: the event need not be built
		c.m.appended.Add(1)
		return
	}
	ev := eventlog.Event{App: c.room.App, Room: c.r.key, StrRoom: c.room.IsStr(), RoomNum: c.room.Num, RoomStr: c.room.Str,
		Seq: c.seq, TimeMs: c.at.UnixMilli(), Type: typ, Reason: string(reason)}
	if mem != nil {
		ev.User, ev.Role, ev.Session = mem.UserID, mem.Role.String(), mem.SessionID
		if typ == eventlog.TypeEnter {
			ev.Ext = mem.Client.ext()
		}
	}
	if c.m.log.Append(ev) == nil {
		c.m.appended.Add(1)
	}
}

// publish hands the change's Event to the sink, with the change's last seq.
func (c *change) publish(e Event) uint64 {
	e.Seq, e.Time = c.seq, c.at
	c.m.sink(e)
	return c.seq
}

func (m *Memory) Enter(_ context.Context, room Key, mem Member) (Snapshot, error) {
	s := m.shard(room)
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.rooms[room]
	if r == nil {
		r = &memRoom{key: room.String(), members: map[string]*Member{}, anchors: map[string]*Member{}}
		s.rooms[room] = r
	}
	old, existed := r.get(mem.UserID)
	opened := len(r.members) == 0
	r.put(mem)
	c := m.begin(room, r)
	var snap Snapshot
	if existed {
		c.log(eventlog.TypeLeave, &old, ReasonDuplicate)
		c.log(eventlog.TypeEnter, &mem, "")
		snap.Seq = c.publish(Event{Room: room, Kind: Replaced, Member: mem, Old: &old, Reason: ReasonDuplicate})
	} else {
		if opened {
			c.log(eventlog.TypeRoomOpen, &mem, "")
		}
		c.log(eventlog.TypeEnter, &mem, "")
		snap.Seq = c.publish(Event{Room: room, Kind: Entered, Member: mem})
	}
	snap.Anchors = make([]Member, 0, len(r.anchors))
	for _, x := range r.anchors {
		snap.Anchors = append(snap.Anchors, *x)
	}
	return snap, nil
}

// exit removes cur from r as one change: its leave, and the room's close if
// it is now empty.
func (m *Memory) exit(s *memShard, room Key, r *memRoom, cur Member, reason Reason) {
	r.remove(cur.UserID)
	c := m.begin(room, r)
	c.log(eventlog.TypeLeave, &cur, reason)
	if len(r.members) == 0 {
		delete(s.rooms, room)
		c.log(eventlog.TypeRoomClose, nil, reason)
	}
	c.publish(Event{Room: room, Kind: Exited, Member: cur, Reason: reason})
}

func (m *Memory) Leave(_ context.Context, room Key, userID, sessionID string, reason Reason) error {
	s := m.shard(room)
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.rooms[room]
	if r == nil {
		return nil
	}
	cur, ok := r.get(userID)
	if !ok || cur.SessionID != sessionID {
		return nil
	}
	m.exit(s, room, r, cur, reason)
	return nil
}

func (m *Memory) Remove(_ context.Context, room Key, userIDs []string) error {
	s := m.shard(room)
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.rooms[room]
	if r == nil {
		return ErrRoomNotFound
	}
	for _, u := range userIDs {
		cur, ok := r.get(u)
		if !ok {
			continue // absent or a duplicate already removed: idempotent
		}
		m.exit(s, room, r, cur, ReasonRemoved)
	}
	return nil
}

func (m *Memory) Dismiss(_ context.Context, room Key) error {
	s := m.shard(room)
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.rooms[room]
	if r == nil {
		return ErrRoomNotFound
	}
	delete(s.rooms, room)
	all := make([]Member, 0, len(r.members))
	for _, x := range r.members {
		all = append(all, *x)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].UserID < all[j].UserID })
	c := m.begin(room, r)
	for i := range all {
		c.log(eventlog.TypeLeave, &all[i], ReasonDismissed)
	}
	c.log(eventlog.TypeRoomClose, nil, ReasonDismissed)
	c.publish(Event{Room: room, Kind: Dismissed, Members: all, Reason: ReasonDismissed})
	return nil
}

func (m *Memory) SwitchRole(_ context.Context, room Key, userID, sessionID string, role Role) (uint64, error) {
	s := m.shard(room)
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.rooms[room]
	if r == nil {
		return 0, ErrRoomNotFound
	}
	cur, ok := r.get(userID)
	if !ok || cur.SessionID != sessionID {
		return 0, ErrNotMember
	}
	if cur.Role == role {
		return 0, ErrSameRole
	}
	next := cur
	next.Role = role
	r.put(next)
	c := m.begin(room, r)
	c.log(eventlog.TypeRoleSwitch, &next, "")
	return c.publish(Event{Room: room, Kind: RoleChanged, Member: next, Old: &cur}), nil
}

func (m *Memory) LogMedia(_ context.Context, room Key, userID string, typ eventlog.Type) (uint64, error) {
	if !IsMediaType(typ) {
		return 0, ErrNotMediaType
	}
	s := m.shard(room)
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.rooms[room]
	if r == nil {
		return 0, ErrNotMember
	}
	cur, ok := r.get(userID)
	if !ok {
		return 0, ErrNotMember
	}
	c := m.begin(room, r)
	c.log(typ, &cur, "")
	return c.seq, nil
}

func (m *Memory) Members(_ context.Context, room Key) ([]Member, error) {
	s := m.shard(room)
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.rooms[room]
	if r == nil {
		return nil, nil
	}
	out := make([]Member, 0, len(r.members))
	for _, x := range r.members {
		out = append(out, *x)
	}
	return out, nil
}

// Watch and Unwatch are no-ops: every event of this registry is local.
func (m *Memory) Watch(context.Context, Key) error   { return nil }
func (m *Memory) Unwatch(context.Context, Key) error { return nil }
func (m *Memory) Close() error                       { return nil }

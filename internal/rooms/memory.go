package rooms

import (
	"context"
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"
)

// Memory is the single-node registry. Rooms are spread over shards, each
// with its own mutex; a change and the publication of its events happen
// under the room's shard lock, which gives each room one total order.
type Memory struct {
	shards [64]memShard
	seed   maphash.Seed
	seq    atomic.Uint64 // one counter for all rooms: increasing per room, never reused
	sink   func(Event)
	now    func() time.Time
}

type memShard struct {
	mu    sync.Mutex
	rooms map[Key]*memRoom
}

// memRoom keeps the anchors apart so that a join's snapshot costs the number
// of anchors, not the size of the room (a big audience is cheap to join).
type memRoom struct {
	members map[string]Member // userID → member
	anchors map[string]Member // the anchors among them
}

func (r *memRoom) put(m Member) {
	r.members[m.UserID] = m
	if m.Role == Anchor {
		r.anchors[m.UserID] = m
	} else {
		delete(r.anchors, m.UserID)
	}
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

func (m *Memory) SetSink(f func(Event)) { m.sink = f }

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

func (m *Memory) emit(e Event) uint64 {
	e.Seq = m.seq.Add(1)
	e.Time = m.now()
	m.sink(e)
	return e.Seq
}

func (m *Memory) Enter(_ context.Context, room Key, mem Member) (Snapshot, error) {
	s := m.shard(room)
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.rooms[room]
	if r == nil {
		r = &memRoom{members: map[string]Member{}, anchors: map[string]Member{}}
		s.rooms[room] = r
	}
	old, existed := r.members[mem.UserID]
	r.put(mem)
	var snap Snapshot
	if existed {
		snap.Seq = m.emit(Event{Room: room, Kind: Replaced, Member: mem, Old: &old, Reason: ReasonDuplicate})
	} else {
		snap.Seq = m.emit(Event{Room: room, Kind: Entered, Member: mem})
	}
	snap.Anchors = make([]Member, 0, len(r.anchors))
	for _, x := range r.anchors {
		snap.Anchors = append(snap.Anchors, x)
	}
	return snap, nil
}

func (m *Memory) Leave(_ context.Context, room Key, userID, sessionID string, reason Reason) error {
	s := m.shard(room)
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.rooms[room]
	if r == nil {
		return nil
	}
	cur, ok := r.members[userID]
	if !ok || cur.SessionID != sessionID {
		return nil
	}
	r.remove(userID)
	if len(r.members) == 0 {
		delete(s.rooms, room)
	}
	m.emit(Event{Room: room, Kind: Exited, Member: cur, Reason: reason})
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
		cur, ok := r.members[u]
		if !ok {
			continue // absent or a duplicate already removed: idempotent
		}
		r.remove(u)
		m.emit(Event{Room: room, Kind: Exited, Member: cur, Reason: ReasonRemoved})
	}
	if len(r.members) == 0 {
		delete(s.rooms, room)
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
		all = append(all, x)
	}
	m.emit(Event{Room: room, Kind: Dismissed, Members: all, Reason: ReasonDismissed})
	return nil
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
		out = append(out, x)
	}
	return out, nil
}

// Watch and Unwatch are no-ops: every event of this registry is local.
func (m *Memory) Watch(context.Context, Key) error   { return nil }
func (m *Memory) Unwatch(context.Context, Key) error { return nil }
func (m *Memory) Close() error                       { return nil }

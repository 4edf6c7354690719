package history

import "sync"

// MaxTrackedMembers bounds one session's set of users that may have an open
// stay (sessionCache): past it the set is dropped.
const MaxTrackedMembers = 10_000

// sessionCache remembers, for each room, its latest room session, so that
// an event finds its session (sessionOf) without a query: that query was
// about a quarter of the write path's CPU. A nil cache (PostgreSQL) knows
// nothing and records nothing.
//
// Only on SQLite, where this process is the one writer: with PostgreSQL
// another node may open a newer session of the same room after the history
// group's shard moves, and a cached one would then be wrong.
//
// A room's entry is always the latest session of that room in the database
// (by creation time, then sequence number): it is seeded from the database
// when the first session this process writes for the room has no entry
// (a redelivered session that retention had deleted may come back older
// than one already there), and replaced only by a newer session this
// process writes; no other process writes (SQLite). So for an event at or
// after the entry's opening, the entry is the session the query would
// find; an older event (a redelivery) is looked up in the database. The
// cache is emptied when a transaction fails (what it learnt may have been
// rolled back) and, under the store's prune lock, when retention deletes
// rows (a cached session may be gone). Rooms whose latest session this
// process has not written since (a restart, an emptied cache) are looked
// up in the database at every event until their next session opens.
//
// An entry also knows who may have an open stay in its session (members),
// when it can: an entry repeats the duplicate-login UPDATE (apply.go) only
// for them. That UPDATE closes a user's open stays in the session, and a
// user entering for the first time has none: skipping it saved a fifth of
// the write path's CPU in a join burst (BenchmarkApplyJoins). members is
// known (not nil) only for a session this process opened (its row was new)
// in which the database then held no open stay (retention may have kept
// open stays of a session whose row it deleted, and a redelivered opening
// brings the row back); from then on every stay in it is written by this
// process and recorded here. A user leaves the set with a leave, which
// closes all of the user's stays that began before it. The set is dropped
// (and the UPDATE runs for everyone) when the session closes, when a newer
// session of the room replaces the entry, when the cache is emptied (a
// failed transaction, or an hourly retention run that deleted rows), and
// when it would hold more than MaxTrackedMembers users (a room that never
// closes, whose leaves were lost).
type sessionCache struct {
	mu    sync.Mutex
	rooms map[string]cachedSession // by room key
}

type cachedSession struct {
	comm        string
	createdMs   int64
	openSeq     uint64
	destroyedMs int64 // 0 while open
	// members are the users that may have an open stay in the session;
	// nil when the cache cannot tell (see sessionCache).
	members map[string]position // each one's latest entry
}

// get is the cached session ev belongs to, if the cache can tell: the
// room's latest session, opened at or before ev (by time, then sequence
// number).
func (c *sessionCache) get(ev *Event) (cachedSession, bool) {
	if c == nil {
		return cachedSession{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	cs, ok := c.rooms[ev.Room]
	if !ok || (position{ev.TimeMs, ev.Seq}).before(position{cs.createdMs, cs.openSeq}) {
		return cachedSession{}, false
	}
	return cs, true
}

// opened records a session written for room unless a newer one is cached;
// known is false when the room has no entry, and then nothing is recorded:
// the caller seeds the entry from the database (seed).
func (c *sessionCache) opened(room string, cs cachedSession) (known bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	old, ok := c.rooms[room]
	if !ok {
		return false
	}
	if cs.createdMs > old.createdMs || cs.createdMs == old.createdMs && cs.openSeq > old.openSeq {
		c.rooms[room] = cs
	}
	return true
}

// seed records room's latest session as read from the database.
func (c *sessionCache) seed(room string, cs cachedSession) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.rooms == nil {
		c.rooms = make(map[string]cachedSession)
	}
	c.rooms[room] = cs
}

// closed records that session comm of room closed at ms.
func (c *sessionCache) closed(room, comm string, ms int64) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if cs, ok := c.open(room, comm); ok {
		cs.destroyedMs, cs.members = ms, nil
		c.rooms[room] = cs
	}
}

// open is room's entry if it is session comm and that session is open
// (called with c.mu held). A closed session tracks no members (closed).
func (c *sessionCache) open(room, comm string) (cachedSession, bool) {
	cs, ok := c.rooms[room]
	return cs, ok && cs.comm == comm && cs.destroyedMs == 0
}

// fresh records that session comm of room, just opened by this process,
// holds no open stay: from now on the cache tracks its members.
func (c *sessionCache) fresh(room, comm string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if cs, ok := c.open(room, comm); ok {
		cs.members = make(map[string]position)
		c.rooms[room] = cs
	}
}

// latest is whether comm is the cached, open session of room.
func (c *sessionCache) latest(room, comm string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.open(room, comm)
	return ok
}

// mayHaveStay is false only when the cache knows that user has no open stay
// in session comm of room.
func (c *sessionCache) mayHaveStay(comm string, ev *Event) bool {
	if c == nil {
		return true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	cs, ok := c.open(ev.Room, comm)
	if !ok || cs.members == nil {
		return true
	}
	_, in := cs.members[ev.User]
	return in
}

// entered records that user entered session comm of room at ev (when the
// cache tracks its members); left that the user left at ev, which closed
// every stay of the user there that began before ev.
func (c *sessionCache) entered(comm string, ev *Event) { c.member(comm, ev, true) }
func (c *sessionCache) left(comm string, ev *Event)    { c.member(comm, ev, false) }

func (c *sessionCache) member(comm string, ev *Event, in bool) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	cs, ok := c.open(ev.Room, comm)
	if !ok || cs.members == nil {
		return
	}
	at := position{ev.TimeMs, ev.Seq}
	last, had := cs.members[ev.User]
	switch {
	case in && !had && len(cs.members) >= MaxTrackedMembers:
		cs.members = nil // too many to track: the UPDATE runs for everyone
		c.rooms[ev.Room] = cs
	case in && (!had || last.before(at)):
		cs.members[ev.User] = at
	case !in && had && last.before(at): // not a redelivered leave of an earlier stay
		delete(cs.members, ev.User)
	}
}

// position orders a room's events: by time, then sequence number.
type position struct {
	ms  int64
	seq uint64
}

func (p position) before(q position) bool { return p.ms < q.ms || p.ms == q.ms && p.seq < q.seq }

// forget empties the cache.
func (c *sessionCache) forget() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.rooms)
}

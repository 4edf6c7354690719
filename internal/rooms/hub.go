// Package rooms is the room domain: who is in which room, the order of room
// events, and what entering, leaving, removal and dismissal mean. It knows
// nothing of HTTP or WebSocket: sessions are reached through the Session
// interface and membership lives behind the Registry interface.
package rooms

import (
	"context"
	"hash/maphash"
	"sync"
	"time"
)

// Hub holds this node's sessions: it joins and leaves them, and turns the
// registry's room events into notices for the local sessions of each room.
// Changes that do not come from a session of this node (RemoveUser,
// DismissRoom) go through the Service.
type Hub struct {
	reg  Registry
	node string
	now  func() time.Time

	mu       sync.RWMutex
	rooms    map[Key]map[string]*attachment // room → session id → attachment
	watched  map[Key]bool
	draining bool

	seed       maphash.Seed
	watchLocks [64]sync.Mutex // serialise Watch/Unwatch per room

	stats hubStats
}

// attachment is one local session in one room.
type attachment struct {
	s      Session
	room   Key
	member Member

	mu      sync.Mutex
	pending bool    // joining: events are buffered until the snapshot is known
	buf     []Event // events seen while pending
	seq     uint64  // last sequence number handled
	gone    bool    // kicked: nothing more is delivered
}

// NewHub wires a hub to a registry; it takes over the registry's sink.
func NewHub(reg Registry, nodeID string, now func() time.Time) *Hub {
	if now == nil {
		now = time.Now
	}
	h := &Hub{reg: reg, node: nodeID, now: now, rooms: map[Key]map[string]*attachment{},
		watched: map[Key]bool{}, seed: maphash.MakeSeed()}
	reg.SetSink(h.dispatch)
	return h
}

// Join enters s into room as userID with role. On success the session has
// already been handed a Joined notice, and every later event of the room
// follows it in order. Nothing changes in the room on failure.
func (h *Hub) Join(ctx context.Context, room Key, userID string, role Role, s Session) error {
	return h.JoinClient(ctx, room, userID, role, Client{}, s)
}

// JoinClient is Join for a client that described itself: c goes with the
// member into its enter event.
func (h *Hub) JoinClient(ctx context.Context, room Key, userID string, role Role, c Client, s Session) error {
	m := Member{UserID: userID, Role: role, SessionID: s.ID(), NodeID: h.node, JoinedAt: h.now(), Client: c}
	a := &attachment{s: s, room: room, member: m, pending: true}
	h.mu.Lock()
	if h.draining {
		h.mu.Unlock()
		return ErrDraining
	}
	atts := h.rooms[room]
	if atts == nil {
		atts = map[string]*attachment{}
		h.rooms[room] = atts
	}
	atts[m.SessionID] = a
	h.mu.Unlock()

	fail := func(err error) error {
		h.detach(a)
		h.reconcile(context.WithoutCancel(ctx), room)
		return err
	}
	if err := h.reconcile(ctx, room); err != nil {
		return fail(err)
	}
	snap, err := h.reg.Enter(ctx, room, m)
	if err != nil {
		return fail(err)
	}

	a.mu.Lock()
	members := snap.Anchors
	if role == Audience {
		members = append(members, m)
	}
	a.s.Deliver(&Notice{Type: Joined, Room: room, Seq: snap.Seq, SessionID: m.SessionID, Members: members, Time: m.JoinedAt})
	a.pending, a.seq = false, snap.Seq
	for _, e := range a.buf {
		h.deliverLocked(a, &e, sharedNotice(&e))
	}
	a.buf = nil
	a.mu.Unlock()
	h.stats.joins.Add(1)
	return nil
}

// Leave takes s out of room for reason (left, timeout). Every session calls
// it once at its end, kicked ones too: for them the registry's leave changes
// nothing in the room (the session is no longer the member) but tidies the
// registry's own records.
func (h *Hub) Leave(ctx context.Context, room Key, s Session, reason Reason) error {
	a := h.lookup(room, s.ID())
	var err error
	if a != nil {
		a.mu.Lock()
		if !a.gone {
			h.stats.leaves.add(reason)
		}
		a.gone = true
		a.mu.Unlock()
		h.detach(a)
		err = h.reg.Leave(ctx, room, a.member.UserID, a.member.SessionID, reason)
	}
	h.reconcile(ctx, room)
	return err
}

// SwitchRole gives s, a session of this node in room, the role. It returns
// the change's sequence number once it is committed; the session is then
// told (RoleSwitched) in the room's order, and so are the others as their
// view changes (UserEntered, or UserLeft with ReasonRoleSwitch).
func (h *Hub) SwitchRole(ctx context.Context, room Key, s Session, role Role) (uint64, error) {
	a := h.lookup(room, s.ID())
	if a == nil {
		return 0, ErrNotMember
	}
	a.mu.Lock()
	user, gone, pending := a.member.UserID, a.gone, a.pending
	a.mu.Unlock()
	if gone || pending {
		return 0, ErrNotMember
	}
	return h.reg.SwitchRole(ctx, room, user, s.ID(), role)
}

// Announce gives n to every session of room on this node that has joined
// and not been kicked. It is for notices that change no membership
// (SetUserBlocked); it never blocks.
func (h *Hub) Announce(room Key, n *Notice) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	for _, a := range h.rooms[room] {
		a.mu.Lock()
		if !a.pending && !a.gone {
			a.s.Deliver(n)
		}
		a.mu.Unlock()
	}
}

// Drain refuses further joins (graceful shutdown); the transport then
// leaves its sessions.
func (h *Hub) Drain() {
	h.mu.Lock()
	h.draining = true
	h.mu.Unlock()
}

// Sessions counts this node's attached sessions.
func (h *Hub) Sessions() int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	n := 0
	for _, atts := range h.rooms {
		n += len(atts)
	}
	return n
}

// LocalMembers returns the members held by this node's sessions, room by
// room: what a node re-registers when the registry lost its state.
func (h *Hub) LocalMembers() map[Key][]Member {
	h.mu.RLock()
	defer h.mu.RUnlock()
	out := make(map[Key][]Member, len(h.rooms))
	for k, atts := range h.rooms {
		for _, a := range atts {
			a.mu.Lock()
			if !a.pending && !a.gone {
				out[k] = append(out[k], a.member)
			}
			a.mu.Unlock()
		}
	}
	return out
}

func (h *Hub) lookup(room Key, sessionID string) *attachment {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.rooms[room][sessionID]
}

func (h *Hub) detach(a *attachment) {
	h.mu.Lock()
	defer h.mu.Unlock()
	atts := h.rooms[a.room]
	if atts[a.member.SessionID] == a {
		delete(atts, a.member.SessionID)
		if len(atts) == 0 {
			delete(h.rooms, a.room)
		}
	}
}

// reconcile makes the registry's watch on room match whether this node
// still holds sessions there.
func (h *Hub) reconcile(ctx context.Context, room Key) error {
	l := &h.watchLocks[maphash.Comparable(h.seed, room)%uint64(len(h.watchLocks))]
	l.Lock()
	defer l.Unlock()
	h.mu.RLock()
	want, have := len(h.rooms[room]) > 0, h.watched[room]
	h.mu.RUnlock()
	if want == have {
		return nil
	}
	var err error
	if want {
		err = h.reg.Watch(ctx, room)
	} else {
		err = h.reg.Unwatch(ctx, room)
	}
	if err != nil && want {
		return err
	}
	h.mu.Lock()
	if want {
		h.watched[room] = true
	} else {
		delete(h.watched, room)
	}
	h.mu.Unlock()
	return nil
}

// dispatch is the registry's sink: it hands each event to the local sessions
// of its room. It never blocks.
func (h *Hub) dispatch(e Event) {
	shared := sharedNotice(&e)
	h.mu.RLock()
	defer h.mu.RUnlock()
	atts := h.rooms[e.Room]
	if shared == nil {
		// Nobody else is told anything (an audience member came or went, a
		// duplicate replaced a session): only the sessions the event names
		// can be concerned, so a large room is not walked for them.
		for _, sid := range named(&e) {
			if a := atts[sid]; a != nil {
				a.mu.Lock()
				h.deliverLocked(a, &e, nil)
				a.mu.Unlock()
			}
		}
		return
	}
	for _, a := range atts {
		a.mu.Lock()
		h.deliverLocked(a, &e, shared)
		a.mu.Unlock()
	}
}

// named lists the sessions an event is about.
func named(e *Event) []string {
	if e.Kind == Replaced {
		return []string{e.Member.SessionID, e.Old.SessionID}
	}
	return []string{e.Member.SessionID}
}

// deliverLocked gives one event to one attachment (a.mu held). A kicked
// attachment stays attached, receiving nothing more, until its session's
// Leave.
func (h *Hub) deliverLocked(a *attachment, e *Event, shared *Notice) {
	switch {
	case a.gone:
		return
	case a.pending:
		a.buf = append(a.buf, *e)
		return
	case e.Seq <= a.seq:
		return // already covered by the join snapshot, or seen
	}
	a.seq = e.Seq
	if e.Kind == RoleChanged && e.Member.SessionID == a.member.SessionID {
		a.member.Role = e.Member.Role
	}
	n := view(a.member.SessionID, e, shared)
	if n == nil {
		return
	}
	a.s.Deliver(n)
	if n.Type == Kicked {
		a.gone = true
		h.stats.kicks.add(n.Reason)
	}
}

// view is the notice that the session sid gets for e: its own kick, the
// shared notice for everyone else, or nothing.
func view(sid string, e *Event, shared *Notice) *Notice {
	switch e.Kind {
	case Entered:
		if e.Member.SessionID == sid {
			return nil
		}
	case Replaced:
		if e.Old.SessionID == sid {
			return kickedNotice(e, ReasonDuplicate)
		}
		if e.Member.SessionID == sid {
			return nil
		}
	case Exited:
		if e.Member.SessionID == sid {
			if e.Reason == ReasonLeft {
				return nil
			}
			return kickedNotice(e, e.Reason)
		}
	case RoleChanged:
		if e.Member.SessionID == sid {
			return &Notice{Type: RoleSwitched, Room: e.Room, Seq: e.Seq, UserID: e.Member.UserID, Role: e.Member.Role, Time: e.Time}
		}
	}
	return shared
}

func kickedNotice(e *Event, r Reason) *Notice {
	return &Notice{Type: Kicked, Room: e.Room, Seq: e.Seq, Reason: r, Time: e.Time}
}

// sharedNotice is what the other members of the room are told about e; nil
// when they are told nothing (audience comings and goings, duplicates).
func sharedNotice(e *Event) *Notice {
	m := e.Member
	entered := &Notice{Type: UserEntered, Room: e.Room, Seq: e.Seq, UserID: m.UserID, Role: m.Role, Time: e.Time}
	switch e.Kind {
	case Entered:
		if m.Role == Anchor {
			return entered
		}
	case Replaced:
		// A duplicate is invisible to others unless it changes visibility.
		if e.Old.Role == Audience && m.Role == Anchor {
			return entered
		}
		if e.Old.Role == Anchor && m.Role == Audience {
			return &Notice{Type: UserLeft, Room: e.Room, Seq: e.Seq, UserID: m.UserID, Role: Anchor, Reason: ReasonLeft, Time: e.Time}
		}
	case Exited:
		if m.Role == Anchor {
			return &Notice{Type: UserLeft, Room: e.Room, Seq: e.Seq, UserID: m.UserID, Role: m.Role, Reason: e.Reason, Time: e.Time}
		}
	case Dismissed:
		return kickedNotice(e, ReasonDismissed)
	case RoleChanged:
		// Others see audience members neither come nor go: an audience
		// member becoming an anchor enters their view, and the reverse
		// leaves it.
		if m.Role == Anchor {
			return entered
		}
		return &Notice{Type: UserLeft, Room: e.Room, Seq: e.Seq, UserID: m.UserID, Role: Anchor, Reason: ReasonRoleSwitch, Time: e.Time}
	}
	return nil
}

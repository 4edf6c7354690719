package callbacks

import (
	"database/sql"
	"sort"
)

// Write-behind (the SQLite outbox of one node). An accepted event is sent at
// once from memory; the writer's next transaction, CommitDelay later, writes
// what the event still needs by then: nothing when it has been delivered
// (the common case: a receiver answers within milliseconds), a pending row
// with the attempts made so far, or a dead letter. Until that commit the
// event is "held": in memory, counted as pending, and recognised as a
// duplicate. The window in which a crash loses an accepted event is the
// same as before (the event used to wait in the in-process log for the
// same commit), so the durability promise is unchanged: an undelivered
// event is in the outbox file within CommitDelay of its acceptance.
// docs/callbacks.md, "Outbox".
//
// A delivered event used to be written too, as a delivered row kept
// DeliveredRetention to recognise a redelivery: one insert per event, the
// larger part of the callbacks' CPU in a kick phase once the HTTP client
// was cheap (docs/benchmarks.md, eighth session). The marks below recognise
// a redelivery in memory instead, and the console's recent deliveries come
// from a ring in memory (recentKept per app, recent.go).

// Telling a duplicate without reading the file. A room's events come in
// order, their sequence numbers increasing (on one node one counter numbers
// every room's events; their times come from the wall clock, which may step
// back, so they do not decide), and the log hands an event over again only
// when it was not taken (an error) or with the events after it; so the
// store keeps, per room, the newest event it accepted (a mark), and an event
// at or before its room's mark was accepted by this process: a duplicate.
// A mark moves only once its event is accepted, and a room's mark is
// dropped when the write of one of its events fails, so an event handed
// back with an error is taken when it comes again. Below every room lies a
// floor: the newest event time in the file when it was opened, raised to
// that of every mark it forgets (marks older than DeliveredRetention go at
// each prune). An event with no mark and after the floor cannot be in the
// file; one at or before the floor is looked up in the file (pending rows
// and dead letters).

// mark is the newest event accepted for a room.
type mark struct {
	eventMs int64
	seq     uint64
}

// eventAge is what the marks tell of an event handed over.
type eventAge uint8

const (
	ageNew     eventAge = iota // newer than its room's mark and the floor: not in the file
	ageTaken                   // at or before its room's mark: accepted before, a duplicate
	ageUnknown                 // no mark, at or before the floor: it may be in the file
)

// age tells r's eventAge. Caller holds hmu.
func (st *Store) age(r *row) eventAge {
	m, ok := st.marks[r.room]
	switch {
	case ok && r.seq <= m.seq:
		return ageTaken
	case r.eventMs <= st.floorMs:
		return ageUnknown
	}
	return ageNew
}

// taken makes r its room's mark if it is newer. Caller holds hmu.
func (st *Store) taken(r *row) {
	if m, ok := st.marks[r.room]; !ok || r.seq > m.seq {
		st.marks[r.room] = mark{r.eventMs, r.seq}
	}
}

// forgetMarks drops the marks of events older than beforeMs, raising the
// floor to them. Caller holds hmu.
func (st *Store) forgetMarks(beforeMs int64) {
	for room, m := range st.marks {
		if m.eventMs < beforeMs {
			st.floorMs = max(st.floorMs, m.eventMs)
			delete(st.marks, room)
		}
	}
}

// heldState is the state a held event has reached: what the writer will
// write for it.
type heldState uint8

const (
	heldPending   heldState = iota // a pending row (not yet delivered)
	heldDelivered                  // nothing: it was delivered
	heldDead                       // a dead letter
)

// eventKey is an event's identity in the outbox (its unique index).
type eventKey struct {
	room    string
	seq     uint64
	etype   int
	eventMs int64
}

func keyOf(r *row) eventKey { return eventKey{r.room, r.seq, r.etype, r.eventMs} }

// held is an accepted event whose row the writer has not committed yet.
// Its fields are guarded by Store.hmu; r's fields other than attempts are
// never changed after acceptance, so the writer may read them.
type held struct {
	r        *row
	state    heldState
	writing  bool // in the writer's current transaction: changes go to SQL after it
	attempts int
	lastErr  string
	doneMs   int64 // delivered or dead at
	after    []func()
}

// Writes counts the events the write-behind handled, by the state they had
// at their commit: "delivered" (nothing written), "pending" and "dead"
// (rows written), and "failed" (the write failed).
func (st *Store) Writes() map[string]uint64 {
	return map[string]uint64{"pending": st.written[heldPending].Load(), "delivered": st.written[heldDelivered].Load(),
		"dead": st.written[heldDead].Load(), "failed": st.writeErrors.Load()}
}

// writeHeld writes hs in tx, each in the state it has now (marked writing:
// a later change of state is queued as an SQL change after this commit).
func (st *Store) writeHeld(tx *sql.Tx, hs []*held) error {
	for _, h := range hs {
		st.hmu.Lock()
		h.writing = true
		state, attempts, lastErr, doneMs := h.state, h.attempts, h.lastErr, h.doneMs
		st.hmu.Unlock()
		r := h.r
		if state == heldDelivered {
			continue // nothing to keep
		}
		st.turns.Maybe()
		var err error
		if state == heldDead {
			_, err = st.txExec(tx, insertDeadSQL, int64(r.app), r.room, int64(r.seq), r.etype, r.eventMs, r.info, attempts, lastErr, doneMs)
		} else { // a pending row (the outbox's state column 0)
			_, err = st.txExec(tx, insertHeldSQL, r.id, int64(r.app), r.room, int64(r.seq), r.etype, r.eventMs, r.info, r.startMs,
				attempts, lastErr, 0, doneMs)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// wrote forgets hs once their transaction has ended (err: it failed; the
// events are still sent from memory, but would not survive a crash).
func (st *Store) wrote(hs []*held, err error) {
	var after []func()
	st.hmu.Lock()
	for _, h := range hs {
		if st.held[h.r.id] != h {
			continue
		}
		delete(st.held, h.r.id)
		delete(st.heldKeys, keyOf(h.r))
		after = append(after, h.after...)
		if h.state == heldDelivered {
			st.recent.add(Delivery{ID: h.r.id, App: h.r.app, Room: h.r.room, Seq: h.r.seq, EventType: h.r.etype,
				EventMs: h.r.eventMs, Attempts: h.attempts, LastError: h.lastErr, Delivered: true, DoneMs: h.doneMs})
		}
		if err != nil { // handed back, its events must be taken again
			delete(st.marks, h.r.room)
		}
	}
	st.hmu.Unlock()
	if err == nil {
		for _, h := range hs {
			st.written[h.state].Add(1)
		}
	} else {
		st.writeErrors.Add(uint64(len(hs)))
		st.log.Error("callbacks: writing accepted events to the outbox failed; they are sent from memory only", "events", len(hs), "err", err)
	}
	for _, f := range after {
		f()
	}
}

// holdChange applies a change of state to r if it is held and not being
// written; false means the caller must change its row in SQL instead.
func (st *Store) holdChange(r *row, change func(h *held)) bool {
	st.hmu.Lock()
	defer st.hmu.Unlock()
	h := st.held[r.id]
	if h == nil || h.writing {
		return false
	}
	change(h)
	return true
}

// heldRows lists the held pending events of room after afterID (all rooms
// when room is ""), as rows of their own (the lanes' copies change).
func (st *Store) heldRows(room string, afterID int64) []*row {
	st.hmu.Lock()
	defer st.hmu.Unlock()
	var out []*row
	for id, h := range st.held {
		if h.state != heldPending || id <= afterID || (room != "" && h.r.room != room) {
			continue
		}
		r := h.r // not *h.r: a lane counts its attempts on it
		out = append(out, &row{id: r.id, app: r.app, room: r.room, seq: r.seq, etype: r.etype, eventMs: r.eventMs,
			info: r.info, startMs: r.startMs, attempts: h.attempts})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}

// mergeRows merges two id-ordered lists, dropping repeated ids (a row
// committed between the reads of held and of the file is in both), and
// keeps the first limit.
func mergeRows(a, b []*row, limit int) []*row {
	out := make([]*row, 0, min(len(a)+len(b), limit))
	for len(out) < limit && (len(a) > 0 || len(b) > 0) {
		var r *row
		switch {
		case len(b) == 0 || (len(a) > 0 && a[0].id <= b[0].id):
			r, a = a[0], a[1:]
			if len(b) > 0 && b[0].id == r.id {
				b = b[1:]
			}
		default:
			r, b = b[0], b[1:]
		}
		out = append(out, r)
	}
	return out
}

const (
	insertHeldSQL = `INSERT OR IGNORE INTO outbox(id, app, room, seq, etype, event_ms, info, start_ms, attempts, last_error, state, done_ms)
		VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	insertDeadSQL = `INSERT OR REPLACE INTO deadletter(app, room, seq, etype, event_ms, info, attempts, last_error, dead_ms)
		VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)`
	// knownSQL: is the event in the outbox (pending, or delivered within
	// DeliveredRetention) or in the dead letters?
	knownSQL = `SELECT EXISTS(SELECT 1 FROM outbox WHERE room = ? AND seq = ? AND etype = ? AND event_ms = ?)
		OR EXISTS(SELECT 1 FROM deadletter WHERE room = ? AND seq = ? AND etype = ? AND event_ms = ?)`
	// lastIDSQL: the outbox's ids are handed out in memory from here on
	// (AUTOINCREMENT never reuses one, hence sqlite_sequence too).
	// floorSQL: the newest event time in the file (the first floor).
	floorSQL = `SELECT MAX(COALESCE((SELECT MAX(event_ms) FROM outbox), 0),
		COALESCE((SELECT MAX(event_ms) FROM deadletter), 0))`
	lastIDSQL = `SELECT MAX(COALESCE((SELECT MAX(id) FROM outbox), 0),
		COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'outbox'), 0))`
)

package callbacks

import (
	"database/sql"
	"sort"
)

// Write-behind (the SQLite outbox of one node). An accepted event is sent at
// once from memory; its row is written by the writer's next transaction,
// CommitDelay later, in whatever state the event has reached by then: a
// delivered row (one insert, where writing it pending and then marking it
// delivered took an insert and an update that touched every index twice),
// a pending row with the attempts made so far, or straight into the dead
// letters. Until that commit the event is "held": in memory, counted as
// pending, and recognised as a duplicate. The window in which a crash loses
// an accepted event is the same as before (the event used to wait in the
// in-process log for the same commit), so the durability promise is
// unchanged: an event is in the outbox file within CommitDelay of its
// acceptance. docs/callbacks.md, "Outbox".

// Telling a duplicate without reading the file. An accepted event is a
// duplicate if it is held, in the outbox or in the dead letters; reading
// the file for every event cost more than the write-behind saved. A room's
// events come with increasing (time, sequence number), so the store keeps,
// per room, the newest event it accepted (a mark), and below every room a
// floor: the newest event time in the file when it was opened, raised to
// that of every mark it forgets (marks older than DeliveredRetention go at
// each prune). An event newer than its room's mark and than the floor
// cannot be in the file; only the others are looked up (known).

// mark is the newest event accepted for a room.
type mark struct {
	eventMs int64
	seq     uint64
}

// fresh tells whether r's event is newer than anything of its room that
// the file may hold, and if so makes it the room's mark. Caller holds hmu.
func (st *Store) fresh(r *row) bool {
	m, ok := st.marks[r.room]
	if r.eventMs <= st.floorMs || (ok && (r.eventMs < m.eventMs || (r.eventMs == m.eventMs && r.seq <= m.seq))) {
		return false
	}
	st.marks[r.room] = mark{r.eventMs, r.seq}
	return true
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

// heldState is what the writer will write for a held event; heldPending
// and heldDelivered are the outbox's state column (0, 1).
type heldState uint8

const (
	heldPending   heldState = iota // a pending row (not yet delivered)
	heldDelivered                  // a delivered row
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

// Writes counts the rows the write-behind wrote, by the state they were
// written in, and the events whose write failed ("failed").
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
		yield()
		var err error
		if state == heldDead {
			_, err = st.txExec(tx, insertDeadSQL, int64(r.app), r.room, int64(r.seq), r.etype, r.eventMs, r.info, attempts, lastErr, doneMs)
		} else { // the outbox's state column: 0 pending (doneMs 0), 1 delivered
			_, err = st.txExec(tx, insertHeldSQL, r.id, int64(r.app), r.room, int64(r.seq), r.etype, r.eventMs, r.info, r.startMs,
				attempts, lastErr, int(state), doneMs)
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

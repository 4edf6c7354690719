package history

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// Apply writes one event. It is idempotent: an event delivered again (same
// Room, Seq, Type) changes nothing. A malformed event returns an error
// wrapping ErrBadEvent and is not stored; any other error means nothing was
// stored and the event should be delivered again. Apply may be called from
// many goroutines at once: their events share transactions (group commit,
// see commit.go), so a busy consumer group pays for one commit per batch,
// not per event.
func (s *Store) Apply(ctx context.Context, ev Event) error {
	return s.submit(ctx, []Event{ev})
}

// ApplyAll writes events in order in one transaction (shared with other
// callers' events, as Apply's). Malformed events are skipped (the error
// wraps ErrBadEvent and the others are stored); any other error means none
// was stored.
func (s *Store) ApplyAll(ctx context.Context, evs []Event) error {
	if len(evs) == 0 {
		return nil
	}
	return s.submit(ctx, evs)
}

// applyBatch writes evs in one transaction, in order. bad holds an error
// wrapping ErrBadEvent for each malformed event, which is skipped (nil for
// the others); err means nothing was stored.
func (s *Store) applyBatch(ctx context.Context, evs []Event) (bad []error, err error) {
	s.pruneMu.RLock() // Prune deletes sessions and empties the cache in between
	defer s.pruneMu.RUnlock()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		s.failed.Add(1)
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	defer tx.Rollback()
	w := &txStmts{tx: tx, s: s}
	// On SQLite the statements run without the deadline: given one, the
	// driver starts a goroutine per statement to interrupt it when the
	// deadline passes (modernc's interruptOnDone): a fifth of the writer's
	// time per event (BenchmarkApply, batches of 100: 42-46k events/s with
	// it, 52-59k without). A local statement does not hang, and the
	// transaction is still rolled back at CommitTimeout. PostgreSQL keeps
	// it: a statement there waits on the network.
	sctx := ctx
	if !s.pg {
		sctx = context.WithoutCancel(ctx)
	}
	bad = make([]error, len(evs))
	applied, ignored := 0, 0
	// A SQLite transaction computes without a pause: let waiting requests
	// in (writer yield), unless the writer is behind (a full batch).
	s.w.turns.Start(len(evs) >= MaxCommitBatch)
	for i := range evs {
		s.w.turns.Maybe()
		ev := &evs[i]
		if err := check(ev); err != nil {
			bad[i] = fmt.Errorf("event %s seq %d: %w", ev.Room, ev.Seq, err)
			ignored++
			continue
		}
		kept, err := s.apply(sctx, w, ev)
		if err != nil {
			s.sessions.forget()
			s.failed.Add(1)
			return nil, fmt.Errorf("%w: applying %s seq %d: %v", ErrUnavailable, ev.Room, ev.Seq, err)
		}
		if kept {
			applied++
		} else {
			ignored++
		}
	}
	if err := tx.Commit(); err != nil {
		s.sessions.forget()
		s.failed.Add(1)
		return nil, fmt.Errorf("%w: commit: %v", ErrUnavailable, err)
	}
	s.applied.Add(int64(applied))
	s.ignored.Add(int64(ignored))
	return bad, nil
}

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// apply writes one valid event; kept is false for types the store ignores.
func (s *Store) apply(ctx context.Context, tx execer, ev *Event) (kept bool, err error) {
	exec := func(q string, args ...any) error {
		_, err := tx.ExecContext(ctx, q, args...)
		return err
	}
	switch ev.Type {
	case TypeRoomOpened:
		return true, s.openSession(ctx, tx, ev)
	case TypeRoomClosed:
		comm, _, ok, err := s.sessionOf(ctx, tx, ev)
		if err != nil || !ok {
			return ok, err
		}
		reason := ev.Reason
		if reason == "" {
			reason = ReasonEmpty
		}
		if err := exec(`UPDATE room_sessions SET destroyed_ms = ?, close_reason = ? WHERE comm_id = ? AND destroyed_ms IS NULL`,
			ev.TimeMs, reason, comm); err != nil {
			return true, err
		}
		s.sessions.closed(ev.Room, comm, ev.TimeMs)
		// Members still open when the room closes (their leave was lost) leave with it.
		memberReason := ReasonLeft
		if reason == ReasonDismissed {
			memberReason = ReasonDismissed
		}
		return true, exec(`UPDATE member_sessions SET leave_ms = ?, leave_reason = ? WHERE comm_id = ? AND leave_ms IS NULL`,
			ev.TimeMs, memberReason, comm)
	}
	if _, user := eventIDs[ev.Type]; !user || ev.User == "" {
		return false, nil
	}
	comm, destroyed, ok, err := s.sessionOf(ctx, tx, ev)
	if err != nil {
		return false, err
	}
	if ev.Type == TypeEnter && (!ok || (destroyed != 0 && destroyed < ev.TimeMs)) {
		// The room's opening was never seen (history enabled mid-session):
		// this entry opens a session of its own.
		open := *ev
		open.Type = TypeRoomOpened
		if err := s.openSession(ctx, tx, &open); err != nil {
			return false, err
		}
		comm, ok = CommID(ev.App, roomText(ev), ev.RoomStr != "", ev.TimeMs, ev.Seq), true
	}
	if !ok {
		return false, nil
	}
	// "Before this event": an earlier time, or the same millisecond and an
	// earlier sequence number (time first, so a sequence restarted after a
	// Redis restart still orders correctly).
	const before = `(join_ms < ? OR (join_ms = ? AND enter_seq < ?))`
	switch ev.Type {
	case TypeEnter:
		// The same user entering again replaces the earlier stay (duplicate
		// login) even when no leave was delivered for it. Skipped when the
		// session cache knows the user has no open stay (sessions.go).
		if s.sessions.mayHaveStay(comm, ev) {
			s.dupChecks.Add(1)
			if err := exec(`UPDATE member_sessions SET leave_ms = ?, leave_reason = ? WHERE comm_id = ? AND user_id = ? AND leave_ms IS NULL AND `+before,
				ev.TimeMs, ReasonDuplicate, comm, ev.User, ev.TimeMs, ev.TimeMs, ev.Seq); err != nil {
				return true, err
			}
		}
		role := ev.Role
		if role == "" {
			role = "anchor"
		}
		// The stay is the enter event too: DescribeUserEvent reads it off
		// the row (query.go), so no user_events row is written for it.
		if err := exec(`INSERT INTO member_sessions (comm_id, enter_seq, user_id, app, room_key, room_text, role, session_id, join_ms, leave_ms, leave_reason, client_ip, device, sdk_version)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, '', ?, ?, ?) ON CONFLICT (comm_id, user_id, enter_seq) DO NOTHING`,
			comm, int64(ev.Seq), ev.User, int64(ev.App), ev.Room, roomText(ev), role, ev.SessionID, ev.TimeMs,
			ev.ClientIP, ev.Device, ev.SdkVersion); err != nil {
			return true, err
		}
		s.sessions.entered(comm, ev)
		return true, nil
	case TypeLeave:
		reason := ev.Reason
		if reason == "" {
			reason = ReasonLeft
		}
		// A leave is read off the stay it closes (leave_seq). Kept as a
		// user_events row instead: a leave without a reason (its ParamOne
		// is 0, where the stay says "left") and one that closes no stay
		// (its enter was never seen) unless it is a redelivery.
		seq := sql.NullInt64{Int64: int64(ev.Seq), Valid: ev.Reason != ""}
		res, err := tx.ExecContext(ctx, `UPDATE member_sessions SET leave_ms = ?, leave_reason = ?, leave_seq = ? WHERE comm_id = ? AND user_id = ? AND leave_ms IS NULL AND `+before,
			ev.TimeMs, reason, seq, comm, ev.User, ev.TimeMs, ev.TimeMs, ev.Seq)
		if err != nil {
			return true, err
		}
		s.sessions.left(comm, ev)
		if !seq.Valid {
			break
		}
		if n, err := res.RowsAffected(); err != nil || n > 0 {
			return true, err
		}
		var closed bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM member_sessions WHERE comm_id = ? AND user_id = ? AND leave_seq = ?)`,
			comm, ev.User, int64(ev.Seq)).Scan(&closed); err != nil || closed {
			return true, err
		}
	}
	ue, _ := userEvent(ev)
	return true, exec(`INSERT INTO user_events (comm_id, user_id, seq, type, app, time_ms, event_id, stream, param_one, param_two)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (comm_id, user_id, seq, type) DO NOTHING`,
		comm, ev.User, int64(ev.Seq), ev.Type, int64(ev.App), ue.TimeMs, ue.EventID, ue.Stream, ue.ParamOne, ue.ParamTwo)
}

func (s *Store) openSession(ctx context.Context, tx execer, ev *Event) error {
	str := ev.RoomStr != ""
	isStr := 0
	if str {
		isStr = 1
	}
	comm := CommID(ev.App, roomText(ev), str, ev.TimeMs, ev.Seq)
	res, err := tx.ExecContext(ctx, `INSERT INTO room_sessions (comm_id, app, room_key, room_text, is_str, open_seq, created_ms, destroyed_ms, creator, close_reason)
		VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?, '') ON CONFLICT (comm_id) DO NOTHING`,
		comm, int64(ev.App), ev.Room, roomText(ev), isStr, int64(ev.Seq), ev.TimeMs, ev.User)
	if err != nil || s.sessions == nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return nil // not a new row: a redelivery, whose session may have closed since
	}
	if !s.sessions.opened(ev.Room, cachedSession{comm: comm, createdMs: ev.TimeMs, openSeq: ev.Seq}) {
		if err := s.seedSession(ctx, tx, ev.Room); err != nil {
			return err
		}
	}
	if !s.sessions.latest(ev.Room, comm) {
		return nil // a newer session of the room is cached
	}
	// A new row, but retention may have kept open stays of an earlier copy of it.
	var stays bool
	if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM member_sessions WHERE comm_id = ? AND leave_ms IS NULL)`, comm).Scan(&stays); err != nil {
		return err
	}
	if !stays {
		s.sessions.fresh(ev.Room, comm)
	}
	return nil
}

// seedSession caches room's latest session in the database.
func (s *Store) seedSession(ctx context.Context, tx execer, room string) error {
	var cs cachedSession
	var seq int64
	var destroyed sql.NullInt64
	err := tx.QueryRowContext(ctx, `SELECT comm_id, created_ms, open_seq, destroyed_ms FROM room_sessions
		WHERE room_key = ? ORDER BY created_ms DESC, open_seq DESC LIMIT 1`, room).Scan(&cs.comm, &cs.createdMs, &seq, &destroyed)
	if err != nil {
		return err
	}
	cs.openSeq, cs.destroyedMs = uint64(seq), destroyed.Int64
	s.sessions.seed(room, cs)
	return nil
}

// sessionOf finds the room session an event belongs to: the latest one of
// its room opened before it (by time, then sequence number).
func (s *Store) sessionOf(ctx context.Context, tx execer, ev *Event) (comm string, destroyedMs int64, ok bool, err error) {
	if cs, hit := s.sessions.get(ev); hit {
		return cs.comm, cs.destroyedMs, true, nil
	}
	var destroyed sql.NullInt64
	err = tx.QueryRowContext(ctx, `SELECT comm_id, destroyed_ms FROM room_sessions
		WHERE room_key = ? AND (created_ms < ? OR (created_ms = ? AND open_seq <= ?))
		ORDER BY created_ms DESC, open_seq DESC LIMIT 1`,
		ev.Room, ev.TimeMs, ev.TimeMs, int64(ev.Seq)).Scan(&comm, &destroyed)
	if errors.Is(err, sql.ErrNoRows) {
		return "", 0, false, nil
	}
	return comm, destroyed.Int64, err == nil, err
}

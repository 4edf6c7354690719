package callbacks

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"
	"time"
)

// DeadLetter is an event that was not delivered within the retry horizon.
type DeadLetter struct {
	ID        int64           `json:"id"`
	App       uint64          `json:"sdkAppId"`
	Room      string          `json:"room"`
	Seq       uint64          `json:"seq"`
	EventType int             `json:"eventType"`
	EventMs   int64           `json:"eventMsTs"`
	Attempts  int             `json:"attempts"`
	LastError string          `json:"lastError"`
	DeadMs    int64           `json:"deadMsTs"`
	EventInfo json.RawMessage `json:"eventInfo"`
}

// DeadFilter selects dead letters: by app (0: all) and by id (none: all).
type DeadFilter struct {
	App uint64
	IDs []int64
}

func (f DeadFilter) where() (string, []any) {
	var conds []string
	var args []any
	if f.App != 0 {
		conds, args = append(conds, "app = ?"), append(args, int64(f.App))
	}
	if len(f.IDs) > 0 {
		conds = append(conds, "id IN ("+strings.TrimSuffix(strings.Repeat("?,", len(f.IDs)), ",")+")")
		for _, id := range f.IDs {
			args = append(args, id)
		}
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

// DeadLetters lists the dead letters that f selects, oldest event first
// (event time, then sequence number).
func (st *Store) DeadLetters(f DeadFilter) ([]DeadLetter, error) {
	where, args := f.where()
	rs, err := st.r.Query(`SELECT id, app, room, seq, etype, event_ms, attempts, last_error, dead_ms, info
		FROM deadletter`+where+` ORDER BY event_ms, seq, id`, args...)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	out := []DeadLetter{}
	for rs.Next() {
		var d DeadLetter
		var app, seq int64
		var info []byte
		if err := rs.Scan(&d.ID, &app, &d.Room, &seq, &d.EventType, &d.EventMs, &d.Attempts, &d.LastError, &d.DeadMs, &info); err != nil {
			return nil, err
		}
		d.App, d.Seq, d.EventInfo = uint64(app), uint64(seq), info
		out = append(out, d)
	}
	return out, rs.Err()
}

// Replay moves the dead letters that f selects back into the outbox, after
// whatever is pending for their rooms, with a fresh retry horizon. A running
// sender on the same data_dir picks them up within RescanInterval. It
// reports how many moved.
func (st *Store) Replay(ctx context.Context, f DeadFilter) (int64, error) {
	where, args := f.where()
	var n int64
	err := st.exec(ctx, func(tx *sql.Tx) error {
		now := time.Now().UnixMilli()
		// A delivered copy of the same event would block the insert: the
		// operator asked for it again, so it goes.
		if _, err := tx.Exec(`DELETE FROM outbox WHERE state = 1 AND (room, seq, etype, event_ms) IN
			(SELECT room, seq, etype, event_ms FROM deadletter`+where+`)`, args...); err != nil {
			return err
		}
		// The replayed rows take ids from the outbox's own count (held events
		// have theirs already: writebehind.go).
		// In event order: a room's dead letters may have been written out of
		// it (an event that went dead while held is written with its accept).
		rs, err := tx.Query(`SELECT app, room, seq, etype, event_ms, info FROM deadletter`+where+` ORDER BY event_ms, seq, id`, args...)
		if err != nil {
			return err
		}
		var back []*row
		for rs.Next() {
			r := &row{startMs: now}
			var app, seq int64
			if err := rs.Scan(&app, &r.room, &seq, &r.etype, &r.eventMs, &r.info); err != nil {
				rs.Close()
				return err
			}
			r.app, r.seq = uint64(app), uint64(seq)
			back = append(back, r)
		}
		if err := errors.Join(rs.Err(), rs.Close()); err != nil {
			return err
		}
		for _, r := range back {
			st.hmu.Lock()
			st.lastID++
			id := st.lastID
			st.hmu.Unlock()
			res, err := tx.Exec(`INSERT OR IGNORE INTO outbox(id, app, room, seq, etype, event_ms, info, start_ms)
				VALUES(?, ?, ?, ?, ?, ?, ?, ?)`, id, int64(r.app), r.room, int64(r.seq), r.etype, r.eventMs, r.info, r.startMs)
			if err != nil {
				return err
			}
			added, err := res.RowsAffected()
			if err != nil {
				return err
			}
			n += added
		}
		_, err = tx.Exec(`DELETE FROM deadletter`+where, args...)
		return err
	})
	return n, err
}

package callbacks

// Read-only views of the outbox for the console (internal/console): they
// change nothing and take no part in delivery.

// Delivery is one event of the outbox: pending (with its failed attempts
// so far and the last error) or delivered (kept DeliveredRetention).
type Delivery struct {
	ID        int64  `json:"id"`
	App       uint64 `json:"sdkAppId"`
	Room      string `json:"room"`
	Seq       uint64 `json:"seq"`
	EventType int    `json:"eventType"`
	EventMs   int64  `json:"eventMsTs"`
	Attempts  int    `json:"attempts"`
	LastError string `json:"lastError"`
	Delivered bool   `json:"delivered"`
	DoneMs    int64  `json:"doneMsTs"` // when delivered; 0 while pending
}

// Recent lists app's newest outbox rows, newest first, at most limit.
func (st *Store) Recent(app uint64, limit int) ([]Delivery, error) {
	out := []Delivery{}
	if limit <= 0 {
		return out, nil
	}
	rs, err := st.r.Query(`SELECT id, app, room, seq, etype, event_ms, attempts, last_error, state, done_ms
		FROM outbox WHERE app = ? ORDER BY id DESC LIMIT ?`, int64(app), limit)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	for rs.Next() {
		var d Delivery
		var a, seq, state int64
		if err := rs.Scan(&d.ID, &a, &d.Room, &seq, &d.EventType, &d.EventMs, &d.Attempts, &d.LastError, &state, &d.DoneMs); err != nil {
			return nil, err
		}
		d.App, d.Seq, d.Delivered = uint64(a), uint64(seq), state == 1
		out = append(out, d)
	}
	return out, rs.Err()
}

// AppDepth is the number of app's undelivered events and of its dead
// letters.
func (st *Store) AppDepth(app uint64) (pending, dead int64, err error) {
	st.commitMu.RLock() // as Depth
	defer st.commitMu.RUnlock()
	held := st.heldRows("", 0)
	defer func() {
		for _, r := range held {
			if r.app == app {
				pending++
			}
		}
	}()
	err = st.r.QueryRow(`SELECT (SELECT COUNT(*) FROM outbox WHERE app = ? AND state = 0),
		(SELECT COUNT(*) FROM deadletter WHERE app = ?)`, int64(app), int64(app)).Scan(&pending, &dead)
	return pending, dead, err
}

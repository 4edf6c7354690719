package callbacks

import (
	"cmp"
	"slices"
)

// Read-only views of the outbox for the console (internal/console): they
// change nothing and take no part in delivery.

// Delivery is one event of the outbox: pending (with its failed attempts
// so far and the last error) or delivered (a row kept DeliveredRetention
// when it was still undelivered at its commit, CommitDelay after it was
// accepted; else only in memory, recentKept per app).
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

// recentKept is how many delivered events per app the ring keeps for
// Recent: those delivered before their commit leave no row in the file.
const recentKept = 100

// recentRing holds each app's last recentKept delivered events that left
// no row; guarded by Store.hmu.
type recentRing map[uint64][]Delivery

func (r *recentRing) add(d Delivery) {
	if *r == nil {
		*r = recentRing{}
	}
	l := append((*r)[d.App], d)
	if len(l) >= 2*recentKept { // trimmed now and then, not at every event
		l = append(l[:0], l[len(l)-recentKept:]...)
	}
	(*r)[d.App] = l
}

// last is a copy of app's last recentKept delivered events, in the order
// their commits added them (concurrent commits may not follow id order).
func (r recentRing) last(app uint64) []Delivery {
	l := r[app]
	return append([]Delivery{}, l[max(0, len(l)-recentKept):]...)
}

// Recent lists app's newest events, newest first, at most limit: the
// outbox's rows (pending, and delivered after a failed first attempt) and
// the events delivered at once, which only the ring in memory remembers
// (none after a restart).
func (st *Store) Recent(app uint64, limit int) ([]Delivery, error) {
	if limit <= 0 {
		return []Delivery{}, nil
	}
	st.hmu.Lock()
	out := st.recent.last(app) // none of these has a row: the file's add no repeats
	st.hmu.Unlock()
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
	if err := rs.Err(); err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b Delivery) int { return cmp.Compare(b.ID, a.ID) }) // newest first
	return out[:min(limit, len(out))], nil
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

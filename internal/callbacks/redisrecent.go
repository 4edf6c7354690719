package callbacks

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/trtcd/trtcd/internal/eventlog"
)

// Recent lists app's pending outbox rows, newest event first, at most
// limit. The cluster's outbox keeps no delivered rows (only their event ids,
// to recognise redeliveries), so unlike the SQLite outbox it shows no
// delivered ones. It reads every shard's pending rows: a console view, not
// a delivery path.
func (st *RedisStore) Recent(app uint64, limit int) ([]Delivery, error) {
	out, err := st.pendingOf(app)
	if err != nil || limit <= 0 {
		return []Delivery{}, err
	}
	slices.SortFunc(out, func(a, b Delivery) int {
		if a.EventMs != b.EventMs {
			return int(b.EventMs - a.EventMs)
		}
		return int(b.ID - a.ID)
	})
	return out[:min(limit, len(out))], nil
}

// AppDepth is the number of app's undelivered events and of its dead
// letters.
func (st *RedisStore) AppDepth(app uint64) (pending, dead int64, err error) {
	p, err := st.pendingOf(app)
	if err != nil {
		return 0, 0, err
	}
	dl, err := st.DeadLetters(DeadFilter{App: app})
	return int64(len(p)), int64(len(dl)), err
}

// pendingOf reads app's pending rows of every shard.
func (st *RedisStore) pendingOf(app uint64) ([]Delivery, error) {
	ctx, cancel := context.WithTimeout(context.Background(), RedisOpTimeout)
	defer cancel()
	p := st.rdb.Pipeline()
	rows := make([]*redis.MapStringStringCmd, eventlog.Shards)
	fails := make([]*redis.MapStringStringCmd, eventlog.Shards)
	for s := range rows {
		rows[s], fails[s] = p.HGetAll(ctx, cbKey(s, "rows")), p.HGetAll(ctx, cbKey(s, "fail"))
	}
	if _, err := p.Exec(ctx); err != nil {
		return nil, fmt.Errorf("callbacks: redis outbox: %w", err)
	}
	out := []Delivery{}
	for s := range rows {
		fail := fails[s].Val()
		for idText, js := range rows[s].Val() {
			var rr redisRow
			if err := json.Unmarshal([]byte(js), &rr); err != nil {
				return nil, fmt.Errorf("callbacks: redis outbox row %s: %w", idText, err)
			}
			if rr.App != app {
				continue
			}
			id, _ := strconv.ParseInt(idText, 10, 64)
			d := Delivery{ID: id, App: rr.App, Room: rr.Room, Seq: rr.Seq, EventType: rr.EType, EventMs: rr.EventMs}
			if a, e, ok := strings.Cut(fail[idText], " "); ok {
				d.Attempts, _ = strconv.Atoi(a)
				d.LastError = e
			}
			out = append(out, d)
		}
	}
	return out, nil
}

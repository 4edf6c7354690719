package cluster

import (
	"context"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/trtcd/trtcd/internal/rooms"
)

// pending is work that failed while Redis was away (or could not be done
// yet), retried every heartbeat: a leave, or the undoing of a refused join.
type pending struct {
	room          rooms.Key
	user, session string
	reason        rooms.Reason
	notBefore     int64         // a refused join: its deadline (Redis's clock, ms)
	join          bool          // undoing a refused join
	member        *rooms.Member // a leave: the member, re-registered if Redis lost it
}

// settling: after this process re-registered (Redis had lost its state),
// leaves held back are announced only once every incarnation listed before
// is listed again (it re-registers only with its subscriptions back, so it
// hears the announcement), or once LiveTTL has passed (it is dead: nobody
// there to tell).
type settling struct {
	until   time.Time // zero: settled
	waitFor map[string]bool
}

func (r *Registry) queue(p pending) {
	r.localMu.Lock()
	r.pending = append(r.pending, p)
	r.localMu.Unlock()
}

// register lists the incarnation and sets its liveness key.
func (r *Registry) register(ctx context.Context) error {
	if err := r.rdb.SAdd(ctx, nodesKey(), r.inc).Err(); err != nil {
		return err
	}
	return r.rdb.Set(ctx, aliveKey(r.inc), time.Now().UnixMilli(), r.opt.LiveTTL).Err()
}

// beat runs every Heartbeat: refresh liveness (and notice a Redis that lost
// our key), measure Redis's clock, note the listed incarnations, retry
// pending work, and sweep dead incarnations.
func (r *Registry) beat() {
	defer r.done.Done()
	t := time.NewTicker(r.opt.Heartbeat)
	defer t.Stop()
	for {
		select {
		case <-r.stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), r.opt.Heartbeat)
		if r.refresh(ctx) {
			r.syncClock(ctx)
			r.observe(ctx)
			r.retryPending(ctx, false)
			r.sweep(ctx)
		}
		cancel()
	}
}

// refresh renews the liveness key; false when Redis did not answer. If the
// key was gone (Redis restarted empty, or this process stalled past its TTL
// and was swept), the live sessions are registered again, without events:
// clients already know them. So are members whose leave is still pending,
// so that the leave, retried next, is announced to the room; then what the
// OnReregister functions write back (the media node's blocks).
func (r *Registry) refresh(ctx context.Context) bool {
	prev, err := r.rdb.SetArgs(ctx, aliveKey(r.inc), time.Now().UnixMilli(), redis.SetArgs{TTL: r.opt.LiveTTL, Get: true}).Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return false // Redis away: try again next beat
	}
	if prev != "" {
		return true
	}
	if !r.watch.up.Load() {
		// Re-register only with the subscriptions back: being listed tells
		// the others that this process hears its rooms again.
		r.rdb.Del(ctx, aliveKey(r.inc))
		return false
	}
	r.opt.Log.Warn("liveness key was missing: re-registering this process's sessions", "incarnation", r.inc)
	r.localMu.Lock()
	local, rereg := r.local, r.rereg
	var leaving []rooms.Member
	var leavingRooms []rooms.Key
	for _, p := range r.pending {
		if p.member != nil {
			leaving, leavingRooms = append(leaving, *p.member), append(leavingRooms, p.room)
		}
	}
	r.localMu.Unlock()
	restore := func(room rooms.Key, m rooms.Member) error {
		k := keysOf(room)
		err := r.rdb.SAdd(ctx, sessionsKey(r.inc), sessionEntry(room, m.UserID, m.SessionID)).Err()
		if err == nil {
			err = restoreScript.Run(ctx, r.rdb, []string{k.members, k.anchors}, m.UserID, encodeMember(m), roleArg(m.Role)).Err()
		}
		return err
	}
	fail := func() bool {
		r.rdb.Del(ctx, aliveKey(r.inc)) // incomplete: again next beat
		return false
	}
	if local != nil {
		for room, members := range local() {
			for _, m := range members {
				if restore(room, m) != nil {
					return fail()
				}
			}
		}
	}
	for i, m := range leaving {
		if restore(leavingRooms[i], m) != nil {
			return fail()
		}
	}
	for _, f := range rereg {
		if f(ctx) != nil {
			return fail()
		}
	}
	if err := r.rdb.SAdd(ctx, nodesKey(), r.inc).Err(); err != nil {
		return fail()
	}
	r.stats.reregistrations.Add(1)
	r.localMu.Lock()
	r.settle = settling{until: time.Now().Add(r.opt.LiveTTL), waitFor: r.known}
	r.known = map[string]bool{}
	r.localMu.Unlock()
	return true
}

// observe notes the listed incarnations, and ends the settling after a
// re-registration once those listed before are back.
func (r *Registry) observe(ctx context.Context) {
	nodes, err := r.rdb.SMembers(ctx, nodesKey()).Result()
	if err != nil {
		return
	}
	listed := map[string]bool{}
	for _, n := range nodes {
		if n != r.inc {
			listed[n] = true
		}
	}
	r.localMu.Lock()
	defer r.localMu.Unlock()
	if !r.settle.until.IsZero() {
		back := true
		for n := range r.settle.waitFor {
			back = back && listed[n]
		}
		if back || time.Now().After(r.settle.until) {
			r.settle = settling{}
		}
	}
	if r.settle.until.IsZero() {
		r.known = listed
	}
}

// retryPending retries pending work; what fails stays for the next beat.
// Leaves wait while settling (unless force, at Close).
func (r *Registry) retryPending(ctx context.Context, force bool) {
	r.localMu.Lock()
	work := r.pending
	r.pending = nil
	settled := r.settle.until.IsZero() || force
	r.localMu.Unlock()
	var keep []pending
	for _, p := range work {
		if (!p.join && !settled) || ctx.Err() != nil {
			keep = append(keep, p)
			continue
		}
		removed, err := r.leave(ctx, p.room, p.user, p.session, p.reason, p.notBefore)
		if err != nil {
			keep = append(keep, p)
			continue
		}
		if p.join {
			r.stats.joinCleanups.Add(1)
			if removed {
				r.stats.joinGhosts.Add(1)
				r.opt.Log.Warn("a refused join had committed: removed it and announced it as left", "user", p.user, "session", p.session)
			}
		}
	}
	r.localMu.Lock()
	r.pending = append(keep, r.pending...)
	r.localMu.Unlock()
}

// sweep: one process at a time (a short lock) removes the members of every
// listed incarnation whose liveness key has expired, with reason timeout.
func (r *Registry) sweep(ctx context.Context) {
	ok, err := r.rdb.SetNX(ctx, sweeperKey(), r.inc, r.opt.Heartbeat*9/10).Result()
	if err != nil || !ok {
		return
	}
	nodes, err := r.rdb.SMembers(ctx, nodesKey()).Result()
	if err != nil {
		return
	}
	for _, n := range nodes {
		if n == r.inc {
			continue
		}
		alive, err := r.rdb.Exists(ctx, aliveKey(n)).Result()
		if err != nil || alive == 1 {
			continue
		}
		if r.sweepNode(ctx, n) == nil {
			r.stats.sweptIncarnatns.Add(1)
			r.opt.Log.Warn("swept a dead incarnation", "incarnation", n)
		}
	}
}

func (r *Registry) sweepNode(ctx context.Context, inc string) error {
	entries, err := r.rdb.SMembers(ctx, sessionsKey(inc)).Result()
	if err != nil {
		return err
	}
	for _, e := range entries {
		room, user, session, ok := parseSessionEntry(e)
		if ok {
			if _, err := r.runLeave(ctx, room, user, session, rooms.ReasonTimeout, ""); err != nil {
				return err
			}
		}
		r.rdb.SRem(ctx, sessionsKey(inc), e)
	}
	return r.rdb.SRem(ctx, nodesKey(), inc).Err()
}

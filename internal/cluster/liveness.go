package cluster

import (
	"context"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/trtcd/trtcd/internal/rooms"
)

// register lists the node and sets its liveness key.
func (r *Registry) register(ctx context.Context) error {
	if err := r.rdb.SAdd(ctx, nodesKey(), r.opt.NodeID).Err(); err != nil {
		return err
	}
	return r.rdb.Set(ctx, aliveKey(r.opt.NodeID), time.Now().UnixMilli(), r.opt.LiveTTL).Err()
}

// beat runs every Heartbeat: refresh liveness (and notice a Redis that lost
// our key), retry failed leaves, and sweep dead nodes.
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
		r.refresh(ctx)
		r.retryPending(ctx)
		r.sweep(ctx)
		cancel()
	}
}

// refresh renews the liveness key. If the key was gone (Redis restarted
// empty, or this node stalled past its TTL and was swept), the node's live
// sessions are registered again, without events: clients already know them.
func (r *Registry) refresh(ctx context.Context) {
	prev, err := r.rdb.SetArgs(ctx, aliveKey(r.opt.NodeID), time.Now().UnixMilli(), redis.SetArgs{TTL: r.opt.LiveTTL, Get: true}).Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return // Redis away: try again next beat
	}
	if prev != "" {
		return
	}
	r.opt.Log.Warn("liveness key was missing: re-registering this node's sessions", "node", r.opt.NodeID)
	if err := r.rdb.SAdd(ctx, nodesKey(), r.opt.NodeID).Err(); err != nil {
		r.rdb.Del(ctx, aliveKey(r.opt.NodeID)) // try the whole thing again next beat
		return
	}
	r.localMu.Lock()
	local := r.local
	r.localMu.Unlock()
	if local == nil {
		return
	}
	for room, members := range local() {
		k := keysOf(room)
		for _, m := range members {
			role := "0"
			if m.Role == rooms.Audience {
				role = "1"
			}
			err := r.rdb.SAdd(ctx, sessionsKey(r.opt.NodeID), sessionEntry(room, m.UserID, m.SessionID)).Err()
			if err == nil {
				err = restoreScript.Run(ctx, r.rdb, []string{k.members, k.anchors}, m.UserID, encodeMember(m), role).Err()
			}
			if err != nil {
				r.rdb.Del(ctx, aliveKey(r.opt.NodeID)) // incomplete: again next beat
				return
			}
		}
	}
}

func (r *Registry) retryPending(ctx context.Context) {
	r.localMu.Lock()
	pending := r.pending
	r.pending = nil
	r.localMu.Unlock()
	for i, p := range pending {
		if err := r.leave(ctx, p.room, p.user, p.session, p.reason); err != nil {
			r.localMu.Lock()
			r.pending = append(r.pending, pending[i:]...)
			r.localMu.Unlock()
			return
		}
	}
}

// sweep: one node at a time (a short lock) removes the members of every
// listed node whose liveness key has expired, with reason timeout.
func (r *Registry) sweep(ctx context.Context) {
	ok, err := r.rdb.SetNX(ctx, sweeperKey(), r.opt.NodeID, r.opt.Heartbeat*9/10).Result()
	if err != nil || !ok {
		return
	}
	nodes, err := r.rdb.SMembers(ctx, nodesKey()).Result()
	if err != nil {
		return
	}
	for _, n := range nodes {
		if n == r.opt.NodeID {
			continue
		}
		alive, err := r.rdb.Exists(ctx, aliveKey(n)).Result()
		if err != nil || alive == 1 {
			continue
		}
		if r.sweepNode(ctx, n) == nil {
			r.opt.Log.Warn("swept a dead node", "node", n)
		}
	}
}

func (r *Registry) sweepNode(ctx context.Context, node string) error {
	entries, err := r.rdb.SMembers(ctx, sessionsKey(node)).Result()
	if err != nil {
		return err
	}
	for _, e := range entries {
		room, user, session, ok := parseSessionEntry(e)
		if ok {
			k := keysOf(room)
			if err := leaveScript.Run(ctx, r.rdb, []string{k.members, k.anchors, k.seq}, user, session, string(rooms.ReasonTimeout), encodeRoom(room), k.channel).Err(); err != nil {
				return err
			}
		}
		r.rdb.SRem(ctx, sessionsKey(node), e)
	}
	return r.rdb.SRem(ctx, nodesKey(), node).Err()
}

package cluster

import (
	"context"
	"strconv"
	"strings"
	"sync"

	"github.com/redis/go-redis/v9"

	"github.com/trtcd/trtcd/internal/rooms"
)

// scanCount is the COUNT hint of each SCAN step of a room listing.
const scanCount = 500

// Rooms lists the app's live rooms by scanning for their member hashes
// (trtcd:{ev:NN}:room:<app>:…:m, keysOf; every master of a Redis Cluster),
// then counting each room's members and anchors. A room exists while its member hash does.
func (r *Registry) Rooms(ctx context.Context, app uint64, max int) ([]rooms.RoomInfo, bool, error) {
	ctx, cancel := r.opCtx(ctx)
	defer cancel()
	pattern := prefix + "{ev:*}:room:" + strconv.FormatUint(app, 10) + ":*:m"
	var mu sync.Mutex
	var keys []rooms.Key
	truncated := false
	scan := func(ctx context.Context, c redis.Cmdable) error {
		it := c.Scan(ctx, 0, pattern, scanCount).Iterator()
		for it.Next(ctx) {
			k := it.Val()
			_, rest, _ := strings.Cut(k, "}:room:")
			tagText := strings.TrimSuffix(rest, ":m")
			room, ok := parseTag(tagText)
			if !ok || room.App != app {
				continue
			}
			mu.Lock()
			if len(keys) == max {
				truncated = true
				mu.Unlock()
				return nil
			}
			keys = append(keys, room)
			mu.Unlock()
		}
		return it.Err()
	}
	var err error
	if cc, ok := r.rdb.(*redis.ClusterClient); ok {
		err = cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error { return scan(ctx, c) })
	} else {
		err = scan(ctx, r.rdb)
	}
	if err != nil {
		return nil, false, unavailable(err)
	}
	if len(keys) == 0 {
		return nil, truncated, nil
	}
	pipe := r.rdb.Pipeline()
	members := make([]*redis.IntCmd, len(keys))
	anchors := make([]*redis.IntCmd, len(keys))
	for i, k := range keys {
		members[i] = pipe.HLen(ctx, keysOf(k).members)
		anchors[i] = pipe.HLen(ctx, keysOf(k).anchors)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, false, unavailable(err)
	}
	out := make([]rooms.RoomInfo, 0, len(keys))
	for i, k := range keys {
		if n := int(members[i].Val()); n > 0 { // emptied since the scan
			out = append(out, rooms.RoomInfo{Key: k, Members: n, Anchors: int(anchors[i].Val())})
		}
	}
	return out, truncated, nil
}

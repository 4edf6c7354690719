package cluster

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
)

// exactLimit is the largest limit counted with an exact sliding window, as in
// the in-memory limiter; larger ones use GCRA (redis_rate), whose cost does
// not grow with the limit.
const exactLimit = 1024

// Limiter counts rate limits in Redis, so that they hold for all nodes
// together: a sliding window on Redis's clock (one script per call).
type Limiter struct {
	rdb  redis.UniversalClient
	gcra *redis_rate.Limiter
	node string
	seq  atomic.Uint64
}

func NewLimiter(rdb redis.UniversalClient, nodeID string) *Limiter {
	return &Limiter{rdb: rdb, gcra: redis_rate.NewLimiter(rdb), node: nodeID}
}

func (l *Limiter) Allow(ctx context.Context, account, action string, limit int) (bool, int, error) {
	if limit <= 0 {
		return true, 0, nil
	}
	ctx, cancel := context.WithTimeout(ctx, DefaultOpTimeout)
	defer cancel()
	key := prefix + "rl:{" + account + ":" + action + "}"
	if limit > exactLimit {
		res, err := l.gcra.Allow(ctx, key, redis_rate.PerSecond(limit))
		if err != nil {
			return false, 0, err
		}
		return res.Allowed > 0, limit + 1, nil
	}
	id := fmt.Sprintf("%s:%d", l.node, l.seq.Add(1))
	res, err := rateScript.Run(ctx, l.rdb, []string{key, key + ":refused"}, limit, id).Int64Slice()
	if err != nil || len(res) != 2 {
		return false, 0, fmt.Errorf("cluster: rate limit: %v", err)
	}
	return res[0] == 1, int(res[1]), nil
}

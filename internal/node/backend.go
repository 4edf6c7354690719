package node

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/trtcd/trtcd/internal/cloudapi"
	"github.com/trtcd/trtcd/internal/cluster"
	"github.com/trtcd/trtcd/internal/config"
	"github.com/trtcd/trtcd/internal/rooms"
)

// backend is the registry and the limiter: both in memory on a single node,
// both in Redis in cluster mode. In cluster mode it waits up to
// redis_startup_timeout for Redis to answer; no error shows the URL's
// password, and go-redis's own log lines go to the structured log.
func newBackend(cfg config.Config, log *slog.Logger, observe func(time.Duration, cluster.CallError)) (rooms.Registry, cloudapi.Limiter, error) {
	if cfg.Redis == "" {
		return rooms.NewMemory(nil), cloudapi.NewMemoryLimiter(nil), nil
	}
	cluster.SetRedisLogger(log, cfg.Redis)
	rdb, err := cluster.NewClient(cfg.Redis)
	if err != nil {
		return nil, nil, fmt.Errorf("config: redis: %v", err)
	}
	cluster.ObserveCalls(rdb, observe)
	wait := cfg.RedisStartupTimeout.Duration
	if wait <= 0 {
		wait = config.DefaultRedisStartupTimeout
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	reg, err := cluster.New(ctx, rdb, cluster.Options{NodeID: cfg.NodeID, Log: log})
	if err != nil {
		rdb.Close()
		return nil, nil, fmt.Errorf("redis (redis_startup_timeout %v): %v", wait, cluster.RedactError(err, cfg.Redis))
	}
	return reg, cluster.NewLimiter(rdb, cfg.NodeID), nil
}

package node

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/trtcd/trtcd/internal/cloudapi"
	"github.com/trtcd/trtcd/internal/cluster"
	"github.com/trtcd/trtcd/internal/config"
	"github.com/trtcd/trtcd/internal/eventlog"
	"github.com/trtcd/trtcd/internal/rooms"
)

// MaxGroups is how many consumer groups a node may run (AddGroup). The
// cluster log's Redis client is sized for them: each owned shard of each
// group holds a connection in a blocking read (docs/eventlog.md).
const MaxGroups = 8

// LogPoolSize is the connection pool of the event log's own Redis client:
// eventlog.Shards × MaxGroups + 8. go-redis opens connections as they are
// needed, so a node without groups opens almost none.
const LogPoolSize = eventlog.Shards*MaxGroups + 8

// backend is the registry, the event log its changes append to, and the
// limiter: all in memory on a single node, all in Redis in cluster mode. In
// cluster mode it waits up to redis_startup_timeout for Redis to answer; no
// error shows the URL's password, and go-redis's own log lines go to the
// structured log.
type backend struct {
	reg     rooms.Registry
	log     Log
	limiter cloudapi.Limiter
	logRDB  redis.UniversalClient // cluster: the log's own client
}

func newBackend(cfg config.Config, log *slog.Logger, observe func(time.Duration, cluster.CallError)) (backend, error) {
	logOpt := eventlog.Options{NodeID: cfg.NodeID, Log: log}
	if cfg.Redis == "" {
		reg, evlog := rooms.NewMemory(nil), eventlog.NewMemory(logOpt)
		reg.SetLog(evlog)
		return backend{reg: reg, log: evlog, limiter: cloudapi.NewMemoryLimiter(nil)}, nil
	}
	cluster.SetRedisLogger(log, cfg.Redis)
	rdb, err := cluster.NewClient(cfg.Redis)
	if err != nil {
		return backend{}, fmt.Errorf("config: redis: %v", err)
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
		return backend{}, fmt.Errorf("redis (redis_startup_timeout %v): %v", wait, cluster.RedactError(err, cfg.Redis))
	}
	logRDB, err := cluster.NewLogClient(cfg.Redis, LogPoolSize)
	if err != nil {
		reg.Close()
		return backend{}, fmt.Errorf("config: redis: %v", err)
	}
	return backend{reg: reg, log: eventlog.NewRedis(logRDB, logOpt), limiter: cluster.NewLimiter(rdb, cfg.NodeID), logRDB: logRDB}, nil
}

package node

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/trtcd/trtcd/internal/cloudapi"
	"github.com/trtcd/trtcd/internal/cluster"
	"github.com/trtcd/trtcd/internal/config"
	"github.com/trtcd/trtcd/internal/rooms"
)

// backend is the registry and the limiter: both in memory on a single node,
// both in Redis in cluster mode.
func newBackend(cfg config.Config, log *slog.Logger) (rooms.Registry, cloudapi.Limiter, error) {
	if cfg.Redis == "" {
		return rooms.NewMemory(nil), cloudapi.NewMemoryLimiter(nil), nil
	}
	rdb, err := cluster.NewClient(cfg.Redis)
	if err != nil {
		return nil, nil, fmt.Errorf("config: redis: %v", err)
	}
	reg, err := cluster.New(context.Background(), rdb, cluster.Options{NodeID: cfg.NodeID, Log: log})
	if err != nil {
		rdb.Close()
		return nil, nil, err
	}
	return reg, cluster.NewLimiter(rdb, cfg.NodeID), nil
}

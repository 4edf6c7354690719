package node

import (
	"fmt"
	"log/slog"

	"github.com/trtcd/trtcd/internal/cloudapi"
	"github.com/trtcd/trtcd/internal/config"
	"github.com/trtcd/trtcd/internal/rooms"
)

// newRegistry picks the registry: in memory unless redis is set.
func newRegistry(cfg config.Config, log *slog.Logger) (rooms.Registry, error) {
	if cfg.Redis == "" {
		return rooms.NewMemory(nil), nil
	}
	return nil, fmt.Errorf("config: redis: cluster mode is not available in this build")
}

// newLimiter counts rate limits in memory on a single node.
func newLimiter(cfg config.Config, reg rooms.Registry) cloudapi.Limiter {
	return cloudapi.NewMemoryLimiter(nil)
}

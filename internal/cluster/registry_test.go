package cluster_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/trtcd/trtcd/internal/cluster"
	"github.com/trtcd/trtcd/internal/rooms"
	"github.com/trtcd/trtcd/internal/rooms/roomstest"
	tk "github.com/trtcd/trtcd/internal/testkit"
)

var nodeSeq atomic.Int64

// TestRedisRegistry: the Redis registry passes the same contract as the
// in-memory one.
func TestRedisRegistry(t *testing.T) {
	srv := tk.StartRedis(t)
	roomstest.RunRegistrySuite(t, func(t *testing.T) rooms.Registry {
		rdb, err := cluster.NewClient(srv.URL())
		if err != nil {
			t.Fatal(err)
		}
		rdb.FlushAll(context.Background())
		reg, err := cluster.New(context.Background(), rdb, cluster.Options{NodeID: fmt.Sprintf("node-%d", nodeSeq.Add(1))})
		if err != nil {
			t.Fatal(err)
		}
		return reg
	})
}

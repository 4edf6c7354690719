package cluster_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/trtcd/trtcd/internal/cluster"
	"github.com/trtcd/trtcd/internal/rooms"
	"github.com/trtcd/trtcd/internal/rooms/roomstest"
	tk "github.com/trtcd/trtcd/internal/testkit"
)

// TestRedisRoomListing: the Redis registry lists an app's rooms by scanning
// member keys, like the in-memory one does from its map.
func TestRedisRoomListing(t *testing.T) {
	srv := tk.StartRedis(t)
	roomstest.RunListSuite(t, func(t *testing.T) rooms.Registry {
		rdb, err := cluster.NewClient(srv.URL())
		if err != nil {
			t.Fatal(err)
		}
		rdb.FlushAll(context.Background())
		reg, err := cluster.New(context.Background(), rdb, cluster.Options{NodeID: fmt.Sprintf("list-node-%d", nodeSeq.Add(1))})
		if err != nil {
			t.Fatal(err)
		}
		return reg
	})
}

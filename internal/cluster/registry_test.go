package cluster_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trtcd/trtcd/internal/cluster"
	"github.com/trtcd/trtcd/internal/eventlog"
	"github.com/trtcd/trtcd/internal/eventlog/eventlogtest"
	"github.com/trtcd/trtcd/internal/rooms"
	"github.com/trtcd/trtcd/internal/rooms/roomstest"
	tk "github.com/trtcd/trtcd/internal/testkit"
)

var nodeSeq atomic.Int64

func freshRegistry(t *testing.T, srv *tk.Redis) *cluster.Registry {
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
}

// newLog is the event log as one node sees it: a client of its own, sized
// for the blocking reads of two groups.
func newLog(t *testing.T, srv *tk.Redis, opt eventlog.Options) *eventlog.Redis {
	rdb, err := cluster.NewLogClient(srv.URL(), 2*eventlog.Shards+8)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rdb.Close() })
	return eventlog.NewRedis(rdb, opt)
}

// TestRedisRegistry: the Redis registry passes the same contract as the
// in-memory one.
func TestRedisRegistry(t *testing.T) {
	srv := tk.StartRedis(t)
	roomstest.RunRegistrySuite(t, func(t *testing.T) rooms.Registry { return freshRegistry(t, srv) })
}

// TestRedisRegistryLog: every change the Redis registry commits is in the
// Redis event log, once per group, in room order, with the mapping.
func TestRedisRegistryLog(t *testing.T) {
	srv := tk.StartRedis(t)
	roomstest.RunLogSuite(t, func(t *testing.T) roomstest.LogTarget {
		reg := freshRegistry(t, srv)
		return roomstest.LogTarget{Reg: reg, Node: func(t *testing.T) eventlogtest.Node {
			return newLog(t, srv, eventlog.Options{NodeID: fmt.Sprintf("log-%d", nodeSeq.Add(1)), LeaseTTL: 2 * time.Second})
		}}
	})
}

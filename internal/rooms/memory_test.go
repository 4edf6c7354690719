package rooms_test

import (
	"testing"
	"time"

	"github.com/trtcd/trtcd/internal/eventlog"
	"github.com/trtcd/trtcd/internal/eventlog/eventlogtest"
	"github.com/trtcd/trtcd/internal/rooms"
	"github.com/trtcd/trtcd/internal/rooms/roomstest"
)

func TestMemoryRegistry(t *testing.T) {
	roomstest.RunRegistrySuite(t, func(t *testing.T) rooms.Registry { return rooms.NewMemory(nil) })
}

func TestMemoryRegistryLog(t *testing.T) {
	roomstest.RunLogSuite(t, func(t *testing.T) roomstest.LogTarget {
		log := eventlog.NewMemory(eventlog.Options{LeaseTTL: time.Second})
		reg := rooms.NewMemory(nil)
		reg.SetLog(log)
		return roomstest.LogTarget{Reg: reg, Node: func(*testing.T) eventlogtest.Node { return log }}
	})
}

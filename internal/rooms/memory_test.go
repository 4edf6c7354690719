package rooms_test

import (
	"testing"

	"github.com/trtcd/trtcd/internal/rooms"
	"github.com/trtcd/trtcd/internal/rooms/roomstest"
)

func TestMemoryRegistry(t *testing.T) {
	roomstest.RunRegistrySuite(t, func(t *testing.T) rooms.Registry { return rooms.NewMemory(nil) })
}

package rooms_test

import (
	"testing"

	"github.com/trtcd/trtcd/internal/rooms"
	"github.com/trtcd/trtcd/internal/rooms/roomstest"
)

func TestMemoryRoomListing(t *testing.T) {
	roomstest.RunListSuite(t, func(t *testing.T) rooms.Registry { return rooms.NewMemory(nil) })
}

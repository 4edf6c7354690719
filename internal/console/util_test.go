package console_test

import (
	"encoding/json"

	"github.com/trtcd/trtcd/internal/rooms"
	tk "github.com/trtcd/trtcd/internal/testkit"
)

func roomKey(n uint64) rooms.Key { return rooms.NumRoom(tk.App, n) }

func mustJSON(v any) string { b, _ := json.Marshal(v); return string(b) }

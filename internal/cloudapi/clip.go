package cloudapi

import (
	"strconv"
	"sync/atomic"
	"unicode/utf8"
)

// MaxEcho is how many bytes of a client-supplied value an error message or a
// log line repeats (policy: echo truncation). A longer value is cut at a
// character boundary and marked, so that a 900 KB header is neither logged
// nor echoed whole.
const MaxEcho = 128

// Clip returns s when it is at most MaxEcho bytes, and otherwise its first
// MaxEcho bytes (never splitting a UTF-8 character) followed by
// "…(truncated, N bytes)", N being the length of s. Every client-supplied
// value that reaches an error message or a log line goes through it.
func Clip(s string) string {
	if len(s) <= MaxEcho {
		return s
	}
	clipped.Add(1)
	cut := MaxEcho
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…(truncated, " + strconv.Itoa(len(s)) + " bytes)"
}

var clipped atomic.Uint64

// Clipped counts the values Clip has cut, in this process (all nodes of it).
func Clipped() uint64 { return clipped.Load() }

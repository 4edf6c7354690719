package eventlog

import "fmt"

// Shards is the fixed number of stream shards. A room's events go to one
// shard, so one shard's order includes its rooms' orders. Changing it moves
// rooms between shards: never change it on a live cluster.
const Shards = 64

// Shard is the shard of a room key string (rooms.Key.String() form):
// FNV-1a (32 bit) of the key, mod Shards. Stable across releases and nodes.
func Shard(roomKey string) int {
	h := uint32(2166136261) // FNV-1a offset basis
	for i := 0; i < len(roomKey); i++ {
		h ^= uint32(roomKey[i])
		h *= 16777619 // FNV prime
	}
	return int(h % Shards)
}

// HashTag is the Redis Cluster hash tag of a shard, "{ev:07}": every key
// of the shard, and every key of its rooms, carries it, so that one script
// may change a room and append to its stream.
func HashTag(shard int) string { return fmt.Sprintf("{ev:%02d}", shard) }

const keyPrefix = "trtcd:"

// StreamKey is the shard's stream, "trtcd:{ev:07}:stream".
func StreamKey(shard int) string { return keyPrefix + HashTag(shard) + ":stream" }

// CounterKey counts the events ever appended to the shard (since Redis last
// lost its data): the append stores the count in each entry ("n"), which
// makes lag and losses exact.
func CounterKey(shard int) string { return keyPrefix + HashTag(shard) + ":n" }

// AppendKeys are the two keys a script that appends an event of roomKey
// must declare in KEYS, in this order: the stream and the counter.
func AppendKeys(roomKey string) [2]string {
	s := Shard(roomKey)
	return [2]string{StreamKey(s), CounterKey(s)}
}

func leaseKey(shard int, group string) string {
	return keyPrefix + HashTag(shard) + ":lease:" + group
}

func cursorKey(shard int, group string) string {
	return keyPrefix + HashTag(shard) + ":cur:" + group
}

func membersKey(group string) string { return keyPrefix + "evg:" + group + ":nodes" }

// seqKey is the per-room sequence counter of Redis.Append (tests, tools).
func seqKey(roomKey string) string {
	return keyPrefix + HashTag(Shard(roomKey)) + ":seq:" + roomKey
}

// DefaultMaxLen is the approximate length each shard's stream is trimmed
// to on append (XADD MAXLEN ~): 64 shards × 10 000 ≈ 640 000 events.
const DefaultMaxLen = 10000

// LuaAppend defines the Lua functions a committing script uses to append
// its event(s); paste it at the top of the script. Usage, with the stream
// and counter from AppendKeys declared in KEYS and maxlen (DefaultMaxLen)
// passed in ARGV:
//
//	local t = evlog_nowms()
//	evlog_append(KEYS[4], KEYS[5], ARGV[9], {'r', room, 'q', seq, 't', t,
//	  'k', 'enter', 'u', user, 'o', 'anchor', 's', session})
//
// seq and t are strings (string.format('%d', n) keeps every digit).
// Optional fields ('u', 'o', 'w', 's', 'x.<name>') may be left out; the
// layout is the one in encode.go. The append INCRs the counter, XADDs with
// MAXLEN ~ maxlen and returns the entry id.
const LuaAppend = `
local function evlog_nowms()
  local t = redis.call('TIME')
  return string.format('%d', tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000))
end
local function evlog_append(stream, counter, maxlen, fields)
  local n = redis.call('INCR', counter)
  local args = {'XADD', stream, 'MAXLEN', '~', maxlen, '*', 'v', '1', 'n', string.format('%d', n)}
  for i = 1, #fields do args[#args + 1] = fields[i] end
  return redis.call(unpack(args))
end
`

// LeaseKey is the key of a group's lease on a shard, "trtcd:{ev:07}:lease:callbacks".
// Its value is the owning consumer's ConsumerName-style id, "<NodeID>/<run>".
func LeaseKey(shard int, group string) string { return leaseKey(shard, group) }

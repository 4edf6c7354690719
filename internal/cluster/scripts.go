package cluster

import "github.com/redis/go-redis/v9"

// Each membership change is one script: change the member hashes, take the
// room's next sequence number, and publish the event, atomically. Events are
// assembled as text so that 16-digit sequence numbers keep every digit.
//
// Fencing: every script that adds state (enter, remove, dismiss, and the
// node's session-index entry) carries a deadline on Redis's clock (Unix ms)
// and refuses with TRTCD_LATE once TIME is past it. A call whose answer was
// lost or late therefore either ran before its deadline or never runs; the
// room scripts also write their reply to an outcome record (KEYS op), so the
// node can find out which (outcomeScript). See fence.go.

// Script error replies (their text is the whole error message).
const (
	replyLate    = "TRTCD_LATE"    // the deadline had passed: nothing was changed
	replyPending = "TRTCD_PENDING" // the deadline has not passed yet: ask again later
	replyUnknown = "TRTCD_UNKNOWN" // the outcome record may have expired: cannot tell
)

const luaHelpers = `
local function nowms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function late(deadline)
  return nowms() > tonumber(deadline)
end
local function nextseq(key)
  local s = redis.call('INCR', key)
  if s == 1 then
    -- a new counter starts at the clock in microseconds, so a room re-created
    -- after its counter was deleted (or lost) still counts upwards
    local t = redis.call('TIME')
    s = tonumber(t[1]) * 1000000 + tonumber(t[2])
    redis.call('SET', key, string.format('%d', s))
  end
  return string.format('%d', s)
end
-- an empty room keeps no key: its counter goes too (see nextseq)
local function tidy(members, seq)
  if redis.call('HLEN', members) == 0 then redis.call('DEL', seq) end
end
local function event(kind, seq, room, member, old, reason, members)
  return '{"k":"' .. kind .. '","q":' .. seq .. ',"t":' .. string.format('%d', nowms()) .. ',"room":' .. room ..
    ',"m":' .. (member or 'null') .. ',"o":' .. (old or 'null') .. ',"r":"' .. (reason or '') ..
    '","ms":' .. (members or 'null') .. '}'
end
`

// enter: KEYS members, anchors, seq, op; ARGV user, member, role ("0"
// anchor), room, channel, deadline, outcome TTL (ms).
// Returns {seq, anchors...}; the same list, as JSON, is the outcome record.
var enterScript = redis.NewScript(luaHelpers + `
if late(ARGV[6]) then return redis.error_reply('` + replyLate + `') end
local old = redis.call('HGET', KEYS[1], ARGV[1])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
if ARGV[3] == '0' then
  redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
else
  redis.call('HDEL', KEYS[2], ARGV[1])
end
local seq = nextseq(KEYS[3])
local kind = 'entered'
if old then kind = 'replaced' end
redis.call('PUBLISH', ARGV[5], event(kind, seq, ARGV[4], ARGV[2], old, old and 'duplicate' or ''))
local out = {seq}
for _, v in ipairs(redis.call('HVALS', KEYS[2])) do out[#out + 1] = v end
redis.call('SET', KEYS[4], cjson.encode(out), 'PX', ARGV[7])
return out
`)

// leave: KEYS members, anchors, seq; ARGV user, session, reason, room,
// channel, not-before (a deadline, or ""). Removes the user only if its
// current session is the given one. With a not-before deadline (undoing a
// refused join) it answers TRTCD_PENDING until Redis's clock is past it, so
// the join it undoes can no longer commit after it.
var leaveScript = redis.NewScript(luaHelpers + `
if ARGV[6] ~= '' and not late(ARGV[6]) then return redis.error_reply('` + replyPending + `') end
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if not cur or cjson.decode(cur).s ~= ARGV[2] then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
local seq = nextseq(KEYS[3])
redis.call('PUBLISH', ARGV[5], event('exited', seq, ARGV[4], cur, nil, ARGV[3]))
tidy(KEYS[1], KEYS[3])
return 1
`)

// remove: KEYS members, anchors, seq, op; ARGV deadline, outcome TTL, room,
// channel, users... Returns -1 when the room has no members, else how many
// were removed; the same number is the outcome record.
var removeScript = redis.NewScript(luaHelpers + `
if late(ARGV[1]) then return redis.error_reply('` + replyLate + `') end
local n = -1
if redis.call('HLEN', KEYS[1]) > 0 then
  n = 0
  for i = 5, #ARGV do
    local cur = redis.call('HGET', KEYS[1], ARGV[i])
    if cur then
      redis.call('HDEL', KEYS[1], ARGV[i])
      redis.call('HDEL', KEYS[2], ARGV[i])
      local seq = nextseq(KEYS[3])
      redis.call('PUBLISH', ARGV[4], event('exited', seq, ARGV[3], cur, nil, 'removed'))
      n = n + 1
    end
  end
  tidy(KEYS[1], KEYS[3])
end
redis.call('SET', KEYS[4], tostring(n), 'PX', ARGV[2])
return n
`)

// dismiss: KEYS members, anchors, seq, op; ARGV deadline, outcome TTL, room,
// channel. Returns -1 when the room is empty, else the number removed.
var dismissScript = redis.NewScript(luaHelpers + `
if late(ARGV[1]) then return redis.error_reply('` + replyLate + `') end
local all = redis.call('HVALS', KEYS[1])
local n = -1
if #all > 0 then
  n = #all
  redis.call('DEL', KEYS[1], KEYS[2])
  local seq = nextseq(KEYS[3])
  redis.call('PUBLISH', ARGV[4], event('dismissed', seq, ARGV[3], nil, nil, 'dismissed', '[' .. table.concat(all, ',') .. ']'))
  redis.call('DEL', KEYS[3])
end
redis.call('SET', KEYS[4], tostring(n), 'PX', ARGV[2])
return n
`)

// outcome: KEYS op; ARGV deadline, horizon (ms after the deadline while the
// record is surely still there). TRTCD_PENDING before the deadline (the
// script may still run), then {1, record} if it ran or {0} if it never will.
var outcomeScript = redis.NewScript(luaHelpers + `
local now = nowms()
if now <= tonumber(ARGV[1]) then return redis.error_reply('` + replyPending + `') end
if now > tonumber(ARGV[1]) + tonumber(ARGV[2]) then return redis.error_reply('` + replyUnknown + `') end
local v = redis.call('GET', KEYS[1])
if v then return {1, v} end
return {0}
`)

// sessAdd: KEYS the node's session index; ARGV entry, deadline. The index
// entry is fenced like the change it precedes, so a refused join's entry
// cannot appear after the node has tidied it away.
var sessAddScript = redis.NewScript(luaHelpers + `
if late(ARGV[2]) then return redis.error_reply('` + replyLate + `') end
return redis.call('SADD', KEYS[1], ARGV[1])
`)

// restore: KEYS members, anchors; ARGV user, member, role. Re-registers a
// session after Redis lost its data. It publishes nothing: the room's
// clients already know the member.
var restoreScript = redis.NewScript(`
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
if ARGV[3] == '0' then redis.call('HSET', KEYS[2], ARGV[1], ARGV[2]) end
return 1
`)

// rateScript: KEYS window zset, refused counter; ARGV limit, unique id.
// A sliding window over Redis's clock: allowed when fewer than limit calls
// were allowed in the last second. Returns {allowed, count}.
var rateScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local limit = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - 1000000)
local n = redis.call('ZCARD', KEYS[1])
if n < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[2])
  redis.call('PEXPIRE', KEYS[1], 1100)
  return {1, n + 1}
end
local r = redis.call('INCR', KEYS[2])
if r == 1 then redis.call('PEXPIRE', KEYS[2], 1000) end
return {0, limit + r}
`)

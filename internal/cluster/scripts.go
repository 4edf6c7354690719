package cluster

import "github.com/redis/go-redis/v9"

// Each membership change is one script: change the member hashes, take the
// room's next sequence number, and publish the event, atomically. Events are
// assembled as text so that 16-digit sequence numbers keep every digit.

const luaHelpers = `
local function nextseq(key)
  local s = redis.call('INCR', key)
  if s == 1 then
    -- a new (or lost) counter starts at the clock in microseconds, so a room
    -- re-created after Redis lost its data still counts upwards
    local t = redis.call('TIME')
    s = tonumber(t[1]) * 1000000 + tonumber(t[2])
    redis.call('SET', key, string.format('%d', s))
  end
  return string.format('%d', s)
end
local function nowms()
  local t = redis.call('TIME')
  return string.format('%d', tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000))
end
local function event(kind, seq, room, member, old, reason, members)
  return '{"k":"' .. kind .. '","q":' .. seq .. ',"t":' .. nowms() .. ',"room":' .. room ..
    ',"m":' .. (member or 'null') .. ',"o":' .. (old or 'null') .. ',"r":"' .. (reason or '') ..
    '","ms":' .. (members or 'null') .. '}'
end
`

// enter: KEYS members, anchors, seq; ARGV user, member, role ("0" anchor), room, channel.
// Returns {seq, anchors...}.
var enterScript = redis.NewScript(luaHelpers + `
local old = redis.call('HGET', KEYS[1], ARGV[1])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
if ARGV[3] == '0' then
  redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
else
  redis.call('HDEL', KEYS[2], ARGV[1])
end
redis.call('PERSIST', KEYS[3])
local seq = nextseq(KEYS[3])
local kind = 'entered'
if old then kind = 'replaced' end
redis.call('PUBLISH', ARGV[5], event(kind, seq, ARGV[4], ARGV[2], old, old and 'duplicate' or ''))
local out = {seq}
for _, v in ipairs(redis.call('HVALS', KEYS[2])) do out[#out + 1] = v end
return out
`)

// leave: KEYS members, anchors, seq; ARGV user, session, reason, room, channel.
// Removes the user only if its current session is the given one.
var leaveScript = redis.NewScript(luaHelpers + `
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if not cur or cjson.decode(cur).s ~= ARGV[2] then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
local seq = nextseq(KEYS[3])
redis.call('PUBLISH', ARGV[5], event('exited', seq, ARGV[4], cur, nil, ARGV[3]))
if redis.call('HLEN', KEYS[1]) == 0 then redis.call('EXPIRE', KEYS[3], 86400) end
return 1
`)

// remove: KEYS members, anchors, seq; ARGV room, channel, users...
// Returns -1 when the room has no members, else how many were removed.
var removeScript = redis.NewScript(luaHelpers + `
if redis.call('HLEN', KEYS[1]) == 0 then return -1 end
local n = 0
for i = 3, #ARGV do
  local cur = redis.call('HGET', KEYS[1], ARGV[i])
  if cur then
    redis.call('HDEL', KEYS[1], ARGV[i])
    redis.call('HDEL', KEYS[2], ARGV[i])
    local seq = nextseq(KEYS[3])
    redis.call('PUBLISH', ARGV[2], event('exited', seq, ARGV[1], cur, nil, 'removed'))
    n = n + 1
  end
end
if redis.call('HLEN', KEYS[1]) == 0 then redis.call('EXPIRE', KEYS[3], 86400) end
return n
`)

// dismiss: KEYS members, anchors, seq; ARGV room, channel.
var dismissScript = redis.NewScript(luaHelpers + `
local all = redis.call('HVALS', KEYS[1])
if #all == 0 then return -1 end
redis.call('DEL', KEYS[1], KEYS[2])
local seq = nextseq(KEYS[3])
redis.call('PUBLISH', ARGV[2], event('dismissed', seq, ARGV[1], nil, nil, 'dismissed', '[' .. table.concat(all, ',') .. ']'))
redis.call('EXPIRE', KEYS[3], 86400)
return #all
`)

// restore: KEYS members, anchors; ARGV user, member, role. Re-registers a
// live session after Redis lost its data. It publishes nothing: the room's
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

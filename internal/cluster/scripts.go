package cluster

import (
	"github.com/redis/go-redis/v9"

	"github.com/trtcd/trtcd/internal/eventlog"
)

// Each membership change is one script: change the member hashes, take the
// room's next sequence numbers, append the change's events to the room's
// event-log shard (eventlog.LuaAppend) and publish the change, atomically.
// The events are those of docs/eventlog.md, each with its own sequence
// number; the published event carries the last. Events are assembled as text
// so that 16-digit sequence numbers keep every digit. Every script's time is
// one reading of Redis's clock (TIME), in the log and on the channel alike.
//
// Fencing: every script that adds state (enter, remove, dismiss, switch, and
// the node's session-index entry) carries a deadline on Redis's clock (Unix
// ms) and refuses with TRTCD_LATE once TIME is past it. A call whose answer
// was lost or late therefore either ran before its deadline or never runs;
// the room scripts also write their reply to an outcome record (KEYS op), so
// the node can find out which (outcomeScript). See fence.go. The log append
// is inside the same script, so a change and its events are applied together
// or not at all, whatever happens to the answer.
//
// The fenced room scripts take KEYS members, anchors, seq, op, stream,
// counter (roomKeys.change) and answer a list of strings, which is also
// their outcome record (JSON).

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
local function event(kind, seq, t, room, member, old, reason, members)
  return '{"k":"' .. kind .. '","q":' .. seq .. ',"t":' .. t .. ',"room":' .. room ..
    ',"m":' .. (member or 'null') .. ',"o":' .. (old or 'null') .. ',"r":"' .. (reason or '') ..
    '","ms":' .. (members or 'null') .. '}'
end
` + eventlog.LuaAppend + `
-- the change's log context: the shard's stream and counter, the maximum
-- length, the room's key string, and the change's time (Unix ms, text)
local function newlog(stream, counter, maxlen, room)
  return {stream = stream, counter = counter, maxlen = maxlen, room = room, t = evlog_nowms(), n = 0}
end
-- logev appends one event of the change; m is a decoded member or nil
local function logev(L, seq, kind, m, reason)
  local f = {'r', L.room, 'q', seq, 't', L.t, 'k', kind}
  if m then
    local role = 'anchor'
    if tonumber(m.r) == 1 then role = 'audience' end
    f[#f + 1] = 'u'; f[#f + 1] = m.u
    f[#f + 1] = 'o'; f[#f + 1] = role
    f[#f + 1] = 's'; f[#f + 1] = m.s
    -- an enter carries the client's details (rooms.Client) as Ext fields
    if kind == 'enter' then
      if type(m.ip) == 'string' and m.ip ~= '' then f[#f + 1] = 'x.` + eventlog.ExtClientIP + `'; f[#f + 1] = m.ip end
      if type(m.dv) == 'string' and m.dv ~= '' then f[#f + 1] = 'x.` + eventlog.ExtDevice + `'; f[#f + 1] = m.dv end
      if type(m.sv) == 'string' and m.sv ~= '' then f[#f + 1] = 'x.` + eventlog.ExtSdkVersion + `'; f[#f + 1] = m.sv end
    end
  end
  if reason and reason ~= '' then f[#f + 1] = 'w'; f[#f + 1] = reason end
  evlog_append(L.stream, L.counter, L.maxlen, f)
  L.n = L.n + 1
end
`

// enter: KEYS change; ARGV user, member, role ("0" anchor), room, channel,
// deadline, outcome TTL (ms), room key, maxlen.
// Answers {seq, appended, anchors...}. Events: room_open if the room was
// empty, or leave (the earlier session, duplicate); then enter.
var enterScript = redis.NewScript(luaHelpers + `
if late(ARGV[6]) then return redis.error_reply('` + replyLate + `') end
local L = newlog(KEYS[5], KEYS[6], ARGV[9], ARGV[8])
local old = redis.call('HGET', KEYS[1], ARGV[1])
local opened = (not old) and redis.call('HLEN', KEYS[1]) == 0
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
if ARGV[3] == '0' then
  redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
else
  redis.call('HDEL', KEYS[2], ARGV[1])
end
local m = cjson.decode(ARGV[2])
if old then
  logev(L, nextseq(KEYS[3]), 'leave', cjson.decode(old), 'duplicate')
elseif opened then
  logev(L, nextseq(KEYS[3]), 'room_open', m, '')
end
local seq = nextseq(KEYS[3])
logev(L, seq, 'enter', m, '')
local kind = 'entered'
if old then kind = 'replaced' end
redis.call('PUBLISH', ARGV[5], event(kind, seq, L.t, ARGV[4], ARGV[2], old, old and 'duplicate' or ''))
local out = {seq, tostring(L.n)}
for _, v in ipairs(redis.call('HVALS', KEYS[2])) do out[#out + 1] = v end
redis.call('SET', KEYS[4], cjson.encode(out), 'PX', ARGV[7])
return out
`)

// leave: KEYS members, anchors, seq, stream, counter; ARGV user, session,
// reason, room, channel, not-before (a deadline, or ""), room key, maxlen.
// Removes the user only if its current session is the given one, and
// answers how many events it appended (0: nothing changed). Events: leave,
// and room_close (same reason) if the room is now empty. With a not-before
// deadline (undoing a refused join) it answers TRTCD_PENDING until Redis's
// clock is past it, so the join it undoes can no longer commit after it.
var leaveScript = redis.NewScript(luaHelpers + `
if ARGV[6] ~= '' and not late(ARGV[6]) then return redis.error_reply('` + replyPending + `') end
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if not cur then return 0 end
local m = cjson.decode(cur)
if m.s ~= ARGV[2] then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
local L = newlog(KEYS[4], KEYS[5], ARGV[8], ARGV[7])
local seq = nextseq(KEYS[3])
logev(L, seq, 'leave', m, ARGV[3])
if redis.call('HLEN', KEYS[1]) == 0 then
  seq = nextseq(KEYS[3])
  logev(L, seq, 'room_close', nil, ARGV[3])
end
redis.call('PUBLISH', ARGV[5], event('exited', seq, L.t, ARGV[4], cur, nil, ARGV[3]))
tidy(KEYS[1], KEYS[3])
return L.n
`)

// remove: KEYS change; ARGV deadline, outcome TTL, room, channel, room key,
// maxlen, users... Answers {removed, appended}; removed is -1 when the room
// has no members. Events: a leave (removed) per member, and room_close
// (removed) after the last.
var removeScript = redis.NewScript(luaHelpers + `
if late(ARGV[1]) then return redis.error_reply('` + replyLate + `') end
local n = -1
local L = newlog(KEYS[5], KEYS[6], ARGV[6], ARGV[5])
if redis.call('HLEN', KEYS[1]) > 0 then
  n = 0
  for i = 7, #ARGV do
    local cur = redis.call('HGET', KEYS[1], ARGV[i])
    if cur then
      redis.call('HDEL', KEYS[1], ARGV[i])
      redis.call('HDEL', KEYS[2], ARGV[i])
      local seq = nextseq(KEYS[3])
      logev(L, seq, 'leave', cjson.decode(cur), 'removed')
      if redis.call('HLEN', KEYS[1]) == 0 then
        seq = nextseq(KEYS[3])
        logev(L, seq, 'room_close', nil, 'removed')
      end
      redis.call('PUBLISH', ARGV[4], event('exited', seq, L.t, ARGV[3], cur, nil, 'removed'))
      n = n + 1
    end
  end
  tidy(KEYS[1], KEYS[3])
end
local out = {tostring(n), tostring(L.n)}
redis.call('SET', KEYS[4], cjson.encode(out), 'PX', ARGV[2])
return out
`)

// dismiss: KEYS change; ARGV deadline, outcome TTL, room, channel, room key,
// maxlen. Answers {removed, appended}; removed is -1 when the room is empty.
// Events: a leave (dismissed) per member, then room_close (dismissed).
var dismissScript = redis.NewScript(luaHelpers + `
if late(ARGV[1]) then return redis.error_reply('` + replyLate + `') end
local all = redis.call('HVALS', KEYS[1])
local n = -1
local L = newlog(KEYS[5], KEYS[6], ARGV[6], ARGV[5])
if #all > 0 then
  n = #all
  redis.call('DEL', KEYS[1], KEYS[2])
  for _, v in ipairs(all) do logev(L, nextseq(KEYS[3]), 'leave', cjson.decode(v), 'dismissed') end
  local seq = nextseq(KEYS[3])
  logev(L, seq, 'room_close', nil, 'dismissed')
  redis.call('PUBLISH', ARGV[4], event('dismissed', seq, L.t, ARGV[3], nil, nil, 'dismissed', '[' .. table.concat(all, ',') .. ']'))
  redis.call('DEL', KEYS[3])
end
local out = {tostring(n), tostring(L.n)}
redis.call('SET', KEYS[4], cjson.encode(out), 'PX', ARGV[2])
return out
`)

// switch: KEYS change; ARGV user, session, role ("0" anchor, "1" audience),
// deadline, outcome TTL, room, channel, room key, maxlen. Answers {seq,
// appended}, or {code, "0"}: -1 the room is empty, -2 the session is not the
// member, -3 it has the role already. Event: role_switch.
var switchScript = redis.NewScript(luaHelpers + `
if late(ARGV[4]) then return redis.error_reply('` + replyLate + `') end
local out
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if redis.call('HLEN', KEYS[1]) == 0 then
  out = {'-1', '0'}
elseif not cur or cjson.decode(cur).s ~= ARGV[2] then
  out = {'-2', '0'}
elseif tostring(cjson.decode(cur).r) == ARGV[3] then
  out = {'-3', '0'}
else
  -- the member's text with its role replaced; "u" comes first and user
  -- ids have no quotes, so the first ,"r": is the role
  local nv = (string.gsub(cur, ',"r":%d,', ',"r":' .. ARGV[3] .. ',', 1))
  redis.call('HSET', KEYS[1], ARGV[1], nv)
  if ARGV[3] == '0' then
    redis.call('HSET', KEYS[2], ARGV[1], nv)
  else
    redis.call('HDEL', KEYS[2], ARGV[1])
  end
  local L = newlog(KEYS[5], KEYS[6], ARGV[9], ARGV[8])
  local seq = nextseq(KEYS[3])
  logev(L, seq, 'role_switch', cjson.decode(nv), '')
  redis.call('PUBLISH', ARGV[7], event('role', seq, L.t, ARGV[6], nv, cur, ''))
  out = {seq, tostring(L.n)}
end
redis.call('SET', KEYS[4], cjson.encode(out), 'PX', ARGV[5])
return out
`)

// media: KEYS members, seq, stream, counter, claim, tracks; ARGV user,
// type, deadline, room key, maxlen, incarnation, track change ("+v", "-a":
// trackOp), tracks TTL (ms). Records a member's media event
// (rooms.Registry.LogMedia) and keeps the room's live tracks (luaTracks):
// answers {seq, appended}, or, with nothing appended, {"-2", "0"} when the
// user is not a member, {"-3", "0"} when another incarnation holds the
// room's media claim (this one lost the room), {"-4", "0"} for a stop of a
// track that is not live here (its stop was written after a reset). It
// changes no room state and publishes nothing, so it needs no outcome
// record: refused after the deadline, like the changes, it either ran
// before it or never runs.
var mediaScript = redis.NewScript(luaHelpers + `
if late(ARGV[3]) then return redis.error_reply('` + replyLate + `') end
local owner = redis.pcall('GET', KEYS[5])
if type(owner) == 'string' and owner ~= ARGV[6] then return {'-3', '0'} end
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if not cur then return {'-2', '0'} end
local m = cjson.decode(cur)
local e = redis.call('HGET', KEYS[6], ARGV[1])
if e then e = cjson.decode(e) end
if not e or e.n ~= ARGV[6] or e.s ~= m.s then e = {n = ARGV[6], s = m.s, k = ''} end
local c = string.sub(ARGV[7], 2)
local live = string.find(e.k, c, 1, true)
if string.sub(ARGV[7], 1, 1) == '-' then
  if not live then return {'-4', '0'} end
  e.k = string.gsub(e.k, c, '')
elseif not live then
  e.k = e.k .. c
end
if e.k == '' then
  redis.call('HDEL', KEYS[6], ARGV[1])
else
  redis.call('HSET', KEYS[6], ARGV[1], cjson.encode(e))
  redis.call('PEXPIRE', KEYS[6], ARGV[8])
end
local L = newlog(KEYS[3], KEYS[4], ARGV[5], ARGV[4])
local seq = nextseq(KEYS[2])
logev(L, seq, ARGV[2], m, '')
return {seq, tostring(L.n)}
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

package cluster

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/trtcd/trtcd/internal/eventlog"
	"github.com/trtcd/trtcd/internal/rooms"
)

// Live tracks (docs/media.md, "Cluster mode"). Beside a room's media claim,
// Redis keeps the tracks that are started and not stopped, so that their
// stop events can be written when the media node that ran them is gone:
//
//	trtcd:{ev:NN}:room:<tag>:mediatrk hash userID → {"n": media node incarnation, "s": session, "k": kinds}
//
// kinds are the letters a (audio), v (video) and s (substream). The media
// script (LogMedia) keeps the entry with each event it records, in the same
// script. The stops are written, each entry at most once because the script
// that writes them deletes it, by whichever comes first: a node noticing
// that the media node is dead (MediaStopTracks, before its media_reset), the
// next node taking the room's claim (MediaClaim: the entries of any other
// node), or the media node itself when it shuts down.

// MediaTracksTTL is how long a room's live tracks are kept after the last
// media event or claim refresh: the bound on how late the stops of a dead
// media node's tracks can still be written.
const MediaTracksTTL = 10 * time.Minute

// ErrNotMediaNode: a media event of a node that no longer holds the room's
// media claim (another node took the room); it is not recorded.
var ErrNotMediaNode = errors.New("cluster: this node no longer runs the room's media")

// ErrNotStarted: a stop event of a track that is not live (its stop was
// already written after a reset); it is not recorded.
var ErrNotStarted = errors.New("cluster: the track's stop is already recorded")

func mediaTracksKey(room rooms.Key) string { return keysOf(room).base + "mediatrk" }

// trackOp is the live-track change of a media event type: "+" or "-" and
// the kind's letter.
var trackOp = map[eventlog.Type]string{
	eventlog.TypeAudioStart: "+a", eventlog.TypeAudioStop: "-a",
	eventlog.TypeVideoStart: "+v", eventlog.TypeVideoStop: "-v",
	eventlog.TypeSubStart: "+s", eventlog.TypeSubStop: "-s",
}

// luaTracks: stoptracks writes the stop events of the live tracks recorded
// by incarnation only (every incarnation when ”), except those of
// incarnation except, and deletes their entries. A user who left, or whose
// session changed (left and entered again, or a duplicate login), gets no
// stop: the entry just goes. Users in byte order, each one's kinds in the
// order audio, video, substream. Returns the number of events.
const luaTracks = `
local TRACK_STOP = {a = '` + string(eventlog.TypeAudioStop) + `', v = '` + string(eventlog.TypeVideoStop) +
	`', s = '` + string(eventlog.TypeSubStop) + `'}
local function stoptracks(tracks, members, seqkey, L, only, except)
  local h = redis.call('HGETALL', tracks)
  local users, ent = {}, {}
  for i = 1, #h, 2 do
    local e = cjson.decode(h[i + 1])
    if (only == '' or e.n == only) and e.n ~= except then
      users[#users + 1] = h[i]
      ent[h[i]] = e
    end
  end
  table.sort(users)
  local n = 0
  for _, u in ipairs(users) do
    redis.call('HDEL', tracks, u)
    local cur = redis.call('HGET', members, u)
    if cur then
      local m = cjson.decode(cur)
      if m.s == ent[u].s then
        for _, c in ipairs({'a', 'v', 's'}) do
          if string.find(ent[u].k, c, 1, true) then
            logev(L, nextseq(seqkey), TRACK_STOP[c], m, '')
            n = n + 1
          end
        end
      end
    end
  end
  return n
end
`

// mediaStopScript: KEYS tracks, members, seq, stream, counter; ARGV dead
// incarnation, room key, maxlen. Answers {stops, appended}.
var mediaStopScript = redis.NewScript(luaHelpers + luaTracks + `
local L = newlog(KEYS[4], KEYS[5], ARGV[3], ARGV[2])
local n = stoptracks(KEYS[1], KEYS[2], KEYS[3], L, ARGV[1], '')
return {tostring(n), tostring(L.n)}
`)

// MediaStopTracks writes the stop events of the tracks that the dead
// incarnation dead ran for room and that are still live, for the users
// still in the room with the same session; it returns how many. Each is
// written once, whichever node asks first.
func (r *Registry) MediaStopTracks(ctx context.Context, room rooms.Key, dead string) (int, error) {
	k := keysOf(room)
	cctx, cancel := r.opCtx(ctx)
	defer cancel()
	res, err := mediaStopScript.Run(cctx, r.rdb, []string{mediaTracksKey(room), k.members, k.seq, k.stream, k.counter},
		dead, k.room, r.opt.LogMaxLen).StringSlice()
	if err != nil {
		return 0, err
	}
	return r.stopsWritten(res, 0)
}

// stopsWritten reads the stops and appended counts at res[i], res[i+1] of a
// script's answer and counts them.
func (r *Registry) stopsWritten(res []string, i int) (int, error) {
	if len(res) < i+2 {
		return 0, fmt.Errorf("unexpected answer %v", res)
	}
	n, err := strconv.Atoi(res[i])
	if err != nil {
		return 0, fmt.Errorf("unexpected answer %v", res)
	}
	r.appended(res[i+1])
	r.stats.mediaStops.Add(uint64(n))
	return n, nil
}

// MediaStops is how many stop events this process wrote for the tracks of
// a media node that was gone (MediaStopTracks, MediaClaim).
func (r *Registry) MediaStops() uint64 { return r.stats.mediaStops.Load() }

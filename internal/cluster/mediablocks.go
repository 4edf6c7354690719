package cluster

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/trtcd/trtcd/internal/rooms"
)

// A room's blocks (SetUserBlocked) are recorded in its slot, in
// trtcd:{ev:NN}:room:<tag>:mediablk (user → "a", "v" or "av"), without an
// expiry: a block holds until it is changed, the user leaves or the room is
// dismissed. A media node that starts the room's media applies them; the
// media node that holds them writes them back when Redis lost them
// (MediaRestoreBlocks), or merges them when another node took the room
// meanwhile (docs/media.md).

// MediaSetBlocked records user's blocks in room, so that a media node
// that takes the room over applies them (both false: the entry goes).
func (r *Registry) MediaSetBlocked(ctx context.Context, room rooms.Key, user string, audio, video bool) error {
	v := blockValue(audio, video)
	if v == "" {
		return r.rdb.HDel(ctx, mediaBlockedKey(room), user).Err()
	}
	return r.rdb.HSet(ctx, mediaBlockedKey(room), user, v).Err()
}

// MediaBlocked reads room's recorded blocks: user → (audio, video).
func (r *Registry) MediaBlocked(ctx context.Context, room rooms.Key) (map[string][2]bool, error) {
	h, err := r.rdb.HGetAll(ctx, mediaBlockedKey(room)).Result()
	if err != nil {
		return nil, err
	}
	out := make(map[string][2]bool, len(h))
	for u, v := range h {
		out[u] = [2]bool{strings.Contains(v, "a"), strings.Contains(v, "v")}
	}
	return out, nil
}

// MediaForget deletes room's recorded blocks and live tracks (DismissRoom:
// the members left, so no track gets a stop).
func (r *Registry) MediaForget(ctx context.Context, room rooms.Key) error {
	return r.rdb.Del(ctx, mediaBlockedKey(room), mediaTracksKey(room)).Err()
}

// MediaBlockedKey is the Redis key of room's recorded blocks (for tests and
// operators).
func MediaBlockedKey(room rooms.Key) string { return mediaBlockedKey(room) }

// restoreBlocksScript: KEYS claim, blocks; ARGV incarnation, claim TTL
// (ms), "1" to take the claim if nobody holds it, "1" to merge if another
// incarnation holds it, then user, value pairs. With take, unless another
// incarnation holds the room's media, the claim is set (or refreshed) and
// the blocks written. Otherwise, with merge, they are only merged: a user
// gets an entry only if it has none, since an entry there was written
// after Redis lost the records and is newer than the copy written back.
// Returns the holder (an empty string if none) and how many entries it
// wrote.
var restoreBlocksScript = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
local n = 0
if ARGV[3] == '1' and (cur == ARGV[1] or not cur) then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  for i = 5, #ARGV, 2 do redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1]); n = n + 1 end
  return {ARGV[1], n}
end
if ARGV[4] == '1' then
  for i = 5, #ARGV, 2 do n = n + redis.call('HSETNX', KEYS[2], ARGV[i], ARGV[i + 1]) end
end
return {cur or '', n}`)

// MediaRestoreBlocks writes back the blocks this process's media of room
// holds (Redis restarted empty, or this process was swept after a stall),
// with its claim on the room, and returns this process as the holder. If
// another incarnation holds the room's media now, that holder is returned
// and nothing is written, unless merge: then the blocks are merged into
// the record (users that have an entry keep it), for this process to hand
// them over (docs/media.md). written is how many users' entries it wrote
// (all of them with the claim; those that had none when merged).
func (r *Registry) MediaRestoreBlocks(ctx context.Context, room rooms.Key, blocks map[string][2]bool, merge bool) (holder string, written int, err error) {
	return r.restoreBlocks(ctx, room, blocks, true, merge)
}

// MediaMergeBlocks merges the blocks of this process's media of room into
// the record, as MediaRestoreBlocks does with merge when another
// incarnation holds the room, without taking the claim (this process is
// letting the room go): it returns the holder, "" if none (then the next
// media node applies them), and how many entries the merge added.
func (r *Registry) MediaMergeBlocks(ctx context.Context, room rooms.Key, blocks map[string][2]bool) (holder string, written int, err error) {
	return r.restoreBlocks(ctx, room, blocks, false, true)
}

func (r *Registry) restoreBlocks(ctx context.Context, room rooms.Key, blocks map[string][2]bool, take, merge bool) (string, int, error) {
	flag := func(b bool) string {
		if b {
			return "1"
		}
		return "0"
	}
	args := []any{r.inc, MediaClaimTTL.Milliseconds(), flag(take), flag(merge)}
	for u, av := range blocks {
		if v := blockValue(av[0], av[1]); v != "" {
			args = append(args, u, v)
		}
	}
	res, err := restoreBlocksScript.Run(ctx, r.rdb, []string{mediaKey(room), mediaBlockedKey(room)}, args...).Slice()
	if err != nil {
		return "", 0, err
	}
	if len(res) == 2 {
		holder, ok1 := res[0].(string)
		n, ok2 := res[1].(int64)
		if ok1 && ok2 {
			return holder, int(n), nil
		}
	}
	return "", 0, fmt.Errorf("media blocks restore: unexpected answer %v", res)
}

// epochScript: KEYS epoch; ARGV a new epoch. Returns the epoch, setting
// ARGV[1] if there is none.
var epochScript = redis.NewScript(`
local e = redis.call('GET', KEYS[1])
if e then return e end
redis.call('SET', KEYS[1], ARGV[1])
return ARGV[1]`)

// RedisEpoch names the data Redis holds now: a key without expiry that
// the first process to ask after Redis started empty sets to a name of its
// own. Two reads that return the same epoch saw the same data set: Redis
// did not restart empty in between, so the records written before the
// first read are still there (docs/media.md, the blocks' hand-over).
func (r *Registry) RedisEpoch(ctx context.Context) (string, error) {
	return epochScript.Run(ctx, r.rdb, []string{epochKey()}, r.inc+"@"+strconv.FormatInt(time.Now().UnixNano(), 36)).Text()
}

// blockValue is a block's record: "a", "v", "av", or "" for none.
func blockValue(audio, video bool) string {
	v := ""
	if audio {
		v += "a"
	}
	if video {
		v += "v"
	}
	return v
}

package cluster

import (
	"context"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/trtcd/trtcd/internal/rooms"
)

// A room's blocks (SetUserBlocked) are recorded in its slot, in
// trtcd:{ev:NN}:room:<tag>:mediablk (user → "a", "v" or "av"), without an
// expiry: a block holds until it is changed, the user leaves or the room is
// dismissed. A media node that starts the room's media applies them; the
// media node that holds them writes them back when Redis lost them
// (MediaRestoreBlocks, docs/media.md).

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
// (ms), then user, value pairs. Unless another incarnation holds the room's
// media, the claim is set (or refreshed) and the blocks written; returns 1,
// else 0 and nothing is written.
var restoreBlocksScript = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if cur and cur ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
for i = 3, #ARGV, 2 do redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1]) end
return 1`)

// MediaRestoreBlocks writes back the blocks this process's media of room
// holds (Redis restarted empty, or this process was swept after a stall),
// with its claim on the room: only if no other incarnation holds the room's
// media now (false then, and nothing is written).
func (r *Registry) MediaRestoreBlocks(ctx context.Context, room rooms.Key, blocks map[string][2]bool) (bool, error) {
	args := []any{r.inc, MediaClaimTTL.Milliseconds()}
	for u, av := range blocks {
		if v := blockValue(av[0], av[1]); v != "" {
			args = append(args, u, v)
		}
	}
	n, err := restoreBlocksScript.Run(ctx, r.rdb, []string{mediaKey(room), mediaBlockedKey(room)}, args...).Int()
	return n == 1, err
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

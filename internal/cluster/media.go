package cluster

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/trtcd/trtcd/internal/rooms"
)

// Media placement (docs/media.md, "Cluster mode"). A room's media lives on
// one node incarnation, recorded in the room's slot:
//
//	trtcd:{ev:NN}:room:<tag>:media  string with a TTL: the incarnation running the room's media
//	trtcd:{ev:NN}:room:<tag>:mediablk hash userID → "a", "v" or "av": the room's blocks (SetUserBlocked)
//	trtcd:{ev:NN}:room:<tag>:mediatrk hash userID → the user's live tracks (mediatracks.go)
//	trtcd:media:{<inc>}             pub/sub channel: relayed media signalling for that incarnation
//	trtcd:media:secret              string: the key that signs relayed messages (set once)
//
// The claim is taken with SET NX when the room first needs media and kept
// alive by its holder every heartbeat; a dead holder stops refreshing it, so
// it expires within MediaClaimTTL and the next node that needs the room's
// media takes it.

// MediaClaimTTL is how long a room's media claim lives unless its holder
// refreshes it (every heartbeat): the bound on how long a dead media node
// keeps its rooms. It equals the liveness TTL, the sweep bound of members.
const MediaClaimTTL = 5 * time.Second

func mediaKey(room rooms.Key) string        { return keysOf(room).base + "media" }
func mediaBlockedKey(room rooms.Key) string { return keysOf(room).base + "mediablk" }
func mediaChannel(inc string) string        { return prefix + "media:{" + inc + "}" }
func mediaSecretKey() string                { return prefix + "media:secret" }

// claim: KEYS claim, tracks, members, seq, stream, counter; ARGV
// incarnation, TTL (ms), room key, maxlen. A claim taken (SET NX) writes
// the stops of the live tracks of every other incarnation (luaTracks).
// Answers {owner (” if none), stops, appended}.
var claimScript = redis.NewScript(luaHelpers + luaTracks + `
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  local L = newlog(KEYS[5], KEYS[6], ARGV[4], ARGV[3])
  local n = stoptracks(KEYS[2], KEYS[3], KEYS[4], L, '', ARGV[1])
  return {ARGV[1], tostring(n), tostring(L.n)}
end
return {redis.call('GET', KEYS[1]) or '', '0', '0'}`)

// keep: KEYS claim, tracks; ARGV incarnation, TTL (ms), tracks TTL (ms).
var keepScript = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if cur == false then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) cur = ARGV[1] end
if cur ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
return 1`)

// release: KEYS claim, tracks; ARGV incarnation, "1" to delete the live
// tracks too (the room's media closed: none is live).
var releaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[2] == '1' then redis.call('DEL', KEYS[2]) end
return redis.call('DEL', KEYS[1])`)

// takeOver: KEYS as claim; ARGV incarnation, TTL (ms), the dead holder,
// room key, maxlen. Answers as claim.
var takeOverScript = redis.NewScript(luaHelpers + luaTracks + `
local cur = redis.call('GET', KEYS[1])
if cur == false or cur == ARGV[3] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  local L = newlog(KEYS[5], KEYS[6], ARGV[5], ARGV[4])
  local n = stoptracks(KEYS[2], KEYS[3], KEYS[4], L, '', ARGV[1])
  return {ARGV[1], tostring(n), tostring(L.n)}
end
return {cur, '0', '0'}`)

// MediaClaim returns the incarnation that runs room's media, claiming it
// for this process if nobody does, or if the holder's liveness key is gone
// (a dead node: takenOver is then true). Taking the claim writes the stop
// events of the tracks another node left live (MediaStopTracks).
func (r *Registry) MediaClaim(ctx context.Context, room rooms.Key) (owner string, takenOver bool, err error) {
	ttl := MediaClaimTTL.Milliseconds()
	k := keysOf(room)
	keys := []string{mediaKey(room), mediaTracksKey(room), k.members, k.seq, k.stream, k.counter}
	owner, err = r.claimAnswer(claimScript.Run(ctx, r.rdb, keys, r.inc, ttl, k.room, r.opt.LogMaxLen).StringSlice())
	if err != nil || owner == r.inc {
		return owner, false, err
	}
	if owner != "" {
		alive, err := r.Alive(ctx, owner)
		if err != nil || alive {
			return owner, false, err
		}
	}
	dead := owner
	owner, err = r.claimAnswer(takeOverScript.Run(ctx, r.rdb, keys, r.inc, ttl, dead, k.room, r.opt.LogMaxLen).StringSlice())
	return owner, err == nil && owner == r.inc && dead != "", err
}

// claimAnswer reads {owner, stops, appended} and counts the stops.
func (r *Registry) claimAnswer(res []string, err error) (string, error) {
	if err != nil {
		return "", err
	}
	if _, err := r.stopsWritten(res, 1); err != nil {
		return "", err
	}
	return res[0], nil
}

// MediaOwner returns the incarnation that runs room's media, "" if none.
func (r *Registry) MediaOwner(ctx context.Context, room rooms.Key) (string, error) {
	s, err := r.rdb.Get(ctx, mediaKey(room)).Result()
	if errors.Is(err, redis.Nil) {
		return "", nil
	}
	return s, err
}

// MediaKeep refreshes this process's claims on rooms (taking back one that
// expired, e.g. after a stall, if nobody took it) and returns those another
// node holds now.
func (r *Registry) MediaKeep(ctx context.Context, list []rooms.Key) (lost []rooms.Key, err error) {
	if len(list) == 0 {
		return nil, nil
	}
	pipe := r.rdb.Pipeline()
	cmds := make([]*redis.Cmd, len(list))
	for i, room := range list {
		cmds[i] = keepScript.Eval(ctx, pipe, []string{mediaKey(room), mediaTracksKey(room)}, r.inc, MediaClaimTTL.Milliseconds(), MediaTracksTTL.Milliseconds())
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, err
	}
	for i, c := range cmds {
		if n, err := c.Int(); err == nil && n == 0 {
			lost = append(lost, list[i])
		}
	}
	return lost, nil
}

// MediaRelease gives up this process's claim on room (its media closed:
// no track is live, the room's live tracks go too).
func (r *Registry) MediaRelease(ctx context.Context, room rooms.Key) error {
	return releaseScript.Run(ctx, r.rdb, []string{mediaKey(room), mediaTracksKey(room)}, r.inc, "1").Err()
}

// MediaHandOver gives up this process's claim on room while its tracks may
// be live (the node shuts down): the next node to claim the room writes
// the stops that are not written yet.
func (r *Registry) MediaHandOver(ctx context.Context, room rooms.Key) error {
	return releaseScript.Run(ctx, r.rdb, []string{mediaKey(room), mediaTracksKey(room)}, r.inc, "0").Err()
}

// Alive reports whether incarnation inc's liveness key exists.
func (r *Registry) Alive(ctx context.Context, inc string) (bool, error) {
	n, err := r.rdb.Exists(ctx, aliveKey(inc)).Result()
	return n == 1, err
}

// MediaRelay carries media signalling between node incarnations on Redis
// pub/sub: each incarnation listens on its own channel. Every message is
// signed (HMAC-SHA256) with a key created in Redis by the first node, so a
// message on the channel that was not written by a trtcd node of this
// cluster is dropped (Refused counts them).
type MediaRelay struct {
	r     *Registry
	key   []byte
	watch *watcher
}

// NewMediaRelay listens on this incarnation's media channel; deliver gets
// each verified message (one at a time, in the order they were published
// by each sender), refused is called for each message that fails the check.
func (r *Registry) NewMediaRelay(ctx context.Context, deliver func(payload []byte), refused func()) (*MediaRelay, error) {
	secret := make([]byte, 32)
	rand.Read(secret)
	if err := r.rdb.SetNX(ctx, mediaSecretKey(), hex.EncodeToString(secret), 0).Err(); err != nil {
		return nil, err
	}
	s, err := r.rdb.Get(ctx, mediaSecretKey()).Result()
	if err != nil {
		return nil, err
	}
	m := &MediaRelay{r: r, key: []byte(s)}
	m.watch = newWatcher(r.rdb, func(p string) {
		if b, ok := m.open(p); ok {
			deliver(b)
		} else {
			refused()
		}
	}, r.opt.Log, r.opt.sleep)
	if err := m.watch.subscribe(ctx, mediaChannel(r.inc)); err != nil {
		m.watch.close()
		return nil, err
	}
	return m, nil
}

func (m *MediaRelay) mac(b []byte) string {
	h := hmac.New(sha256.New, m.key)
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil))
}

// open checks a payload "<mac> <message>" and returns the message.
func (m *MediaRelay) open(p string) ([]byte, bool) {
	mac, body, ok := strings.Cut(p, " ")
	if !ok || !hmac.Equal([]byte(mac), []byte(m.mac([]byte(body)))) {
		return nil, false
	}
	return []byte(body), true
}

// Send publishes one message to incarnation inc's channel.
func (m *MediaRelay) Send(ctx context.Context, inc string, b []byte) error {
	return m.r.rdb.Publish(ctx, mediaChannel(inc), m.mac(b)+" "+string(b)).Err()
}

// Keep writes the signing key back if Redis lost it (restarted empty), so
// that a node started afterwards signs with the same key as the others.
func (m *MediaRelay) Keep(ctx context.Context) error {
	return m.r.rdb.SetNX(ctx, mediaSecretKey(), string(m.key), 0).Err()
}

// Close stops listening.
func (m *MediaRelay) Close() error { return m.watch.close() }

// Incarnations lists the live incarnations (trtcd:nodes).
func (r *Registry) Incarnations(ctx context.Context) ([]string, error) {
	return r.rdb.SMembers(ctx, nodesKey()).Result()
}

// MediaKey is the Redis key of room's media claim (for tests and operators).
func MediaKey(room rooms.Key) string { return mediaKey(room) }

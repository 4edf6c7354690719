package cluster

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/trtcd/trtcd/internal/eventlog"
	"github.com/trtcd/trtcd/internal/rooms"
)

// Key layout. Every key of one room carries the hash tag of the room's
// event-log shard ({ev:NN}, NN = eventlog.Shard of the room's key string),
// like the shard's stream and counter, so that one script changes the room
// and appends its events to the log in one slot, also on Redis Cluster.
// Within the tag, "room:<room tag>:" keeps the room's keys apart from other
// rooms of the shard and from the shard's own keys.
//
//	trtcd:{ev:NN}:room:<tag>:m        hash  userID → member (everyone)
//	trtcd:{ev:NN}:room:<tag>:a        hash  userID → member (anchors only: the join snapshot)
//	trtcd:{ev:NN}:room:<tag>:q        string the room's last sequence number (deleted when the room empties)
//	trtcd:{ev:NN}:room:<tag>:op:<id>  string a change's outcome record (expires after 30 s)
//	trtcd:{ev:NN}:stream, :n          the shard's event stream and counter (internal/eventlog)
//	trtcd:{<tag>}:ev        pub/sub channel of the room's events (channels are not slot-bound)
//	trtcd:nodes             set   incarnations ("<node id>#<boot id>") of live processes
//	trtcd:node:{<inc>}:alive string with a TTL: the incarnation's liveness
//	trtcd:node:{<inc>}:sess  set   "<tag>\n<user>\n<session>" of the incarnation's members
//	trtcd:sweeper           lock  held by the process sweeping dead incarnations
//
// Why 64 shards and not a stream per room: a consumer group must read every
// stream, so their number is bounded (one blocking read per owned shard);
// 64 spreads rooms over a Redis Cluster's masters and lets up to 64
// consumers share a group. docs/architecture.md has the rest.
const prefix = "trtcd:"

// tag is the room's hash tag: string rooms are hex-encoded so no character
// of theirs can end the tag early.
func tag(k rooms.Key) string {
	if k.IsStr() {
		return fmt.Sprintf("%d:s:%s", k.App, hex.EncodeToString([]byte(k.Str)))
	}
	return fmt.Sprintf("%d:n:%d", k.App, k.Num)
}

func parseTag(s string) (rooms.Key, bool) {
	parts := strings.SplitN(s, ":", 3)
	if len(parts) != 3 {
		return rooms.Key{}, false
	}
	app, err := strconv.ParseUint(parts[0], 10, 64)
	if err != nil {
		return rooms.Key{}, false
	}
	switch parts[1] {
	case "n":
		n, err := strconv.ParseUint(parts[2], 10, 64)
		return rooms.NumRoom(app, n), err == nil
	case "s":
		b, err := hex.DecodeString(parts[2])
		return rooms.StrRoom(app, string(b)), err == nil && len(b) > 0
	}
	return rooms.Key{}, false
}

type roomKeys struct {
	members, anchors, seq, channel, base string
	room                                 string // rooms.Key.String(): the room in the event log
	stream, counter                      string // the room's event-log shard (eventlog.AppendKeys)
}

func keysOf(k rooms.Key) roomKeys {
	room := k.String()
	t := prefix + eventlog.HashTag(eventlog.Shard(room)) + ":room:" + tag(k) + ":"
	ak := eventlog.AppendKeys(room)
	return roomKeys{members: t + "m", anchors: t + "a", seq: t + "q", channel: prefix + "{" + tag(k) + "}:ev", base: t,
		room: room, stream: ak[0], counter: ak[1]}
}

// change are the KEYS of a fenced room script: the room's hashes, counter
// and outcome record, and its log shard's stream and counter.
func (k roomKeys) change(op string) []string {
	return []string{k.members, k.anchors, k.seq, op, k.stream, k.counter}
}

// op is the outcome record of the change named id (in the room's slot).
func (k roomKeys) op(id string) string { return k.base + "op:" + id }

func nodesKey() string              { return prefix + "nodes" }
func aliveKey(inc string) string    { return prefix + "node:{" + inc + "}:alive" }
func sessionsKey(inc string) string { return prefix + "node:{" + inc + "}:sess" }
func sweeperKey() string            { return prefix + "sweeper" }
func epochKey() string              { return prefix + "epoch" } // RedisEpoch

func sessionEntry(k rooms.Key, user, session string) string {
	return tag(k) + "\n" + user + "\n" + session
}

func parseSessionEntry(s string) (rooms.Key, string, string, bool) {
	parts := strings.Split(s, "\n")
	if len(parts) != 3 {
		return rooms.Key{}, "", "", false
	}
	k, ok := parseTag(parts[0])
	return k, parts[1], parts[2], ok
}

// wireMember is a member as stored in Redis and carried in events.
type wireMember struct {
	User    string `json:"u"`
	Role    uint8  `json:"r"`
	Session string `json:"s"`
	Node    string `json:"n"`
	Since   int64  `json:"t"` // Unix ms
	// The client (rooms.Client); the enter script copies them into the
	// enter event's Ext (x.ip, x.device, x.sdk).
	IP     string `json:"ip,omitempty"`
	Device string `json:"dv,omitempty"`
	Sdk    string `json:"sv,omitempty"`
}

func toWire(m rooms.Member) wireMember {
	return wireMember{User: m.UserID, Role: uint8(m.Role), Session: m.SessionID, Node: m.NodeID, Since: m.JoinedAt.UnixMilli(),
		IP: m.Client.IP, Device: m.Client.Device, Sdk: m.Client.SdkVersion}
}

func (w wireMember) member() rooms.Member {
	return rooms.Member{UserID: w.User, Role: rooms.Role(w.Role), SessionID: w.Session, NodeID: w.Node, JoinedAt: time.UnixMilli(w.Since),
		Client: rooms.Client{IP: w.IP, Device: w.Device, SdkVersion: w.Sdk}}
}

func encodeMember(m rooms.Member) string {
	b, _ := json.Marshal(toWire(m))
	return string(b)
}

// wireRoom is the room as carried in events.
type wireRoom struct {
	App uint64 `json:"a"`
	Num uint64 `json:"n,omitempty"`
	Str string `json:"s,omitempty"`
}

func encodeRoom(k rooms.Key) string {
	b, _ := json.Marshal(wireRoom{App: k.App, Num: k.Num, Str: k.Str})
	return string(b)
}

// wireEvent is what the scripts publish.
type wireEvent struct {
	Kind    string       `json:"k"`
	Seq     uint64       `json:"q"`
	Time    int64        `json:"t"` // Unix ms, from Redis's clock
	Room    wireRoom     `json:"room"`
	Member  *wireMember  `json:"m"`
	Old     *wireMember  `json:"o"`
	Reason  string       `json:"r"`
	Members []wireMember `json:"ms"`
}

var kinds = map[string]rooms.EventKind{"entered": rooms.Entered, "replaced": rooms.Replaced, "exited": rooms.Exited,
	"dismissed": rooms.Dismissed, "role": rooms.RoleChanged}

func decodeEvent(payload string) (rooms.Event, error) {
	var w wireEvent
	if err := json.Unmarshal([]byte(payload), &w); err != nil {
		return rooms.Event{}, err
	}
	kind, ok := kinds[w.Kind]
	if !ok {
		return rooms.Event{}, fmt.Errorf("unknown event kind %q", w.Kind)
	}
	e := rooms.Event{Room: rooms.Key{App: w.Room.App, Num: w.Room.Num, Str: w.Room.Str}, Seq: w.Seq, Kind: kind,
		Reason: rooms.Reason(w.Reason), Time: time.UnixMilli(w.Time)}
	if w.Member != nil {
		e.Member = w.Member.member()
	}
	if w.Old != nil {
		old := w.Old.member()
		e.Old = &old
		if kind == rooms.Replaced {
			e.Reason = rooms.ReasonDuplicate
		}
	}
	for _, m := range w.Members {
		e.Members = append(e.Members, m.member())
	}
	return e, nil
}

package node

import (
	"encoding/json"
	"fmt"

	"github.com/trtcd/trtcd/client/media/wire"
	"github.com/trtcd/trtcd/internal/rooms"
)

// relayMsg is one message between two nodes about a room's media, carried
// by cluster.MediaRelay (docs/media.md, "Cluster mode"). A session's peer on
// another node is named by Peer, an id its session node chose.
type relayMsg struct {
	Op     string             `json:"op"`
	From   string             `json:"from"` // the sender's incarnation, where answers go
	Room   string             `json:"room"` // rooms.Key.String()
	Peer   string             `json:"peer,omitempty"`
	User   string             `json:"user,omitempty"`
	Users  []string           `json:"users,omitempty"`
	Role   rooms.Role         `json:"role,omitempty"`
	Reason rooms.Reason       `json:"reason,omitempty"`
	Msg    json.RawMessage    `json:"msg,omitempty"` // a wire.Message
	Audio  bool               `json:"audio,omitempty"`
	Video  bool               `json:"video,omitempty"`
	Req    uint64             `json:"req,omitempty"`    // a request's number, echoed by its ack
	Time   int64              `json:"time,omitempty"`   // opBlocked: when, Unix ms
	Blocks map[string][2]bool `json:"blocks,omitempty"` // opMerge: user → (audio, video)
}

// The relay's operations.
const (
	// session node → media node
	opJoin  = "join"  // join Peer (User, Role) to Room's media
	opMsg   = "msg"   // a media_ message from Peer's client
	opRole  = "role"  // Peer's role changed
	opLeave = "leave" // Peer's session ended (Reason)
	opLeft  = "left"  // User left Room (Reason): its blocking goes
	// media node → session node
	opOut   = "out"   // a media_ message for Peer's client
	opReset = "reset" // Peer's media is gone (its media node lost the room): tell the client
	// API node → media node, answered by opAck
	opRemove  = "remove"  // cut Users' media (RemoveUser)
	opDismiss = "dismiss" // close Room's media (DismissRoom)
	opBlock   = "block"   // SetUserBlocked User Audio Video
	opAck     = "ack"     // Req is done
	// a room's previous media node → its media node
	opMerge = "merge" // apply Blocks, which the sender's media of Room held (mediablocks.go)
	// API node → every node
	opBlocked = "blocked" // tell this node's sessions of Room: User is blocked (Audio, Video)
)

// decodeRelay parses one relayed message; the relay has checked its
// signature, so an error here is a bug or a version mismatch, never a
// panic.
func decodeRelay(b []byte) (relayMsg, rooms.Key, error) {
	var m relayMsg
	if err := json.Unmarshal(b, &m); err != nil {
		return m, rooms.Key{}, err
	}
	if m.From == "" {
		return m, rooms.Key{}, fmt.Errorf("relay: no sender")
	}
	if m.Op == opAck {
		return m, rooms.Key{}, nil
	}
	k, err := rooms.ParseKey(m.Room)
	if err != nil {
		return m, k, err
	}
	switch m.Op {
	case opJoin, opLeft, opBlock, opBlocked:
		if !wire.ValidUserID(m.User) {
			return m, k, fmt.Errorf("relay: %s: bad user", m.Op)
		}
	case opRemove:
		for _, u := range m.Users {
			if !wire.ValidUserID(u) {
				return m, k, fmt.Errorf("relay: remove: bad user")
			}
		}
	case opMerge:
		for u := range m.Blocks {
			if !wire.ValidUserID(u) {
				return m, k, fmt.Errorf("relay: merge: bad user")
			}
		}
	case opMsg, opRole, opLeave, opOut, opReset, opDismiss:
	default:
		return m, k, fmt.Errorf("relay: unknown op %q", m.Op)
	}
	if m.Peer == "" && (m.Op == opJoin || m.Op == opMsg || m.Op == opRole || m.Op == opLeave || m.Op == opOut || m.Op == opReset) {
		return m, k, fmt.Errorf("relay: %s: no peer", m.Op)
	}
	return m, k, nil
}

func (m relayMsg) encode() []byte {
	b, _ := json.Marshal(m)
	return b
}

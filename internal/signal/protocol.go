package signal

import (
	"encoding/json"

	"github.com/trtcd/trtcd/internal/rooms"
	"github.com/trtcd/trtcd/protocol"
)

var noticeTypes = map[rooms.NoticeType]string{
	rooms.Joined:      protocol.TypeJoined,
	rooms.UserEntered: protocol.TypeUserEntered,
	rooms.UserLeft:    protocol.TypeUserLeft,
	rooms.Kicked:      protocol.TypeKicked,
	rooms.UserBlocked: protocol.TypeUserBlocked,
}

// encodeNotice is the wire form of a notice; the hub shares notices between
// sessions, and Notice.Encoded keeps this result for all of them.
func encodeNotice(n *rooms.Notice) []byte {
	m := protocol.ServerMessage{Type: noticeTypes[n.Type], Seq: n.Seq, SessionID: n.SessionID, Reason: string(n.Reason), Ts: n.Time.UnixMilli()}
	if n.Room.IsStr() {
		m.StrRoomID = n.Room.Str
	} else {
		m.RoomID = n.Room.Num
	}
	switch n.Type {
	case rooms.Joined:
		m.Members = make([]protocol.Member, len(n.Members))
		for i, x := range n.Members {
			m.Members[i] = protocol.Member{UserID: x.UserID, Role: x.Role.String()}
		}
	case rooms.UserEntered, rooms.UserLeft:
		m.UserID, m.Role = n.UserID, n.Role.String()
	case rooms.UserBlocked:
		m.UserID, m.Audio, m.Video = n.UserID, &n.Audio, &n.Video
	}
	b, _ := json.Marshal(m)
	return b
}

func encodeError(e *protocol.Error) []byte {
	b, _ := json.Marshal(e.AsMessage())
	return b
}

var pongFrame = []byte(protocol.PongFrame)

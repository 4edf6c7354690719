package rooms

import (
	"sync/atomic"
	"time"
)

// NoticeType is what a session is told.
type NoticeType uint8

const (
	Joined      NoticeType = iota + 1 // your join succeeded; Members lists the room
	UserEntered                       // another anchor entered
	UserLeft                          // another anchor left, for Reason
	Kicked                            // you are out of the room for Reason; the last notice
	UserBlocked                       // UserID's audio and video are blocked (or not) as Audio and Video say
)

// Notice is one message to a session, derived from a room Event from that
// session's point of view. Notices are immutable and shared between the
// sessions that receive the same one, so a transport encodes each once.
type Notice struct {
	Type      NoticeType
	Room      Key
	Seq       uint64
	SessionID string   // Joined: the session's own id
	UserID    string   // UserEntered, UserLeft
	Role      Role     // UserEntered, UserLeft
	Reason    Reason   // UserLeft, Kicked
	Members   []Member // Joined: the anchors, and the joiner itself
	Audio     bool     // UserBlocked: the user's audio is blocked
	Video     bool     // UserBlocked: the user's video is blocked
	Time      time.Time

	enc atomic.Pointer[[]byte]
}

// Encoded returns the notice encoded by f, computing it once for all the
// sessions that share this notice.
func (n *Notice) Encoded(f func(*Notice) []byte) []byte {
	if b := n.enc.Load(); b != nil {
		return *b
	}
	b := f(n)
	n.enc.Store(&b)
	return b
}

// Session is a client connection as rooms sees it.
type Session interface {
	ID() string
	// Deliver queues a notice for the client. It must not block: a session
	// that cannot keep up disconnects itself. Kicked is the last notice.
	Deliver(*Notice)
}

package history

import (
	"context"
	"errors"
	"time"
)

// Reader is what the monitoring actions need from the store.
type Reader interface {
	// Rooms lists the room sessions of q.App that overlap [FromMs, ToMs],
	// oldest first, and how many match in all.
	Rooms(ctx context.Context, q RoomQuery) (total int, page []RoomSession, err error)
	// Room finds one room session of app by CommId.
	Room(ctx context.Context, app uint64, commID string) (RoomSession, bool, error)
	// Members lists the member sessions of one room session that overlap
	// [FromMs, ToMs], in join order, and how many match in all.
	Members(ctx context.Context, q MemberQuery) (total int, page []MemberSession, err error)
	// UserEvents lists one user's events in one room session within
	// [FromMs, ToMs], in order.
	UserEvents(ctx context.Context, q EventQuery) ([]UserEvent, error)
	// Scale counts entries, distinct members and rooms of app per day, for
	// the days given (each [From, To) in Unix ms).
	Scale(ctx context.Context, app uint64, days [][2]int64) ([]DayScale, error)
	// Now is the store's clock, for "still open" answers.
	Now() time.Time
	// Retention is how long history is kept: the oldest queryable time is Now - Retention.
	Retention() time.Duration
}

// ErrUnavailable wraps a failure of the database behind a Reader.
var ErrUnavailable = errors.New("history: database unavailable")

type RoomQuery struct {
	App          uint64
	FromMs, ToMs int64
	RoomText     string // "" for every room
	Offset       uint64
	Limit        int
}

type MemberQuery struct {
	App          uint64
	CommID       string
	FromMs, ToMs int64
	Users        []string // nil for every user
	Offset       uint64
	Limit        int
}

type EventQuery struct {
	App          uint64
	CommID       string
	User         string
	FromMs, ToMs int64
}

// RoomSession is one span of a room from its first entry to its close.
type RoomSession struct {
	CommID      string
	App         uint64
	RoomText    string
	IsStr       bool
	CreatedMs   int64
	DestroyedMs int64 // 0 while open
	Creator     string
	CloseReason string // "empty" | "dismissed"; "" while open
}

// MemberSession is one stay of one user in one room session.
type MemberSession struct {
	CommID      string
	UserID      string
	RoomText    string
	Role        string
	SessionID   string
	JoinMs      int64
	LeaveMs     int64 // 0 while present
	LeaveReason string
	ClientIP    string
	Device      string
	SdkVersion  string
}

// UserEvent is one event of DescribeUserEvent.
type UserEvent struct {
	TimeMs   int64
	EventID  int64
	Stream   int64
	ParamOne int64
	ParamTwo int64
}

// DayScale is one day of DescribeScaleInfo.
type DayScale struct {
	DayMs   int64 // start of the day
	Entries int   // every entry counts (UserCount)
	Members int   // a user entering one room several times counts once (UserNumber)
	Rooms   int   // distinct rooms (RoomNumbers)
}

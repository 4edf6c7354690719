package trtc

import (
	"fmt"
	"time"

	"github.com/trtcd/trtcd/internal/cloudapi"
	"github.com/trtcd/trtcd/internal/rooms"
)

// Limits of the data-monitoring actions (the cloud's documented values).
const (
	RoomInfoMaxRange        = 24 * time.Hour // DescribeRoomInfo: EndTime - StartTime
	UserInfoMaxRange        = 4 * time.Hour  // DescribeUserInfo: EndTime - StartTime
	RoomInfoDefaultPageSize = 10
	UserInfoDefaultPageSize = 6
	MaxPageSize             = 100 // PageSize is 1..100
	MaxQueryUserIDs         = 100 // DescribeUserInfo: UserIds has 1..100 entries
	MaxCommIDLen            = 256
	// maxUnixSeconds is 9999-12-31T23:59:59Z: a larger time is not a time.
	maxUnixSeconds = 253402300799
)

// ownedApp validates SdkAppId (presence, type, ownership) as the room actions do.
func ownedApp(c *cloudapi.Call, owner Owner) (uint64, error) {
	app, st := c.Params.Uint("SdkAppId")
	switch {
	case st == cloudapi.Missing:
		return 0, ErrMissingSdkAppID()
	case st != cloudapi.OK || app == 0:
		return 0, ErrInvalidSdkAppID()
	}
	if acct, ok := owner(app); !ok || acct != c.Account {
		return 0, ErrUnauthorizedSdkAppID(app)
	}
	return app, nil
}

// timeRange validates StartTime and then EndTime (Unix seconds): present,
// non-negative integers, StartTime within the retention window before now,
// EndTime not before StartTime, and the range at most maxRange (0: no limit).
func timeRange(c *cloudapi.Call, now time.Time, retention, maxRange time.Duration) (from, to int64, err error) {
	s, st := c.Params.Uint("StartTime")
	switch {
	case st == cloudapi.Missing:
		return 0, 0, ErrMissingStartTs()
	case st != cloudapi.OK || s > maxUnixSeconds:
		return 0, 0, ErrInvalidStartTs("it must be a Unix time in seconds")
	case int64(s) < now.Add(-retention).Unix():
		return 0, 0, ErrStartTsOversize(s, span(retention))
	}
	e, st := c.Params.Uint("EndTime")
	switch {
	case st == cloudapi.Missing:
		return 0, 0, ErrMissingEndTs()
	case st != cloudapi.OK || e > maxUnixSeconds:
		return 0, 0, ErrInvalidEndTs("it must be a Unix time in seconds")
	case e < s:
		return 0, 0, ErrInvalidEndTs(fmt.Sprintf("EndTime %d is before StartTime %d", e, s))
	case maxRange > 0 && time.Duration(e-s)*time.Second > maxRange:
		return 0, 0, ErrQueryScaleOversize(span(time.Duration(e-s)*time.Second), span(maxRange))
	}
	return int64(s), int64(e), nil
}

// page validates PageNumber (from 0) and PageSize (1..MaxPageSize). When
// either is absent the first page of the default size is answered, as the
// cloud documents.
func page(p cloudapi.Params, defaultSize int) (offset uint64, limit int, err error) {
	n, nst := p.Uint("PageNumber")
	if nst != cloudapi.OK && nst != cloudapi.Missing {
		return 0, 0, ErrInvalidPageNumber()
	}
	size, sst := p.Uint("PageSize")
	switch {
	case sst == cloudapi.Missing:
	case sst != cloudapi.OK || size == 0:
		return 0, 0, ErrInvalidPageSize(MaxPageSize)
	case size > MaxPageSize:
		return 0, 0, ErrPageSizeOversize(size, MaxPageSize)
	}
	if nst == cloudapi.Missing || sst == cloudapi.Missing {
		return 0, defaultSize, nil
	}
	if n > (1<<63)/size {
		return 1 << 63, int(size), nil // past any row
	}
	return n * size, int(size), nil
}

// commID validates CommId: present, a string of 1..MaxCommIDLen bytes. A
// well-formed CommId that names no session answers an empty list.
func commID(p cloudapi.Params) (string, error) {
	s, st := p.String("CommId")
	switch {
	case st == cloudapi.Missing:
		return "", ErrMissingCommID()
	case st != cloudapi.OK:
		return "", ErrInvalidCommID("it must be a string")
	case s == "" || len(s) > MaxCommIDLen:
		return "", ErrInvalidCommID(fmt.Sprintf("it must be 1-%d bytes", MaxCommIDLen))
	}
	return s, nil
}

// roomText validates a RoomId given as a string (the monitoring actions
// take every room's id as text). Optional RoomIds may be absent or "".
func roomText(p cloudapi.Params, required bool) (string, error) {
	s, st := p.String("RoomId")
	switch {
	case st == cloudapi.Missing || (!required && st == cloudapi.OK && s == ""):
		if required {
			return "", ErrMissingRoomID()
		}
		return "", nil
	case st != cloudapi.OK:
		return "", ErrInvalidRoomID("it must be a string for this action")
	case !rooms.ValidStrRoom(s):
		return "", ErrInvalidRoomIDValue("a RoomId must be 1-64 bytes of letters, digits, space and !#$%&()+-:;<=.>?@[]^_{}|~,")
	}
	return s, nil
}

// queryUserIDs validates the optional UserIds of DescribeUserInfo: 1..100
// valid UserIds; nil when absent (every user).
func queryUserIDs(p cloudapi.Params) ([]string, error) {
	ids, st := p.Strings("UserIds")
	switch {
	case st == cloudapi.Missing:
		return nil, nil
	case st != cloudapi.OK:
		return nil, ErrInvalidUserIDs("it must be an array of strings")
	case len(ids) == 0:
		return nil, ErrInvalidUserIDs("it must not be empty (leave it out for every user)")
	case len(ids) > MaxQueryUserIDs:
		return nil, ErrInvalidUserIDs(fmt.Sprintf("at most %d users can be queried at once, %d were given", MaxQueryUserIDs, len(ids)))
	}
	for i, id := range ids {
		if !rooms.ValidUserID(id) {
			return nil, ErrInvalidUserIDs(fmt.Sprintf("UserIds.%d is not 1-32 characters of A-Z a-z 0-9 _ -", i))
		}
	}
	return ids, nil
}

// userID validates the UserId of DescribeUserEvent.
func userID(p cloudapi.Params) (string, error) {
	s, st := p.String("UserId")
	switch {
	case st == cloudapi.Missing:
		return "", ErrMissingUserID()
	case st != cloudapi.OK:
		return "", ErrInvalidUserID("it must be a string")
	case !rooms.ValidUserID(s):
		return "", ErrInvalidUserID("it must be 1-32 characters of A-Z a-z 0-9 _ -")
	}
	return s, nil
}

// span writes a duration as whole days or hours when it is one.
func span(d time.Duration) string {
	switch {
	case d%(24*time.Hour) == 0:
		return fmt.Sprintf("%d days", d/(24*time.Hour))
	case d%time.Hour == 0:
		return fmt.Sprintf("%d hours", d/time.Hour)
	}
	return d.String()
}

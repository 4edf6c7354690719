// Package historytest is the contract every history database passes (one
// suite, run against SQLite and PostgreSQL), the scripted activity it and
// the monitoring-action tests feed, and the throwaway PostgreSQL databases
// the tests use.
package historytest

import (
	"fmt"
	"time"

	"github.com/trtcd/trtcd/internal/history"
)

// The apps of the script: App and App2 belong to one account in the tests.
const (
	App  = 1400000001
	App2 = 1400000002
)

// Zone is the time zone the script's days are laid out in (the cloud counts
// days in China Standard Time).
var Zone = time.FixedZone("UTC+8", 8*3600)

// T0 is when the script starts: 10:00 on a day in Zone.
var T0 = time.Date(2026, 3, 10, 10, 0, 0, 0, Zone)

// Ms is T0 plus d, in Unix milliseconds.
func Ms(d time.Duration) int64 { return T0.Add(d).UnixMilli() }

// S is T0 plus d, in Unix seconds.
func S(d time.Duration) int64 { return T0.Add(d).Unix() }

const sec, day = time.Second, 24 * time.Hour

type room struct {
	app uint64
	num uint64
	str string
}

func (r room) ev(seq uint64, at time.Duration, typ, user string) history.Event {
	e := history.Event{App: r.app, RoomNum: r.num, RoomStr: r.str, Seq: seq, TimeMs: Ms(at), Type: typ, User: user}
	if r.str != "" {
		e.Room = fmt.Sprintf("%d:s:%s", r.app, r.str)
	} else {
		e.Room = fmt.Sprintf("%d:n:%d", r.app, r.num)
	}
	return e
}

func enter(e history.Event, role, ip, device, sdk string) history.Event {
	e.Role, e.ClientIP, e.Device, e.SdkVersion = role, ip, device, sdk
	e.SessionID = fmt.Sprintf("%s-%d", e.User, e.Seq)
	return e
}

func reason(e history.Event, r string) history.Event { e.Reason = r; return e }

// Rooms of the script.
var (
	Num1234 = room{app: App, num: 1234}
	Str1234 = room{app: App, str: "1234"}
	Num555  = room{app: App, num: 555}
	Other77 = room{app: App2, num: 77}
)

// CommIds of the script's room sessions.
var (
	CommA1  = history.CommID(App, "1234", false, Ms(0), 1)       // numeric 1234, first session (dismissed)
	CommA2  = history.CommID(App, "1234", false, Ms(200*sec), 9) // numeric 1234 again (empty)
	CommStr = history.CommID(App, "1234", true, Ms(50*sec), 1)   // string "1234", still open
	Comm555 = history.CommID(App, "555", false, Ms(day), 1)      // the next day
	Comm77  = history.CommID(App2, "77", false, Ms(30*sec), 1)   // another app
)

// Script is the scripted activity: joins, a removal, a duplicate login
// (with and without its leave), a role switch, a video start, a dismissal, a
// room that opens twice, a string room with the same digits that stays
// open, a timeout on the next day, and another app's room.
func Script() []history.Event {
	a, s, n, o := Num1234, Str1234, Num555, Other77
	return []history.Event{
		a.ev(1, 0, history.TypeRoomOpened, "alice"),
		enter(a.ev(1, 0, history.TypeEnter, "alice"), "anchor", "10.0.0.1", "Android", "11.8"),
		enter(a.ev(2, 10*sec, history.TypeEnter, "bob"), "audience", "10.0.0.2", "iOS", "11.7"),
		enter(a.ev(3, 20*sec, history.TypeEnter, "carol"), "anchor", "10.0.0.3", "", ""),
		reason(a.ev(4, 30*sec, history.TypeLeave, "bob"), history.ReasonRemoved),
		o.ev(1, 30*sec, history.TypeRoomOpened, "zed"),
		enter(o.ev(1, 30*sec, history.TypeEnter, "zed"), "anchor", "", "", ""),
		// alice logs in again: the earlier stay ends as a duplicate.
		reason(a.ev(5, 40*sec, history.TypeLeave, "alice"), history.ReasonDuplicate),
		enter(a.ev(5, 40*sec, history.TypeEnter, "alice"), "anchor", "10.0.0.9", "Web", "5.0"),
		s.ev(1, 50*sec, history.TypeRoomOpened, "erin"),
		enter(s.ev(1, 50*sec, history.TypeEnter, "erin"), "anchor", "10.0.1.1", "Windows", "11.0"),
		func() history.Event {
			e := a.ev(6, 50*sec, history.TypeRoleSwitch, "carol")
			e.Role = "audience"
			return e
		}(),
		a.ev(7, 60*sec, history.TypeVideoStart, "alice"),
		a.ev(7, 60*sec, "hand_raised", "alice"), // a type the store does not know: ignored
		// DismissRoom: everyone leaves, then the room closes.
		reason(a.ev(8, 100*sec, history.TypeLeave, "alice"), history.ReasonDismissed),
		reason(a.ev(8, 100*sec, history.TypeLeave, "carol"), history.ReasonDismissed),
		reason(a.ev(8, 100*sec, history.TypeRoomClosed, ""), history.ReasonDismissed),
		// The same room opens again.
		a.ev(9, 200*sec, history.TypeRoomOpened, "dave"),
		enter(a.ev(9, 200*sec, history.TypeEnter, "dave"), "anchor", "10.0.0.4", "Mac", "11.8"),
		reason(a.ev(10, 260*sec, history.TypeLeave, "dave"), history.ReasonLeft),
		reason(a.ev(10, 260*sec, history.TypeRoomClosed, ""), history.ReasonEmpty),
		// The next day: a timeout, and a duplicate login whose leave never came.
		n.ev(1, day, history.TypeRoomOpened, "frank"),
		enter(n.ev(1, day, history.TypeEnter, "frank"), "anchor", "", "", ""),
		enter(n.ev(2, day+10*sec, history.TypeEnter, "gina"), "anchor", "", "", ""),
		reason(n.ev(3, day+20*sec, history.TypeLeave, "frank"), history.ReasonTimeout),
		enter(n.ev(4, day+30*sec, history.TypeEnter, "gina"), "anchor", "", "", ""),
		reason(n.ev(5, day+40*sec, history.TypeLeave, "gina"), history.ReasonLeft),
		reason(n.ev(5, day+40*sec, history.TypeRoomClosed, ""), history.ReasonEmpty),
	}
}

// Now is the clock of the tests that feed the script: three days after T0.
var Now = T0.Add(3 * day)

package trtc

import (
	"context"
	"errors"

	"time"

	"github.com/trtcd/trtcd/internal/cloudapi"
	"github.com/trtcd/trtcd/internal/history"
)

// ScaleDayZone is the time zone whose days DescribeScaleInfo counts: China
// Standard Time, as the cloud counts them.
var ScaleDayZone = time.FixedZone("UTC+8", 8*3600)

// MonitoringOptions are the policies of the data-monitoring actions.
type MonitoringOptions struct {
	Regions []string         // DefaultRegions when empty
	DayZone *time.Location   // ScaleDayZone when nil
	Now     func() time.Time // the clock when no store is configured; the store's otherwise
}

// RegisterMonitoring adds the four data-monitoring actions (DescribeRoomInfo,
// DescribeUserInfo, DescribeUserEvent, DescribeScaleInfo) to the catalog.
// store may be nil: history is not configured, and the actions validate
// their parameters and then answer FailedOperation.HistoryNotConfigured.
func RegisterMonitoring(cat *cloudapi.Catalog, store history.Reader, owner Owner, opts MonitoringOptions) {
	if s, ok := store.(*history.Store); ok && s == nil {
		store = nil
	}
	if len(opts.Regions) == 0 {
		opts.Regions = DefaultRegions
	}
	if opts.DayZone == nil {
		opts.DayZone = ScaleDayZone
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	m := &monitoring{store: store, owner: owner, opts: opts}
	I, S, A := cloudapi.Integer, cloudapi.String, cloudapi.StringArray
	p := func(name string, t cloudapi.ParamType) cloudapi.Param { return cloudapi.Param{Name: name, Type: t} }
	for _, def := range []struct {
		name   string
		params []cloudapi.Param
		h      cloudapi.Handler
	}{
		{"DescribeRoomInfo", []cloudapi.Param{p("SdkAppId", I), p("StartTime", I), p("EndTime", I), p("RoomId", S), p("PageNumber", I), p("PageSize", I)}, m.roomInfo},
		{"DescribeUserInfo", []cloudapi.Param{p("CommId", S), p("StartTime", I), p("EndTime", I), p("SdkAppId", I), p("UserIds", A), p("PageNumber", I), p("PageSize", I)}, m.userInfo},
		{"DescribeUserEvent", []cloudapi.Param{p("CommId", S), p("StartTime", I), p("EndTime", I), p("UserId", S), p("RoomId", S), p("SdkAppId", I)}, m.userEvent},
		{"DescribeScaleInfo", []cloudapi.Param{p("SdkAppId", I), p("StartTime", I), p("EndTime", I)}, m.scaleInfo},
	} {
		cat.Register(cloudapi.Action{Service: Service, Version: Version, Name: def.name, Regions: opts.Regions,
			RateLimit: DefaultRateLimit, Params: def.params, Handle: def.h})
	}
}

type monitoring struct {
	store history.Reader
	owner Owner
	opts  MonitoringOptions
}

// window is the store's clock and retention (the cloud's 14 days by default).
func (m *monitoring) window() (time.Time, time.Duration) {
	if m.store == nil {
		return m.opts.Now(), history.DefaultRetention
	}
	return m.store.Now(), m.store.Retention()
}

// ready answers HistoryNotConfigured once the parameters are valid.
func (m *monitoring) ready() error {
	if m.store == nil {
		return ErrHistoryNotConfigured()
	}
	return nil
}

func dbError(err error) error {
	if errors.Is(err, context.Canceled) {
		return err
	}
	return ErrDBError()
}

// endMs makes an inclusive end second into milliseconds.
func endMs(s int64) int64 { return s*1000 + 999 }

// RoomState, UserInformation, EventList, EventMessage and ScaleInfomation
// are the cloud's output structures (field names and types from the SDKs).
type RoomState struct {
	CommId      string
	RoomString  string
	CreateTime  int64
	DestroyTime int64
	IsFinished  bool
	UserId      string
}

type UserInformation struct {
	RoomStr    string
	UserId     string
	JoinTs     int64
	LeaveTs    int64
	DeviceType string
	SdkVersion string
	ClientIp   string
	Finished   bool
}

type EventMessage struct {
	Type     int64
	Time     int64
	EventId  int64
	ParamOne int64
	ParamTwo int64
}

type EventList struct {
	Content []EventMessage
	PeerId  string
}

type ScaleInfomation struct {
	Time        int64
	UserNumber  int
	UserCount   int
	RoomNumbers int
}

func (m *monitoring) roomInfo(ctx context.Context, c *cloudapi.Call) (any, error) {
	app, err := ownedApp(c, m.owner)
	if err != nil {
		return nil, err
	}
	now, retention := m.window()
	from, to, err := timeRange(c, now, retention, RoomInfoMaxRange)
	if err != nil {
		return nil, err
	}
	room, err := roomText(c.Params, false)
	if err != nil {
		return nil, err
	}
	off, limit, err := page(c.Params, RoomInfoDefaultPageSize)
	if err != nil {
		return nil, err
	}
	if err := m.ready(); err != nil {
		return nil, err
	}
	total, rows, err := m.store.Rooms(ctx, history.RoomQuery{App: app, FromMs: from * 1000, ToMs: endMs(to), RoomText: room, Offset: off, Limit: limit})
	if err != nil {
		return nil, dbError(err)
	}
	list := make([]RoomState, 0, len(rows))
	for _, r := range rows {
		list = append(list, RoomState{CommId: r.CommID, RoomString: r.RoomText, CreateTime: r.CreatedMs / 1000,
			DestroyTime: r.DestroyedMs / 1000, IsFinished: r.DestroyedMs != 0, UserId: r.Creator})
	}
	return map[string]any{"Total": total, "RoomList": list}, nil
}

func (m *monitoring) userInfo(ctx context.Context, c *cloudapi.Call) (any, error) {
	comm, err := commID(c.Params)
	if err != nil {
		return nil, err
	}
	now, retention := m.window()
	from, to, err := timeRange(c, now, retention, UserInfoMaxRange)
	if err != nil {
		return nil, err
	}
	app, err := ownedApp(c, m.owner)
	if err != nil {
		return nil, err
	}
	users, err := queryUserIDs(c.Params)
	if err != nil {
		return nil, err
	}
	off, limit, err := page(c.Params, UserInfoDefaultPageSize)
	if err != nil {
		return nil, err
	}
	if err := m.ready(); err != nil {
		return nil, err
	}
	total, rows, err := m.store.Members(ctx, history.MemberQuery{App: app, CommID: comm, FromMs: from * 1000, ToMs: endMs(to),
		Users: users, Offset: off, Limit: limit})
	if err != nil {
		return nil, dbError(err)
	}
	list := make([]UserInformation, 0, len(rows))
	for _, r := range rows {
		u := UserInformation{RoomStr: r.RoomText, UserId: r.UserID, JoinTs: r.JoinMs / 1000, LeaveTs: r.LeaveMs / 1000,
			DeviceType: r.Device, SdkVersion: r.SdkVersion, ClientIp: r.ClientIP, Finished: r.LeaveMs != 0}
		if !u.Finished { // the cloud answers the current time for a user still in the room
			u.LeaveTs = now.Unix()
		}
		list = append(list, u)
	}
	return map[string]any{"Total": total, "UserList": list}, nil
}

func (m *monitoring) userEvent(ctx context.Context, c *cloudapi.Call) (any, error) {
	comm, err := commID(c.Params)
	if err != nil {
		return nil, err
	}
	now, retention := m.window()
	from, to, err := timeRange(c, now, retention, 0)
	if err != nil {
		return nil, err
	}
	user, err := userID(c.Params)
	if err != nil {
		return nil, err
	}
	room, err := roomText(c.Params, true)
	if err != nil {
		return nil, err
	}
	app, err := ownedApp(c, m.owner)
	if err != nil {
		return nil, err
	}
	if err := m.ready(); err != nil {
		return nil, err
	}
	out := map[string]any{"Data": []EventList{}}
	rs, ok, err := m.store.Room(ctx, app, comm)
	if err != nil {
		return nil, dbError(err)
	}
	if !ok || rs.RoomText != room {
		return out, nil
	}
	evs, err := m.store.UserEvents(ctx, history.EventQuery{App: app, CommID: comm, User: user, FromMs: from * 1000, ToMs: endMs(to)})
	if err != nil {
		return nil, dbError(err)
	}
	if len(evs) == 0 {
		return out, nil
	}
	msgs := make([]EventMessage, 0, len(evs))
	for _, e := range evs {
		msgs = append(msgs, EventMessage{Type: e.Stream, Time: e.TimeMs, EventId: e.EventID, ParamOne: e.ParamOne, ParamTwo: e.ParamTwo})
	}
	out["Data"] = []EventList{{Content: msgs, PeerId: user}}
	return out, nil
}

func (m *monitoring) scaleInfo(ctx context.Context, c *cloudapi.Call) (any, error) {
	app, err := ownedApp(c, m.owner)
	if err != nil {
		return nil, err
	}
	now, retention := m.window()
	from, to, err := timeRange(c, now, retention, 0)
	if err != nil {
		return nil, err
	}
	if err := m.ready(); err != nil {
		return nil, err
	}
	days := scaleDays(time.Unix(from, 0), time.Unix(to, 0), now, m.opts.DayZone)
	rows, err := m.store.Scale(ctx, app, days)
	if err != nil {
		return nil, dbError(err)
	}
	list := make([]ScaleInfomation, 0, len(rows))
	for _, r := range rows {
		list = append(list, ScaleInfomation{Time: r.DayMs / 1000, UserNumber: r.Members, UserCount: r.Entries, RoomNumbers: r.Rooms})
	}
	return map[string]any{"Total": len(list), "ScaleList": list}, nil
}

// scaleDays are the whole days (in zone) from the day of start to the last
// day that begins before end, leaving out days that have not ended by now
// (the cloud cannot count a day before it is over).
func scaleDays(start, end, now time.Time, zone *time.Location) [][2]int64 {
	s := start.In(zone)
	d := time.Date(s.Year(), s.Month(), s.Day(), 0, 0, 0, 0, zone)
	var out [][2]int64
	for d.Before(end) {
		next := d.AddDate(0, 0, 1)
		if next.After(now) {
			break
		}
		out = append(out, [2]int64{d.UnixMilli(), next.UnixMilli()})
		d = next
	}
	return out
}

package history

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
)

func unavailable(err error) error { return fmt.Errorf("%w: %v", ErrUnavailable, err) }

// offset turns a page offset into SQL's, or reports that it is past any row.
func offset(o uint64, total int) (int64, bool) {
	if o >= uint64(total) || o > math.MaxInt64 {
		return 0, false
	}
	return int64(o), true
}

const roomCols = `comm_id, app, room_text, is_str, created_ms, destroyed_ms, creator, close_reason`

func scanRoom(sc interface{ Scan(...any) error }) (RoomSession, error) {
	var r RoomSession
	var app, isStr int64
	var destroyed sql.NullInt64
	err := sc.Scan(&r.CommID, &app, &r.RoomText, &isStr, &r.CreatedMs, &destroyed, &r.Creator, &r.CloseReason)
	r.App, r.IsStr, r.DestroyedMs = uint64(app), isStr == 1, destroyed.Int64
	return r, err
}

func (s *Store) Rooms(ctx context.Context, q RoomQuery) (int, []RoomSession, error) {
	where := ` FROM room_sessions WHERE app = ? AND created_ms <= ? AND (destroyed_ms IS NULL OR destroyed_ms >= ?)`
	args := []any{int64(q.App), q.ToMs, q.FromMs}
	if q.RoomText != "" {
		where += ` AND room_text = ?`
		args = append(args, q.RoomText)
	}
	var total int
	if err := s.db.QueryRowContext(ctx, s.bind(`SELECT COUNT(*)`+where), args...).Scan(&total); err != nil {
		return 0, nil, unavailable(err)
	}
	off, ok := offset(q.Offset, total)
	if !ok || q.Limit <= 0 {
		return total, []RoomSession{}, nil
	}
	rows, err := s.db.QueryContext(ctx, s.bind(`SELECT `+roomCols+where+` ORDER BY created_ms, comm_id LIMIT ? OFFSET ?`),
		append(args, q.Limit, off)...)
	if err != nil {
		return 0, nil, unavailable(err)
	}
	defer rows.Close()
	out := []RoomSession{}
	for rows.Next() {
		r, err := scanRoom(rows)
		if err != nil {
			return 0, nil, unavailable(err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return 0, nil, unavailable(err)
	}
	return total, out, nil
}

func (s *Store) Room(ctx context.Context, app uint64, commID string) (RoomSession, bool, error) {
	r, err := scanRoom(s.db.QueryRowContext(ctx, s.bind(`SELECT `+roomCols+` FROM room_sessions WHERE comm_id = ? AND app = ?`), commID, int64(app)))
	if errors.Is(err, sql.ErrNoRows) {
		return RoomSession{}, false, nil
	}
	if err != nil {
		return RoomSession{}, false, unavailable(err)
	}
	return r, true, nil
}

// ofApp says whether a CommId belongs to app: every CommId begins with its
// SdkAppId. The queries by CommId test the app this way rather than in SQL,
// so that the planner has only the CommId index to choose.
func ofApp(commID string, app uint64) bool {
	return strings.HasPrefix(commID, strconv.FormatUint(app, 10)+"_")
}

func (s *Store) Members(ctx context.Context, q MemberQuery) (int, []MemberSession, error) {
	if !ofApp(q.CommID, q.App) {
		return 0, []MemberSession{}, nil
	}
	where := ` FROM member_sessions WHERE comm_id = ? AND join_ms <= ? AND (leave_ms IS NULL OR leave_ms >= ?)`
	args := []any{q.CommID, q.ToMs, q.FromMs}
	if q.Users != nil {
		if len(q.Users) == 0 {
			return 0, []MemberSession{}, nil
		}
		where += ` AND user_id IN (?` + strings.Repeat(`, ?`, len(q.Users)-1) + `)`
		for _, u := range q.Users {
			args = append(args, u)
		}
	}
	var total int
	if err := s.db.QueryRowContext(ctx, s.bind(`SELECT COUNT(*)`+where), args...).Scan(&total); err != nil {
		return 0, nil, unavailable(err)
	}
	off, ok := offset(q.Offset, total)
	if !ok || q.Limit <= 0 {
		return total, []MemberSession{}, nil
	}
	rows, err := s.db.QueryContext(ctx, s.bind(`SELECT comm_id, user_id, room_text, role, session_id, join_ms, leave_ms, leave_reason, client_ip, device, sdk_version`+
		where+` ORDER BY join_ms, user_id, enter_seq LIMIT ? OFFSET ?`), append(args, q.Limit, off)...)
	if err != nil {
		return 0, nil, unavailable(err)
	}
	defer rows.Close()
	out := []MemberSession{}
	for rows.Next() {
		var m MemberSession
		var leave sql.NullInt64
		if err := rows.Scan(&m.CommID, &m.UserID, &m.RoomText, &m.Role, &m.SessionID, &m.JoinMs, &leave, &m.LeaveReason,
			&m.ClientIP, &m.Device, &m.SdkVersion); err != nil {
			return 0, nil, unavailable(err)
		}
		m.LeaveMs = leave.Int64
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return 0, nil, unavailable(err)
	}
	return total, out, nil
}

// UserEvents orders by time and sequence number; within one change a leave
// comes before an entry (a duplicate login replaces the earlier stay).
func (s *Store) UserEvents(ctx context.Context, q EventQuery) ([]UserEvent, error) {
	if !ofApp(q.CommID, q.App) {
		return []UserEvent{}, nil
	}
	rows, err := s.db.QueryContext(ctx, s.bind(userEventsSQL),
		q.CommID, q.User, q.FromMs, q.ToMs, q.CommID, q.User, q.FromMs, q.ToMs, q.CommID, q.User, q.FromMs, q.ToMs)
	if err != nil {
		return nil, unavailable(err)
	}
	defer rows.Close()
	out := []UserEvent{}
	for rows.Next() {
		var e UserEvent
		if err := rows.Scan(&e.TimeMs, &e.EventID, &e.Stream, &e.ParamOne, &e.ParamTwo); err != nil {
			return nil, unavailable(err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, unavailable(err)
	}
	return out, nil
}

// userEventsSQL reads one user's events in a session: the rows of
// user_events, and the enter and leave of each stay, which are read off
// member_sessions (an enter is its stay's join; a leave is the close of a
// stay by a leave event, leave_seq; a stay closed by a duplicate login or
// by its room's close without a leave event has none), with the EventId
// and parameters userEvent gives those events (eventids.go).
var userEventsSQL = `SELECT time_ms, event_id, stream, param_one, param_two FROM (
	SELECT time_ms, seq, event_id, stream, param_one, param_two FROM user_events
		WHERE comm_id = ? AND user_id = ? AND time_ms >= ? AND time_ms <= ?
	UNION ALL
	SELECT join_ms, enter_seq, ` + fmt.Sprint(eventIDs[TypeEnter].id) + `, ` + fmt.Sprint(eventIDs[TypeEnter].stream) + `,
			CASE WHEN role = 'audience' THEN ` + fmt.Sprint(RoleAudience) + ` ELSE ` + fmt.Sprint(RoleAnchor) + ` END, -1 FROM member_sessions
		WHERE comm_id = ? AND user_id = ? AND join_ms >= ? AND join_ms <= ?
	UNION ALL
	SELECT leave_ms, leave_seq, ` + fmt.Sprint(eventIDs[TypeLeave].id) + `, ` + fmt.Sprint(eventIDs[TypeLeave].stream) + `, ` + reasonCodeSQL("leave_reason") + `, -1 FROM member_sessions
		WHERE comm_id = ? AND user_id = ? AND leave_seq IS NOT NULL AND leave_ms >= ? AND leave_ms <= ?
) e ORDER BY time_ms, seq, CASE WHEN event_id = 104 THEN 0 ELSE 1 END, event_id`

// reasonCodeSQL is a CASE giving column's leave reason its code
// (leaveReasonCodes; 0 for another).
func reasonCodeSQL(column string) string {
	var b strings.Builder
	b.WriteString("CASE " + column)
	for _, r := range slices.Sorted(maps.Keys(leaveReasonCodes)) {
		fmt.Fprintf(&b, " WHEN '%s' THEN %d", r, leaveReasonCodes[r])
	}
	b.WriteString(" ELSE 0 END")
	return b.String()
}

func (s *Store) Scale(ctx context.Context, app uint64, days [][2]int64) ([]DayScale, error) {
	out := make([]DayScale, 0, len(days))
	for _, d := range days {
		ds := DayScale{DayMs: d[0]}
		err := s.db.QueryRowContext(ctx, s.bind(`SELECT COUNT(*), COUNT(DISTINCT room_key || '|' || user_id), COUNT(DISTINCT room_key)
			FROM member_sessions WHERE app = ? AND join_ms >= ? AND join_ms < ?`), int64(app), d[0], d[1]).
			Scan(&ds.Entries, &ds.Members, &ds.Rooms)
		if err != nil {
			return nil, unavailable(err)
		}
		out = append(out, ds)
	}
	return out, nil
}

var _ Reader = (*Store)(nil)

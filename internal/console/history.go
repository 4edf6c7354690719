package console

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/trtcd/trtcd/internal/history"
)

// History page policies (docs/console.md).
const (
	// HistoryPageSize is the most room sessions one history/rooms answer
	// lists (the page asks for the next with offset).
	HistoryPageSize = 100
	// MaxTimelineMembers is the most member stays a timeline draws; the
	// answer says when there were more.
	MaxTimelineMembers = 1000
	// DefaultHistoryRange is the time range of history/rooms without from.
	DefaultHistoryRange = 24 * time.Hour
	// MaxCommIDLen bounds a CommId read from the query.
	MaxCommIDLen = 128
)

type roomSessionJSON struct {
	CommID      string `json:"commId"`
	Room        string `json:"room"`
	IsStr       bool   `json:"isStr"`
	CreatedMs   int64  `json:"createdMs"`
	DestroyedMs int64  `json:"destroyedMs"`
	Creator     string `json:"creator"`
	CloseReason string `json:"closeReason"`
}

type stayJSON struct {
	UserID      string `json:"userId"`
	Role        string `json:"role"`
	JoinMs      int64  `json:"joinMs"`
	LeaveMs     int64  `json:"leaveMs"`
	LeaveReason string `json:"leaveReason"`
	Device      string `json:"device"`
	SdkVersion  string `json:"sdkVersion"`
}

func roomSession(r history.RoomSession) roomSessionJSON {
	return roomSessionJSON{r.CommID, r.RoomText, r.IsStr, r.CreatedMs, r.DestroyedMs, r.Creator, r.CloseReason}
}

// historyOff answers {"enabled":false} when the server keeps no history.
func (s *Server) historyOff(w http.ResponseWriter) bool {
	if s.d.History == nil {
		writeJSON(w, http.StatusOK, map[string]any{"enabled": false})
		return true
	}
	return false
}

func (s *Server) historyFailed(w http.ResponseWriter, err error) {
	s.d.Log.Warn("console: reading history failed", "err", err, "unavailable", errors.Is(err, history.ErrUnavailable))
	writeError(w, http.StatusServiceUnavailable, "the history store is unavailable; try again")
}

// historyRooms answers the app's room sessions that overlap [from, to].
func (s *Server) historyRooms(w http.ResponseWriter, r *http.Request, ss *session) {
	app, ok := s.ownedApp(w, r, ss)
	if !ok || s.historyOff(w) {
		return
	}
	q := r.URL.Query()
	now := s.d.History.Now()
	from, to, err := parseRange(q.Get("from"), q.Get("to"), now)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	off, err := parseOffset(q.Get("offset"))
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	total, page, err := s.d.History.Rooms(r.Context(), history.RoomQuery{App: app, FromMs: from, ToMs: to, Offset: off, Limit: HistoryPageSize})
	if err != nil {
		s.historyFailed(w, err)
		return
	}
	out := make([]roomSessionJSON, 0, len(page))
	for _, x := range page {
		out = append(out, roomSession(x))
	}
	writeJSON(w, http.StatusOK, map[string]any{"enabled": true, "app": app, "fromMs": from, "toMs": to, "offset": off,
		"total": total, "pageSize": HistoryPageSize, "rooms": out, "nowMs": now.UnixMilli(),
		"retentionMs": s.d.History.Retention().Milliseconds()})
}

// historyRoom answers one room session and its members' stays.
func (s *Server) historyRoom(w http.ResponseWriter, r *http.Request, ss *session) {
	app, ok := s.ownedApp(w, r, ss)
	if !ok || s.historyOff(w) {
		return
	}
	comm, err := parseCommID(app, r.URL.Query().Get("comm"))
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	rs, found, err := s.d.History.Room(r.Context(), app, comm)
	if err != nil {
		s.historyFailed(w, err)
		return
	}
	if !found {
		writeError(w, http.StatusNotFound, "no such room session")
		return
	}
	now := s.d.History.Now().UnixMilli()
	end := rs.DestroyedMs
	if end == 0 {
		end = now
	}
	total, stays, err := s.d.History.Members(r.Context(), history.MemberQuery{App: app, CommID: comm, FromMs: rs.CreatedMs, ToMs: end, Limit: MaxTimelineMembers})
	if err != nil {
		s.historyFailed(w, err)
		return
	}
	if total > len(stays) {
		s.cut[cutTimeline].Add(1)
	}
	out := make([]stayJSON, 0, len(stays))
	for _, m := range stays {
		out = append(out, stayJSON{m.UserID, m.Role, m.JoinMs, m.LeaveMs, m.LeaveReason, m.Device, m.SdkVersion})
	}
	writeJSON(w, http.StatusOK, map[string]any{"enabled": true, "app": app, "room": roomSession(rs), "members": out,
		"total": total, "truncated": total > len(out), "nowMs": now})
}

// parseRange reads from and to (Unix ms; empty: the last
// DefaultHistoryRange up to now).
func parseRange(fromText, toText string, now time.Time) (int64, int64, error) {
	ms := func(name, s string, def int64) (int64, error) {
		if s == "" {
			return def, nil
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 || n > 1<<53 || strconv.FormatInt(n, 10) != s {
			return 0, bad("%s: must be a time in Unix milliseconds", name)
		}
		return n, nil
	}
	to, err := ms("to", toText, now.UnixMilli())
	if err != nil {
		return 0, 0, err
	}
	from, err := ms("from", fromText, to-DefaultHistoryRange.Milliseconds())
	if err != nil {
		return 0, 0, err
	}
	if from < 0 {
		from = 0
	}
	if from > to {
		return 0, 0, bad("from: must not be after to")
	}
	return from, to, nil
}

// parseOffset reads a page offset (empty: 0).
func parseOffset(s string) (uint64, error) {
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil || strconv.FormatUint(n, 10) != s {
		return 0, bad("offset: must be a whole number")
	}
	return n, nil
}

// parseCommID reads a room session's CommId, which begins with its
// SdkAppId and an underscore.
func parseCommID(app uint64, s string) (string, error) {
	prefix := strconv.FormatUint(app, 10) + "_"
	if len(s) <= len(prefix) || len(s) > MaxCommIDLen || s[:len(prefix)] != prefix {
		return "", bad("comm: must be a CommId of this app (%s…, at most %d bytes)", prefix, MaxCommIDLen)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x21 || c > 0x7e {
			return "", bad("comm: must be printable ASCII")
		}
	}
	return s, nil
}

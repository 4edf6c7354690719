package console

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/trtcd/trtcd/internal/callbacks"
	"github.com/trtcd/trtcd/internal/history"
)

// fakeHistory answers one open room session with more stays than a
// timeline draws.
type fakeHistory struct{ history.Reader }

func (fakeHistory) Now() time.Time { return time.UnixMilli(2_000_000) }
func (fakeHistory) Room(_ context.Context, app uint64, comm string) (history.RoomSession, bool, error) {
	return history.RoomSession{CommID: comm, App: app, RoomText: "7", CreatedMs: 1_000_000}, true, nil
}
func (fakeHistory) Members(_ context.Context, q history.MemberQuery) (int, []history.MemberSession, error) {
	out := make([]history.MemberSession, q.Limit)
	for i := range out {
		out[i] = history.MemberSession{CommID: q.CommID, UserID: "u", JoinMs: 1_000_000}
	}
	return MaxTimelineMembers + 5, out, nil
}

// fakeOutbox holds more dead letters than the page lists.
type fakeOutbox struct{ n int }

func (fakeOutbox) Recent(uint64, int) ([]callbacks.Delivery, error) {
	return []callbacks.Delivery{}, nil
}
func (f fakeOutbox) AppDepth(uint64) (int64, int64, error) { return 0, int64(f.n), nil }
func (f fakeOutbox) DeadLetters(callbacks.DeadFilter) ([]callbacks.DeadLetter, error) {
	out := make([]callbacks.DeadLetter, f.n)
	for i := range out {
		out[i].ID = int64(i + 1)
	}
	return out, nil
}
func (fakeOutbox) Replay(context.Context, callbacks.DeadFilter) (int64, error) { return 0, nil }

// TestListLimits: a timeline is cut at MaxTimelineMembers and the dead
// letters at MaxDeadLettersShown (newest first); the answers say so and
// Stats counts each cut.
func TestListLimits(t *testing.T) {
	s := New(Deps{Apps: func(string) []uint64 { return []uint64{1400000001} }, History: fakeHistory{},
		Callbacks: fakeOutbox{MaxDeadLettersShown + 50}, CallbackURL: func(uint64) string { return "http://127.0.0.1:1/cb" }})
	token, _ := s.sessions.create("acme", "AKID")
	get := func(path string, v any) {
		t.Helper()
		r := httptest.NewRequest("GET", Path+path, nil)
		r.AddCookie(&http.Cookie{Name: CookieName, Value: token})
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		if w.Code != 200 || json.Unmarshal(w.Body.Bytes(), v) != nil {
			t.Fatalf("%s: %d %s", path, w.Code, w.Body)
		}
	}
	var tl struct {
		Members   []stayJSON
		Total     int
		Truncated bool
	}
	get("api/history/room?app=1400000001&comm=1400000001_7_1_1", &tl)
	if len(tl.Members) != MaxTimelineMembers || tl.Total != MaxTimelineMembers+5 || !tl.Truncated {
		t.Fatalf("timeline: %d of %d, truncated %v", len(tl.Members), tl.Total, tl.Truncated)
	}
	var cb struct {
		DeadLetters   []deadJSON
		DeadCount     int
		DeadTruncated bool
	}
	get("api/callbacks?app=1400000001", &cb)
	if len(cb.DeadLetters) != MaxDeadLettersShown || cb.DeadLetters[0].ID != MaxDeadLettersShown+50 || !cb.DeadTruncated || cb.DeadCount != MaxDeadLettersShown+50 {
		t.Fatalf("dead letters: %d, first %d, truncated %v", len(cb.DeadLetters), cb.DeadLetters[0].ID, cb.DeadTruncated)
	}
	if st := s.Stats(); st.Truncated["timeline"] != 1 || st.Truncated["deadletters"] != 1 {
		t.Fatalf("stats %+v", st.Truncated)
	}
}

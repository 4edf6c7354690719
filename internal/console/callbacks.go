package console

import (
	"context"
	"io"
	"net/http"
	"net/url"

	"github.com/trtcd/trtcd/internal/callbacks"
)

// Callbacks page policies (docs/console.md).
const (
	// RecentDeliveries is how many of an app's newest outbox events the
	// page lists (delivered ones are kept callbacks.DeliveredRetention).
	RecentDeliveries = 50
	// MaxDeadLettersShown is the most dead letters the page lists.
	MaxDeadLettersShown = 200
	// MaxReplayIDs bounds the dead letters one replay names.
	MaxReplayIDs = 500
	// MaxReplayBody bounds a replay request's body.
	MaxReplayBody = 16 << 10
)

// CallbackStore is what the console reads of the callbacks' outbox
// (*callbacks.Store), and Replay.
type CallbackStore interface {
	Recent(app uint64, limit int) ([]callbacks.Delivery, error)
	AppDepth(app uint64) (pending, dead int64, err error)
	DeadLetters(f callbacks.DeadFilter) ([]callbacks.DeadLetter, error)
	Replay(ctx context.Context, f callbacks.DeadFilter) (int64, error)
}

type deadJSON struct {
	ID        int64  `json:"id"`
	Room      string `json:"room"`
	Seq       uint64 `json:"seq"`
	EventType int    `json:"eventType"`
	EventMs   int64  `json:"eventMsTs"`
	Attempts  int    `json:"attempts"`
	LastError string `json:"lastError"`
	DeadMs    int64  `json:"deadMsTs"`
}

// callbacksInfo answers an app's callback: its URL (never its key), the
// newest deliveries, the outbox depth and the dead letters.
func (s *Server) callbacksInfo(w http.ResponseWriter, r *http.Request, ss *session) {
	app, ok := s.ownedApp(w, r, ss)
	if !ok {
		return
	}
	recv := ""
	if s.d.CallbackURL != nil {
		recv = s.d.CallbackURL(app)
	}
	if recv == "" || s.d.Callbacks == nil {
		writeJSON(w, http.StatusOK, map[string]any{"app": app, "configured": false})
		return
	}
	recent, err := s.d.Callbacks.Recent(app, RecentDeliveries)
	var pending, dead int64
	if err == nil {
		pending, dead, err = s.d.Callbacks.AppDepth(app)
	}
	var letters []callbacks.DeadLetter
	if err == nil {
		letters, err = s.d.Callbacks.DeadLetters(callbacks.DeadFilter{App: app})
	}
	if err != nil {
		s.d.Log.Warn("console: reading the callbacks outbox failed", "err", err)
		writeError(w, http.StatusServiceUnavailable, "the callbacks outbox is unavailable; try again")
		return
	}
	// newest first, at most MaxDeadLettersShown
	if len(letters) > MaxDeadLettersShown {
		s.cut[cutDeadLetters].Add(1)
	}
	shown := make([]deadJSON, 0, min(len(letters), MaxDeadLettersShown))
	for i := len(letters) - 1; i >= 0 && len(shown) < MaxDeadLettersShown; i-- {
		d := letters[i]
		shown = append(shown, deadJSON{d.ID, d.Room, d.Seq, d.EventType, d.EventMs, d.Attempts, d.LastError, d.DeadMs})
	}
	out := map[string]any{"app": app, "configured": true, "url": redactURL(recv), "pending": pending, "deadCount": dead,
		"recent": recent, "deadLetters": shown,
		"deadTruncated": len(letters) > MaxDeadLettersShown}
	if s.d.CallbackStats != nil {
		st := s.d.CallbackStats()
		outcomes := map[string]uint64{}
		for k, n := range st.Deliveries {
			if k.App == app {
				outcomes[k.Outcome] += n
			}
		}
		h := st.Latency[app]
		mean := 0.0
		if h.Count > 0 {
			mean = h.Sum / float64(h.Count) * 1000
		}
		out["attempts"] = outcomes
		out["meanLatencyMs"] = mean
		out["retries"] = st.Retries[app]
	}
	writeJSON(w, http.StatusOK, out)
}

// replay moves some (or all) of the app's dead letters back to the outbox.
func (s *Server) replay(w http.ResponseWriter, r *http.Request, ss *session) {
	b, err := io.ReadAll(io.LimitReader(r.Body, MaxReplayBody+1))
	if err != nil {
		writeError(w, http.StatusBadRequest, "the body could not be read")
		return
	}
	req, err := parseReplay(b)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if !ownsApp(s.d.Apps(ss.account), req.App) {
		writeError(w, http.StatusNotFound, "no such app")
		return
	}
	if s.d.Callbacks == nil || s.d.CallbackURL == nil || s.d.CallbackURL(req.App) == "" {
		writeError(w, http.StatusConflict, "this app has no callback")
		return
	}
	n, err := s.d.Callbacks.Replay(r.Context(), callbacks.DeadFilter{App: req.App, IDs: req.IDs})
	if err != nil {
		s.d.Log.Warn("console: replay failed", "err", err)
		writeError(w, http.StatusServiceUnavailable, "the callbacks outbox is unavailable; try again")
		return
	}
	s.replayed.Add(uint64(n))
	s.d.Log.Info("console: dead letters replayed", "account", ss.account, "app", req.App, "count", n)
	writeJSON(w, http.StatusOK, map[string]any{"replayed": n})
}

type replayRequest struct {
	App uint64  `json:"app"`
	IDs []int64 `json:"ids"`
	All bool    `json:"all"`
}

// parseReplay reads {"app":N,"ids":[…]} or {"app":N,"all":true}.
func parseReplay(b []byte) (replayRequest, error) {
	var req replayRequest
	if len(b) > MaxReplayBody {
		return req, bad("the body is larger than %d bytes", MaxReplayBody)
	}
	if err := decodeStrict(b, &req); err != nil {
		return req, err
	}
	if req.App == 0 || req.App > 1<<32-1 {
		return req, bad("app: must be an SdkAppId (1..4294967295)")
	}
	switch {
	case req.All && len(req.IDs) > 0:
		return req, bad("ids: must be empty with all")
	case !req.All && len(req.IDs) == 0:
		return req, bad("ids: name the dead letters to replay, or set all")
	case len(req.IDs) > MaxReplayIDs:
		return req, bad("ids: at most %d", MaxReplayIDs)
	}
	for _, id := range req.IDs {
		if id <= 0 {
			return req, bad("ids: must be positive")
		}
	}
	if req.All {
		req.IDs = nil
	}
	return req, nil
}

// redactURL hides a password in a receiver URL's user information.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(an unparsable URL)"
	}
	return u.Redacted()
}

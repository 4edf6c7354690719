package console

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// Live-update policies (docs/console.md).
const (
	// LivePollInterval is how often a live stream reads the registry; it
	// sends a snapshot when it changed.
	LivePollInterval = time.Second
	// LiveKeepAlive is how often an idle stream sends a comment, so that
	// proxies keep it open.
	LiveKeepAlive = 15 * time.Second
	// MaxLiveStreams bounds the live streams open at once (503 beyond).
	MaxLiveStreams = 200
)

// live streams snapshots of the app's rooms ("rooms") or of one room's
// members ("room") as server-sent events, until the client goes, the
// session ends or the console closes.
func (s *Server) live(w http.ResponseWriter, r *http.Request, ss *session, what string) {
	app, ok := s.ownedApp(w, r, ss)
	if !ok {
		return
	}
	read := func() (any, error) { return s.roomsOf(r, app) }
	if what == "room" {
		key, err := parseRoom(app, r.URL.Query().Get("room"))
		if err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		read = func() (any, error) { return s.membersOf(r, key) }
	}
	fl, ok := w.(http.Flusher)
	if !ok {
		writeError(w, http.StatusInternalServerError, "streaming is not supported here")
		return
	}
	if s.streams.Add(1) > MaxLiveStreams {
		s.streams.Add(-1)
		writeError(w, http.StatusServiceUnavailable, "too many live views open; close some")
		return
	}
	defer s.streams.Add(-1)
	// The stream outlives the server's write deadline, if any.
	http.NewResponseController(w).SetWriteDeadline(time.Time{})
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	fl.Flush()
	poll := time.NewTicker(LivePollInterval)
	defer poll.Stop()
	var last []byte
	lastSent := time.Now()
	for {
		if _, alive := s.sessions.get(r); alive == nil {
			fmt.Fprint(w, "event: signedout\ndata: {}\n\n")
			fl.Flush()
			return
		}
		v, err := read()
		var b []byte
		if err != nil {
			b, _ = json.Marshal(map[string]string{"error": "the room registry is unavailable"})
		} else {
			b, _ = json.Marshal(v)
		}
		if !bytes.Equal(b, last) {
			if _, err := fmt.Fprintf(w, "data: %s\n\n", b); err != nil {
				return
			}
			fl.Flush()
			last, lastSent = b, time.Now()
		} else if time.Since(lastSent) >= LiveKeepAlive {
			if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil {
				return
			}
			fl.Flush()
			lastSent = time.Now()
		}
		select {
		case <-poll.C:
		case <-r.Context().Done():
			return
		case <-s.closed:
			return
		}
	}
}

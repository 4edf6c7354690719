// Package console is trtcd's web console at /console: sign-in with an
// account's SecretId and SecretKey, the account's live rooms and their
// members (updated with server-sent events), buttons that call the API's
// actions on the account's behalf, and the developer tools (journal,
// signature diagnostics, API explorer, faults). The assets are embedded;
// nothing is loaded from elsewhere. docs/console.md describes the pages.
package console

import (
	"context"
	"embed"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/trtcd/trtcd/internal/callbacks"
	"github.com/trtcd/trtcd/internal/cloudapi"
	"github.com/trtcd/trtcd/internal/history"
	"github.com/trtcd/trtcd/internal/rooms"
)

// Path is where the console is mounted.
const Path = "/console/"

//go:embed assets
var assets embed.FS

// Rooms is what the console reads of the room domain.
type Rooms interface {
	Rooms(ctx context.Context, app uint64) ([]rooms.RoomInfo, bool, error)
	Members(ctx context.Context, room rooms.Key) ([]rooms.Member, error)
}

// Deps is what the console needs from the node.
type Deps struct {
	// Credentials finds the account and key of a SecretId (the front
	// door's own table): sign-in checks the key; calls are signed with it.
	Credentials cloudapi.Credentials
	// Apps lists the SdkAppIds an account owns.
	Apps func(account string) []uint64
	// API is the front door; the console's calls go through it, signed.
	API     http.Handler
	Actions []cloudapi.ActionInfo
	// DefaultRegion is the region named for actions that need one.
	DefaultRegion string
	Rooms         Rooms
	// History is the history store (nil: history is off; the page says
	// so).
	History history.Reader
	// Callbacks is the callbacks' outbox (nil: no app has a callback);
	// CallbackURL names an app's receiver ("" for none); CallbackStats is
	// the sender's counters (nil: none shown).
	Callbacks     CallbackStore
	CallbackURL   func(app uint64) string
	CallbackStats func() callbacks.Stats
	// Media reads the media state of a room's users on this node (nil:
	// media is off).
	Media   func(room rooms.Key) map[string]MediaState
	Journal bool // the tools are on (what the pages say when they are off)
	Faults  bool
	Log     *slog.Logger
	Now     func() time.Time // nil: time.Now
}

// Server serves /console/.
type Server struct {
	d        Deps
	sessions *sessions
	limiter  *signInLimiter
	static   http.Handler
	closed   chan struct{}
	close    sync.Once
	streams  atomic.Int64

	signIns  [3]atomic.Uint64 // by signInResult
	replayed atomic.Uint64    // dead letters replayed from the console
	cut      [2]atomic.Uint64 // answers cut at a limit, by cutList
}

// Lists the console cuts at a limit (Stats.Truncated).
type cutList int

const (
	cutTimeline    cutList = iota // MaxTimelineMembers
	cutDeadLetters                // MaxDeadLettersShown
)

// MediaState is one member's media as the room page shows it.
type MediaState struct {
	Audio        bool `json:"audio"`  // publishing audio
	Video        bool `json:"video"`  // publishing video
	Screen       bool `json:"screen"` // publishing a screen share
	BlockedAudio bool `json:"blockedAudio"`
	BlockedVideo bool `json:"blockedVideo"`
}

// New makes the console.
func New(d Deps) *Server {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	sub, _ := fs.Sub(assets, "assets")
	return &Server{d: d, sessions: newSessions(d.Now), limiter: newSignInLimiter(d.Now),
		static: http.StripPrefix(Path, http.FileServer(http.FS(sub))), closed: make(chan struct{})}
}

// Close ends the live streams (at shutdown: they would hold the server
// open).
func (s *Server) Close() { s.close.Do(func() { close(s.closed) }) }

// CSP allows this origin's scripts, styles, images and connections only:
// no inline script or style, no other origin, no framing.
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
	"frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", CSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	rest := strings.TrimPrefix(r.URL.Path, Path)
	switch {
	case r.URL.Path == strings.TrimSuffix(Path, "/"):
		http.Redirect(w, r, Path, http.StatusFound)
	case strings.HasPrefix(rest, "api/"):
		h.Set("Cache-Control", "no-store")
		s.serveAPI(w, r, strings.TrimPrefix(rest, "api/"))
	case r.Method != http.MethodGet && r.Method != http.MethodHead:
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	case rest == "" || rest == "index.html":
		b, _ := assets.ReadFile("assets/index.html")
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Cache-Control", "no-cache")
		w.Write(b)
	default:
		h.Set("Cache-Control", "no-cache")
		s.static.ServeHTTP(w, r)
	}
}

// Stats are the console's counters, for /metrics.
type Stats struct {
	Sessions    int
	LiveStreams int64
	SignIns     map[string]uint64 // by result: ok, refused, limited
	Replayed    uint64            // dead letters replayed from the callbacks page
	Truncated   map[string]uint64 // answers cut at a limit: "timeline" (MaxTimelineMembers), "deadletters" (MaxDeadLettersShown)
}

func (s *Server) Stats() Stats {
	return Stats{Sessions: s.sessions.count(), LiveStreams: s.streams.Load(), SignIns: map[string]uint64{
		"ok": s.signIns[signInOK].Load(), "refused": s.signIns[signInRefused].Load(), "limited": s.signIns[signInLimited].Load()}, Replayed: s.replayed.Load(),
		Truncated: map[string]uint64{"timeline": s.cut[cutTimeline].Load(), "deadletters": s.cut[cutDeadLetters].Load()}}
}

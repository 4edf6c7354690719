// Package node assembles one trtcd server from its configuration: the
// registry and the event log its changes append to, the room service and
// the hub of this node's sessions, the cloud API front door with the TRTC
// actions, the client signalling, the consumer groups that read the log,
// and the HTTP listener they share.
package node

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"sync/atomic"

	"github.com/trtcd/trtcd/internal/callbacks"
	"github.com/trtcd/trtcd/internal/cloudapi"
	"github.com/trtcd/trtcd/internal/cluster"
	"github.com/trtcd/trtcd/internal/config"
	"github.com/trtcd/trtcd/internal/console"
	"github.com/trtcd/trtcd/internal/devtools"
	"github.com/trtcd/trtcd/internal/eventlog"
	"github.com/trtcd/trtcd/internal/history"
	"github.com/trtcd/trtcd/internal/joinauth"
	"github.com/trtcd/trtcd/internal/media"
	"github.com/trtcd/trtcd/internal/metrics"
	"github.com/trtcd/trtcd/internal/rooms"
	"github.com/trtcd/trtcd/internal/signal"
	"github.com/trtcd/trtcd/internal/trtc"
	"github.com/trtcd/trtcd/internal/webui"
)

// Node is one running server.
type Node struct {
	Config config.Config
	Logger *slog.Logger

	Registry  rooms.Registry
	Log       Log            // the room event log (AddGroup reads it)
	Rooms     *rooms.Service // room changes for the actions
	Hub       *rooms.Hub     // this node's sessions
	API       *cloudapi.Server
	Signal    *signal.Server
	Metrics   *metrics.Set      // this node's /metrics
	History   *history.Store    // nil when history is not configured
	Callbacks *callbacks.Sender // nil when no app has a callback
	Media     *media.Server     // nil when media is off (media.enabled)
	mplane    *mediaPlane       // nil when media is off
	WebUI     *webui.UI         // the browser SDK, and the demo in development mode
	DevTools  *devtools.Tools   // request journal and faults; nil when both are off
	Console   *console.Server   // the web console; nil with console: false

	mediaEvents    atomic.Uint64 // media events seen (OnMediaEvent)
	mediaNotMember atomic.Uint64 // ... not logged: the user was no member of the room
	mediaFailed    atomic.Uint64 // ... not logged: the registry failed, or a bad room key
	mediaStale     atomic.Uint64 // ... not logged (cluster): this node lost the room's media, or the stop was written after a reset

	groups        groups
	stopRetention func()                     // set by Start when there is history
	stopCallbacks func()                     // set by Start when there are callbacks
	logRDB        interface{ Close() error } // cluster: the event log's Redis client
	srv           *http.Server
	ln            net.Listener
	conns         *connTracker // set by Start
	ready         atomic.Bool
	done          chan error
}

// New builds a node; Start begins serving.
func New(cfg config.Config, log *slog.Logger) (*Node, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg.FillLimits()
	n := &Node{Config: cfg, Logger: log, Metrics: metrics.New()}
	b, err := newBackend(cfg, log, n.observeRedis)
	if err != nil {
		return nil, err
	}
	reg, limiter := b.reg, b.limiter
	n.Registry, n.Log = reg, b.log
	if b.logRDB != nil {
		n.logRDB = b.logRDB
	}
	n.Rooms = rooms.NewService(reg)
	n.Metrics.SetEventLog(logMetrics{n})
	n.Hub = rooms.NewHub(reg, cfg.NodeID, nil)
	if cr, ok := reg.(*cluster.Registry); ok {
		cr.SetLocalMembers(n.Hub.LocalMembers)
	}
	var mp *mediaPlane
	if cfg.MediaOn() {
		if mp, err = newMediaPlane(cfg, log, n.onMediaEvent); err != nil {
			n.closeBackend()
			return nil, fmt.Errorf("media: %v", err)
		}
		n.Media, n.mplane = mp.srv, mp
		if cr, ok := reg.(*cluster.Registry); ok {
			if mp.cl, err = newClusterMedia(mp, cr, n.Hub, log); err != nil {
				n.closeMedia()
				n.closeBackend()
				return nil, fmt.Errorf("media: cluster relay: %v", err)
			}
		}
	}

	creds := cfg.Credentials()
	apps := cfg.Apps()
	cat := cloudapi.NewCatalog()
	owner := func(app uint64) (string, bool) { a, ok := apps[app]; return a[0], ok }
	acts := roomActions{Rooms: n.Rooms, hub: n.Hub, media: mp}
	trtc.Register(cat, acts, owner, cfg.Regions)
	trtc.RegisterBlocking(cat, acts, owner, cfg.Regions)
	n.setupDevTools(cat)
	// fail undoes what New has opened so far.
	fail := func(err error) (*Node, error) {
		if n.Callbacks != nil {
			n.Callbacks.Close()
		}
		if n.History != nil {
			n.History.Close()
		}
		n.closeMedia()
		n.closeBackend()
		return nil, err
	}
	if err := n.openHistory(cat, owner); err != nil {
		return fail(err)
	}
	if err := n.openCallbacks(); err != nil {
		return fail(err)
	}
	for action := range cfg.RateLimits {
		if !contains(cat.Names(), action) {
			return fail(fmt.Errorf("config: rate_limits.%s: no such action (have %v)", action, cat.Names()))
		}
	}
	n.API = &cloudapi.Server{
		Catalog:     cat,
		Credentials: func(id string) (string, string, bool) { c, ok := creds[id]; return c[0], c[1], ok },
		Limiter:     limiter,
		RateLimits:  cfg.RateLimits,
		Log:         log,
		BodyBudget:  cloudapi.NewBodyBudget(cfg.UnauthenticatedBodyBudget),
		ReadTimeout: cfg.HTTPReadTimeout.Duration,
	}
	n.Metrics.SetActions(cat.Names())
	n.API.Observe = n.Metrics.API.Observe
	n.API.Hook = n.devtoolsHook()
	sigApps := map[uint64]joinauth.App{}
	for _, a := range cfg.Accounts {
		for _, app := range a.Apps {
			sigApps[app.SdkAppID] = joinauth.App{Key: app.Key, RequirePrivateMapKey: app.RequirePrivateMapKey}
		}
	}
	sigCfg := signal.Config{IdleTimeout: cfg.IdleTimeout.Duration, QueueLen: cfg.ClientQueue, MaxSkew: cfg.UserSigMaxSkew.Duration, Log: log,
		MaxClients: cfg.MaxClients, Descriptors: n.descriptors, FDHeadroom: int64(cfg.FDHeadroom)}
	if mp != nil {
		sigCfg.Media = mp
	}
	n.Signal = signal.NewServer(n.Hub, func(app uint64) (joinauth.App, bool) { a, ok := sigApps[app]; return a, ok }, sigCfg)

	mux := http.NewServeMux()
	mux.Handle(signal.Path, n.Signal)
	n.WebUI = webui.Mount(mux, apps) // /sdk/trtcd.js, /sdk/trtcd.d.ts; /demo in development mode
	mux.HandleFunc("/healthz", n.healthz)
	n.Metrics.Registry.MustRegister(collector{n}, mediaCollector{n}, callbackCollector{n}, n.WebUI, devtoolsCollector{n})
	mux.Handle("/metrics", n.Metrics.Handler())
	if cfg.DebugPprof {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	mux.Handle("/{$}", n.API) // the API is "/" exactly; other paths answer a plain 404
	n.srv = &http.Server{Handler: mux, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		ReadHeaderTimeout: cfg.HTTPHeaderTimeout.Duration,
		IdleTimeout:       cfg.HTTPIdleTimeout.Duration,
	}
	n.mountConsole(mux, cat)
	return n, nil
}

// descriptors is what the signal server checks joins against (fd_headroom).
func (n *Node) descriptors() (open, limit int64) {
	if n.conns == nil {
		return 0, 1 << 62
	}
	return n.conns.Descriptors()
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Start listens and serves in the background.
func (n *Node) Start() error {
	ln, err := net.Listen("tcp", n.Config.Listen)
	if err != nil {
		return fmt.Errorf("listen %s: %w", n.Config.Listen, err)
	}
	n.conns = newConnTracker()
	n.srv.ConnState = n.conns.connState
	ln = trackedListener{ln, n.conns}
	if n.Config.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(n.Config.TLSCert, n.Config.TLSKey)
		if err != nil {
			ln.Close()
			return fmt.Errorf("config: tls_cert/tls_key: %w", err)
		}
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	}
	n.ln = ln
	if n.Media != nil {
		n.Logger.Info("media plane", "udp", n.Media.UDPAddrs(), "tcp", n.Media.TCPAddrs())
	}
	n.done = make(chan error, 1)
	n.startGroups()
	n.startRetention()
	n.startCallbacks()
	n.ready.Store(true)
	go func() {
		err := n.srv.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		n.done <- err
	}()
	return nil
}

// Addr is the listening address (useful with port 0).
func (n *Node) Addr() string { return n.ln.Addr().String() }

// Done reports the end of serving.
func (n *Node) Done() <-chan error { return n.done }

// Shutdown stops the node gracefully: not ready; clients leave their rooms
// (reason left) and are closed; the listener closes while in-flight API
// calls finish; the consumer groups stop (what they had not acknowledged
// comes again, on another node or after a restart); the registry and the
// log are closed last.
func (n *Node) Shutdown(ctx context.Context) error {
	n.ready.Store(false)
	err := n.Signal.Shutdown(ctx)
	if e := n.srv.Shutdown(ctx); e != nil && err == nil {
		err = e
	}
	n.closeMedia()
	n.stopGroups()
	if n.stopRetention != nil {
		n.stopRetention()
	}
	if n.stopCallbacks != nil {
		n.stopCallbacks()
	}
	if n.History != nil {
		if e := n.History.Close(); e != nil && err == nil {
			err = e
		}
	}
	if e := n.closeBackend(); e != nil && err == nil {
		err = e
	}
	return err
}

func (n *Node) closeBackend() error {
	err := n.Registry.Close()
	if n.logRDB != nil {
		err = errors.Join(err, n.logRDB.Close())
	}
	return err
}

// closeMedia closes the media plane: every room's connections, the sockets.
func (n *Node) closeMedia() {
	if n.mplane != nil && n.mplane.cl != nil {
		n.mplane.cl.close()
	}
	if n.Media != nil {
		n.Media.Close()
	}
}

// onMediaEvent receives the SFU's media events (201-206) and records each
// in the room-event log (rooms.Service.LogMedia), from where callbacks and
// history read them. The SFU calls it one event at a time per room, in
// order, so the log keeps the room's media order. An event that cannot be
// recorded (its user has left the room, the registry failed, or, in cluster
// mode, this node lost the room's media or the track's stop was already
// written after a media reset) is logged and counted
// (trtcd_media_events_unlogged_total); it is not retried.
func (n *Node) onMediaEvent(ev media.MediaEvent) {
	n.mediaEvents.Add(1)
	typ, ok := mediaLogType[ev.Type]
	room, err := rooms.ParseKey(ev.Room)
	if !ok || err != nil {
		n.mediaFailed.Add(1)
		n.Logger.Error("media event not logged: bad event", "type", int(ev.Type), "room", ev.Room, "user", ev.User, "err", err)
		return
	}
	seq, err := n.Rooms.LogMedia(context.Background(), room, ev.User, typ)
	switch {
	case errors.Is(err, rooms.ErrNotMember):
		n.mediaNotMember.Add(1)
		n.Logger.Info("media event not logged: the user is not in the room", "type", int(ev.Type), "room", ev.Room, "user", ev.User)
	case errors.Is(err, cluster.ErrNotMediaNode), errors.Is(err, cluster.ErrNotStarted):
		n.mediaStale.Add(1)
		n.Logger.Info("media event not logged: stale", "type", int(ev.Type), "room", ev.Room, "user", ev.User, "err", err)
	case err != nil:
		n.mediaFailed.Add(1)
		n.Logger.Warn("media event not logged", "type", int(ev.Type), "room", ev.Room, "user", ev.User, "err", err)
	default:
		n.Logger.Debug("media event", "type", int(ev.Type), "room", ev.Room, "user", ev.User, "seq", seq)
	}
}

// mediaLogType names the SFU's event types in the room-event log.
var mediaLogType = map[media.EventType]eventlog.Type{
	media.EventStartVideo: eventlog.TypeVideoStart, media.EventStopVideo: eventlog.TypeVideoStop,
	media.EventStartAudio: eventlog.TypeAudioStart, media.EventStopAudio: eventlog.TypeAudioStop,
	media.EventStartSubVideo: eventlog.TypeSubStart, media.EventStopSubVideo: eventlog.TypeSubStop,
}

func (n *Node) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if !n.ready.Load() {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintf(w, `{"status":"draining","node":%q}`+"\n", n.Config.NodeID)
		return
	}
	fmt.Fprintf(w, `{"status":"ok","node":%q}`+"\n", n.Config.NodeID)
}

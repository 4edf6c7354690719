// Package node assembles one trtcd server from its configuration: the
// registry, the room hub, the cloud API front door with the TRTC actions,
// the client signalling, and the HTTP listener they share.
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

	"github.com/trtcd/trtcd/internal/cloudapi"
	"github.com/trtcd/trtcd/internal/cluster"
	"github.com/trtcd/trtcd/internal/config"
	"github.com/trtcd/trtcd/internal/console"
	"github.com/trtcd/trtcd/internal/devtools"
	"github.com/trtcd/trtcd/internal/joinauth"
	"github.com/trtcd/trtcd/internal/metrics"
	"github.com/trtcd/trtcd/internal/rooms"
	"github.com/trtcd/trtcd/internal/signal"
	"github.com/trtcd/trtcd/internal/trtc"
)

// Node is one running server.
type Node struct {
	Config config.Config
	Log    *slog.Logger

	Registry rooms.Registry
	Hub      *rooms.Hub
	API      *cloudapi.Server
	Signal   *signal.Server
	Metrics  *metrics.Set    // this node's /metrics
	DevTools *devtools.Tools // request journal and faults; nil when both are off
	Console  *console.Server // the web console; nil with console: false

	srv   *http.Server
	ln    net.Listener
	conns *connTracker // set by Start
	ready atomic.Bool
	done  chan error
}

// New builds a node; Start begins serving.
func New(cfg config.Config, log *slog.Logger) (*Node, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg.FillLimits()
	n := &Node{Config: cfg, Log: log, Metrics: metrics.New()}
	reg, limiter, err := newBackend(cfg, log, n.observeRedis)
	if err != nil {
		return nil, err
	}
	n.Registry = reg
	n.Hub = rooms.NewHub(reg, cfg.NodeID, nil)
	if cr, ok := reg.(*cluster.Registry); ok {
		cr.SetLocalMembers(n.Hub.LocalMembers)
	}

	creds := cfg.Credentials()
	apps := cfg.Apps()
	cat := cloudapi.NewCatalog()
	trtc.Register(cat, n.Hub, func(app uint64) (string, bool) { a, ok := apps[app]; return a[0], ok }, cfg.Regions)
	n.setupDevTools(cat)
	for action := range cfg.RateLimits {
		if !contains(cat.Names(), action) {
			reg.Close()
			return nil, fmt.Errorf("config: rate_limits.%s: no such action (have %v)", action, cat.Names())
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
	n.Signal = signal.NewServer(n.Hub, func(app uint64) (joinauth.App, bool) { a, ok := sigApps[app]; return a, ok },
		signal.Config{IdleTimeout: cfg.IdleTimeout.Duration, QueueLen: cfg.ClientQueue, MaxSkew: cfg.UserSigMaxSkew.Duration, Log: log,
			MaxClients: cfg.MaxClients, Descriptors: n.descriptors, FDHeadroom: int64(cfg.FDHeadroom)})

	mux := http.NewServeMux()
	mux.Handle(signal.Path, n.Signal)
	mux.HandleFunc("/healthz", n.healthz)
	n.Metrics.Registry.MustRegister(collector{n}, devtoolsCollector{n})
	mux.Handle("/metrics", n.Metrics.Handler())
	if cfg.DebugPprof {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
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
	n.done = make(chan error, 1)
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
// calls finish; the registry is closed last.
func (n *Node) Shutdown(ctx context.Context) error {
	n.ready.Store(false)
	err := n.Signal.Shutdown(ctx)
	if e := n.srv.Shutdown(ctx); e != nil && err == nil {
		err = e
	}
	if e := n.Registry.Close(); e != nil && err == nil {
		err = e
	}
	return err
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

package node

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/trtcd/trtcd/internal/cloudapi"
	"github.com/trtcd/trtcd/internal/console"
	"github.com/trtcd/trtcd/internal/rooms"
	"github.com/trtcd/trtcd/internal/trtc"
)

// mountConsole serves the web console at /console/ unless `console: false`;
// its live streams end when the server shuts down.
func (n *Node) mountConsole(mux *http.ServeMux, cat *cloudapi.Catalog) {
	if !n.Config.ConsoleOn() {
		return
	}
	apps := map[string][]uint64{}
	for _, a := range n.Config.Accounts {
		for _, app := range a.Apps {
			apps[a.Name] = append(apps[a.Name], app.SdkAppID)
		}
	}
	urls := map[uint64]string{}
	for _, a := range n.Config.Accounts {
		for _, app := range a.Apps {
			if app.Callback != nil && app.Callback.URL != "" {
				urls[app.SdkAppID] = app.Callback.URL
			}
		}
	}
	d := console.Deps{
		Credentials:   n.API.Credentials,
		Apps:          func(account string) []uint64 { return apps[account] },
		API:           n.API,
		Actions:       cat.Actions(),
		DefaultRegion: trtc.DefaultClientRegion,
		Rooms:         n.Rooms,
		Journal:       n.DevTools != nil && n.DevTools.Journal != nil,
		Faults:        n.DevTools != nil && n.DevTools.Faults != nil,
		Log:           n.Logger,
		CallbackURL:   func(app uint64) string { return urls[app] },
	}
	if n.History != nil { // not a typed nil in the interface
		d.History = n.History
	}
	if n.Callbacks != nil && n.Callbacks.Store() != nil {
		d.Callbacks = n.Callbacks.Store()
		d.CallbackStats = n.Callbacks.Stats
	}
	if n.Media != nil {
		srv := n.Media
		d.Media = func(room rooms.Key) map[string]console.MediaState {
			out := map[string]console.MediaState{}
			for u, st := range srv.States(room.String()) {
				out[u] = console.MediaState{Audio: st.Audio, Video: st.Video, Screen: st.Screen, BlockedAudio: st.BlockedAudio, BlockedVideo: st.BlockedVideo}
			}
			return out
		}
	}
	n.Console = console.New(d)
	mux.Handle(console.Path, n.Console)
	mux.Handle("/console", n.Console)
	n.srv.RegisterOnShutdown(n.Console.Close)
	n.Metrics.Registry.MustRegister(consoleCollector{n})
}

var (
	descConsoleSessions = newDesc("console_sessions", "Console sessions signed in and not expired (console.SessionTTL).")
	descConsoleSignIns  = newDesc("console_signins_total", "Console sign-in attempts, by result: ok, refused (wrong SecretId or SecretKey), limited (console.SignInBurst).", "result")
	descConsoleStreams  = newDesc("console_live_streams", "Console live views (server-sent event streams) open (console.MaxLiveStreams).")
	descConsoleCut      = newDesc("console_lists_truncated_total", "Console answers cut at a limit, by list: timeline (console.MaxTimelineMembers), deadletters (console.MaxDeadLettersShown).", "list")
	descConsoleReplayed = newDesc("console_deadletters_replayed_total", "Callback dead letters moved back to the outbox from the console's Callbacks page (console.MaxReplayIDs per request).")
)

type consoleCollector struct{ n *Node }

func (c consoleCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descConsoleSessions
	ch <- descConsoleSignIns
	ch <- descConsoleStreams
	ch <- descConsoleReplayed
	ch <- descConsoleCut
}

func (c consoleCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.n.Console.Stats()
	ch <- prometheus.MustNewConstMetric(descConsoleSessions, prometheus.GaugeValue, float64(st.Sessions))
	ch <- prometheus.MustNewConstMetric(descConsoleStreams, prometheus.GaugeValue, float64(st.LiveStreams))
	ch <- prometheus.MustNewConstMetric(descConsoleReplayed, prometheus.CounterValue, float64(st.Replayed))
	for _, l := range []string{"timeline", "deadletters"} {
		ch <- prometheus.MustNewConstMetric(descConsoleCut, prometheus.CounterValue, float64(st.Truncated[l]), l)
	}
	for _, r := range []string{"ok", "refused", "limited"} {
		ch <- prometheus.MustNewConstMetric(descConsoleSignIns, prometheus.CounterValue, float64(st.SignIns[r]), r)
	}
}

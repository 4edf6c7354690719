package node

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/trtcd/trtcd/internal/cloudapi"
	"github.com/trtcd/trtcd/internal/console"
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
	n.Console = console.New(console.Deps{
		Credentials:   n.API.Credentials,
		Apps:          func(account string) []uint64 { return apps[account] },
		API:           n.API,
		Actions:       cat.Actions(),
		DefaultRegion: trtc.DefaultClientRegion,
		Rooms:         n.Rooms,
		Journal:       n.DevTools != nil && n.DevTools.Journal != nil,
		Faults:        n.DevTools != nil && n.DevTools.Faults != nil,
		Log:           n.Logger,
	})
	mux.Handle(console.Path, n.Console)
	mux.Handle("/console", n.Console)
	n.srv.RegisterOnShutdown(n.Console.Close)
	n.Metrics.Registry.MustRegister(consoleCollector{n})
}

var (
	descConsoleSessions = newDesc("console_sessions", "Console sessions signed in and not expired (console.SessionTTL).")
	descConsoleSignIns  = newDesc("console_signins_total", "Console sign-in attempts, by result: ok, refused (wrong SecretId or SecretKey), limited (console.SignInBurst).", "result")
	descConsoleStreams  = newDesc("console_live_streams", "Console live views (server-sent event streams) open (console.MaxLiveStreams).")
)

type consoleCollector struct{ n *Node }

func (c consoleCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descConsoleSessions
	ch <- descConsoleSignIns
	ch <- descConsoleStreams
}

func (c consoleCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.n.Console.Stats()
	ch <- prometheus.MustNewConstMetric(descConsoleSessions, prometheus.GaugeValue, float64(st.Sessions))
	ch <- prometheus.MustNewConstMetric(descConsoleStreams, prometheus.GaugeValue, float64(st.LiveStreams))
	for _, r := range []string{"ok", "refused", "limited"} {
		ch <- prometheus.MustNewConstMetric(descConsoleSignIns, prometheus.CounterValue, float64(st.SignIns[r]), r)
	}
}

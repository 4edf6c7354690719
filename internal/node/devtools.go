package node

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/trtcd/trtcd/internal/cloudapi"
	"github.com/trtcd/trtcd/internal/devtools"
)

// setupDevTools makes the developer tools the configuration asks for and
// registers their admin actions; call it once the product's actions are in
// cat. The front door's Hook stays nil when both tools are off.
func (n *Node) setupDevTools(cat *cloudapi.Catalog) {
	dt := n.Config.DevTools
	n.DevTools = devtools.New(dt.Journal, dt.JournalSize, dt.Faults)
	devtools.Register(cat, n.DevTools)
}

func (n *Node) devtoolsHook() cloudapi.Hook {
	if n.DevTools == nil {
		return nil
	}
	return n.DevTools
}

var (
	descJournalEntries = newDesc("devtools_journal_entries_total", "API calls written to the request journal (devtools.journal).")
	descFaultsInjected = newDesc("devtools_faults_injected_total", "API calls answered or delayed by an injected fault (devtools.faults).")
	descFaultsActive   = newDesc("devtools_faults_active", "Injected faults set and not yet expired or used up.")
)

// devtoolsCollector reads the developer tools' counters for /metrics.
type devtoolsCollector struct{ n *Node }

func (c devtoolsCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descJournalEntries
	ch <- descFaultsInjected
	ch <- descFaultsActive
}

func (c devtoolsCollector) Collect(ch chan<- prometheus.Metric) {
	var entries, injected uint64
	var active int64
	if t := c.n.DevTools; t != nil {
		if t.Journal != nil {
			entries = t.Journal.Added()
		}
		if t.Faults != nil {
			injected, active = t.Faults.Injected(), t.Faults.Active()
		}
	}
	ch <- prometheus.MustNewConstMetric(descJournalEntries, prometheus.CounterValue, float64(entries))
	ch <- prometheus.MustNewConstMetric(descFaultsInjected, prometheus.CounterValue, float64(injected))
	ch <- prometheus.MustNewConstMetric(descFaultsActive, prometheus.GaugeValue, float64(active))
}

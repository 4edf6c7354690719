package metrics

import "github.com/prometheus/client_golang/prometheus"

// GroupLag is one consumer group's progress on this node: how many events
// it has consumed (acknowledged) and how many appended events it has not
// consumed yet.
type GroupLag struct {
	Group    string
	Consumed uint64
	Lag      uint64
}

// EventLog is what the room event log tells /metrics. Its metrics are
// present once an event log is wired with SetEventLog.
type EventLog interface {
	Appended() uint64   // events this node appended to the log
	Groups() []GroupLag // the consumer groups this node reads
}

// SetEventLog plugs the event log into /metrics (nil unplugs it).
func (s *Set) SetEventLog(l EventLog) {
	if l == nil {
		s.eventLog.Store(nil)
		return
	}
	s.eventLog.Store(&l)
}

var (
	eventsAppended = prometheus.NewDesc(name("events_appended_total"), "Room events this node appended to the event log.", nil, nil)
	eventsConsumed = prometheus.NewDesc(name("events_consumed_total"), "Room events consumed (acknowledged) on this node, by consumer group.", []string{"group"}, nil)
	eventGroupLag  = prometheus.NewDesc(name("event_group_lag"), "Events appended to the log and not yet consumed, by consumer group.", []string{"group"}, nil)
)

// eventLogCollector reads the event log when /metrics is scraped.
type eventLogCollector struct{ s *Set }

func (c eventLogCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- eventsAppended
	ch <- eventsConsumed
	ch <- eventGroupLag
}

func (c eventLogCollector) Collect(ch chan<- prometheus.Metric) {
	p := c.s.eventLog.Load()
	if p == nil {
		return
	}
	l := *p
	ch <- prometheus.MustNewConstMetric(eventsAppended, prometheus.CounterValue, float64(l.Appended()))
	for _, g := range l.Groups() {
		ch <- prometheus.MustNewConstMetric(eventsConsumed, prometheus.CounterValue, float64(g.Consumed), g.Group)
		ch <- prometheus.MustNewConstMetric(eventGroupLag, prometheus.GaugeValue, float64(g.Lag), g.Group)
	}
}

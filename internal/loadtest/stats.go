// Package loadtest drives a real trtcd server the way traffic would (joins,
// kicks, signed API calls, dismissals) and measures it beside a baseline
// measured in the same run. `trtcd bench` is its command line.
package loadtest

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Latencies records durations from 1 µs to 60 s with 3 significant digits.
// It is safe for concurrent use.
type Latencies struct {
	mu sync.Mutex
	h  *hdrhistogram.Histogram
}

func NewLatencies() *Latencies {
	return &Latencies{h: hdrhistogram.New(1, 60_000_000, 3)}
}

func (l *Latencies) Record(d time.Duration) {
	us := d.Microseconds()
	if us < 1 {
		us = 1
	}
	l.mu.Lock()
	l.h.RecordValue(us)
	l.mu.Unlock()
}

// Quantile returns the q-quantile (0 < q ≤ 1) in milliseconds.
func (l *Latencies) Quantile(q float64) float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return float64(l.h.ValueAtQuantile(q*100)) / 1000
}

func (l *Latencies) Count() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.h.TotalCount()
}

// Summary is the usual percentiles of a latency distribution, in ms.
type Summary struct {
	Count int64   `json:"count"`
	P50   float64 `json:"p50_ms"`
	P99   float64 `json:"p99_ms"`
	P999  float64 `json:"p999_ms"`
	Max   float64 `json:"max_ms"`
}

func (l *Latencies) Summary() Summary {
	return Summary{Count: l.Count(), P50: l.Quantile(0.5), P99: l.Quantile(0.99), P999: l.Quantile(0.999), Max: l.Quantile(1)}
}

// Ratio is a/b, or 0 when b is 0.
func Ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// Report is the result of one run: named figures, printed as a table or JSON.
type Report struct {
	Name    string             `json:"name"`
	Params  map[string]any     `json:"params"`
	Figures map[string]float64 `json:"figures"`
	Latency map[string]Summary `json:"latency,omitempty"`
}

func NewReport(name string, params map[string]any) *Report {
	return &Report{Name: name, Params: params, Figures: map[string]float64{}, Latency: map[string]Summary{}}
}

// Write prints the report: JSON when asJSON, else a readable table.
func (r *Report) Write(w io.Writer, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "%s\n", r.Name)
	for _, k := range sortedKeys(r.Params) {
		fmt.Fprintf(tw, "  %s\t%v\n", k, r.Params[k])
	}
	for _, k := range sortedKeys(r.Figures) {
		fmt.Fprintf(tw, "  %s\t%s\n", k, trimFloat(r.Figures[k]))
	}
	if len(r.Latency) > 0 {
		fmt.Fprintf(tw, "  latency (ms)\tcount\tp50\tp99\tp99.9\tmax\n")
		for _, k := range sortedKeys(r.Latency) {
			s := r.Latency[k]
			fmt.Fprintf(tw, "  %s\t%d\t%s\t%s\t%s\t%s\n", k, s.Count, trimFloat(s.P50), trimFloat(s.P99), trimFloat(s.P999), trimFloat(s.Max))
		}
	}
	return tw.Flush()
}

func trimFloat(f float64) string {
	s := fmt.Sprintf("%.3f", f)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	if s == "" || s == "-" {
		return "0"
	}
	return s
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Pacer spaces events at a target rate from a start time: event i is due at
// start + i/rate. A rate ≤ 0 means as fast as possible.
type Pacer struct {
	Rate  float64
	Start time.Time
}

// Due is when event i should happen.
func (p Pacer) Due(i int) time.Time {
	if p.Rate <= 0 {
		return p.Start
	}
	return p.Start.Add(time.Duration(float64(i) / p.Rate * float64(time.Second)))
}

// Wait sleeps until event i is due.
func (p Pacer) Wait(i int) {
	if d := time.Until(p.Due(i)); d > 0 {
		time.Sleep(d)
	}
}

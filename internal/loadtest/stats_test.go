package loadtest

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"
)

func TestLatenciesQuantiles(t *testing.T) {
	l := NewLatencies()
	for i := 1; i <= 1000; i++ {
		l.Record(time.Duration(i) * time.Millisecond)
	}
	s := l.Summary()
	if s.Count != 1000 {
		t.Fatalf("count %d", s.Count)
	}
	for _, c := range []struct{ got, want float64 }{{s.P50, 500}, {s.P99, 990}, {s.P999, 999}, {s.Max, 1000}} {
		if math.Abs(c.got-c.want)/c.want > 0.002 {
			t.Errorf("got %v, want %v (±0.2%%)", c.got, c.want)
		}
	}
	// sub-microsecond values count as 1 µs, not zero
	l2 := NewLatencies()
	l2.Record(100 * time.Nanosecond)
	if l2.Quantile(1) != 0.001 {
		t.Fatalf("tiny value %v", l2.Quantile(1))
	}
}

func TestRatio(t *testing.T) {
	if Ratio(3, 2) != 1.5 || Ratio(1, 0) != 0 {
		t.Fatal("ratio")
	}
}

func TestPacerSpacesEvents(t *testing.T) {
	start := time.Unix(100, 0)
	p := Pacer{Rate: 1000, Start: start}
	if p.Due(0) != start || p.Due(1000) != start.Add(time.Second) || p.Due(1500) != start.Add(1500*time.Millisecond) {
		t.Fatalf("due %v %v", p.Due(1000), p.Due(1500))
	}
	if (Pacer{Start: start}).Due(99) != start {
		t.Fatal("unpaced")
	}
	// Wait really waits until the event is due
	q := Pacer{Rate: 100, Start: time.Now()}
	q.Wait(5)
	if time.Now().Before(q.Due(5)) {
		t.Fatal("Wait returned early")
	}
}

func TestReportFormats(t *testing.T) {
	r := NewReport("kick", map[string]any{"rate": 1000})
	r.Figures["kicks_per_s"] = 998.5
	l := NewLatencies()
	l.Record(2 * time.Millisecond)
	r.Latency["kick"] = l.Summary()
	var table, js bytes.Buffer
	r.Write(&table, false)
	if !strings.Contains(table.String(), "kicks_per_s") || !strings.Contains(table.String(), "998.5") {
		t.Fatalf("table:\n%s", table.String())
	}
	r.Write(&js, true)
	var back Report
	if err := json.Unmarshal(js.Bytes(), &back); err != nil || back.Figures["kicks_per_s"] != 998.5 || back.Latency["kick"].P50 != 2 {
		t.Fatalf("json %s %v", js.String(), err)
	}
}

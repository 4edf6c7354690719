package main

import (
	"encoding/json"
	"os/exec"
	"testing"
)

// TestBenchMediaSmoke runs a tiny `trtcd bench media` (1 publisher, 2
// subscribers) against a spawned server, with the bare relay baseline:
// packets are forwarded by both, loss comes from the received sequence
// numbers, and every subscriber's two tracks end after RemoveUser. Speed
// is not asserted.
func TestBenchMediaSmoke(t *testing.T) {
	addr, _ := serve(t)
	out, err := exec.Command(bin, "bench", "media", "--server=http://"+addr, "--publishers=1", "--subscribers=2",
		"--duration=2s", "--json", "--timeout=120s").Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("bench media: %v\n%s\nstderr:\n%s", err, out, stderr)
	}
	var rep struct {
		Params  map[string]any
		Figures map[string]float64
		Latency map[string]map[string]float64
	}
	if err := json.Unmarshal(out, &rep); err != nil {
		t.Fatalf("printed %s", out)
	}
	f := rep.Figures
	for _, k := range []string{"forwarded_packets", "received_packets", "server_cpu_ms_per_s_per_stream",
		"baseline_relay_forwarded_packets", "server_rss_bytes_per_participant"} {
		if !(f[k] > 0) {
			t.Errorf("%s = %v, want > 0 (%v)", k, f[k], f)
		}
	}
	if rep.Params["subscriber_streams"] != 4.0 {
		t.Errorf("subscriber_streams %v", rep.Params["subscriber_streams"])
	}
	// Every subscriber received audio and video, and both ended after RemoveUser.
	if f["tracks_ended"] != 4 || f["missing"] != 0 {
		t.Errorf("tracks ended %v, missing %v", f["tracks_ended"], f["missing"])
	}
	lost, ok := f["lost_packets"]
	if !ok || lost < 0 || lost >= f["received_packets"] {
		t.Errorf("lost_packets %v of %v received", lost, f["received_packets"])
	}
	if want := lost / (lost + f["received_packets"]); f["loss_ratio"] != want {
		t.Errorf("loss_ratio %v, want %v", f["loss_ratio"], want)
	}
	for name, min := range map[string]float64{
		"forwarding trtcd (send → subscriber ReadRTP)":                                    1,
		"forwarding bare pion relay (send → subscriber ReadRTP)":                          1,
		"RemoveUser → track ended (media_track_unpublished)":                              4,
		"RemoveUser → track removed from the connection (new offer applied, ReadRTP EOF)": 4,
	} {
		l := rep.Latency[name]
		if l["count"] < min || !(l["p50_ms"] > 0) || l["p99_ms"] < l["p50_ms"] {
			t.Errorf("%s latency %v", name, l)
		}
	}
}

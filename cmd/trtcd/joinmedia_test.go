package main

import (
	"bufio"
	"encoding/json"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// TestJoinPublishAndReceive: `join --publish` sends synthetic audio and
// video through a real server; `join --receive` prints growing packet
// counts of both, per user.
func TestJoinPublishAndReceive(t *testing.T) {
	addr, _ := serve(t)
	server := "http://" + addr
	start := func(args ...string) (*exec.Cmd, *bufio.Scanner) {
		cmd := exec.Command(bin, append([]string{"join", "--server", server, "--roomid", "77"}, args...)...)
		stdout, _ := cmd.StdoutPipe()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			cmd.Process.Signal(syscall.SIGTERM)
			cmd.Wait()
		})
		return cmd, bufio.NewScanner(stdout)
	}
	_, rx := start("--userid", "rx", "--receive", "500ms")
	_, pub := start("--userid", "pub", "--publish")

	lines := make(chan map[string]any, 64)
	scan := func(sc *bufio.Scanner) {
		for sc.Scan() {
			var m map[string]any
			if json.Unmarshal(sc.Bytes(), &m) == nil {
				lines <- m
			}
		}
	}
	go scan(pub)
	go scan(rx)
	published, received := false, false
	deadline := time.After(60 * time.Second)
	for !published || !received {
		select {
		case m := <-lines:
			switch m["type"] {
			case "media_publish_failed":
				t.Fatalf("publish failed: %v", m)
			case "media_published":
				published = true
			case "media_received":
				p, _ := m["packets"].(map[string]any)["pub"].(map[string]any)
				a, _ := p["audio"].(float64)
				v, _ := p["video"].(float64)
				received = a > 10 && v > 10
			}
		case <-deadline:
			t.Fatalf("published=%v received=%v after 60 s", published, received)
		}
	}
}

package webui_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/trtcd/trtcd/internal/cluster"
	"github.com/trtcd/trtcd/internal/config"
	"github.com/trtcd/trtcd/internal/rooms"
	tk "github.com/trtcd/trtcd/internal/testkit"
)

// devClusterYAML is the config of a `trtcd serve` cluster node with the
// development account (so that it serves the demo) and media on loopback.
func devClusterYAML(addr, redisURL, nodeID string) string {
	return fmt.Sprintf(`listen: %q
redis: %q
node_id: %q
media:
  enabled: true
  networks: [127.0.0.0/8]
accounts:
  - name: %s
    secret_id: %q
    secret_key: %q
    apps:
      - sdkappid: %d
        key: %q
`, addr, redisURL, nodeID, config.DevAccount, config.DevSecretID, config.DevSecretKey, config.DevSdkAppID, config.DevAppKey)
}

// watchReset records, in the page, the SDK's media-reset events and the
// track events that follow, and marks the page so that a reload shows.
func (p *page) watchReset() {
	p.b.t.Helper()
	var ok bool
	p.eval(`(() => {
		window.resetMarker = 'not reloaded';
		window.resetEvents = [];
		const r = trtcdDemo.room;
		r.on('media-reset', (e) => window.resetEvents.push('media-reset ' + e.count + ' ' + e.republish));
		r.on('track-removed', (e) => window.resetEvents.push('track-removed ' + e.userId + '/' + e.kind));
		r.on('track-added', (e) => window.resetEvents.push('track-added ' + e.userId + '/' + e.kind));
		return true;
	})()`, &ok)
}

// resetState is what watchReset recorded.
type resetState struct {
	Marker string
	Events []string
	Resets int
	State  string
	Demo   string // the demo's event list
	Local  []string
}

func (p *page) resetState() resetState {
	p.b.t.Helper()
	var s resetState
	p.eval(`(() => {
		const r = trtcdDemo.room;
		return {
			marker: window.resetMarker || '',
			events: window.resetEvents || [],
			resets: r.mediaResets,
			state: r.state,
			demo: document.getElementById('log').innerText,
			local: r.localStream ? r.localStream.getTracks().map((t) => t.id + ' ' + t.readyState) : [],
		};
	})()`, &s)
	return s
}

// index is the position of the first event equal to ev after position from, or -1.
func index(events []string, from int, ev string) int {
	for i := from; i < len(events); i++ {
		if events[i] == ev {
			return i
		}
	}
	return -1
}

// resetCluster is three `trtcd serve` processes on one Redis, with room
// roomID's media on n0: page C joined there first; page A publishes from
// n1 and page B receives on n2.
type resetCluster struct {
	procs []*tk.Proc
	rdb   *redis.Client
	claim string // the room's media claim in Redis
	a, b  *page
}

func startResetCluster(t *testing.T, roomID uint64) *resetCluster {
	t.Helper()
	chromium(t) // skip before building anything when there is no browser
	rds := tk.StartRedis(t)
	c := &resetCluster{rdb: redis.NewClient(&redis.Options{Addr: rds.Addr})}
	t.Cleanup(func() { c.rdb.Close() })
	c.claim = cluster.MediaKey(rooms.NumRoom(config.DevSdkAppID, roomID))
	bin := tk.BuildTrtcd(t)
	for i := 0; i < 3; i++ {
		addr := tk.FreeAddr(t)
		c.procs = append(c.procs, tk.StartProcess(t, bin, addr, devClusterYAML(addr, rds.URL(), fmt.Sprintf("n%d", i))))
	}
	for _, p := range c.procs {
		p.WaitHealthy(t)
	}
	t.Cleanup(func() {
		if t.Failed() {
			for i, p := range c.procs {
				t.Logf("n%d's output:\n%s", i, p.Stderr())
			}
		}
	})
	url := func(p *tk.Proc, q string) string { return fmt.Sprintf("http://%s/demo?room=%d&%s", p.Addr, roomID, q) }
	b := newBrowser(t)
	carol := b.open("C", url(c.procs[0], "user=carol&publish=0"))
	carol.join() // its media_renegotiate claims the room's media on n0
	poll(t, "n0 to claim the room's media", func() (bool, string) { o := c.owner(); return strings.HasPrefix(o, "n0#"), o })
	c.a = b.open("A", url(c.procs[1], "user=alice"))
	c.a.join()
	c.b = b.open("B", url(c.procs[2], "user=bob&publish=0"))
	c.b.join()
	growing(t, c.b, 5, "alice/video", "alice/audio")
	if o := c.owner(); !strings.HasPrefix(o, "n0#") {
		t.Fatalf("the room's media moved to %q before the kill", o)
	}
	c.a.watchReset()
	c.b.watchReset()
	return c
}

// owner is the room's media node incarnation as Redis has it.
func (c *resetCluster) owner() string {
	v, _ := c.rdb.Get(context.Background(), c.claim).Result()
	return v
}

// waitReset waits until A's and B's SDKs followed a media_reset (A's
// publishing again), and a live node claims the room's media.
func (c *resetCluster) waitReset(t *testing.T) {
	t.Helper()
	for _, p := range []*page{c.a, c.b} {
		poll(t, p.name+" follows a media_reset", func() (bool, string) {
			s := p.resetState()
			return s.Resets >= 1 && index(s.Events, 0, "media-reset 1 "+fmt.Sprint(p == c.a)) >= 0, fmt.Sprintf("%+v", s.Events)
		})
	}
	poll(t, "a live node to claim the room's media", func() (bool, string) {
		o := c.owner()
		return strings.HasPrefix(o, "n1#") || strings.HasPrefix(o, "n2#"), o
	})
}

// TestBrowserMediaResetAfterKill9 (cluster mode, three `trtcd serve`
// processes on one Redis): page C joins first on n0, which becomes the
// room's media node; page A publishes from n1 and page B receives on n2.
// After kill -9 of n0 both A's and B's SDKs get media_reset and follow it
// by themselves, without a reload: B's tracks of A are removed, A publishes
// its same tracks again, B asks for the room's tracks again, and B decodes
// A's video and receives A's audio again, through a live media node.
func TestBrowserMediaResetAfterKill9(t *testing.T) {
	c := startResetCluster(t, 7301)
	a, bob := c.a, c.b
	localBefore := a.resetState().Local
	if len(localBefore) != 2 {
		t.Fatalf("A publishes %v, want an audio and a video track", localBefore)
	}

	c.procs[0].Kill9()
	c.waitReset(t)
	// Counters restart with B's new sub connection: they grow from there.
	growing(t, bob, 5, "alice/video", "alice/audio")

	// B's tiles of A lose their tracks with the reset (track-removed
	// comes just before media-reset) and get them back after it.
	s := bob.resetState()
	reset := index(s.Events, 0, "media-reset 1 false")
	for _, kind := range []string{"video", "audio"} {
		removed := index(s.Events, 0, "track-removed alice/"+kind)
		added := index(s.Events, reset+1, "track-added alice/"+kind)
		if removed < 0 || removed > reset || added < 0 {
			t.Errorf("B's events %v: want alice's %s removed, then media-reset, then alice's %s added again", s.Events, kind, kind)
		}
	}
	for _, p := range []*page{a, bob} {
		s := p.resetState()
		if s.Marker != "not reloaded" || s.State != "joined" {
			t.Errorf("%s: marker %q, room %s: want the same page and room, still joined", p.name, s.Marker, s.State)
		}
		if !strings.Contains(s.Demo, "the room's media restarted") {
			t.Errorf("%s's demo page does not show the reset:\n%s", p.name, s.Demo)
		}
		if st, _, _ := p.status(); st != "joined" {
			t.Errorf("%s's status is %q after the reset, want joined", p.name, st)
		}
	}
	if after := a.resetState().Local; strings.Join(after, ",") != strings.Join(localBefore, ",") {
		t.Errorf("A's local tracks %v after the reset, want the same live tracks %v", after, localBefore)
	}
}

// TestBrowserMediaResetRetriesWhileClosed: as above, but after the kill the
// room's media claim in Redis is replaced by a hash, so that no node can
// claim the room (the claim script fails) and the server answers every
// media message FailedOperation.Closed. A's SDK repeats its publish offer
// and B's its media_renegotiate, without error events; once the claim is
// deleted, a live node claims the room and B receives A again.
func TestBrowserMediaResetRetriesWhileClosed(t *testing.T) {
	c := startResetCluster(t, 7302)
	for _, p := range []*page{c.a, c.b} {
		var ok bool
		p.eval(`(() => {
			window.mediaSent = [];
			window.closedErrors = 0;
			const send = WebSocket.prototype.send;
			WebSocket.prototype.send = function (data) {
				try {
					const m = JSON.parse(data);
					if (m.type.startsWith('media_')) window.mediaSent.push(m.type + ' ' + (m.pc || ''));
				} catch {}
				return send.call(this, data);
			};
			trtcdDemo.room.on('error', (e) => { if (e.code === 'FailedOperation.Closed') window.closedErrors++; });
			return true;
		})()`, &ok)
	}
	sent := func(p *page, what string) (n int, all []string, closedErrors int) {
		var s struct {
			Sent   []string
			Closed int
		}
		p.eval(`({sent: window.mediaSent, closed: window.closedErrors})`, &s)
		for _, m := range s.Sent {
			if m == what {
				n++
			}
		}
		return n, s.Sent, s.Closed
	}

	c.procs[0].Kill9()
	ctx := context.Background()
	if _, err := c.rdb.TxPipelined(ctx, func(pipe redis.Pipeliner) error {
		pipe.Del(ctx, c.claim)
		pipe.HSet(ctx, c.claim, "held", "by the test")
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []*page{c.a, c.b} {
		poll(t, p.name+" follows a media_reset", func() (bool, string) {
			s := p.resetState()
			return s.Resets >= 1, fmt.Sprintf("%+v", s.Events)
		})
	}
	poll(t, "A to offer again after FailedOperation.Closed", func() (bool, string) {
		n, all, _ := sent(c.a, "media_offer pub")
		return n >= 2, fmt.Sprint(all)
	})
	poll(t, "B to ask for the room's tracks again after FailedOperation.Closed", func() (bool, string) {
		n, all, _ := sent(c.b, "media_renegotiate sub")
		return n >= 2, fmt.Sprint(all)
	})
	if err := c.rdb.Del(ctx, c.claim).Err(); err != nil {
		t.Fatal(err)
	}
	poll(t, "a live node to claim the room's media", func() (bool, string) {
		o := c.owner()
		return strings.HasPrefix(o, "n1#") || strings.HasPrefix(o, "n2#"), o
	})
	growing(t, c.b, 5, "alice/video", "alice/audio")
	for _, p := range []*page{c.a, c.b} {
		if _, all, closed := sent(p, ""); closed != 0 {
			t.Errorf("%s: %d error events FailedOperation.Closed while the SDK retried (sent %v)", p.name, closed, all)
		}
		if s := p.resetState(); s.Resets != 1 || s.Marker != "not reloaded" || s.State != "joined" {
			t.Errorf("%s: %+v, want one reset, the same page, still joined", p.name, s)
		}
	}
}

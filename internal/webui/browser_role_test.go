package webui_test

import (
	"fmt"
	"strconv"
	"testing"

	"github.com/chromedp/chromedp"
)

// receivedTotal is what a page receives, by "user/kind": frames decoded for
// video, packets for audio, summed over the page's inbound streams of that
// user and kind (a track published again may arrive on a new m-section
// while the old one keeps its last counters).
func receivedTotal(p *page) map[string]float64 {
	p.b.t.Helper()
	var list []counter
	p.eval(`trtcdDemo.room ? trtcdDemo.room.receivedStats() : []`, &list)
	m := map[string]float64{}
	for _, c := range list {
		m[c.UserID+"/"+c.Kind] += value(c)
	}
	return m
}

// totalGrows waits until key's total has grown by more than minGrowth
// since the first poll.
func totalGrows(t *testing.T, p *page, minGrowth float64, key string) {
	t.Helper()
	start := receivedTotal(p)[key]
	poll(t, fmt.Sprintf("%s receives %s", p.name, key), func() (bool, string) {
		now := receivedTotal(p)[key]
		return now-start > minGrowth, fmt.Sprintf("%v then %v", start, now)
	})
}

// totalStops waits until key's total grows by at most stopSlack over
// stopPolls consecutive polls.
func totalStops(t *testing.T, p *page, key string) {
	t.Helper()
	var hist []float64
	poll(t, fmt.Sprintf("%s stops receiving %s", p.name, key), func() (bool, string) {
		hist = append(hist, receivedTotal(p)[key])
		if len(hist) < stopPolls {
			return false, "too few polls"
		}
		first, last := hist[len(hist)-stopPolls], hist[len(hist)-1]
		return last-first <= stopSlack, fmt.Sprintf("%v then %v", first, last)
	})
}

// roomEvent is one user-entered or user-left event a page recorded.
type roomEvent struct {
	Type, UserID, Role, Reason string
}

// recordRoomEvents makes the page's Room record its user-entered and
// user-left events in window.roomEvents.
func recordRoomEvents(p *page) {
	p.b.t.Helper()
	var ok bool
	p.eval(`(() => {
		window.roomEvents = [];
		const r = trtcdDemo.room;
		r.on('user-entered', (e) => roomEvents.push({type: 'user-entered', userId: e.userId, role: e.role, reason: ''}));
		r.on('user-left', (e) => roomEvents.push({type: 'user-left', userId: e.userId, role: e.role, reason: e.reason}));
		r.on('role-switched', (e) => roomEvents.push({type: 'role-switched', userId: r.userId, role: e.role, reason: String(e.seq)}));
		return true;
	})()`, &ok)
}

func roomEvents(p *page) []roomEvent {
	p.b.t.Helper()
	var evs []roomEvent
	p.eval(`window.roomEvents`, &evs)
	return evs
}

// waitRoomEvent waits until the page recorded want (Reason ignored when
// empty) and returns how many events it had recorded then.
func waitRoomEvent(t *testing.T, p *page, want roomEvent) int {
	t.Helper()
	n := 0
	poll(t, fmt.Sprintf("%s sees %+v", p.name, want), func() (bool, string) {
		evs := roomEvents(p)
		for i, e := range evs {
			if e.Type == want.Type && e.UserID == want.UserID && e.Role == want.Role && (want.Reason == "" || e.Reason == want.Reason) {
				n = i + 1
				return true, ""
			}
		}
		return false, fmt.Sprintf("%+v", evs)
	})
	return n
}

// roleState is a page's view of its own role: the demo's role line, the
// SDK's Room.role, and whether it is publishing.
type roleState struct {
	Shown, Role string
	Publishing  bool
}

func (p *page) roleState() roleState {
	p.b.t.Helper()
	var s roleState
	p.eval(`(() => { const r = trtcdDemo.room; return {shown: document.getElementById('current-role').dataset.role, role: r.role,
		publishing: !!r.localStream && r.localStream.getTracks().some((t) => t.readyState === 'live')}; })()`, &s)
	return s
}

// switchResult is how a switchRole() call ended.
type switchResult struct {
	OK         bool
	Role, Code string
	Seq        float64
}

func (p *page) switchRole(role string) switchResult {
	p.b.t.Helper()
	var res switchResult
	p.eval(`trtcdDemo.room.switchRole(`+fmt.Sprintf("%q", role)+`).then(
		(v) => ({ok: true, role: v.role, seq: v.seq, code: ''}),
		(e) => ({ok: false, role: '', seq: 0, code: e.code || String(e)}))`, &res)
	return res
}

// Role switch in the browser: A publishes and B (audience) receives. A
// bad role is refused by the SDK and a switch to the current role by the
// server, and nothing changes; the demo's switch button makes A audience:
// B sees A leave with reason role_switch and A's video stops on B; the
// button makes A an anchor again and it publishes: B sees A enter and the
// video flows again.
func TestBrowserRoleSwitch(t *testing.T) {
	n := startDev(t)
	b := newBrowser(t)
	base := "http://" + n.Addr() + "/demo?room=5678"
	a := b.open("A", base+"&user=alice")
	a.join()
	bob := b.open("B", base+"&user=bob&role=audience&publish=0")
	bob.join()
	recordRoomEvents(a)
	recordRoomEvents(bob)
	totalGrows(t, bob, 5, "alice/video")
	if s := a.roleState(); s != (roleState{Shown: "anchor", Role: "anchor", Publishing: true}) {
		t.Fatalf("A after joining: %+v", s)
	}

	// A role that is neither anchor nor audience: the SDK refuses it with
	// the protocol's code before sending anything.
	if res := a.switchRole("boss"); res.OK || res.Code != "InvalidParameter.Role" {
		t.Errorf("switchRole('boss'): %+v, want refused with InvalidParameter.Role", res)
	}
	// The role A has already: the server refuses it; the session goes on.
	if res := a.switchRole("anchor"); res.OK || res.Code != "FailedOperation.RoleUnchanged" {
		t.Errorf("switchRole('anchor') as an anchor: %+v, want refused with FailedOperation.RoleUnchanged", res)
	}
	if s := a.roleState(); s != (roleState{Shown: "anchor", Role: "anchor", Publishing: true}) {
		t.Errorf("A after the refused switches: %+v, want an anchor still publishing", s)
	}
	if state, _, text := a.status(); state != "joined" {
		t.Errorf("A's status after the refused switches: %s %q", state, text)
	}
	totalGrows(t, bob, 5, "alice/video") // still flowing
	if evs := roomEvents(bob); len(evs) != 0 {
		t.Errorf("B saw %+v after A's refused switches, want nothing", evs)
	}

	// The demo's button: A becomes audience and stops publishing.
	a.run(chromedp.Click(chromedp.ID("switch-button")))
	poll(t, "A shows audience", func() (bool, string) {
		s := a.roleState()
		return s == roleState{Shown: "audience", Role: "audience"}, fmt.Sprintf("%+v", s)
	})
	waitRoomEvent(t, a, roomEvent{Type: "role-switched", UserID: "alice", Role: "audience"})
	left := waitRoomEvent(t, bob, roomEvent{Type: "user-left", UserID: "alice", Role: "anchor", Reason: "role_switch"})
	totalStops(t, bob, "alice/video")
	poll(t, "B drops alice's tile and tracks", func() (bool, string) {
		var has bool
		bob.eval(`trtcdDemo.room.remoteStream('alice') !== null`, &has)
		u := bob.tiles()
		return !has && !contains(u, "alice"), fmt.Sprintf("stream %v tiles %v", has, u)
	})
	if s := a.roleState(); s.Role != "audience" {
		t.Errorf("A after the switch: %+v", s)
	}

	// The button again: A is an anchor and publishes; B sees it enter and
	// receives its video again.
	a.run(chromedp.Click(chromedp.ID("switch-button")))
	poll(t, "A shows anchor and publishes", func() (bool, string) {
		s := a.roleState()
		return s == roleState{Shown: "anchor", Role: "anchor", Publishing: true}, fmt.Sprintf("%+v", s)
	})
	entered := waitRoomEvent(t, bob, roomEvent{Type: "user-entered", UserID: "alice", Role: "anchor"})
	if entered <= left {
		t.Errorf("B's events %+v: alice entered before she left", roomEvents(bob))
	}
	totalGrows(t, bob, 5, "alice/video")
	poll(t, "B shows alice again", func() (bool, string) { u := bob.tiles(); return contains(u, "alice"), fmt.Sprint(u) })

	// A's two committed switches, audience then anchor, with increasing
	// sequence numbers.
	var sw []string
	var seqs []int
	for _, e := range roomEvents(a) {
		if e.Type == "role-switched" {
			seq, _ := strconv.Atoi(e.Reason)
			sw = append(sw, e.Role)
			seqs = append(seqs, seq)
		}
	}
	if fmt.Sprint(sw) != "[audience anchor]" || seqs[0] <= 0 || seqs[1] <= seqs[0] {
		t.Errorf("A's role-switched events: %v with seqs %v, want audience then anchor, seqs increasing", sw, seqs)
	}
	if state, _, text := a.status(); state != "joined" {
		t.Errorf("A's status at the end: %s %q", state, text)
	}
}

package roomstest

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/trtcd/trtcd/internal/eventlog"
	"github.com/trtcd/trtcd/internal/eventlog/eventlogtest"
	"github.com/trtcd/trtcd/internal/rooms"
)

// LogTarget is a fresh, empty registry and the event log its changes append
// to.
type LogTarget struct {
	Reg rooms.Registry
	// Node returns the log as another node sees it (memory: the same log;
	// Redis: a log on a client of its own).
	Node func(t *testing.T) eventlogtest.Node
}

// LogFactory makes a fresh target for each test; the suite closes Reg.
type LogFactory func(t *testing.T) LogTarget

// RunLogSuite checks that every committed change of the registry appears in
// the event log once per consumer group, in room order, with the mapping of
// docs/eventlog.md.
func RunLogSuite(t *testing.T, f LogFactory) {
	t.Run("EveryChangeOncePerGroupWithTheMapping", func(t *testing.T) { testLogMapping(t, f) })
	t.Run("TwoConsumersOfOneGroupSplitTheWork", func(t *testing.T) { testLogSplit(t, f) })
	t.Run("MediaEventsOfMembersOnly", func(t *testing.T) { testLogMedia(t, f) })
}

// testLogMedia: LogMedia appends one event of a member, in room order with
// the membership changes and with the room's next seq; it refuses a user
// who is not a member now (never in, left, empty room) and a type that is
// not a media one, appending nothing; the sessions are not told.
func testLogMedia(t *testing.T, f LogFactory) {
	tg := f(t)
	reg := tg.Reg
	t.Cleanup(func() { reg.Close() })
	c := newCollector()
	reg.SetSink(c.sink)
	ctx := context.Background()
	if err := reg.Watch(ctx, roomA); err != nil {
		t.Fatal(err)
	}
	lc := newLogCollector()
	eventlogtest.Start(t, group(t, tg.Node(t), "callbacks", lc.handle))
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	refused := func(room rooms.Key, user string, typ eventlog.Type, want error) {
		t.Helper()
		if seq, err := reg.LogMedia(ctx, room, user, typ); !errors.Is(err, want) || seq != 0 {
			t.Fatalf("LogMedia(%v, %s, %s) = %d, %v; want %v", room, user, typ, seq, err, want)
		}
	}
	media := func(user string, typ eventlog.Type) uint64 {
		t.Helper()
		seq, err := reg.LogMedia(ctx, roomA, user, typ)
		must(err)
		return seq
	}
	refused(roomA, "alice", eventlog.TypeAudioStart, rooms.ErrNotMember) // empty room
	_, err := reg.Enter(ctx, roomA, member("alice", rooms.Anchor, "s1"))
	must(err)
	refused(roomA, "bob", eventlog.TypeVideoStart, rooms.ErrNotMember) // never entered
	refused(roomA, "alice", eventlog.TypeEnter, rooms.ErrNotMediaType)
	refused(roomA, "alice", "video_begin", rooms.ErrNotMediaType)
	_, err = reg.Enter(ctx, roomA, member("bob", rooms.Audience, "s2"))
	must(err)
	var seqs []uint64
	for _, typ := range rooms.MediaTypes {
		seqs = append(seqs, media("alice", typ))
	}
	seqs = append(seqs, media("bob", eventlog.TypeAudioStart)) // the registry does not judge roles
	must(reg.Leave(ctx, roomA, "alice", "s1", rooms.ReasonLeft))
	refused(roomA, "alice", eventlog.TypeAudioStop, rooms.ErrNotMember) // left
	must(reg.Leave(ctx, roomA, "bob", "s2", rooms.ReasonLeft))

	want := []string{
		"room_open alice anchor s1 ", "enter alice anchor s1 ", "enter bob audience s2 ",
		"video_start alice anchor s1 ", "video_stop alice anchor s1 ",
		"audio_start alice anchor s1 ", "audio_stop alice anchor s1 ",
		"substream_start alice anchor s1 ", "substream_stop alice anchor s1 ",
		"audio_start bob audience s2 ",
		"leave alice anchor s1 left",
		"leave bob audience s2 left", "room_close    left",
	}
	eventlogtest.Until(t, fmt.Sprintf("%d events in the log", len(want)), func() bool { return lc.n() >= len(want) })
	// The sessions hear of the four membership changes only.
	sink := c.waitFor(t, roomA, 4)
	evs := lc.room(roomA)
	checkBriefs(t, "callbacks", evs, want, false)
	for i, ev := range evs {
		if ev.TimeMs <= 0 || (i > 0 && ev.Seq <= evs[i-1].Seq) {
			t.Fatalf("event %d %+v (seq after %d)", i, ev, evs[max(i-1, 0)].Seq)
		}
		if i >= 3 && i < 10 && ev.Seq != seqs[i-3] {
			t.Fatalf("event %d (%s) has seq %d, LogMedia answered %d", i, brief(ev), ev.Seq, seqs[i-3])
		}
	}
	if n := lc.n(); n != len(want) {
		t.Fatalf("%d events in the log, want %d", n, len(want))
	}
	for _, e := range sink {
		if e.Seq > evs[2].Seq && e.Seq < evs[10].Seq {
			t.Fatalf("the sessions were sent %+v for a media event", e)
		}
	}
	c.mu.Lock()
	got := len(c.events)
	c.mu.Unlock()
	if got != 4 {
		t.Fatalf("the sessions got %d events, want 4", got)
	}
}

// logCollector records what a group was given.
type logCollector struct {
	mu     sync.Mutex
	byRoom map[string][]eventlog.Event
	count  map[string]int // room/seq → deliveries
	total  int
}

func newLogCollector() *logCollector {
	return &logCollector{byRoom: map[string][]eventlog.Event{}, count: map[string]int{}}
}

func (c *logCollector) handle(_ context.Context, ev eventlog.Event) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.byRoom[ev.Room] = append(c.byRoom[ev.Room], ev)
	c.count[fmt.Sprintf("%s/%d", ev.Room, ev.Seq)]++
	c.total++
	return nil
}

func (c *logCollector) n() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.total
}

func (c *logCollector) room(k rooms.Key) []eventlog.Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]eventlog.Event(nil), c.byRoom[k.String()]...)
}

func (c *logCollector) dups() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for k, n := range c.count {
		if n > 1 {
			out = append(out, fmt.Sprintf("%s×%d", k, n))
		}
	}
	return out
}

func group(t *testing.T, n eventlogtest.Node, name string, h eventlog.Handler) *eventlog.Group {
	t.Helper()
	g, err := n.Group(name, h)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// brief is an event's mapped fields: "type user role session reason".
func brief(ev eventlog.Event) string {
	return strings.Join([]string{string(ev.Type), ev.User, ev.Role, ev.Session, ev.Reason}, " ")
}

func testLogMapping(t *testing.T, f LogFactory) {
	tg := f(t)
	reg := tg.Reg
	t.Cleanup(func() { reg.Close() })
	c := newCollector()
	reg.SetSink(c.sink)
	ctx := context.Background()
	for _, k := range []rooms.Key{roomA, roomS} {
		if err := reg.Watch(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	node := tg.Node(t)
	history, callbacks := newLogCollector(), newLogCollector()
	eventlogtest.Start(t, group(t, node, "history", history.handle))
	eventlogtest.Start(t, group(t, node, "callbacks", callbacks.handle))

	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	enter := func(room rooms.Key, m rooms.Member) uint64 {
		t.Helper()
		s, err := reg.Enter(ctx, room, m)
		must(err)
		return s.Seq
	}
	// alice describes her client each time (all of it, then only a
	// device); carol says nothing.
	alice1, alice2 := member("alice", rooms.Anchor, "s1"), member("alice", rooms.Anchor, "s2")
	alice1.Client = rooms.Client{IP: "192.0.2.7", Device: "Android 14; Pixel 8", SdkVersion: "11.8.0"}
	alice2.Client = rooms.Client{Device: "Windows 11"}
	snaps := []uint64{
		enter(roomA, alice1),
		enter(roomA, member("carol", rooms.Audience, "s3")),
		enter(roomA, alice2), // duplicate login
	}
	ms, err := reg.Members(ctx, roomA)
	must(err)
	for _, m := range ms {
		if m.UserID == "alice" && m.Client != alice2.Client {
			t.Fatalf("Members: alice's client %+v, want %+v", m.Client, alice2.Client)
		}
	}
	sw, err := reg.SwitchRole(ctx, roomA, "carol", "s3", rooms.Anchor)
	must(err)
	must(reg.Remove(ctx, roomA, []string{"carol", "nobody"}))
	must(reg.Leave(ctx, roomA, "alice", "s2", rooms.ReasonTimeout))
	enter(roomA, member("dave", rooms.Anchor, "s4"))
	must(reg.Remove(ctx, roomA, []string{"dave"}))
	enter(roomS, member("bob", rooms.Anchor, "s5"))
	enter(roomS, member("erin", rooms.Audience, "s6"))
	must(reg.Dismiss(ctx, roomS))

	wantA := []string{
		"room_open alice anchor s1 ", "enter alice anchor s1 ",
		"enter carol audience s3 ",
		"leave alice anchor s1 duplicate", "enter alice anchor s2 ",
		"role_switch carol anchor s3 ",
		"leave carol anchor s3 removed",
		"leave alice anchor s2 timeout", "room_close    timeout",
		"room_open dave anchor s4 ", "enter dave anchor s4 ",
		"leave dave anchor s4 removed", "room_close    removed",
	}
	wantS := []string{
		"room_open bob anchor s5 ", "enter bob anchor s5 ", "enter erin audience s6 ",
		"leave bob anchor s5 dismissed", "leave erin audience s6 dismissed", "room_close    dismissed",
	}
	total := len(wantA) + len(wantS)
	for _, lc := range []*logCollector{history, callbacks} {
		eventlogtest.Until(t, fmt.Sprintf("%d events in the log", total), func() bool { return lc.n() >= total })
	}
	// The sessions' events: one per change, carrying the change's last seq.
	sinkA := c.waitFor(t, roomA, 8)
	sinkS := c.waitFor(t, roomS, 3)
	for name, lc := range map[string]*logCollector{"history": history, "callbacks": callbacks} {
		if d := lc.dups(); len(d) > 0 || lc.n() != total {
			t.Fatalf("%s: %d deliveries of %d events, repeated %v", name, lc.n(), total, d)
		}
		a, s := lc.room(roomA), lc.room(roomS)
		checkBriefs(t, name, a, wantA, false)
		checkBriefs(t, name, s, wantS, true) // dismissal's leaves in any order
		for _, evs := range [][]eventlog.Event{a, s} {
			for i, ev := range evs {
				if ev.TimeMs <= 0 || ev.App != roomA.App || (i > 0 && ev.Seq <= evs[i-1].Seq) {
					t.Fatalf("%s: event %d %+v (seq after %d)", name, i, ev, evs[max(i-1, 0)].Seq)
				}
			}
		}
		// Only enter events carry the client, and only what it said.
		wantExt := map[int]string{1: "device=Android 14; Pixel 8 ip=192.0.2.7 sdk=11.8.0", 4: "device=Windows 11"}
		for i, ev := range a {
			if got := extText(ev.Ext); got != wantExt[i] {
				t.Fatalf("%s: event %d (%s) Ext %q, want %q", name, i, brief(ev), got, wantExt[i])
			}
		}
		if r := a[1].Record(); r.ClientIP != "192.0.2.7" || r.Device != "Android 14; Pixel 8" || r.SdkVersion != "11.8.0" {
			t.Fatalf("%s: record of alice's first enter %+v", name, r)
		}
		if a[0].StrRoom || a[0].RoomNum != roomA.Num || !s[0].StrRoom || s[0].RoomStr != roomS.Str {
			t.Fatalf("%s: room fields %+v / %+v", name, a[0], s[0])
		}
		// Each sink event's seq is the seq of its change's last log event.
		lastOf := []int{1, 2, 4, 5, 6, 8, 10, 12} // indexes in wantA of each change's last event
		for i, li := range lastOf {
			if sinkA[i].Seq != a[li].Seq || sinkA[i].Time.UnixMilli() != a[li].TimeMs {
				t.Fatalf("%s: change %d published seq %d at %v, its last log event %+v", name, i, sinkA[i].Seq, sinkA[i].Time, a[li])
			}
		}
		if sinkS[2].Seq != s[5].Seq {
			t.Fatalf("%s: dismissal published seq %d, room_close has %d", name, sinkS[2].Seq, s[5].Seq)
		}
		if snaps[0] != a[1].Seq || snaps[1] != a[2].Seq || snaps[2] != a[4].Seq || sw != a[5].Seq {
			t.Fatalf("%s: snapshot seqs %v and switch %d do not match the log %+v", name, snaps, sw, a)
		}
	}
}

// extText is an event's Ext as "k=v" in key order; "" when empty.
func extText(x map[string]string) string {
	parts := make([]string, 0, len(x))
	for k, v := range x {
		parts = append(parts, k+"="+v)
	}
	sort.Strings(parts)
	return strings.Join(parts, " ")
}

func checkBriefs(t *testing.T, name string, evs []eventlog.Event, want []string, unorderedLeaves bool) {
	t.Helper()
	got := make([]string, len(evs))
	for i, ev := range evs {
		got[i] = brief(ev)
	}
	if unorderedLeaves {
		// the leaves of a dismissal come in the registry's member order
		sort.Strings(got[3:5])
	}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("%s: log\n%s\nwant\n%s", name, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func testLogSplit(t *testing.T, f LogFactory) {
	tg := f(t)
	reg := tg.Reg
	t.Cleanup(func() { reg.Close() })
	ctx := context.Background()
	c1, c2 := newLogCollector(), newLogCollector()
	g1 := group(t, tg.Node(t), "history", c1.handle)
	g2 := group(t, tg.Node(t), "history", c2.handle)
	eventlogtest.Start(t, g1)
	eventlogtest.Start(t, g2)
	eventlogtest.Until(t, "both consumers own shards, all shards owned", func() bool {
		a, b := g1.Stats().Owned, g2.Stats().Owned
		return a > 0 && b > 0 && a+b == eventlog.Shards
	})
	const nRooms = 40
	var keys []rooms.Key
	for i := 0; i < nRooms; i++ {
		k := rooms.NumRoom(1400000001, uint64(5000+i))
		keys = append(keys, k)
		sid := fmt.Sprint("s", i)
		if _, err := reg.Enter(ctx, k, member("u", rooms.Anchor, sid)); err != nil {
			t.Fatal(err)
		}
		if err := reg.Leave(ctx, k, "u", sid, rooms.ReasonLeft); err != nil {
			t.Fatal(err)
		}
	}
	const total = nRooms * 4 // room_open, enter, leave, room_close
	eventlogtest.Until(t, "every event delivered", func() bool { return c1.n()+c2.n() >= total })
	if d := append(c1.dups(), c2.dups()...); len(d) > 0 || c1.n()+c2.n() != total {
		t.Fatalf("%d + %d deliveries of %d events; repeated %v", c1.n(), c2.n(), total, d)
	}
	if c1.n() == 0 || c2.n() == 0 {
		t.Fatalf("one consumer did all the work: %d and %d", c1.n(), c2.n())
	}
	// A room stays with one consumer unless its shard changed hands (a
	// lease that a starved consumer failed to renew in time is taken over:
	// that is the design, docs/eventlog.md); then the first owner delivered
	// a prefix of the room's events and the next one the rest, in order.
	moved := g1.Stats().Acquired+g2.Stats().Acquired > int64(eventlog.Shards)
	const want = "room_open,enter,leave,room_close"
	for _, k := range keys {
		a, b := c1.room(k), c2.room(k)
		if len(a) > 0 && len(b) > 0 && !moved {
			t.Fatalf("room %v was split between consumers, and no shard changed hands", k)
		}
		if types(append(a, b...)) != want && types(append(b, a...)) != want {
			t.Fatalf("room %v: %v then %v", k, types(a), types(b))
		}
	}
}

// types lists events' types, comma-separated.
func types(evs []eventlog.Event) string {
	var got []string
	for _, ev := range evs {
		got = append(got, string(ev.Type))
	}
	return strings.Join(got, ",")
}

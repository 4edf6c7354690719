package node_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/trtcd/trtcd/internal/config"
	"github.com/trtcd/trtcd/internal/eventlog"
	"github.com/trtcd/trtcd/internal/node"
	"github.com/trtcd/trtcd/internal/rooms"
	tk "github.com/trtcd/trtcd/internal/testkit"
	"github.com/trtcd/trtcd/internal/testkit/await"
)

// logWait is the generous deadline for the log's consumers (loaded machines).
const logWait = 30 * time.Second

// seen records what a consumer group handed to this node.
type seen struct {
	mu    sync.Mutex
	evs   []eventlog.Event
	count map[string]int
}

func newSeen() *seen { return &seen{count: map[string]int{}} }

func (s *seen) handle(_ context.Context, ev eventlog.Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.evs = append(s.evs, ev)
	s.count[fmt.Sprintf("%s/%d", ev.Room, ev.Seq)]++
	return nil
}

// room lists room's events as "type user reason", in arrival order.
func (s *seen) room(k rooms.Key) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, ev := range s.evs {
		if ev.Room == k.String() {
			out = append(out, strings.Join(strings.Fields(fmt.Sprintf("%s %s %s", ev.Type, ev.User, ev.Reason)), " "))
		}
	}
	return out
}

// roles lists room's events' roles, in arrival order.
func (s *seen) roles(k rooms.Key) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, ev := range s.evs {
		if ev.Room == k.String() {
			out = append(out, ev.Role)
		}
	}
	return out
}

func (s *seen) dups() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for k, n := range s.count {
		if n > 1 {
			out = append(out, k)
		}
	}
	return out
}

// waitLog waits until the events of room seen by all of ss, in order, are
// want (or one of the alternatives, separated by "|").
func waitLog(t *testing.T, room rooms.Key, want string, ss ...*seen) {
	t.Helper()
	deadline := time.Now().Add(logWait)
	for {
		var got []string
		for _, s := range ss {
			got = append(got, s.room(room)...)
		}
		for _, w := range strings.Split(want, "|") {
			if strings.Join(got, ",") == w {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("log of %v: %s, want %s", room, strings.Join(got, ","), want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// startWithGroup starts a node running consumer group name into s.
func startWithGroup(t *testing.T, cfg config.Config, name string, s *seen) *node.Node {
	t.Helper()
	n, err := node.New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.AddGroup(name, s.handle); err != nil {
		t.Fatal(err)
	}
	if err := n.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		n.Shutdown(ctx)
	})
	return n
}

// TestNodeGroupSeesEveryChange: on one node, the groups registered before
// Start see the room's changes (entering, removal over the API, leaving)
// with the documented mapping, once each; the node counts what it appended.
func TestNodeGroupSeesEveryChange(t *testing.T) {
	history, callbacks := newSeen(), newSeen()
	n, err := node.New(tk.Config(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for name, s := range map[string]*seen{"history": history, "callbacks": callbacks} {
		if _, err := n.AddGroup(name, s.handle); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := n.AddGroup("history", history.handle); err == nil {
		t.Fatal("a group registered twice")
	}
	if err := n.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Shutdown(context.Background()) })
	if _, err := n.AddGroup("late", history.handle); err == nil {
		t.Fatal("AddGroup after Start succeeded")
	}
	const num = 31
	k := rooms.NumRoom(tk.App, num)
	alice := tk.Join(t, n.Addr(), tk.App, tk.AppKey, "alice", num, "")
	tk.Join(t, n.Addr(), tk.App, tk.AppKey, "bob", num, "")
	await.Expect(t, await.Next(t, alice), "user_entered", "bob", "")
	if _, err := tk.SDK(t, n.Addr(), tk.AcmeID, tk.AcmeKey, tk.Modes[0]).RemoveUser(removeReq(num, "bob")); err != nil {
		t.Fatal(err)
	}
	await.Expect(t, await.Next(t, alice), "user_left", "bob", "removed")
	alice.Leave(context.Background())
	want := "room_open alice,enter alice,enter bob,leave bob removed,leave alice left,room_close left"
	waitLog(t, k, want, history)
	waitLog(t, k, want, callbacks)
	if d := append(history.dups(), callbacks.dups()...); len(d) > 0 {
		t.Fatalf("delivered more than once: %v", d)
	}
	if a := n.EventsAppended(); a != 6 {
		t.Fatalf("EventsAppended %d, want 6", a)
	}
	for _, g := range n.Groups() {
		if st := g.Stats(); st.Delivered != 6 || st.Owned != eventlog.Shards {
			t.Fatalf("group %s: %+v", g.Name(), st)
		}
	}
}

// TestClusterGroupsSplitAcrossNodes: two nodes run one group; the changes
// made through both reach the group once, in room order.
func TestClusterGroupsSplitAcrossNodes(t *testing.T) {
	srv := tk.StartRedis(t)
	var ss []*seen
	var nodes []*node.Node
	for i := 0; i < 2; i++ {
		cfg := tk.Config()
		cfg.Redis, cfg.NodeID = srv.URL(), fmt.Sprintf("split-%d", i)
		s := newSeen()
		ss = append(ss, s)
		nodes = append(nodes, startWithGroup(t, cfg, "history", s))
	}
	var keys []rooms.Key
	for i := 0; i < 8; i++ {
		num := uint64(40 + i)
		keys = append(keys, rooms.NumRoom(tk.App, num))
		c := tk.Join(t, nodes[i%2].Addr(), tk.App, tk.AppKey, "u", num, "")
		c.Leave(context.Background())
	}
	for _, k := range keys {
		waitLog(t, k, "room_open u,enter u,leave u left,room_close left", ss...)
	}
	if d := append(ss[0].dups(), ss[1].dups()...); len(d) > 0 {
		t.Fatalf("delivered more than once: %v", d)
	}
	if a := nodes[0].EventsAppended() + nodes[1].EventsAppended(); a != 32 {
		t.Fatalf("appended %d, want 32", a)
	}
}

// TestClusterGroupAfterEmptyRestart: Redis restarts empty; the group takes
// its shards again and delivers the events appended after the restart.
func TestClusterGroupAfterEmptyRestart(t *testing.T) {
	srv := tk.StartRedis(t)
	cfg := tk.Config()
	cfg.Redis, cfg.NodeID = srv.URL(), "restart"
	s := newSeen()
	n := startWithGroup(t, cfg, "history", s)
	k := rooms.NumRoom(tk.App, 60)
	tk.Join(t, n.Addr(), tk.App, tk.AppKey, "alice", 60, "")
	waitLog(t, k, "room_open alice,enter alice", s)
	srv.Stop()
	srv.Start(t) // empty
	eventually(t, "re-registered", func() (bool, string) {
		got := memberIDs(t, n, k)
		return got == "[alice]", got
	})
	tk.Join(t, n.Addr(), tk.App, tk.AppKey, "bob", 60, "")
	waitLog(t, k, "room_open alice,enter alice,enter bob", s)
}

// TestClusterKill9GroupTakeover: a node process holds events it has not
// acknowledged (its handler never returns) when it is killed with SIGKILL;
// another node's consumer of the group delivers them, in order, within the
// takeover bound.
func TestClusterKill9GroupTakeover(t *testing.T) {
	srv := tk.StartRedis(t)
	addr := tk.FreeAddr(t)
	child := exec.Command(os.Args[0], "-test.run=^$")
	child.Env = append(os.Environ(), groupChildEnv+"="+srv.URL()+" "+addr)
	out, err := child.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	child.Stderr = os.Stderr
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { child.Process.Kill(); child.Wait() }()
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	waitHealthy(t, addr)
	const num = 70
	k := rooms.NumRoom(tk.App, num)
	a := tk.Join(t, addr, tk.App, tk.AppKey, "alice", num, "")
	tk.Join(t, addr, tk.App, tk.AppKey, "bob", num, "")
	await.Expect(t, await.Next(t, a), "user_entered", "bob", "")
	select {
	case line := <-lines:
		if line != "got "+k.String()+" room_open" {
			t.Fatalf("the child said %q", line)
		}
	case <-time.After(logWait):
		t.Fatal("the child's consumer got nothing")
	}
	child.Process.Signal(syscall.SIGKILL)
	child.Wait()
	killed := time.Now()

	cfg := tk.Config()
	cfg.Redis, cfg.NodeID = srv.URL(), "survivor"
	s := newSeen()
	startWithGroup(t, cfg, "callbacks", s)
	bound := eventlog.Options{}.TakeoverBound()
	deadline := time.Now().Add(bound + logWait)
	for len(s.room(k)) < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("after kill -9: %v delivered within the bound %v plus %v", s.room(k), bound, logWait)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("taken over %v after kill -9 (documented bound %v)", time.Since(killed).Round(time.Millisecond), bound)
	// The dead node's members are swept afterwards (leave, timeout), in
	// the order of the dead node's session index.
	waitLog(t, k, "room_open alice,enter alice,enter bob,leave alice timeout,leave bob timeout,room_close timeout|"+
		"room_open alice,enter alice,enter bob,leave bob timeout,leave alice timeout,room_close timeout", s)
	if d := s.dups(); len(d) > 0 {
		t.Fatalf("delivered more than once: %v", d)
	}
}

const groupChildEnv = "TRTCD_NODE_TEST_GROUP_CHILD"

// groupChild runs, in the child process of TestClusterKill9GroupTakeover,
// a cluster node whose consumer group reports each event and never
// finishes handling it.
func groupChild() bool {
	env := os.Getenv(groupChildEnv)
	if env == "" {
		return false
	}
	url, addr, _ := strings.Cut(env, " ")
	cfg := tk.Config()
	cfg.Redis, cfg.NodeID, cfg.Listen = url, "victim", addr
	n, err := node.New(cfg, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(1)
	}
	n.AddGroup("callbacks", func(ctx context.Context, ev eventlog.Event) error {
		fmt.Printf("got %s %s\n", ev.Room, ev.Type)
		<-ctx.Done()
		return ctx.Err()
	})
	if err := n.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(1)
	}
	select {}
}

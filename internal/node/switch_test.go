package node_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/trtcd/trtcd/client"
	"github.com/trtcd/trtcd/internal/node"
	"github.com/trtcd/trtcd/internal/rooms"
	tk "github.com/trtcd/trtcd/internal/testkit"
	"github.com/trtcd/trtcd/internal/testkit/await"
	"github.com/trtcd/trtcd/protocol"
	"github.com/trtcd/trtcd/usersig"
)

func joinAudience(t *testing.T, addr, user string, room uint64) *client.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), logWait)
	defer cancel()
	c, err := client.Join(ctx, "http://"+addr, client.JoinParams{SdkAppID: tk.App, UserID: user, RoomID: room,
		UserSig: usersig.Generate(tk.App, tk.AppKey, user, time.Hour, time.Now(), nil), Role: protocol.RoleAudience}, client.Options{})
	if err != nil {
		t.Fatalf("join %s: %v", user, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// switchScenario: on the nodes given (one, or three), an anchor on the first
// and on the second, an audience member on the last; the audience member
// switches to anchor and back, then everyone leaves. The others see
// user_entered and user_left role_switch; the switcher gets role_switched;
// the event log has the room's opening, the switches and its closing.
func switchScenario(t *testing.T, nodes []*node.Node, s *seen, num uint64) {
	k := rooms.NumRoom(tk.App, num)
	a := tk.Join(t, nodes[0].Addr(), tk.App, tk.AppKey, "alice", num, "")
	b := tk.Join(t, nodes[1%len(nodes)].Addr(), tk.App, tk.AppKey, "bob", num, "")
	await.Expect(t, await.Next(t, a), "user_entered", "bob", "")
	c := joinAudience(t, nodes[len(nodes)-1].Addr(), "carol", num)
	ctx := context.Background()
	seq, err := c.SwitchRole(ctx, protocol.RoleAnchor)
	if err != nil {
		t.Fatal(err)
	}
	if ev := await.Next(t, c); ev.Type != protocol.TypeRoleSwitched || ev.Role != protocol.RoleAnchor || ev.Seq != seq {
		t.Fatalf("carol got %+v, the switch's seq %d", ev, seq)
	}
	for _, w := range []*client.Conn{a, b} {
		ev := await.Next(t, w)
		await.Expect(t, ev, "user_entered", "carol", "")
		if ev.Role != protocol.RoleAnchor || ev.Seq != seq {
			t.Fatalf("got %+v, the switch's seq %d", ev, seq)
		}
	}
	if _, err := c.SwitchRole(ctx, protocol.RoleAudience); err != nil {
		t.Fatal(err)
	}
	for _, w := range []*client.Conn{a, b} {
		await.Expect(t, await.Next(t, w), "user_left", "carol", protocol.ReasonRoleSwitch)
	}
	if _, err := c.SwitchRole(ctx, protocol.RoleAudience); err == nil {
		t.Fatal("a switch to the same role succeeded")
	}
	for _, w := range []*client.Conn{c, b, a} {
		w.Leave(ctx)
	}
	waitLog(t, k, "room_open alice,enter alice,enter bob,enter carol,role_switch carol,role_switch carol,"+
		"leave carol left,leave bob left,leave alice left,room_close left", s)
	if got := fmt.Sprint(s.roles(k)); got != "[anchor anchor anchor audience anchor audience audience anchor anchor ]" {
		t.Fatalf("roles in the log %s", got)
	}
}

// TestRoleSwitchEndToEnd: the role switch over WebSocket on one node.
func TestRoleSwitchEndToEnd(t *testing.T) {
	s := newSeen()
	n := startWithGroup(t, tk.Config(), "history", s)
	switchScenario(t, []*node.Node{n}, s, 81)
}

// TestClusterRoleSwitchEndToEnd: the role switch over WebSocket on three
// nodes: the others, on other nodes, see it.
func TestClusterRoleSwitchEndToEnd(t *testing.T) {
	srv := tk.StartRedis(t)
	s := newSeen()
	var nodes []*node.Node
	for i := 0; i < 3; i++ {
		cfg := tk.Config()
		cfg.Redis, cfg.NodeID = srv.URL(), fmt.Sprintf("switch-%d", i)
		if i == 0 {
			nodes = append(nodes, startWithGroup(t, cfg, "history", s))
		} else {
			nodes = append(nodes, tk.Start(t, cfg))
		}
	}
	switchScenario(t, nodes, s, 82)
}

package signal_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/trtcd/trtcd/client"
	"github.com/trtcd/trtcd/internal/signal"
	"github.com/trtcd/trtcd/protocol"
)

// TestSwitchRole: an audience member who becomes an anchor is announced to
// the others as user_entered and listed from then on; the reverse is
// user_left with reason role_switch. The switching client gets
// role_switched with the change's seq, in the room's order.
func TestSwitchRole(t *testing.T) {
	e := newEnv(t, signal.Config{})
	alice := e.join(e.params("alice"))
	p := e.params("carol")
	p.Role = protocol.RoleAudience
	carol := e.join(p)
	seq, err := carol.SwitchRole(e.ctx, protocol.RoleAnchor)
	if err != nil {
		t.Fatal(err)
	}
	if ev := next(t, carol); ev.Type != protocol.TypeRoleSwitched || ev.Role != protocol.RoleAnchor || ev.Seq != seq || ev.RoomID != 1234 || ev.Ts == 0 {
		t.Fatalf("carol got %+v (SwitchRole answered seq %d)", ev, seq)
	}
	if ev := next(t, alice); ev.Type != protocol.TypeUserEntered || ev.UserID != "carol" || ev.Role != protocol.RoleAnchor || ev.Seq != seq {
		t.Fatalf("alice got %+v", ev)
	}
	if got := e.members(e.room); fmt.Sprint(got) != "[alice/anchor carol/anchor]" {
		t.Fatalf("members %v", got)
	}
	bob := e.join(e.params("bob"))
	if got := fmt.Sprint(sortMembers(bob.Joined().Members)); got != "[{alice anchor} {bob anchor} {carol anchor}]" {
		t.Fatalf("bob's snapshot %v", got)
	}
	next(t, alice) // bob entered
	next(t, carol) // bob entered
	seq2, err := carol.SwitchRole(e.ctx, protocol.RoleAudience)
	if err != nil || seq2 <= seq {
		t.Fatalf("switch back: seq %d after %d, %v", seq2, seq, err)
	}
	for name, c := range map[string]*client.Conn{"alice": alice, "bob": bob} {
		if ev := next(t, c); ev.Type != protocol.TypeUserLeft || ev.UserID != "carol" || ev.Reason != protocol.ReasonRoleSwitch || ev.Seq != seq2 {
			t.Fatalf("%s got %+v", name, ev)
		}
	}
	if ev := next(t, carol); ev.Type != protocol.TypeRoleSwitched || ev.Role != protocol.RoleAudience || ev.Seq != seq2 {
		t.Fatalf("carol got %+v", ev)
	}
	// A switched member is removed like any other.
	if err := e.svc.Remove(e.ctx, e.room, []string{"carol"}); err != nil {
		t.Fatal(err)
	}
	if ev := next(t, carol); ev.Type != protocol.TypeKicked || ev.Reason != protocol.ReasonRemoved {
		t.Fatalf("carol got %+v", ev)
	}
	quiet(t, alice) // carol is audience now: nobody is told
}

// TestSwitchRoleRefusals: a switch to the role the client has, or to no
// valid role, is answered with an error; the connection stays open and the
// room is unchanged.
func TestSwitchRoleRefusals(t *testing.T) {
	e := newEnv(t, signal.Config{})
	alice := e.join(e.params("alice"))
	bob := e.join(e.params("bob"))
	next(t, alice) // bob entered
	for _, c := range []struct{ role, code string }{
		{protocol.RoleAnchor, protocol.CodeRoleUnchanged},
		{"", protocol.CodeInvalidRole},
		{"moderator", protocol.CodeInvalidRole},
	} {
		_, err := bob.SwitchRole(e.ctx, c.role)
		var ce *client.Error
		if !errors.As(err, &ce) || ce.Code != c.code || ce.Message == "" {
			t.Fatalf("switch to %q: %v, want %s", c.role, err, c.code)
		}
	}
	if bob.Err() != nil {
		t.Fatalf("the refusals ended the connection: %v", bob.Err())
	}
	quiet(t, alice)
	// Still in the room, and still served.
	if _, err := bob.SwitchRole(e.ctx, protocol.RoleAudience); err != nil {
		t.Fatal(err)
	}
	if ev := next(t, alice); ev.Type != protocol.TypeUserLeft || ev.UserID != "bob" || ev.Reason != protocol.ReasonRoleSwitch {
		t.Fatalf("alice got %+v", ev)
	}
	if got := e.members(e.room); fmt.Sprint(got) != "[alice/anchor bob/audience]" {
		t.Fatalf("members %v", got)
	}
}

// TestSwitchRoleBeforeJoin: switch_role as the first frame is NotJoined.
func TestSwitchRoleBeforeJoin(t *testing.T) {
	e := newEnv(t, signal.Config{})
	ws := e.rawDial()
	defer ws.Close()
	ws.WriteMessage(1, []byte(`{"type":"switch_role","role":"anchor"}`))
	expectError(t, ws, protocol.CodeNotJoined, protocol.CloseBadFrame)
}

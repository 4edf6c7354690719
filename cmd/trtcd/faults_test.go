package main

import (
	"encoding/json"
	"strings"
	"testing"

	trtcsdk "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/trtc/v20190722"

	"github.com/trtcd/trtcd/internal/config"
	tk "github.com/trtcd/trtcd/internal/testkit"
)

// TestFaultsCommand: `trtcd faults set` makes the official SDK's next
// RemoveUser answer the injected code; list shows it; clear removes it; a
// bad command line exits 2 before sending anything.
func TestFaultsCommand(t *testing.T) {
	cfg := tk.Config()
	cfg.DevTools = config.DevTools{Journal: true, Faults: true}
	n := tk.Start(t, cfg)
	ep := "http://" + n.Addr()
	t.Setenv("TENCENTCLOUD_SECRET_ID", tk.AcmeID)
	t.Setenv("TENCENTCLOUD_SECRET_KEY", tk.AcmeKey)
	code, out, stderr := run(t, "faults", "set", "--endpoint", ep, "--action", "RemoveUser", "--code", "FailedOperation.RoomNotExist", "--count", "1")
	var set struct{ Fault struct{ FaultId string } }
	if code != 0 || json.Unmarshal([]byte(out), &set) != nil || set.Fault.FaultId == "" {
		t.Fatalf("set: exit %d %q %q", code, out, stderr)
	}
	code, out, _ = run(t, "faults", "list", "--endpoint", ep)
	if code != 0 || !strings.Contains(out, `"FaultId": "`+set.Fault.FaultId+`"`) {
		t.Fatalf("list: exit %d %q", code, out)
	}
	sdk := tk.SDK(t, n.Addr(), tk.AcmeID, tk.AcmeKey, tk.Modes[0])
	r := trtcsdk.NewRemoveUserRequest()
	r.SdkAppId, r.RoomId, r.UserIds = tk.U64(tk.App), tk.U64(1), tk.Users("u")
	if _, err := sdk.RemoveUser(r); tk.Code(err) != "FailedOperation.RoomNotExist" || !strings.Contains(err.Error(), set.Fault.FaultId) {
		t.Fatalf("SDK after faults set: %v", err)
	}
	run(t, "faults", "set", "--endpoint", ep, "--action", "DismissRoom", "--code", "InternalError")
	if code, out, _ := run(t, "faults", "clear", "--endpoint", ep); code != 0 || !strings.Contains(out, `"Deleted": 1`) {
		t.Fatalf("clear: exit %d %q", code, out)
	}
	code, _, stderr = run(t, "faults", "set", "--endpoint", ep, "--action", "RemoveUser", "--code", "InternalError", "--percent", "200")
	if code != 1 {
		t.Fatalf("percent 200: exit %d %q", code, stderr)
	}
	for _, args := range [][]string{{"faults"}, {"faults", "bogus"}, {"faults", "set", "--code", "X"}, {"faults", "set", "--action", "RemoveUser"}} {
		if code, _, stderr := run(t, append(args, "--endpoint", ep)...); code != 2 {
			t.Fatalf("%v: exit %d %q", args, code, stderr)
		}
	}
}

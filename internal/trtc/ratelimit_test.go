package trtc_test

import (
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	sdkerrors "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"

	tk "github.com/trtcd/trtcd/internal/testkit"
)

// TestRateLimitPerAccountAndAction: 30 RemoveUser calls at once from one
// account: 20 are served, 10 answer RequestLimitExceeded in the cloud's
// words; another account is unaffected; a second later calls are served.
func TestRateLimitPerAccountAndAction(t *testing.T) {
	n := tk.Start(t, tk.Config())
	tk.Join(t, n.Addr(), tk.App, tk.AppKey, "keeper", 555, "")
	tk.Join(t, n.Addr(), tk.OtherApp, tk.OtherAppK, "keeper", 555, "")
	acme := tk.SDK(t, n.Addr(), tk.AcmeID, tk.AcmeKey, tk.Modes[0])
	other := tk.SDK(t, n.Addr(), tk.OtherID, tk.OtherKey, tk.Modes[3])

	var mu sync.Mutex
	var served, limited int
	var counts []int
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < 30; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, err := acme.RemoveUser(removeUser(555, "nobody"))
			mu.Lock()
			defer mu.Unlock()
			switch tk.Code(err) {
			case "":
				served++
			case "RequestLimitExceeded":
				limited++
				msg := err.(*sdkerrors.TencentCloudSDKError).Message
				var c, l int
				if _, err := fmt.Sscanf(msg, "Your current request times equals to `%d` in a second, which exceeds the frequency limit `%d` for a second. Please reduce the frequency of calls.", &c, &l); err != nil || l != 20 {
					t.Errorf("message %q", msg)
				}
				counts = append(counts, c)
			default:
				t.Errorf("unexpected %v", err)
			}
		}()
	}
	close(start)
	// Meanwhile the other account is served, and so is another action.
	r := removeUser(555, "nobody")
	r.SdkAppId = tk.U64(tk.OtherApp)
	if _, err := other.RemoveUser(r); err != nil {
		t.Fatalf("other account: %v", err)
	}
	wg.Wait()
	if served != 20 || limited != 10 {
		t.Fatalf("served %d, limited %d", served, limited)
	}
	sort.Ints(counts)
	if counts[0] != 21 || counts[9] != 30 {
		t.Fatalf("reported counts %v, want 21..30", counts)
	}
	time.Sleep(1100 * time.Millisecond)
	if _, err := acme.RemoveUser(removeUser(555, "nobody")); err != nil {
		t.Fatalf("a second later: %v", err)
	}
}

package devtools

import (
	"fmt"
	"testing"
	"time"

	"github.com/trtcd/trtcd/internal/cloudapi"
)

// TestJournalRing: the journal keeps the newest Size calls, newest first.
func TestJournalRing(t *testing.T) {
	j := NewJournal(3)
	for i := 1; i <= 5; i++ {
		j.Add(&cloudapi.Record{RequestID: fmt.Sprint(i), Account: "a", Action: "X", Code: "OK"})
	}
	var ids []string
	for _, e := range j.Query(Filter{Account: "a"}) {
		ids = append(ids, e.RequestId)
	}
	if fmt.Sprint(ids) != "[5 4 3]" || j.Added() != 5 {
		t.Fatalf("kept %v, added %d", ids, j.Added())
	}
	if got := j.Query(Filter{Account: "b"}); len(got) != 0 {
		t.Fatalf("account b sees %v", got)
	}
}

// TestFaultExpiry: a fault stops applying at its TTL (default 10 minutes)
// and is no longer listed; Percent uses the dice.
func TestFaultExpiry(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	f := NewFaults(func() time.Time { return now })
	info, ok := f.Set("acme", Rule{Action: "RemoveUser", Code: "InternalError"})
	if !ok || !info.ExpiresAt.Equal(now.Add(DefaultFaultTTL)) {
		t.Fatalf("set %+v", info)
	}
	if f.Match("acme", "RemoveUser") == nil || f.Match("other", "RemoveUser") != nil || f.Match("acme", "DismissRoom") != nil {
		t.Fatal("wrong match")
	}
	now = now.Add(DefaultFaultTTL)
	if f.Match("acme", "RemoveUser") != nil || len(f.List("acme")) != 0 || f.Active() != 0 {
		t.Fatal("expired fault still applies")
	}
	rolls := []int{10, 60}
	f.roll = func() int { r := rolls[0]; rolls = rolls[1:]; return r }
	f.Set("acme", Rule{Action: "RemoveUser", Code: "InternalError", Percent: 50})
	if f.Match("acme", "RemoveUser") == nil || f.Match("acme", "RemoveUser") != nil {
		t.Fatal("percent: 10 < 50 faults, 60 does not")
	}
	for i := 0; i < MaxFaultsPerAccount-1; i++ {
		f.Set("acme", Rule{Action: "X", Code: "Y"})
	}
	if _, ok := f.Set("acme", Rule{Action: "X", Code: "Y"}); ok {
		t.Fatal("more than MaxFaultsPerAccount")
	}
}

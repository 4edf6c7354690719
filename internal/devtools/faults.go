package devtools

import (
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/trtcd/trtcd/internal/cloudapi"
)

// Fault-injection policies (docs/devtools.md).
const (
	DefaultFaultTTL     = 10 * time.Minute // a fault expires this long after it was set unless it says otherwise
	MaxFaultTTL         = 24 * time.Hour
	MaxFaultLatency     = 60 * time.Second // the most latency one fault may add
	MaxFaultsPerAccount = 100
	MaxFaultCount       = 1_000_000
)

// Rule is what a fault does to the calls of one action of one account:
// add Latency, then answer Code (when set). Count > 0: only the next Count
// calls; Percent > 0: that share of calls; neither: every call. Until TTL.
type Rule struct {
	Action  string
	Code    string
	Message string
	Count   int
	Percent int
	Latency time.Duration
	TTL     time.Duration
}

// FaultInfo is a fault as DescribeFaults lists it.
type FaultInfo struct {
	FaultId   string    `json:"FaultId"`
	Action    string    `json:"Action"`
	Code      string    `json:"Code,omitempty"`
	Message   string    `json:"Message,omitempty"`
	Remaining int       `json:"Remaining,omitempty"` // calls still to fault (Count rules)
	Percent   int       `json:"Percent,omitempty"`
	LatencyMs int64     `json:"LatencyMs,omitempty"`
	ExpiresAt time.Time `json:"ExpiresAt"`
	Injected  int       `json:"Injected"` // calls it has faulted so far
}

type fault struct {
	id string
	Rule
	remaining int
	expires   time.Time
	injected  int
}

// Faults holds the faults of every account.
type Faults struct {
	mu       sync.Mutex
	by       map[string][]*fault // account → faults, oldest first
	active   atomic.Int64        // faults held: Match skips the lock when 0
	seq      int
	injected atomic.Uint64
	now      func() time.Time
	roll     func() int // 0..99
}

// NewFaults is an empty store; now may be nil.
func NewFaults(now func() time.Time) *Faults {
	if now == nil {
		now = time.Now
	}
	return &Faults{by: map[string][]*fault{}, now: now, roll: func() int { return rand.IntN(100) }}
}

// Set adds a fault for account and returns it. The rule must be valid
// (CheckRule).
func (f *Faults) Set(account string, r Rule) (FaultInfo, bool) {
	if r.TTL == 0 {
		r.TTL = DefaultFaultTTL
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	list := f.prune(account)
	if len(list) >= MaxFaultsPerAccount {
		return FaultInfo{}, false
	}
	f.seq++
	x := &fault{id: "f" + strconv.Itoa(f.seq), Rule: r, remaining: r.Count, expires: f.now().Add(r.TTL)}
	if x.Message == "" {
		x.Message = "This answer was injected by trtcd fault " + x.id + " (see `trtcd faults list`)."
	}
	f.by[account] = append(list, x)
	f.active.Add(1)
	return x.info(), true
}

// List answers the account's live faults, oldest first.
func (f *Faults) List(account string) []FaultInfo {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []FaultInfo
	for _, x := range f.prune(account) {
		out = append(out, x.info())
	}
	return out
}

// Clear removes the account's fault id, or all of its faults when id is
// "". It answers how many it removed.
func (f *Faults) Clear(account, id string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	list := f.prune(account)
	keep := list[:0]
	for _, x := range list {
		if id != "" && x.id != id {
			keep = append(keep, x)
		}
	}
	n := len(list) - len(keep)
	f.store(account, keep, n)
	return n
}

// Match is the hook's question: the first live fault of account for action
// that applies to this call, consuming one of a Count rule's calls.
func (f *Faults) Match(account, action string) *cloudapi.Fault {
	if f.active.Load() == 0 {
		return nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	list := f.prune(account)
	for i, x := range list {
		if x.Action != action {
			continue
		}
		switch {
		case x.Count > 0:
			x.remaining--
			if x.remaining == 0 {
				f.store(account, append(list[:i:i], list[i+1:]...), 1)
			}
		case x.Percent > 0 && f.roll() >= x.Percent:
			continue
		}
		x.injected++
		f.injected.Add(1)
		return &cloudapi.Fault{ID: x.id, Delay: x.Latency, Code: x.Code, Message: x.Message}
	}
	return nil
}

// Injected counts the calls faulted so far; Active the faults held.
func (f *Faults) Injected() uint64 { return f.injected.Load() }
func (f *Faults) Active() int64    { return f.active.Load() }

// prune drops the account's expired faults; mu held.
func (f *Faults) prune(account string) []*fault {
	list := f.by[account]
	now := f.now()
	for i, x := range list {
		if !now.Before(x.expires) {
			keep := append([]*fault(nil), list[:i]...)
			for _, y := range list[i+1:] {
				if now.Before(y.expires) {
					keep = append(keep, y)
				}
			}
			f.store(account, keep, len(list)-len(keep))
			return keep
		}
	}
	return list
}

// store replaces the account's list after removing n faults; mu held.
func (f *Faults) store(account string, list []*fault, n int) {
	if len(list) == 0 {
		delete(f.by, account)
	} else {
		f.by[account] = list
	}
	f.active.Add(-int64(n))
}

func (x *fault) info() FaultInfo {
	return FaultInfo{FaultId: x.id, Action: x.Action, Code: x.Code, Message: x.Message, Remaining: x.remaining,
		Percent: x.Percent, LatencyMs: x.Latency.Milliseconds(), ExpiresAt: x.expires.UTC(), Injected: x.injected}
}

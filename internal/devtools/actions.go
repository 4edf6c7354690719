package devtools

import (
	"context"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"time"

	"github.com/trtcd/trtcd/internal/cloudapi"
)

// The admin actions are API 3.0 actions of trtcd's own service, signed like
// any other call (`trtcd api DescribeApiJournal --service trtcd --version
// 2025-01-01`, `trtcd faults`): an account reads and sets only its own.
const (
	AdminService = "trtcd"
	AdminVersion = "2025-01-01"
	// AdminRateLimit is each admin action's calls per second per account.
	AdminRateLimit = 20
	// DefaultJournalLimit is how many entries DescribeApiJournal answers
	// unless Limit says otherwise.
	DefaultJournalLimit = 100
	// MaxMessageLen bounds an injected fault's Message.
	MaxMessageLen = 512
)

// codePattern is what an injectable code looks like: the cloud's
// Word.Word… form (InternalError, FailedOperation.RoomNotExist).
var codePattern = regexp.MustCompile(`^[A-Z][A-Za-z0-9]{0,63}(\.[A-Za-z0-9_]{1,64}){0,2}$`)

// Register adds DescribeApiJournal, CreateFault, DescribeFaults and
// DeleteFaults to cat. t may be nil (both tools off): the actions then
// answer that the tool is off. Call it after the product's actions are
// registered: CreateFault accepts only their names.
func Register(cat *cloudapi.Catalog, t *Tools) {
	if t == nil {
		t = &Tools{}
	}
	targets := map[string]bool{}
	for _, a := range cat.Actions() {
		targets[a.Name] = true
	}
	a := &admin{t: t, targets: targets}
	str, num := cloudapi.String, cloudapi.Integer
	for _, d := range []struct {
		name   string
		params []cloudapi.Param
		h      cloudapi.Handler
	}{
		{"DescribeApiJournal", []cloudapi.Param{{Name: "Action", Type: str}, {Name: "Code", Type: str}, {Name: "Limit", Type: num}}, a.journal},
		{"CreateFault", []cloudapi.Param{{Name: "Action", Type: str}, {Name: "Code", Type: str}, {Name: "Message", Type: str},
			{Name: "Count", Type: num}, {Name: "Percent", Type: num}, {Name: "LatencyMs", Type: num}, {Name: "TtlSeconds", Type: num}}, a.createFault},
		{"DescribeFaults", nil, a.describeFaults},
		{"DeleteFaults", []cloudapi.Param{{Name: "FaultId", Type: str}}, a.deleteFaults},
	} {
		cat.Register(cloudapi.Action{Service: AdminService, Version: AdminVersion, Name: d.name, RateLimit: AdminRateLimit,
			Params: d.params, Handle: d.h, Admin: true})
	}
}

type admin struct {
	t       *Tools
	targets map[string]bool
}

func (a *admin) journal(_ context.Context, c *cloudapi.Call) (any, error) {
	if a.t.Journal == nil {
		return nil, ErrJournalDisabled()
	}
	f := Filter{Account: c.Account}
	var e *cloudapi.Error
	if f.Action, e = optString(c.Params, "Action"); e != nil {
		return nil, e
	}
	if f.Code, e = optString(c.Params, "Code"); e != nil {
		return nil, e
	}
	limit, e := optInt(c.Params, "Limit", 1, a.t.Journal.Size())
	if e != nil {
		return nil, e
	}
	if limit == 0 {
		limit = DefaultJournalLimit
	}
	f.Limit = limit
	entries := a.t.Journal.Query(f)
	if entries == nil {
		entries = []Entry{}
	}
	return map[string]any{"Entries": entries, "TotalCount": len(entries), "Capacity": a.t.Journal.Size()}, nil
}

// rule reads and validates CreateFault's parameters, naming the first
// bad one.
func (a *admin) rule(p cloudapi.Params) (Rule, *cloudapi.Error) {
	var r Rule
	action, st := p.String("Action")
	switch {
	case st == cloudapi.Missing || st == cloudapi.OK && action == "":
		return r, cloudapi.ErrMissingParameter("Action")
	case st != cloudapi.OK:
		return r, cloudapi.ErrInvalidParameterValue("Action must be a string.")
	case !a.targets[action]:
		return r, cloudapi.ErrInvalidParameterValue(fmt.Sprintf("Action `%s` is not an action faults can be set on (have %v).", cloudapi.Clip(action), slices.Sorted(maps.Keys(a.targets))))
	}
	r.Action = action
	var e *cloudapi.Error
	if r.Code, e = optString(p, "Code"); e != nil {
		return r, e
	}
	if r.Code != "" && !codePattern.MatchString(r.Code) {
		return r, cloudapi.ErrInvalidParameterValue("Code must look like an API error code, such as InternalError or FailedOperation.RoomNotExist.")
	}
	if r.Message, e = optString(p, "Message"); e != nil {
		return r, e
	}
	if len(r.Message) > MaxMessageLen {
		return r, cloudapi.ErrInvalidParameterValue(fmt.Sprintf("Message must be at most %d bytes.", MaxMessageLen))
	}
	if r.Message != "" && r.Code == "" {
		return r, cloudapi.ErrInvalidParameterValue("Message needs a Code.")
	}
	if r.Count, e = optInt(p, "Count", 1, MaxFaultCount); e != nil {
		return r, e
	}
	if r.Percent, e = optInt(p, "Percent", 1, 100); e != nil {
		return r, e
	}
	if r.Count > 0 && r.Percent > 0 {
		return r, cloudapi.ErrInvalidParameterValue("Count and Percent cannot both be set: a fault applies to the next Count calls, or to Percent % of calls, or (neither) to every call.")
	}
	ms, e := optInt(p, "LatencyMs", 1, int(MaxFaultLatency/time.Millisecond))
	if e != nil {
		return r, e
	}
	r.Latency = time.Duration(ms) * time.Millisecond
	if r.Code == "" && r.Latency == 0 {
		return r, cloudapi.ErrMissingParameter("Code")
	}
	ttl, e := optInt(p, "TtlSeconds", 1, int(MaxFaultTTL/time.Second))
	if e != nil {
		return r, e
	}
	r.TTL = time.Duration(ttl) * time.Second
	return r, nil
}

func (a *admin) createFault(_ context.Context, c *cloudapi.Call) (any, error) {
	if a.t.Faults == nil {
		return nil, ErrFaultsDisabled()
	}
	r, e := a.rule(c.Params)
	if e != nil {
		return nil, e
	}
	info, ok := a.t.Faults.Set(c.Account, r)
	if !ok {
		return nil, ErrFaultLimit()
	}
	return map[string]any{"Fault": info}, nil
}

func (a *admin) describeFaults(_ context.Context, c *cloudapi.Call) (any, error) {
	if a.t.Faults == nil {
		return nil, ErrFaultsDisabled()
	}
	list := a.t.Faults.List(c.Account)
	if list == nil {
		list = []FaultInfo{}
	}
	return map[string]any{"Faults": list, "TotalCount": len(list)}, nil
}

func (a *admin) deleteFaults(_ context.Context, c *cloudapi.Call) (any, error) {
	if a.t.Faults == nil {
		return nil, ErrFaultsDisabled()
	}
	id, e := optString(c.Params, "FaultId")
	if e != nil {
		return nil, e
	}
	n := a.t.Faults.Clear(c.Account, id)
	if id != "" && n == 0 {
		return nil, ErrFaultNotFound(cloudapi.Clip(id))
	}
	return map[string]any{"Deleted": n}, nil
}

func optString(p cloudapi.Params, name string) (string, *cloudapi.Error) {
	s, st := p.String(name)
	switch st {
	case cloudapi.OK:
		return s, nil
	case cloudapi.Missing:
		return "", nil
	}
	return "", cloudapi.ErrInvalidParameterValue(name + " must be a string.")
}

// optInt reads an optional integer in [lo, hi]; 0 when absent.
func optInt(p cloudapi.Params, name string, lo, hi int) (int, *cloudapi.Error) {
	n, st := p.Uint(name)
	if st == cloudapi.Missing {
		return 0, nil
	}
	if st != cloudapi.OK || n < uint64(lo) || n > uint64(hi) {
		return 0, cloudapi.ErrInvalidParameterValue(fmt.Sprintf("%s must be an integer from %d to %d.", name, lo, hi))
	}
	return int(n), nil
}

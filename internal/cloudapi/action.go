package cloudapi

import (
	"context"
	"fmt"
	"slices"
)

// Action is one API action as a product registers it. The front door checks
// everything common (signature, region, rate limit, unknown parameters) and
// then calls Handle with the business parameters.
type Action struct {
	Service   string   // e.g. "trtc"
	Version   string   // e.g. 2019-07-22
	Name      string   // e.g. "RemoveUser"
	Regions   []string // allowed regions; empty: Region is optional and unchecked
	RateLimit int      // calls per second per account; overridable by config
	Params    []Param  // the business parameters, for UnknownParameter and form decoding
	Handle    Handler
	// Admin marks trtcd's own actions (the developer tools' admin actions):
	// the Hook neither journals them nor injects faults into them.
	Admin bool
}

// Handler runs an action. It returns the output fields (a struct or map that
// encodes as a JSON object, or nil) or an error; an error that is not an
// *Error is reported as InternalError.
type Handler func(ctx context.Context, call *Call) (any, error)

// Call is what a handler knows about the request.
type Call struct {
	RequestID string
	Account   string // the name of the authenticated account
	Action    string
	Region    string
	Params    Params
}

// Catalog holds the registered actions, keyed by action name. Action names
// are unique across services on one server.
type Catalog struct {
	actions map[string]*Action
}

func NewCatalog() *Catalog { return &Catalog{actions: map[string]*Action{}} }

// Register adds an action; registering a name twice is a programming error.
func (c *Catalog) Register(a Action) {
	if a.Name == "" || a.Version == "" || a.Service == "" || a.Handle == nil {
		panic(fmt.Sprintf("cloudapi: incomplete action %+v", a))
	}
	if _, dup := c.actions[a.Name]; dup {
		panic("cloudapi: action registered twice: " + a.Name)
	}
	c.actions[a.Name] = &a
}

// Lookup finds an action by name and version, answering the common codes.
func (c *Catalog) lookup(name, version string) (*Action, *Error) {
	a, ok := c.actions[name]
	if !ok {
		return nil, ErrInvalidAction(Clip(name))
	}
	if a.Version != version {
		return nil, ErrNoSuchVersion(Clip(version), name)
	}
	return a, nil
}

// checkRegion applies the action's region list.
func (a *Action) checkRegion(region string) *Error {
	if len(a.Regions) == 0 {
		return nil
	}
	if region == "" {
		return ErrMissingParameter("Region")
	}
	if !slices.Contains(a.Regions, region) {
		return ErrUnsupportedRegion(a.Name, Clip(region))
	}
	return nil
}

// ActionInfo describes a registered action, for the console's API explorer.
type ActionInfo struct {
	Service, Version, Name string
	Regions                []string
	Params                 []Param
	Admin                  bool
}

// Actions lists the registered actions by name.
func (c *Catalog) Actions() []ActionInfo {
	var out []ActionInfo
	for _, n := range c.Names() {
		a := c.actions[n]
		out = append(out, ActionInfo{a.Service, a.Version, a.Name, slices.Clone(a.Regions), slices.Clone(a.Params), a.Admin})
	}
	return out
}

// Names lists the registered actions, for logs and docs.
func (c *Catalog) Names() []string {
	var out []string
	for n := range c.actions {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

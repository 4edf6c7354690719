// Package config reads trtcd's YAML configuration, applies environment
// overrides, and validates the result, naming the key at fault.
package config

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"

	"github.com/trtcd/trtcd/client"
	"github.com/trtcd/trtcd/internal/devtools"
	"github.com/trtcd/trtcd/internal/signal"
	"github.com/trtcd/trtcd/internal/trtc"
	"github.com/trtcd/trtcd/usersig"
)

// Config is the whole configuration; docs/config.md documents every key.
type Config struct {
	Listen         string         `yaml:"listen"`
	TLSCert        string         `yaml:"tls_cert"`
	TLSKey         string         `yaml:"tls_key"`
	Accounts       []Account      `yaml:"accounts"`
	RateLimits     map[string]int `yaml:"rate_limits"`
	Regions        []string       `yaml:"regions"`
	Redis          string         `yaml:"redis"`
	NodeID         string         `yaml:"node_id"`
	IdleTimeout    Duration       `yaml:"idle_timeout"`
	UserSigMaxSkew Duration       `yaml:"usersig_max_skew"` // how far ahead a UserSig's TLS.time may be
	ClientQueue    int            `yaml:"client_queue"`
	LogLevel       string         `yaml:"log_level"`
	DebugPprof     bool           `yaml:"debug_pprof"` // serve /debug/pprof/ (profiling; keep off in production)
	GCPercent      int            `yaml:"gc_percent"`  // Go's GOGC for the server; default 50

	// Front-door limits (docs/config.md, "Limits"); zero takes the default.
	HTTPHeaderTimeout         Duration `yaml:"http_header_timeout"`
	HTTPReadTimeout           Duration `yaml:"http_read_timeout"`
	HTTPIdleTimeout           Duration `yaml:"http_idle_timeout"`
	UnauthenticatedBodyBudget int64    `yaml:"unauthenticated_body_budget"`
	MaxClients                int      `yaml:"max_clients"`
	FDHeadroom                int      `yaml:"fd_headroom"`

	// RedisStartupTimeout: how long start-up waits for an unreachable Redis.
	RedisStartupTimeout Duration `yaml:"redis_startup_timeout"`

	DataDir          string    `yaml:"data_dir"`          // the embedded stores (history.db, callbacks.db); default DefaultDataDir
	History          string    `yaml:"history"`           // "" (SQLite in data_dir on one node), "postgres://…", or "off"
	HistoryRetention Duration  `yaml:"history_retention"` // how long history is kept; default 14 days
	Callbacks        Callbacks `yaml:"callbacks"`         // delivery policy of the apps' event callbacks

	Media MediaConfig `yaml:"media"` // the SFU (docs/media.md)

	DevTools DevTools `yaml:"devtools"` // request journal and fault injection (docs/devtools.md)
	Console  *bool    `yaml:"console"`  // serve the web console at /console; default true
}

// DevTools switches the developer tools. All off by default with a file;
// the built-in development configuration (no file) turns them on.
type DevTools struct {
	Journal     bool `yaml:"journal"`      // keep the last journal_size API calls for DescribeApiJournal
	JournalSize int  `yaml:"journal_size"` // default devtools.DefaultJournalSize (1000)
	Faults      bool `yaml:"faults"`       // allow CreateFault (fault injection)
}

// MaxJournalSize bounds devtools.journal_size (each entry may hold some KB).
const MaxJournalSize = 100_000

// ConsoleOn says whether /console is served (console, default true).
func (c *Config) ConsoleOn() bool { return c.Console == nil || *c.Console }

// Defaults of the front-door limits.
const (
	DefaultHTTPHeaderTimeout         = 10 * time.Second // a request's headers must arrive within this
	DefaultHTTPReadTimeout           = 30 * time.Second // an API request's body must arrive within this after its headers
	DefaultHTTPIdleTimeout           = 60 * time.Second // a keep-alive connection idle this long is closed
	DefaultUnauthenticatedBodyBudget = 32 << 20         // body bytes held by requests not yet authenticated
	DefaultFDHeadroom                = 256              // descriptors kept free for the API and /healthz
)

// DefaultRedisStartupTimeout is how long a cluster node waits at start-up
// for Redis to answer before it gives up (exit status 2).
const DefaultRedisStartupTimeout = 30 * time.Second

// Account is a cloud API account: one SecretId/SecretKey pair and the apps
// it owns.
type Account struct {
	Name      string `yaml:"name"`
	SecretID  string `yaml:"secret_id"`
	SecretKey string `yaml:"secret_key"`
	Apps      []App  `yaml:"apps"`
}

// App is a TRTC application: its SdkAppId and the key its UserSigs are
// signed with.
type App struct {
	SdkAppID             uint64    `yaml:"sdkappid"`
	Key                  string    `yaml:"key"`
	RequirePrivateMapKey bool      `yaml:"require_privatemapkey"` // joins must carry a PrivateMapKey
	Callback             *Callback `yaml:"callback"`              // event callbacks (webhooks); nil: none
}

// Duration reads "10s", "1m30s".
type Duration struct{ time.Duration }

func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return errDuration
	}
	d.Duration = v
	return nil
}

var errDuration = errors.New("must be a duration such as 10s, 1m30s or 500ms")

// UnmarshalYAML reads a duration from the file, so that a bad one is
// reported at its key and line.
func (d *Duration) UnmarshalYAML(n ast.Node) error {
	tok := n.GetToken()
	if _, scalar := n.(ast.ScalarNode); !scalar || tok == nil || d.UnmarshalText([]byte(tok.Value)) != nil {
		return &valueError{tok: tok, msg: errDuration.Error()}
	}
	return nil
}

func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// DefaultClientQueue is the default of client_queue: outbound notices held
// per client before it counts as slow.
const DefaultClientQueue = 128

// DefaultUserSigMaxSkew is the default of usersig_max_skew.
const DefaultUserSigMaxSkew = usersig.DefaultMaxSkew

// MaxUserSigMaxSkew bounds usersig_max_skew: a larger tolerance would let a
// UserSig dated that far ahead live that much longer than it says.
const MaxUserSigMaxSkew = 24 * time.Hour

// MinIdleTimeout is the smallest idle_timeout: twice the interval at which
// clients ping (client.DefaultHeartbeat, docs/protocol.md), so that one late
// or lost ping does not remove a client that is still there.
const MinIdleTimeout = 2 * client.DefaultHeartbeat

// DefaultGCPercent trades a little CPU for memory: a server holding many
// idle connections keeps less garbage headroom (measured in
// docs/benchmarks.md: 11.3 → 9.3 KB per idle client, same CPU per join).
const DefaultGCPercent = 50

// DefaultDataDir and DefaultHistoryRetention are the defaults of data_dir
// and history_retention (14 days, as the cloud keeps its monitoring data).
const (
	DefaultDataDir          = "trtcd-data"
	DefaultHistoryRetention = 14 * 24 * time.Hour
)

// Development credentials: used only when no config file is given. They are
// public, printed at start-up, and must never protect anything real.
const (
	DevAccount   = "development"
	DevSecretID  = "AKIDtrtcdDEVELOPMENTONLY00000000000"
	DevSecretKey = "trtcdDEVELOPMENTONLYsecretKey0000"
	DevSdkAppID  = 1400000001
	DevAppKey    = "trtcd-development-only-app-key-0000000000000000000000000000000001"
)

// DefaultListen is where `trtcd serve` listens unless listen says otherwise,
// and where trtcd's client commands connect by default.
const DefaultListen = "127.0.0.1:8080"

// Defaults is the configuration of `trtcd serve` with no file: one node, in
// memory, on DefaultListen, with the development account.
func Defaults() Config {
	return Config{
		Listen: DefaultListen,
		Accounts: []Account{{Name: DevAccount, SecretID: DevSecretID, SecretKey: DevSecretKey,
			Apps: []App{{SdkAppID: DevSdkAppID, Key: DevAppKey}}}},
		DevTools: DevTools{Journal: true, JournalSize: devtools.DefaultJournalSize, Faults: true},
	}
}

// fill sets the defaults of keys a file may leave out.
func (c *Config) fill() {
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	if c.IdleTimeout.Duration == 0 {
		c.IdleTimeout.Duration = signal.DefaultIdleTimeout
	}
	if c.ClientQueue == 0 {
		c.ClientQueue = DefaultClientQueue
	}
	if c.UserSigMaxSkew.Duration == 0 {
		c.UserSigMaxSkew.Duration = DefaultUserSigMaxSkew
	}
	if len(c.Regions) == 0 {
		c.Regions = slices.Clone(trtc.DefaultRegions)
	}
	if c.LogLevel == "" {
		c.LogLevel = "info"
	}
	if c.GCPercent == 0 {
		c.GCPercent = DefaultGCPercent
	}
	c.FillLimits()
	if c.RedisStartupTimeout.Duration == 0 {
		c.RedisStartupTimeout.Duration = DefaultRedisStartupTimeout
	}
	if c.DataDir == "" {
		c.DataDir = DefaultDataDir
	}
	if c.HistoryRetention.Duration == 0 {
		c.HistoryRetention.Duration = DefaultHistoryRetention
	}
	c.Media.fill(c.Redis)
	if c.DevTools.JournalSize == 0 {
		c.DevTools.JournalSize = devtools.DefaultJournalSize
	}
	if c.Console == nil {
		on := true
		c.Console = &on
	}
	if c.NodeID == "" {
		host, _ := os.Hostname()
		c.NodeID = fmt.Sprintf("%s-%d", host, os.Getpid())
	}
	c.fillCallbacks()
}

// FillLimits sets the front-door limits left at zero to their defaults.
func (c *Config) FillLimits() {
	for _, d := range []struct {
		v   *Duration
		def time.Duration
	}{{&c.HTTPHeaderTimeout, DefaultHTTPHeaderTimeout}, {&c.HTTPReadTimeout, DefaultHTTPReadTimeout}, {&c.HTTPIdleTimeout, DefaultHTTPIdleTimeout}} {
		if d.v.Duration == 0 {
			d.v.Duration = d.def
		}
	}
	if c.UnauthenticatedBodyBudget == 0 {
		c.UnauthenticatedBodyBudget = DefaultUnauthenticatedBodyBudget
	}
	if c.FDHeadroom == 0 {
		c.FDHeadroom = DefaultFDHeadroom
	}
}

// Load reads path (or the defaults when path is empty), applies the
// environment (os.Environ() form, "KEY=value"), validates, and checks that
// the TLS files can be used. Every error is one line that names the key (and
// its line in the file) or the environment variable at fault.
func Load(path string, environ []string) (Config, error) {
	c := Defaults()
	var lines keyLines
	if path != "" {
		c = Config{}
		b, err := os.ReadFile(path)
		if err != nil {
			return c, fmt.Errorf("config: %w", err)
		}
		if err := yaml.UnmarshalWithOptions(b, &c, yaml.Strict()); err != nil {
			return c, decodeError(path, b, err)
		}
		lines, _ = fileKeys(b)
	}
	fromEnv, err := c.applyEnv(environ)
	if err != nil {
		return c, err
	}
	c.fill()
	err = c.Validate()
	if err == nil {
		err = c.checkTLSFiles()
	}
	var ke *KeyError
	if errors.As(err, &ke) {
		return c, ke.locate(path, lines, fromEnv)
	}
	return c, err
}

// KeyError is a bad value, named by its key path (accounts[0].secret_id).
type KeyError struct {
	Key, Msg string
}

func (e *KeyError) Error() string { return "config: " + e.Key + ": " + e.Msg }

// locate names where the bad value came from: the environment variable that
// set it, or the file and line, or just the key (a default).
func (e *KeyError) locate(path string, lines keyLines, fromEnv map[string]string) error {
	for key, name := range fromEnv {
		if e.Key == key || strings.HasPrefix(e.Key, key+"[") {
			return fmt.Errorf("config: %s (%s): %s", name, e.Key, e.Msg)
		}
	}
	// the key's own line, else the line of the nearest enclosing key that
	// the file has (a missing secret_key: the line of its account)
	for k := e.Key; k != ""; k = parentKey(k) {
		if line, ok := lines[k]; ok {
			return fmt.Errorf("config %s:%d: %s: %s", path, line, e.Key, e.Msg)
		}
	}
	return e
}

// parentKey is "accounts[0]" for "accounts[0].name" and "accounts" for
// "accounts[0]".
func parentKey(k string) string {
	if i := strings.LastIndexAny(k, ".["); i >= 0 {
		return k[:i]
	}
	return ""
}

// checkTLSFiles reads tls_cert and tls_key, so that a missing, unreadable
// or mismatched file is a configuration error at start-up.
func (c *Config) checkTLSFiles() error {
	if c.TLSCert == "" {
		return nil
	}
	var pems [2][]byte
	for i, f := range []struct{ key, path string }{{"tls_cert", c.TLSCert}, {"tls_key", c.TLSKey}} {
		b, err := os.ReadFile(f.path)
		if err != nil {
			var pe *fs.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			return &KeyError{Key: f.key, Msg: fmt.Sprintf("cannot read %s: %v", f.path, err)}
		}
		pems[i] = b
	}
	if _, err := tls.X509KeyPair(pems[0], pems[1]); err != nil {
		return &KeyError{Key: "tls_cert", Msg: fmt.Sprintf("%s and %s are not a usable certificate and key: %v", c.TLSCert, c.TLSKey, err)}
	}
	return nil
}

// EnvName is the variable name for a name with any characters: upper case,
// non-alphanumerics as "_".
func EnvName(s string) string {
	b := []byte(strings.ToUpper(s))
	for i, ch := range b {
		if !(ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9') {
			b[i] = '_'
		}
	}
	return string(b)
}

// applyEnv lets TRTCD_* variables override any value, secrets included. It
// returns which keys it set, and from which variable.
func (c *Config) applyEnv(environ []string) (map[string]string, error) {
	set := map[string]string{}
	vars := map[string]string{}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, "TRTCD_") {
			vars[k] = v
		}
	}
	env := func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
	bad := func(name, msg string) error { return fmt.Errorf("config: %s: %s", name, msg) }
	str := map[string]*string{
		"TRTCD_LISTEN": &c.Listen, "TRTCD_TLS_CERT": &c.TLSCert, "TRTCD_TLS_KEY": &c.TLSKey,
		"TRTCD_REDIS": &c.Redis, "TRTCD_NODE_ID": &c.NodeID, "TRTCD_LOG_LEVEL": &c.LogLevel,
		"TRTCD_DATA_DIR": &c.DataDir, "TRTCD_HISTORY": &c.History,
	}
	for name, p := range str {
		if v, ok := env(name); ok {
			*p = v
			set[strings.ToLower(strings.TrimPrefix(name, "TRTCD_"))] = name
		}
	}
	durations := map[string]*Duration{"TRTCD_IDLE_TIMEOUT": &c.IdleTimeout, "TRTCD_USERSIG_MAX_SKEW": &c.UserSigMaxSkew,
		"TRTCD_HTTP_HEADER_TIMEOUT": &c.HTTPHeaderTimeout, "TRTCD_HTTP_READ_TIMEOUT": &c.HTTPReadTimeout,
		"TRTCD_HTTP_IDLE_TIMEOUT": &c.HTTPIdleTimeout, "TRTCD_REDIS_STARTUP_TIMEOUT": &c.RedisStartupTimeout,
		"TRTCD_HISTORY_RETENTION": &c.HistoryRetention}
	for name, p := range durations {
		if v, ok := env(name); ok {
			if err := p.UnmarshalText([]byte(v)); err != nil {
				return nil, bad(name, err.Error())
			}
			set[strings.ToLower(strings.TrimPrefix(name, "TRTCD_"))] = name
		}
	}
	ints := map[string]*int{"TRTCD_GC_PERCENT": &c.GCPercent, "TRTCD_CLIENT_QUEUE": &c.ClientQueue,
		"TRTCD_MAX_CLIENTS": &c.MaxClients, "TRTCD_FD_HEADROOM": &c.FDHeadroom, "TRTCD_DEVTOOLS_JOURNAL_SIZE": &c.DevTools.JournalSize}
	for name, p := range ints {
		if v, ok := env(name); ok {
			n, err := strconv.Atoi(v)
			if err != nil {
				return nil, bad(name, "must be an integer")
			}
			*p = n
			set[strings.ToLower(strings.TrimPrefix(name, "TRTCD_"))] = name
		}
	}
	if v, ok := env("TRTCD_UNAUTHENTICATED_BODY_BUDGET"); ok {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, bad("TRTCD_UNAUTHENTICATED_BODY_BUDGET", "must be an integer")
		}
		c.UnauthenticatedBodyBudget = n
		set["unauthenticated_body_budget"] = "TRTCD_UNAUTHENTICATED_BODY_BUDGET"
	}
	for name, p := range map[string]*bool{"TRTCD_DEBUG_PPROF": &c.DebugPprof, "TRTCD_DEVTOOLS_JOURNAL": &c.DevTools.Journal,
		"TRTCD_DEVTOOLS_FAULTS": &c.DevTools.Faults, "TRTCD_CONSOLE": nil} {
		v, ok := env(name)
		if !ok {
			continue
		}
		b, ok := parseBool(v)
		if !ok {
			return nil, bad(name, "must be true or false (or 1 or 0)")
		}
		if p == nil {
			c.Console = &b
		} else {
			*p = b
		}
	}
	if err := c.applyMediaEnv(env, set); err != nil {
		return nil, err
	}
	if v, ok := env("TRTCD_REGIONS"); ok {
		c.Regions = strings.Split(v, ",")
		set["regions"] = "TRTCD_REGIONS"
	}
	for k, v := range vars {
		if action, ok := strings.CutPrefix(k, "TRTCD_RATE_LIMIT_"); ok {
			n, err := strconv.Atoi(v)
			if err != nil {
				return nil, bad(k, "must be an integer")
			}
			if c.RateLimits == nil {
				c.RateLimits = map[string]int{}
			}
			c.RateLimits[action] = n
			set["rate_limits."+action] = k
		}
	}
	if err := c.applyCallbackEnv(env); err != nil {
		return nil, err
	}
	for i := range c.Accounts {
		a := &c.Accounts[i]
		prefix := "TRTCD_ACCOUNT_" + EnvName(a.Name) + "_"
		if v, ok := env(prefix + "SECRET_ID"); ok {
			a.SecretID = v
			set[fmt.Sprintf("accounts[%d].secret_id", i)] = prefix + "SECRET_ID"
		}
		if v, ok := env(prefix + "SECRET_KEY"); ok {
			a.SecretKey = v
			set[fmt.Sprintf("accounts[%d].secret_key", i)] = prefix + "SECRET_KEY"
		}
		for j := range a.Apps {
			name := fmt.Sprintf("TRTCD_APP_%d_KEY", a.Apps[j].SdkAppID)
			if v, ok := env(name); ok {
				a.Apps[j].Key = v
				set[fmt.Sprintf("accounts[%d].apps[%d].key", i, j)] = name
			}
		}
	}
	return set, nil
}

// parseBool reads a boolean from the environment as strictly as the YAML
// file does (true/false in any of YAML's three spellings), plus 1 and 0.
func parseBool(s string) (value, ok bool) {
	switch s {
	case "true", "True", "TRUE", "1":
		return true, true
	case "false", "False", "FALSE", "0":
		return false, true
	}
	return false, false
}

// Validate checks everything a server needs, naming the first bad key.
func (c *Config) Validate() error {
	bad := func(key, format string, args ...any) error {
		return &KeyError{Key: key, Msg: fmt.Sprintf(format, args...)}
	}
	host, port, err := net.SplitHostPort(c.Listen)
	if p, perr := strconv.Atoi(port); err != nil || perr != nil || p < 0 || p > 65535 {
		return bad("listen", "%q is not a host:port address", c.Listen)
	}
	if host != "" && net.ParseIP(host) == nil && strings.ContainsAny(host, " /") {
		return bad("listen", "%q is not a host:port address", c.Listen)
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		key := "tls_cert"
		if c.TLSKey != "" {
			key = "tls_key"
		}
		return bad(key, "tls_cert and tls_key must be set together")
	}
	if len(c.Accounts) == 0 {
		return bad("accounts", "at least one account is required")
	}
	ids, names := map[string]string{}, map[string]bool{}
	owner := map[uint64]string{}
	for i, a := range c.Accounts {
		key := fmt.Sprintf("accounts[%d]", i)
		switch {
		case a.Name == "":
			return bad(key+".name", "is required")
		case names[a.Name]:
			return bad(key+".name", "account %q is defined twice", a.Name)
		case a.SecretID == "":
			return bad(key+".secret_id", "is required (or set TRTCD_ACCOUNT_%s_SECRET_ID)", EnvName(a.Name))
		case a.SecretKey == "":
			return bad(key+".secret_key", "is required (or set TRTCD_ACCOUNT_%s_SECRET_KEY)", EnvName(a.Name))
		case ids[a.SecretID] != "":
			return bad(key+".secret_id", "is also the secret_id of account %q", ids[a.SecretID])
		}
		names[a.Name], ids[a.SecretID] = true, a.Name
		for j, app := range a.Apps {
			akey := fmt.Sprintf("%s.apps[%d]", key, j)
			switch {
			case app.SdkAppID == 0 || app.SdkAppID > 1<<32-1:
				return bad(akey+".sdkappid", "must be a positive 32-bit integer")
			case owner[app.SdkAppID] == a.Name:
				return bad(akey+".sdkappid", "%d is listed twice", app.SdkAppID)
			case owner[app.SdkAppID] != "":
				return bad(akey+".sdkappid", "%d is already owned by account %q", app.SdkAppID, owner[app.SdkAppID])
			case app.Key == "":
				return bad(akey+".key", "is required (or set TRTCD_APP_%d_KEY)", app.SdkAppID)
			}
			owner[app.SdkAppID] = a.Name
		}
	}
	for action, n := range c.RateLimits {
		if n <= 0 {
			return bad("rate_limits."+action, "must be a positive number of calls per second")
		}
	}
	for i, r := range c.Regions {
		if r == "" {
			return bad(fmt.Sprintf("regions[%d]", i), "is empty")
		}
	}
	if c.IdleTimeout.Duration < MinIdleTimeout {
		return bad("idle_timeout", "%s is too short: it must be at least %s, twice the %s interval at which clients ping, so that one late ping does not remove a client", c.IdleTimeout.Duration, MinIdleTimeout, client.DefaultHeartbeat)
	}
	// 0 (a Config built in code rather than loaded) means the default
	if skew := c.UserSigMaxSkew.Duration; skew != 0 && (skew < time.Second || skew > MaxUserSigMaxSkew) {
		return bad("usersig_max_skew", "must be from 1s to %s", MaxUserSigMaxSkew)
	}
	if c.GCPercent < 10 {
		return bad("gc_percent", "must be at least 10")
	}
	if c.ClientQueue < 0 {
		return bad("client_queue", "must not be negative")
	}
	for _, t := range []struct {
		key string
		d   time.Duration
	}{{"http_header_timeout", c.HTTPHeaderTimeout.Duration}, {"http_read_timeout", c.HTTPReadTimeout.Duration}, {"http_idle_timeout", c.HTTPIdleTimeout.Duration}} {
		if t.d < 0 || t.d > 0 && t.d < 100*time.Millisecond {
			return bad(t.key, "must be at least 100ms")
		}
	}
	if c.UnauthenticatedBodyBudget < 0 || c.UnauthenticatedBodyBudget > 0 && c.UnauthenticatedBodyBudget < 1<<20 {
		return bad("unauthenticated_body_budget", "must be at least 1048576 bytes (1 MiB)")
	}
	if c.MaxClients < 0 {
		return bad("max_clients", "must not be negative (0: no limit)")
	}
	if c.FDHeadroom < 0 {
		return bad("fd_headroom", "must not be negative")
	}
	if c.Redis != "" && !strings.HasPrefix(c.Redis, "redis://") && !strings.HasPrefix(c.Redis, "rediss://") {
		return bad("redis", "must be a redis:// or rediss:// URL")
	}
	if c.RedisStartupTimeout.Duration < 0 {
		return bad("redis_startup_timeout", "must not be negative")
	}
	if h := c.History; h != "" && h != "off" && !strings.HasPrefix(h, "postgres://") && !strings.HasPrefix(h, "postgresql://") {
		return bad("history", `must be "" (SQLite in data_dir on one node), "off", or a postgres:// URL`)
	}
	if r := c.HistoryRetention.Duration; r != 0 && r < time.Hour {
		return bad("history_retention", "must be at least 1h")
	}
	if n := c.DevTools.JournalSize; n < 0 || n > MaxJournalSize {
		return bad("devtools.journal_size", "must be from 1 to %d", MaxJournalSize)
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return bad("log_level", "must be debug, info, warn or error")
	}
	if err := c.validateCallbacks(); err != nil {
		return err
	}
	return c.validateMedia()
}

// Credentials maps SecretId → (account name, secret key).
func (c *Config) Credentials() map[string][2]string {
	m := make(map[string][2]string, len(c.Accounts))
	for _, a := range c.Accounts {
		m[a.SecretID] = [2]string{a.Name, a.SecretKey}
	}
	return m
}

// Apps maps SdkAppId → (owning account, UserSig key).
func (c *Config) Apps() map[uint64][2]string {
	m := map[uint64][2]string{}
	for _, a := range c.Accounts {
		for _, app := range a.Apps {
			m[app.SdkAppID] = [2]string{a.Name, app.Key}
		}
	}
	return m
}

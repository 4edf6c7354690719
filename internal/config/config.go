// Package config reads trtcd's YAML configuration, applies environment
// overrides, and validates the result, naming the key at fault.
package config

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
)

// Config is the whole configuration; docs/config.md documents every key.
type Config struct {
	Listen      string         `yaml:"listen"`
	TLSCert     string         `yaml:"tls_cert"`
	TLSKey      string         `yaml:"tls_key"`
	Accounts    []Account      `yaml:"accounts"`
	RateLimits  map[string]int `yaml:"rate_limits"`
	Regions     []string       `yaml:"regions"`
	Redis       string         `yaml:"redis"`
	NodeID      string         `yaml:"node_id"`
	IdleTimeout Duration       `yaml:"idle_timeout"`
	ClientQueue int            `yaml:"client_queue"`
	LogLevel    string         `yaml:"log_level"`
	DebugPprof  bool           `yaml:"debug_pprof"` // serve /debug/pprof/ (profiling; keep off in production)
	GCPercent   int            `yaml:"gc_percent"`  // Go's GOGC for the server; default 50
	DataDir     string         `yaml:"data_dir"`    // embedded stores (callbacks.db); default DefaultDataDir
	Callbacks   Callbacks      `yaml:"callbacks"`   // delivery policy of the apps' event callbacks
}

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
	SdkAppID uint64    `yaml:"sdkappid"`
	Key      string    `yaml:"key"`
	Callback *Callback `yaml:"callback"` // event callbacks (webhooks); nil: none
}

// Duration reads "10s", "1m30s".
type Duration struct{ time.Duration }

func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return err
	}
	d.Duration = v
	return nil
}

func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// DefaultGCPercent trades a little CPU for memory: a server holding many
// idle connections keeps less garbage headroom (measured in
// docs/benchmarks.md: 11.3 → 9.3 KB per idle client, same CPU per join).
const DefaultGCPercent = 50

// Development credentials: used only when no config file is given. They are
// public, printed at start-up, and must never protect anything real.
const (
	DevAccount   = "development"
	DevSecretID  = "AKIDtrtcdDEVELOPMENTONLY00000000000"
	DevSecretKey = "trtcdDEVELOPMENTONLYsecretKey0000"
	DevSdkAppID  = 1400000001
	DevAppKey    = "trtcd-development-only-app-key-0000000000000000000000000000000001"
)

// Defaults is the configuration of `trtcd serve` with no file: one node, in
// memory, on 127.0.0.1:8080, with the development account.
func Defaults() Config {
	return Config{
		Listen: "127.0.0.1:8080",
		Accounts: []Account{{Name: DevAccount, SecretID: DevSecretID, SecretKey: DevSecretKey,
			Apps: []App{{SdkAppID: DevSdkAppID, Key: DevAppKey}}}},
	}
}

// fill sets the defaults of keys a file may leave out.
func (c *Config) fill() {
	if c.Listen == "" {
		c.Listen = "127.0.0.1:8080"
	}
	if c.IdleTimeout.Duration == 0 {
		c.IdleTimeout.Duration = 10 * time.Second
	}
	if len(c.Regions) == 0 {
		c.Regions = []string{"ap-beijing", "ap-guangzhou", "ap-singapore"}
	}
	if c.LogLevel == "" {
		c.LogLevel = "info"
	}
	if c.GCPercent == 0 {
		c.GCPercent = DefaultGCPercent
	}
	if c.NodeID == "" {
		host, _ := os.Hostname()
		c.NodeID = fmt.Sprintf("%s-%d", host, os.Getpid())
	}
	c.fillCallbacks()
}

// Load reads path (or the defaults when path is empty), applies the
// environment (os.Environ() form, "KEY=value"), and validates.
func Load(path string, environ []string) (Config, error) {
	c := Defaults()
	if path != "" {
		c = Config{}
		b, err := os.ReadFile(path)
		if err != nil {
			return c, fmt.Errorf("config: %w", err)
		}
		if err := yaml.UnmarshalWithOptions(b, &c, yaml.Strict()); err != nil {
			first, _, _ := strings.Cut(err.Error(), "\n")
			return c, fmt.Errorf("config %s: %s", path, strings.TrimSpace(first))
		}
	}
	if err := c.applyEnv(environ); err != nil {
		return c, err
	}
	c.fill()
	return c, c.Validate()
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

// applyEnv lets TRTCD_* variables override any value, secrets included.
func (c *Config) applyEnv(environ []string) error {
	vars := map[string]string{}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, "TRTCD_") {
			vars[k] = v
		}
	}
	env := func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
	str := map[string]*string{
		"TRTCD_LISTEN": &c.Listen, "TRTCD_TLS_CERT": &c.TLSCert, "TRTCD_TLS_KEY": &c.TLSKey,
		"TRTCD_REDIS": &c.Redis, "TRTCD_NODE_ID": &c.NodeID, "TRTCD_LOG_LEVEL": &c.LogLevel,
	}
	for name, p := range str {
		if v, ok := env(name); ok {
			*p = v
		}
	}
	if v, ok := env("TRTCD_IDLE_TIMEOUT"); ok {
		if err := c.IdleTimeout.UnmarshalText([]byte(v)); err != nil {
			return fmt.Errorf("config: TRTCD_IDLE_TIMEOUT: %v", err)
		}
	}
	if v, ok := env("TRTCD_GC_PERCENT"); ok {
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("config: TRTCD_GC_PERCENT: not an integer")
		}
		c.GCPercent = n
	}
	if v, ok := env("TRTCD_CLIENT_QUEUE"); ok {
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("config: TRTCD_CLIENT_QUEUE: not an integer")
		}
		c.ClientQueue = n
	}
	if v, ok := env("TRTCD_DEBUG_PPROF"); ok {
		c.DebugPprof = v == "1" || v == "true"
	}
	if v, ok := env("TRTCD_REGIONS"); ok {
		c.Regions = strings.Split(v, ",")
	}
	for k, v := range vars {
		if action, ok := strings.CutPrefix(k, "TRTCD_RATE_LIMIT_"); ok {
			n, err := strconv.Atoi(v)
			if err != nil {
				return fmt.Errorf("config: %s: not an integer", k)
			}
			if c.RateLimits == nil {
				c.RateLimits = map[string]int{}
			}
			c.RateLimits[action] = n
		}
	}
	if err := c.applyCallbackEnv(env); err != nil {
		return err
	}
	for i := range c.Accounts {
		a := &c.Accounts[i]
		prefix := "TRTCD_ACCOUNT_" + EnvName(a.Name) + "_"
		if v, ok := env(prefix + "SECRET_ID"); ok {
			a.SecretID = v
		}
		if v, ok := env(prefix + "SECRET_KEY"); ok {
			a.SecretKey = v
		}
		for j := range a.Apps {
			if v, ok := env(fmt.Sprintf("TRTCD_APP_%d_KEY", a.Apps[j].SdkAppID)); ok {
				a.Apps[j].Key = v
			}
		}
	}
	return nil
}

// Validate checks everything a server needs, naming the first bad key.
func (c *Config) Validate() error {
	bad := func(key, format string, args ...any) error {
		return fmt.Errorf("config: %s: %s", key, fmt.Sprintf(format, args...))
	}
	host, port, err := net.SplitHostPort(c.Listen)
	if p, perr := strconv.Atoi(port); err != nil || perr != nil || p < 0 || p > 65535 {
		return bad("listen", "%q is not a host:port address", c.Listen)
	}
	if host != "" && net.ParseIP(host) == nil && strings.ContainsAny(host, " /") {
		return bad("listen", "%q is not a host:port address", c.Listen)
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return bad("tls_cert", "tls_cert and tls_key must be set together")
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
	if c.IdleTimeout.Duration < 100*time.Millisecond {
		return bad("idle_timeout", "must be at least 100ms")
	}
	if c.GCPercent < 10 {
		return bad("gc_percent", "must be at least 10")
	}
	if c.ClientQueue < 0 {
		return bad("client_queue", "must not be negative")
	}
	if c.Redis != "" && !strings.HasPrefix(c.Redis, "redis://") && !strings.HasPrefix(c.Redis, "rediss://") {
		return bad("redis", "must be a redis:// or rediss:// URL")
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return bad("log_level", "must be debug, info, warn or error")
	}
	return c.validateCallbacks()
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

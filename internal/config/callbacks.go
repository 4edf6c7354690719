package config

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Callback is one app's event callback: where the events go and the key
// their Sign header is made with (docs/callbacks.md).
type Callback struct {
	URL    string `yaml:"url"`    // http:// or https:// receiver
	Key    string `yaml:"key"`    // optional; at most 32 characters of [A-Za-z0-9], as the cloud allows
	Events []int  `yaml:"events"` // EventTypes to send (101-105, 201-206); empty: all
}

// Callbacks is the delivery policy shared by every app's callbacks. Zero
// values mean the defaults below.
type Callbacks struct {
	Timeout          Duration `yaml:"timeout"`            // a receiver must answer 200 within this
	RetryInterval    Duration `yaml:"retry_interval"`     // the wait after the immediate retry; doubles each time
	RetryMaxInterval Duration `yaml:"retry_max_interval"` // the longest wait between two attempts
	RetryHorizon     Duration `yaml:"retry_horizon"`      // an event older than this goes to the dead letters after a failure
	Concurrency      int      `yaml:"concurrency"`        // requests in flight per app (each to a different room)
}

// Callback defaults. The cloud's own policy is retry_horizon 1m with
// retry_interval and retry_max_interval 10s.
const (
	DefaultCallbackTimeout       = 5 * time.Second
	DefaultCallbackRetryInterval = time.Second
	DefaultCallbackRetryMax      = time.Minute
	DefaultCallbackRetryHorizon  = time.Hour
	DefaultCallbackConcurrency   = 16
	MaxCallbackKeyLen            = 32
)

// CallbackEventTypes are the TRTC EventTypes a callback filter may name:
// the room group (101-105) and the media group (201-206).
var CallbackEventTypes = []int{101, 102, 103, 104, 105, 201, 202, 203, 204, 205, 206}

// fillCallbacks sets the defaults of the callback keys a file may leave out.
func (c *Config) fillCallbacks() {
	p := &c.Callbacks
	if p.RetryMaxInterval.Duration == 0 { // unset: the default, or retry_interval when that is longer
		p.RetryMaxInterval.Duration = max(DefaultCallbackRetryMax, p.RetryInterval.Duration)
	}
	for _, d := range []struct {
		v   *Duration
		def time.Duration
	}{{&p.Timeout, DefaultCallbackTimeout}, {&p.RetryInterval, DefaultCallbackRetryInterval}, {&p.RetryHorizon, DefaultCallbackRetryHorizon}} {
		if d.v.Duration == 0 {
			d.v.Duration = d.def
		}
	}
	if p.Concurrency == 0 {
		p.Concurrency = DefaultCallbackConcurrency
	}
}

// applyCallbackEnv reads TRTCD_CALLBACKS_* and
// TRTCD_APP_<SDKAPPID>_CALLBACK_{URL,KEY,EVENTS}.
func (c *Config) applyCallbackEnv(env func(string) (string, bool)) error {
	for name, d := range map[string]*Duration{
		"TRTCD_CALLBACKS_TIMEOUT":            &c.Callbacks.Timeout,
		"TRTCD_CALLBACKS_RETRY_INTERVAL":     &c.Callbacks.RetryInterval,
		"TRTCD_CALLBACKS_RETRY_MAX_INTERVAL": &c.Callbacks.RetryMaxInterval,
		"TRTCD_CALLBACKS_RETRY_HORIZON":      &c.Callbacks.RetryHorizon,
	} {
		if v, ok := env(name); ok {
			if err := d.UnmarshalText([]byte(v)); err != nil {
				return fmt.Errorf("config: %s: %v", name, err)
			}
		}
	}
	if v, ok := env("TRTCD_CALLBACKS_CONCURRENCY"); ok {
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("config: TRTCD_CALLBACKS_CONCURRENCY: not an integer")
		}
		c.Callbacks.Concurrency = n
	}
	for i := range c.Accounts {
		for j := range c.Accounts[i].Apps {
			app := &c.Accounts[i].Apps[j]
			prefix := fmt.Sprintf("TRTCD_APP_%d_CALLBACK_", app.SdkAppID)
			get := func() *Callback {
				if app.Callback == nil {
					app.Callback = &Callback{}
				}
				return app.Callback
			}
			if v, ok := env(prefix + "URL"); ok {
				get().URL = v
			}
			if v, ok := env(prefix + "KEY"); ok {
				get().Key = v
			}
			if v, ok := env(prefix + "EVENTS"); ok {
				cb := get()
				cb.Events = nil
				for _, f := range strings.Split(v, ",") {
					if f = strings.TrimSpace(f); f == "" {
						continue
					}
					n, err := strconv.Atoi(f)
					if err != nil {
						return fmt.Errorf("config: %sEVENTS: %q is not an event type number", prefix, f)
					}
					cb.Events = append(cb.Events, n)
				}
			}
		}
	}
	return nil
}

// ValidCallbackKey: at most 32 characters of [A-Za-z0-9] (empty is allowed:
// the key is optional).
func ValidCallbackKey(k string) bool {
	if len(k) > MaxCallbackKeyLen {
		return false
	}
	for i := 0; i < len(k); i++ {
		ch := k[i]
		if !(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9') {
			return false
		}
	}
	return true
}

// validateCallbacks checks the callback keys, naming the first bad one.
func (c *Config) validateCallbacks() error {
	bad := func(key, format string, args ...any) error {
		return fmt.Errorf("config: %s: %s", key, fmt.Sprintf(format, args...))
	}
	p := c.Callbacks
	for _, d := range []struct {
		key string
		v   time.Duration
		min time.Duration
	}{{"callbacks.timeout", p.Timeout.Duration, 10 * time.Millisecond},
		{"callbacks.retry_interval", p.RetryInterval.Duration, time.Millisecond},
		{"callbacks.retry_max_interval", p.RetryMaxInterval.Duration, time.Millisecond},
		{"callbacks.retry_horizon", p.RetryHorizon.Duration, time.Millisecond}} {
		if d.v != 0 && d.v < d.min { // 0: the default
			return bad(d.key, "must be at least %v", d.min)
		}
	}
	if p.RetryMaxInterval.Duration != 0 && p.RetryMaxInterval.Duration < p.RetryInterval.Duration {
		return bad("callbacks.retry_max_interval", "must not be shorter than callbacks.retry_interval")
	}
	if p.Concurrency < 0 || p.Concurrency > 1024 {
		return bad("callbacks.concurrency", "must be between 1 and 1024")
	}
	known := map[int]bool{}
	for _, t := range CallbackEventTypes {
		known[t] = true
	}
	for i, a := range c.Accounts {
		for j, app := range a.Apps {
			cb := app.Callback
			if cb == nil {
				continue
			}
			key := fmt.Sprintf("accounts[%d].apps[%d].callback", i, j)
			u, err := url.Parse(cb.URL)
			switch {
			case cb.URL == "":
				return bad(key+".url", "is required (or set TRTCD_APP_%d_CALLBACK_URL)", app.SdkAppID)
			case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
				return bad(key+".url", "%q is not an http:// or https:// URL", cb.URL)
			case !ValidCallbackKey(cb.Key):
				return bad(key+".key", "must be at most %d characters of A-Z a-z 0-9", MaxCallbackKeyLen)
			}
			for k, t := range cb.Events {
				if !known[t] {
					return bad(fmt.Sprintf("%s.events[%d]", key, k), "%d is not a callback event type (101-105, 201-206)", t)
				}
			}
		}
	}
	return nil
}

package config

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

const callbackYAML = `
accounts:
  - name: acme
    secret_id: "AKIDacme"
    secret_key: "acme-secret"
    apps:
      - sdkappid: 1400000001
        key: "app-key"
        callback:
          url: "https://hooks.example.com/trtc"
          key: "Abc123"
          events: [103, 104]
      - sdkappid: 1400000002
        key: "app-key-2"
`

func TestCallbackKeysAndDefaults(t *testing.T) {
	c, err := Load(write(t, callbackYAML), nil)
	if err != nil {
		t.Fatal(err)
	}
	cb := c.Accounts[0].Apps[0].Callback
	if cb == nil || cb.URL != "https://hooks.example.com/trtc" || cb.Key != "Abc123" || !reflect.DeepEqual(cb.Events, []int{103, 104}) {
		t.Fatalf("callback %+v", cb)
	}
	if c.Accounts[0].Apps[1].Callback != nil {
		t.Fatal("app without callback got one")
	}
	p := c.Callbacks
	if c.DataDir != DefaultDataDir || p.Timeout.Duration != 5*time.Second || p.RetryInterval.Duration != time.Second ||
		p.RetryMaxInterval.Duration != time.Minute || p.RetryHorizon.Duration != time.Hour || p.Concurrency != 16 {
		t.Fatalf("defaults %+v %q", p, c.DataDir)
	}
}

func TestCallbackEnvOverrides(t *testing.T) {
	c, err := Load(write(t, callbackYAML), []string{
		"TRTCD_DATA_DIR=/var/lib/trtcd", "TRTCD_CALLBACKS_TIMEOUT=2s", "TRTCD_CALLBACKS_RETRY_INTERVAL=10s",
		"TRTCD_CALLBACKS_RETRY_MAX_INTERVAL=10s", "TRTCD_CALLBACKS_RETRY_HORIZON=1m", "TRTCD_CALLBACKS_CONCURRENCY=3",
		"TRTCD_APP_1400000001_CALLBACK_KEY=fromEnv", "TRTCD_APP_1400000001_CALLBACK_EVENTS=101, 102",
		"TRTCD_APP_1400000002_CALLBACK_URL=http://127.0.0.1:9000/cb",
	})
	if err != nil {
		t.Fatal(err)
	}
	p := c.Callbacks
	if c.DataDir != "/var/lib/trtcd" || p.Timeout.Duration != 2*time.Second || p.RetryInterval.Duration != 10*time.Second ||
		p.RetryMaxInterval.Duration != 10*time.Second || p.RetryHorizon.Duration != time.Minute || p.Concurrency != 3 {
		t.Fatalf("policy %+v", p)
	}
	a, b := c.Accounts[0].Apps[0].Callback, c.Accounts[0].Apps[1].Callback
	if a.Key != "fromEnv" || !reflect.DeepEqual(a.Events, []int{101, 102}) || b == nil || b.URL != "http://127.0.0.1:9000/cb" {
		t.Fatalf("apps %+v %+v", a, b)
	}
}

func TestBadCallbackConfigsNameTheKey(t *testing.T) {
	app := func(cb string) string {
		return strings.Replace(callbackYAML, `          url: "https://hooks.example.com/trtc"
          key: "Abc123"
          events: [103, 104]`, cb, 1)
	}
	for _, c := range []struct {
		yaml string
		env  []string
		want string
	}{
		{app(`          url: "ftp://hooks.example.com/"`), nil, `accounts[0].apps[0].callback.url: "ftp://hooks.example.com/" is not an http:// or https:// URL`},
		{app(`          url: "hooks.example.com/trtc"`), nil, "accounts[0].apps[0].callback.url: "},
		{app(`          url: "http://"`), nil, "accounts[0].apps[0].callback.url: "},
		{app(`          key: "abc"`), nil, "accounts[0].apps[0].callback.url: is required (or set TRTCD_APP_1400000001_CALLBACK_URL)"},
		{app(`          url: "http://x/"
          key: "has-dash"`), nil, "accounts[0].apps[0].callback.key: must be at most 32 characters of A-Z a-z 0-9"},
		{app(`          url: "http://x/"
          key: "` + strings.Repeat("a", 33) + `"`), nil, "accounts[0].apps[0].callback.key: must be at most 32"},
		{app(`          url: "http://x/"
          events: [103, 107]`), nil, "accounts[0].apps[0].callback.events[1]: 107 is not a callback event type"},
		{callbackYAML, []string{"TRTCD_APP_1400000002_CALLBACK_URL=mailto:x@y"}, "accounts[0].apps[1].callback.url: "},
		{callbackYAML, []string{"TRTCD_APP_1400000001_CALLBACK_KEY=bad key"}, "accounts[0].apps[0].callback.key: "},
		{callbackYAML, []string{"TRTCD_APP_1400000001_CALLBACK_EVENTS=103,x"}, `TRTCD_APP_1400000001_CALLBACK_EVENTS: "x" is not an event type number`},
		{callbackYAML, []string{"TRTCD_CALLBACKS_TIMEOUT=soon"}, "TRTCD_CALLBACKS_TIMEOUT: "},
		{callbackYAML, []string{"TRTCD_CALLBACKS_CONCURRENCY=-1"}, "callbacks.concurrency: must be between 1 and 1024"},
		{callbackYAML + "callbacks:\n  timeout: 1ms\n", nil, "callbacks.timeout: must be at least 10ms"},
		{callbackYAML + "callbacks:\n  retry_interval: 1m\n  retry_max_interval: 10s\n", nil, "callbacks.retry_max_interval: must not be shorter than callbacks.retry_interval"},
	} {
		_, err := Load(write(t, c.yaml), c.env)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v %v: got %v, want %q", c.env, c.yaml[strings.Index(c.yaml, "apps:"):], err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), "Abc123") {
			t.Errorf("error shows the key: %v", err)
		}
	}
}

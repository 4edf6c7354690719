package config

import (
	"strings"
	"testing"
	"time"
)

// TestFrontDoorLimits: the limits take their defaults, are read from the
// file and the environment, and bad values are refused naming the key.
func TestFrontDoorLimits(t *testing.T) {
	c, err := Load(write(t, goodYAML), nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTPHeaderTimeout.Duration != DefaultHTTPHeaderTimeout || c.HTTPReadTimeout.Duration != DefaultHTTPReadTimeout ||
		c.HTTPIdleTimeout.Duration != DefaultHTTPIdleTimeout || c.UnauthenticatedBodyBudget != DefaultUnauthenticatedBodyBudget ||
		c.MaxClients != 0 || c.FDHeadroom != DefaultFDHeadroom {
		t.Fatalf("defaults %+v", c)
	}

	file := goodYAML + "http_read_timeout: 5s\nmax_clients: 15000\n"
	env := []string{"TRTCD_HTTP_IDLE_TIMEOUT=2s", "TRTCD_HTTP_HEADER_TIMEOUT=1s", "TRTCD_FD_HEADROOM=100",
		"TRTCD_UNAUTHENTICATED_BODY_BUDGET=2097152"}
	c, err = Load(write(t, file), env)
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTPReadTimeout.Duration != 5*time.Second || c.MaxClients != 15000 || c.HTTPIdleTimeout.Duration != 2*time.Second ||
		c.HTTPHeaderTimeout.Duration != time.Second || c.FDHeadroom != 100 || c.UnauthenticatedBodyBudget != 2<<20 {
		t.Fatalf("not applied: %+v", c)
	}

	for _, tc := range []struct{ yaml, env, want string }{
		{"http_read_timeout: 10ms\n", "", "http_read_timeout: must be at least 100ms"},
		{"http_idle_timeout: -1s\n", "", "http_idle_timeout: must be at least 100ms"},
		{"", "TRTCD_HTTP_HEADER_TIMEOUT=soon", "TRTCD_HTTP_HEADER_TIMEOUT"},
		{"unauthenticated_body_budget: 1000\n", "", "unauthenticated_body_budget: must be at least 1048576 bytes"},
		{"max_clients: -1\n", "", "max_clients: must not be negative"},
		{"", "TRTCD_MAX_CLIENTS=many", "TRTCD_MAX_CLIENTS: must be an integer"},
		{"fd_headroom: -5\n", "", "fd_headroom: must not be negative"},
	} {
		var env []string
		if tc.env != "" {
			env = []string{tc.env}
		}
		_, err := Load(write(t, goodYAML+tc.yaml), env)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q %q: got %v, want %q", tc.yaml, tc.env, err, tc.want)
		}
	}
}

package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const goodYAML = `
listen: "127.0.0.1:9000"
accounts:
  - name: acme
    secret_id: "AKIDacme"
    secret_key: "acme-secret"
    apps:
      - sdkappid: 1400000001
        key: "app-key"
rate_limits:
  RemoveUser: 5
redis: ""
node_id: "n1"
`

func write(t *testing.T, body string) string {
	p := filepath.Join(t.TempDir(), "trtcd.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDefaultsWithoutFile(t *testing.T) {
	c, err := Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != "127.0.0.1:8080" || c.Redis != "" || c.IdleTimeout.Duration != 10*time.Second {
		t.Fatalf("defaults %+v", c)
	}
	if got := c.Apps()[DevSdkAppID]; got != [2]string{DevAccount, DevAppKey} {
		t.Fatalf("dev app %v", got)
	}
	if got := c.Credentials()[DevSecretID]; got != [2]string{DevAccount, DevSecretKey} {
		t.Fatalf("dev credentials %v", got)
	}
}

func TestGoodFileAndEnvOverrides(t *testing.T) {
	env := []string{"TRTCD_LISTEN=0.0.0.0:7000", "TRTCD_ACCOUNT_ACME_SECRET_KEY=from-env",
		"TRTCD_APP_1400000001_KEY=env-app-key", "TRTCD_RATE_LIMIT_DismissRoom=7", "TRTCD_IDLE_TIMEOUT=7s", "PATH=/bin"}
	c, err := Load(write(t, goodYAML), env)
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != "0.0.0.0:7000" || c.Accounts[0].SecretKey != "from-env" || c.Accounts[0].Apps[0].Key != "env-app-key" {
		t.Fatalf("overrides not applied: %+v", c)
	}
	if c.RateLimits["RemoveUser"] != 5 || c.RateLimits["DismissRoom"] != 7 || c.IdleTimeout.Duration != 7*time.Second || c.NodeID != "n1" {
		t.Fatalf("values %+v", c)
	}
}

func TestSecretsOnlyFromEnv(t *testing.T) {
	body := strings.Replace(goodYAML, `    secret_key: "acme-secret"`+"\n", "", 1)
	if _, err := Load(write(t, body), nil); err == nil || !strings.Contains(err.Error(), "accounts[0].secret_key") || !strings.Contains(err.Error(), "TRTCD_ACCOUNT_ACME_SECRET_KEY") {
		t.Fatalf("missing secret: %v", err)
	}
	if _, err := Load(write(t, body), []string{"TRTCD_ACCOUNT_ACME_SECRET_KEY=s"}); err != nil {
		t.Fatalf("secret from env: %v", err)
	}
}

func TestBadConfigsNameTheKey(t *testing.T) {
	cases := []struct{ name, body, key string }{
		{"unknown key", goodYAML + "colour: blue\n", `colour: unknown key`},
		{"unknown nested key", strings.Replace(goodYAML, "name: acme", "name: acme\n    region: x", 1), `accounts[0].region: unknown key`},
		{"not YAML", "listen: [", "config"},
		{"missing secret_id", strings.Replace(goodYAML, `    secret_id: "AKIDacme"`+"\n", "", 1), "accounts[0].secret_id"},
		{"missing app key", strings.Replace(goodYAML, `        key: "app-key"`+"\n", "", 1), "accounts[0].apps[0].key"},
		{"bad listen", strings.Replace(goodYAML, `"127.0.0.1:9000"`, `"localhost"`, 1), "listen"},
		{"bad port", strings.Replace(goodYAML, `"127.0.0.1:9000"`, `"127.0.0.1:99999"`, 1), "listen"},
		{"duplicate SecretId", goodYAML + "", ""},
		{"negative rate limit", strings.Replace(goodYAML, "RemoveUser: 5", "RemoveUser: -1", 1), "rate_limits.RemoveUser"},
		{"zero sdkappid", strings.Replace(goodYAML, "1400000001", "0", 1), "accounts[0].apps[0].sdkappid"},
		{"tls cert alone", goodYAML + "tls_cert: /x.pem\n", "tls_cert"},
		{"bad redis url", strings.Replace(goodYAML, `redis: ""`, `redis: "localhost:6379"`, 1), "redis"},
		{"bad idle timeout", goodYAML + "idle_timeout: soon\n", "idle_timeout"},
		{"no accounts", "listen: \"127.0.0.1:1\"\n", "accounts"},
	}
	twoAccounts := goodYAML + `  - name: other
    secret_id: "AKIDacme"
    secret_key: "x"
`
	twoAccounts = strings.Replace(twoAccounts, "rate_limits:\n  RemoveUser: 5\nredis: \"\"\nnode_id: \"n1\"\n", "", 1) + "node_id: n1\n"
	cases[7] = struct{ name, body, key string }{"duplicate SecretId", twoAccounts, "accounts[1].secret_id"}
	sameApp := strings.Replace(twoAccounts, `secret_id: "AKIDacme"
    secret_key: "x"`, `secret_id: "AKIDother"
    secret_key: "x"
    apps:
      - sdkappid: 1400000001
        key: "k2"`, 1)
	cases = append(cases,
		struct{ name, body, key string }{"SdkAppId owned by two accounts", sameApp, "accounts[1].apps[0].sdkappid"},
		struct{ name, body, key string }{"duplicate SdkAppId in one account", strings.Replace(goodYAML, `        key: "app-key"`, "        key: \"app-key\"\n      - sdkappid: 1400000001\n        key: k", 1), "accounts[0].apps[1].sdkappid"},
	)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Load(write(t, c.body), nil)
			if err == nil {
				t.Fatal("accepted")
			}
			if strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), c.key) {
				t.Fatalf("message %q does not name %s on one line", err, c.key)
			}
		})
	}
}

func TestBadEnvValues(t *testing.T) {
	for _, env := range []string{"TRTCD_IDLE_TIMEOUT=x", "TRTCD_RATE_LIMIT_RemoveUser=many", "TRTCD_LISTEN=nowhere"} {
		if _, err := Load("", []string{env}); err == nil {
			t.Errorf("%s accepted", env)
		}
	}
}

package config

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// base is a good file; line 1 is "listen", the app's sdkappid is on line 7.
const base = `listen: "127.0.0.1:9000"
accounts:
  - name: acme
    secret_id: "AKIDacme"
    secret_key: "acme-secret"
    apps:
      - sdkappid: 1400000001
        key: "app-key"
`

// goTerms are words of Go's type system that must never reach the user.
var goTerms = []string{"Go struct", "Go value", "of type", "unmarshal", "Config.", "uint64", "int64", "time:"}

func checkMessage(t *testing.T, err error, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("accepted; want %q", want)
	}
	msg := err.Error()
	if !strings.Contains(msg, want) || strings.Contains(msg, "\n") {
		t.Fatalf("got  %q\nwant one line containing %q", msg, want)
	}
	for _, g := range goTerms {
		if strings.Contains(msg, g) {
			t.Fatalf("%q speaks Go (%q)", msg, g)
		}
	}
}

// TestBadValuesInTheUsersTerms: each bad file is reported with the file's
// line, the key path as the file spells it, and what the value must be.
func TestBadValuesInTheUsersTerms(t *testing.T) {
	withApp := func(extra string) string {
		return strings.Replace(base, `        key: "app-key"`, `        key: "app-key"`+"\n        "+extra, 1)
	}
	cases := []struct{ name, body, want string }{
		{"string for an integer", base + "client_queue: many\n", "trtcd.yaml:9: client_queue: must be an integer"},
		{"string for the sdkappid", strings.Replace(base, "1400000001", "abc", 1), "trtcd.yaml:7: accounts[0].apps[0].sdkappid: must be a positive integer"},
		{"negative sdkappid", strings.Replace(base, "1400000001", "-5", 1), "trtcd.yaml:7: accounts[0].apps[0].sdkappid: is out of range for a positive integer"},
		{"huge integer", base + "client_queue: 99999999999999999999999\n", "trtcd.yaml:9: client_queue: is out of range for an integer"},
		{"yes for a boolean", base + "debug_pprof: yes\n", "trtcd.yaml:9: debug_pprof: must be true or false"},
		{"1 for a boolean", base + "debug_pprof: 1\n", "trtcd.yaml:9: debug_pprof: must be true or false"},
		{"bad require_privatemapkey", withApp("require_privatemapkey: maybe"), "trtcd.yaml:9: accounts[0].apps[0].require_privatemapkey: must be true or false"},
		{"bad duration", base + "idle_timeout: soon\n", "trtcd.yaml:9: idle_timeout: must be a duration such as 10s"},
		{"duration without a unit", base + "idle_timeout: 10\n", "trtcd.yaml:9: idle_timeout: must be a duration such as 10s"},
		{"bad usersig_max_skew", base + "usersig_max_skew: later\n", "trtcd.yaml:9: usersig_max_skew: must be a duration"},
		{"list as a duration", base + "idle_timeout: [1s]\n", "trtcd.yaml:9: idle_timeout: must be a duration"},
		{"string for a list", base + "regions: ap-beijing\n", "trtcd.yaml:9: regions: must be a list"},
		{"number for the accounts", "accounts: 5\n", "trtcd.yaml:1: accounts: must be a list"},
		{"string for a rate", base + "rate_limits:\n  RemoveUser: x\n", "trtcd.yaml:10: rate_limits.RemoveUser: must be an integer"},
		{"list for a string", "listen: [a, b]\n" + strings.SplitN(base, "\n", 2)[1], "trtcd.yaml:1: listen: must be a string"},
		{"unknown nested key", withApp("colour: blue"), "trtcd.yaml:9: accounts[0].apps[0].colour: unknown key"},
		{"duplicate key", base + "listen: \"127.0.0.1:1\"\n", `trtcd.yaml:9: mapping key "listen" already defined`},
		{"idle_timeout below two pings", base + "idle_timeout: 5s\n", "trtcd.yaml:9: idle_timeout: 5s is too short: it must be at least 6s, twice the 3s interval at which clients ping"},
		{"usersig_max_skew too large", base + "usersig_max_skew: 48h\n", "trtcd.yaml:9: usersig_max_skew: must be from 1s to 24h0m0s"},
		{"usersig_max_skew negative", base + "usersig_max_skew: -1s\n", "trtcd.yaml:9: usersig_max_skew: must be from 1s"},
		{"bad listen", strings.Replace(base, `"127.0.0.1:9000"`, `"localhost"`, 1), `trtcd.yaml:1: listen: "localhost" is not a host:port address`},
		{"missing secret names the account's line", strings.Replace(base, `    secret_key: "acme-secret"`+"\n", "", 1), "trtcd.yaml:3: accounts[0].secret_key: is required"},
		{"missing app key names the app's line", strings.Replace(base, `        key: "app-key"`+"\n", "", 1), "trtcd.yaml:7: accounts[0].apps[0].key: is required"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Load(write(t, c.body), nil)
			checkMessage(t, err, c.want)
		})
	}
	if _, err := Load(write(t, base+"idle_timeout: 6s\nusersig_max_skew: 1s\n"), nil); err != nil {
		t.Fatalf("the smallest allowed values: %v", err)
	}
}

func TestBadEnvironmentNamesTheVariable(t *testing.T) {
	cases := []struct{ env, want string }{
		{"TRTCD_DEBUG_PPROF=yes", "config: TRTCD_DEBUG_PPROF: must be true or false"},
		{"TRTCD_DEBUG_PPROF=on", "config: TRTCD_DEBUG_PPROF: must be true or false"},
		{"TRTCD_IDLE_TIMEOUT=x", "config: TRTCD_IDLE_TIMEOUT: must be a duration such as 10s"},
		{"TRTCD_IDLE_TIMEOUT=1s", "config: TRTCD_IDLE_TIMEOUT (idle_timeout): 1s is too short"},
		{"TRTCD_USERSIG_MAX_SKEW=0.5s", "config: TRTCD_USERSIG_MAX_SKEW (usersig_max_skew): must be from 1s"},
		{"TRTCD_CLIENT_QUEUE=many", "config: TRTCD_CLIENT_QUEUE: must be an integer"},
		{"TRTCD_GC_PERCENT=5", "config: TRTCD_GC_PERCENT (gc_percent): must be at least 10"},
		{"TRTCD_RATE_LIMIT_RemoveUser=many", "config: TRTCD_RATE_LIMIT_RemoveUser: must be an integer"},
		{"TRTCD_LISTEN=nowhere", `config: TRTCD_LISTEN (listen): "nowhere" is not a host:port address`},
	}
	for _, c := range cases {
		t.Run(c.env, func(t *testing.T) {
			_, err := Load("", []string{c.env})
			checkMessage(t, err, c.want)
		})
	}
	for env, want := range map[string]bool{"TRTCD_DEBUG_PPROF=true": true, "TRTCD_DEBUG_PPROF=1": true, "TRTCD_DEBUG_PPROF=FALSE": false, "TRTCD_DEBUG_PPROF=0": false} {
		c, err := Load("", []string{env})
		if err != nil || c.DebugPprof != want {
			t.Errorf("%s: %v %v", env, c.DebugPprof, err)
		}
	}
}

// selfSigned writes a certificate and key for 127.0.0.1 into dir.
func selfSigned(t *testing.T, dir string) (cert, key string) {
	t.Helper()
	priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "trtcd test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(priv)
	cert, key = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(key, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600)
	return cert, key
}

// TestTLSFilesAreChecked: a missing, unreadable or unusable certificate or
// key is a configuration error at load, naming the key and its line.
func TestTLSFilesAreChecked(t *testing.T) {
	dir := t.TempDir()
	cert, key := selfSigned(t, dir)
	garbage := filepath.Join(dir, "garbage.pem")
	os.WriteFile(garbage, []byte("not a certificate"), 0o600)
	tlsLines := func(c, k string) string { return base + "tls_cert: " + c + "\ntls_key: " + k + "\n" }
	cases := []struct{ name, body, want string }{
		{"missing certificate", tlsLines(filepath.Join(dir, "none.pem"), key), "trtcd.yaml:9: tls_cert: cannot read " + filepath.Join(dir, "none.pem") + ": no such file or directory"},
		{"missing key", tlsLines(cert, filepath.Join(dir, "none.pem")), "trtcd.yaml:10: tls_key: cannot read"},
		{"unreadable certificate (a directory)", tlsLines(dir, key), "trtcd.yaml:9: tls_cert: cannot read " + dir + ": is a directory"},
		{"not a certificate", tlsLines(garbage, key), "trtcd.yaml:9: tls_cert: " + garbage + " and " + key + " are not a usable certificate and key"},
		{"certificate and key swapped", tlsLines(key, cert), "tls_cert: " + key + " and " + cert + " are not a usable"},
		{"key without certificate", base + "tls_key: " + key + "\n", "trtcd.yaml:9: tls_key: tls_cert and tls_key must be set together"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Load(write(t, c.body), nil)
			checkMessage(t, err, c.want)
		})
	}
	if _, err := Load(write(t, tlsLines(cert, key)), nil); err != nil {
		t.Fatalf("good pair: %v", err)
	}
	_, err := Load("", []string{"TRTCD_TLS_CERT=" + filepath.Join(dir, "none.pem"), "TRTCD_TLS_KEY=" + key})
	checkMessage(t, err, "config: TRTCD_TLS_CERT (tls_cert): cannot read")
}

// FuzzLoadFile: any file is either loaded or refused with one line that does
// not speak Go; never a panic.
func FuzzLoadFile(f *testing.F) {
	f.Add(base)
	f.Add(base + "client_queue: many\n")
	f.Add("accounts: 5\n")
	f.Add("listen: [\n")
	f.Add(base + "idle_timeout: [1s]\nregions: {a: b}\n")
	f.Add("a: &x [*x]\n")
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, body string) {
		p := filepath.Join(dir, "fuzz.yaml")
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := Load(p, nil)
		if err == nil {
			return
		}
		if strings.Contains(err.Error(), "\n") {
			t.Fatalf("two lines: %q", err)
		}
		for _, g := range []string{"Go struct", "Go value"} {
			if strings.Contains(err.Error(), g) {
				t.Fatalf("speaks Go: %q", err)
			}
		}
	})
}

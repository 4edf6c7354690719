package config

import (
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

const exampleFile = "../../trtcd.example.yaml"

// TestExampleFile: the example configuration loads, shows every key that
// exists, and its values are the defaults it claims.
func TestExampleFile(t *testing.T) {
	ex, err := Load(exampleFile, nil)
	if err != nil {
		t.Fatal(err)
	}
	src, _ := os.ReadFile(exampleFile)
	var missing []string
	for _, typ := range []reflect.Type{reflect.TypeFor[Config](), reflect.TypeFor[Account](), reflect.TypeFor[App](), reflect.TypeFor[MediaConfig](), reflect.TypeFor[DevTools]()} {
		for f := range typ.Fields() {
			key, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if key != "" && !regexp.MustCompile(`(?m)^\s*(- )?`+regexp.QuoteMeta(key)+`:`).Match(src) {
				missing = append(missing, key)
			}
		}
	}
	if len(missing) > 0 {
		t.Fatalf("trtcd.example.yaml does not show %v", missing)
	}
	// Every value other than the accounts and rate limits is the default.
	min := "accounts:\n  - name: acme\n    secret_id: x\n    secret_key: y\n"
	def, err := Load(write(t, min), nil)
	if err != nil {
		t.Fatal(err)
	}
	ex.Accounts, def.Accounts, ex.RateLimits, def.RateLimits = nil, nil, nil, nil
	if !reflect.DeepEqual(ex, def) {
		t.Fatalf("the example's values are not the defaults:\nexample  %+v\ndefaults %+v", ex, def)
	}
}

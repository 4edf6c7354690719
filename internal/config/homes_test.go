package config

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestOneHomePerDefault: each default and each cloud fact that used to be
// copied around is written once in the non-test Go sources, in its home.
func TestOneHomePerDefault(t *testing.T) {
	homes := map[string]string{
		`"2019-07-22"`:                   "internal/trtc/actions.go",     // trtc.Version
		`"ap-guangzhou"`:                 "internal/trtc/actions.go",     // trtc.DefaultClientRegion, in DefaultRegions
		`"ap-beijing"`:                   "internal/trtc/actions.go",     // trtc.DefaultRegions
		`"127.0.0.1:8080"`:               "internal/config/config.go",    // config.DefaultListen
		`800 * time.Millisecond`:         "internal/cluster/registry.go", // cluster.DefaultOpTimeout
		`RegisterMessages`:               "",                             // error messages live in their constructors
		`IdleTimeout = 10 * time.Second`: "internal/signal/server.go",    // signal.DefaultIdleTimeout
		`IdleTimeout.Duration = 10 *`:    "",
		`Duration{Duration: 10 *`:        "",
	}
	found := map[string][]string{}
	root := filepath.Join("..", "..")
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && strings.HasPrefix(d.Name(), ".") && p != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		for lit := range homes {
			if n := strings.Count(string(b), lit); n > 0 {
				for i := 0; i < n; i++ {
					found[lit] = append(found[lit], filepath.ToSlash(rel))
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for lit, home := range homes {
		want := []string{home}
		if home == "" {
			want = nil
		}
		if strings.Join(found[lit], " ") != strings.Join(want, " ") {
			t.Errorf("%s is written in %v; want only in %v", lit, found[lit], want)
		}
	}
}

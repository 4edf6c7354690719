package testkit

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"testing"
)

// postgresBinDir finds PostgreSQL's server binaries (initdb, pg_ctl): on
// the PATH, or in Debian's /usr/lib/postgresql/<version>/bin; "" when absent.
func postgresBinDir() string {
	if p, err := exec.LookPath("initdb"); err == nil {
		if r, err := filepath.EvalSymlinks(p); err == nil {
			p = r
		}
		return filepath.Dir(p)
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(dirs) == 0 {
		return ""
	}
	sort.Strings(dirs)
	return filepath.Dir(dirs[len(dirs)-1])
}

// StartPostgres starts a throwaway PostgreSQL server as scripts/postgres.sh
// does (initdb into a temporary directory, pg_ctl on a free port with its
// socket in that directory, trust authentication), stopped and removed when
// the test ends, and returns its admin URL. It never uses a server that
// happens to run. The test is skipped with a message when PostgreSQL's
// binaries are absent (scripts/test.sh installs them).
func StartPostgres(t testing.TB) string {
	t.Helper()
	bin := postgresBinDir()
	if bin == "" {
		t.Skip("PostgreSQL's initdb is not installed: skipping (scripts/test.sh installs Debian's postgresql)")
	}
	dir, err := os.MkdirTemp("", "trtcd-pg-")
	if err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "sock")
	if err := os.Mkdir(sock, 0o700); err != nil {
		t.Fatal(err)
	}
	// initdb refuses to run as root: run the server as the postgres user.
	var as []string
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Skipf("running as root without a postgres user: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		filepath.Walk(dir, func(p string, _ os.FileInfo, _ error) error { return os.Chown(p, uid, gid) })
		as = []string{"runuser", "-u", "postgres", "--"}
	}
	run := func(name string, args ...string) error {
		argv := append(append(append([]string{}, as...), filepath.Join(bin, name)), args...)
		out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("%s: %v: %s", name, err, out)
		}
		return nil
	}
	data := filepath.Join(dir, "data")
	if err := run("initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8"); err != nil {
		os.RemoveAll(dir)
		t.Fatal(err)
	}
	_, ps, _ := net.SplitHostPort(FreeAddr(t))
	port, _ := strconv.Atoi(ps)
	if err := run("pg_ctl", "-D", data, "-l", filepath.Join(dir, "server.log"), "-w", "-t", "60", "start",
		"-o", fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c max_connections=300", port, sock)); err != nil {
		os.RemoveAll(dir)
		t.Fatal(err)
	}
	t.Cleanup(func() {
		run("pg_ctl", "-D", data, "-m", "immediate", "stop")
		os.RemoveAll(dir)
	})
	return fmt.Sprintf("postgres://postgres@/postgres?host=%s&port=%d&sslmode=disable", sock, port)
}

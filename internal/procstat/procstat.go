// Package procstat reads a process's resident memory from /proc (Linux).
package procstat

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// RSS is the resident set size in bytes of process pid ("self" for this one).
func RSS(pid string) (int64, error) {
	path := "/proc/" + pid + "/status"
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb * 1024, err
		}
	}
	return 0, fmt.Errorf("no VmRSS in %s", path)
}

package loadtest_test

import (
	"testing"

	"github.com/trtcd/trtcd/internal/loadtest"
	tk "github.com/trtcd/trtcd/internal/testkit"
)

// TestServerFiguresFromMetrics: the load tool reads the server's resident
// memory and CPU time from a real node's /metrics (the process collector's
// names).
func TestServerFiguresFromMetrics(t *testing.T) {
	n := tk.Start(t, tk.Config())
	server := "http://" + n.Addr()
	rss, err := loadtest.ServerRSS(server)
	if err != nil || rss <= 0 {
		t.Fatalf("ServerRSS = %d, %v", rss, err)
	}
	if cpu, err := loadtest.ServerCPU(server); err != nil || cpu <= 0 {
		t.Fatalf("ServerCPU = %v, %v", cpu, err)
	}
}

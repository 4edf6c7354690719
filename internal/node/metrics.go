package node

import (
	"fmt"
	"net/http"
)

// metrics serves a few gauges in the Prometheus text format.
func (n *Node) metrics(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4")
	fmt.Fprintf(w, "# HELP trtcd_connections Open client WebSocket connections.\n# TYPE trtcd_connections gauge\ntrtcd_connections %d\n", n.Signal.Connections())
	fmt.Fprintf(w, "# HELP trtcd_sessions Sessions joined to a room on this node.\n# TYPE trtcd_sessions gauge\ntrtcd_sessions %d\n", n.Hub.Sessions())
}

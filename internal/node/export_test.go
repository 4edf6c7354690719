package node

import (
	"sync"

	"github.com/trtcd/trtcd/internal/media"
)

// OnMediaEvent hands n an event as its SFU would (tests).
func OnMediaEvent(n *Node, ev media.MediaEvent) { n.onMediaEvent(ev) }

// HoldMediaClaims stops n's cluster media from taking, keeping and writing
// back room claims (and from joining peers to its own media) until release
// is called: a media node that has not come back to its claims yet after
// Redis restarted empty (tests).
func HoldMediaClaims(n *Node) (release func()) {
	cm := n.mplane.cl
	cm.claimMu.Lock()
	var once sync.Once
	return func() { once.Do(cm.claimMu.Unlock) }
}

package node

import "github.com/trtcd/trtcd/internal/media"

// OnMediaEvent hands n an event as its SFU would (tests).
func OnMediaEvent(n *Node, ev media.MediaEvent) { n.onMediaEvent(ev) }

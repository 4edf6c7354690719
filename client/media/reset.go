package media

import (
	"context"
	"errors"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/trtcd/trtcd/client/media/wire"
)

// The client's own renegotiation after a media_reset: it keeps publishing
// again and asking for the room's tracks while the server answers
// FailedOperation.Closed, every resetRetry, for at most resetWait.
const (
	resetWait  = 30 * time.Second
	resetRetry = 100 * time.Millisecond
)

// handleReset follows a media_reset: the room's media restarted on another
// server node, so both connections are closed (the received tracks end)
// and, in the background, the published tracks are published again with
// the same specs and the room's tracks are asked for again (a
// media_renegotiate on sub). A Publish in progress fails with
// FailedOperation.Closed.
func (c *Client) handleReset() {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.resets++
	pcs := []*webrtc.PeerConnection{c.pub, c.sub}
	c.pub, c.sub = nil, nil
	var specs []TrackSpec
	for k, t := range c.published {
		specs = append(specs, t.spec)
		t.stop()
		delete(c.published, k)
	}
	if c.answer != nil {
		select {
		case c.answer <- wire.Message{Type: wire.TypeError, Code: wire.CodeClosed, Message: "the room's media restarted (media_reset)"}:
		default:
		}
	}
	clear(c.announced)
	c.mu.Unlock()
	for _, pc := range pcs {
		if pc != nil {
			pc.Close()
		}
	}
	c.goroutine(func() { c.renegotiateAfterReset(specs) })
}

func (c *Client) renegotiateAfterReset(specs []TrackSpec) {
	ctx, cancel := context.WithTimeout(context.Background(), resetWait)
	defer cancel()
	for len(specs) > 0 {
		err := c.Publish(ctx, specs...)
		var we *wire.Error
		if err == nil || errors.Is(err, ErrClosed) || errors.As(err, &we) && we.Code != wire.CodeClosed {
			break // published, closed, or refused for good
		}
		c.log.Warn("media client: publishing again after media_reset", "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(resetRetry):
		}
	}
	c.receiveAfterReset(ctx)
}

// receiveAfterReset asks for the room's tracks again (media_renegotiate on
// sub), again while the server answers FailedOperation.Closed (no node
// holds the room's media yet), until it offers on sub, answers otherwise,
// or ctx or the client ends. A server with nothing to send answers nothing
// until a track comes: then the first offer ends the wait.
func (c *Client) receiveAfterReset(ctx context.Context) {
	ch := make(chan bool, 1)
	c.mu.Lock()
	c.reneg = ch
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		if c.reneg == ch {
			c.reneg = nil
		}
		c.mu.Unlock()
	}()
	for {
		if err := c.sendMsg(wire.Message{Type: wire.TypeRenegotiate, PC: wire.PCSub}); err != nil {
			c.log.Warn("media client: receiving again after media_reset", "err", err)
			return
		}
		select {
		case offered := <-ch:
			if offered {
				return
			}
		case <-ctx.Done():
			return
		case <-c.closing:
			return
		}
		select { // refused as Closed: the room's media is moving; ask again
		case <-time.After(resetRetry):
		case <-ctx.Done():
			return
		case <-c.closing:
			return
		}
	}
}

// renegotiated tells a waiting receiveAfterReset how the server answered.
func (c *Client) renegotiated(offered bool) {
	c.mu.Lock()
	ch := c.reneg
	c.mu.Unlock()
	if ch != nil {
		select {
		case ch <- offered:
		default:
		}
	}
}

// Resets counts the media_reset messages the client followed.
func (c *Client) Resets() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.resets
}

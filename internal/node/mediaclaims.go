package node

import (
	"context"
	"time"

	"github.com/trtcd/trtcd/internal/cluster"
	"github.com/trtcd/trtcd/internal/rooms"
)

// The claims side of the cluster media plane: taking a room's media,
// keeping it, applying its recorded blocks, and the periodic check of
// claims, media nodes and session nodes.

// claim returns the room's media node, claiming the room if nobody (alive)
// holds it. Under claimMu.
func (cm *clusterMedia) claim(room rooms.Key) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), cluster.DefaultOpTimeout)
	defer cancel()
	owner, took, err := cm.reg.MediaClaim(ctx, room)
	if err != nil {
		return "", err
	}
	if took {
		cm.st.takeOvers.Add(1)
		cm.log.Warn("took over a room's media from a dead node", "room", room.String())
	}
	if owner == cm.inc {
		cm.mu.Lock()
		fresh := !cm.owned[room]
		cm.owned[room] = true
		cm.mu.Unlock()
		if fresh {
			cm.tookRoom(room)
			// (unknown after an error: the blocks are then handed over if
			// the room is lost, erring on the side of holding)
			epoch, _ := cm.reg.RedisEpoch(ctx)
			cm.mu.Lock()
			cm.epochs[room] = epoch
			cm.mu.Unlock()
		}
	}
	return owner, nil
}

// check runs every MediaCheckInterval until close.
func (cm *clusterMedia) check() {
	defer cm.wg.Done()
	t := time.NewTicker(MediaCheckInterval)
	defer t.Stop()
	for {
		select {
		case <-cm.stop:
			return
		case <-t.C:
		}
		cm.checkOnce()
	}
}

// checkOnce: let go of the claims of rooms whose media closed, refresh the
// others (resetting a room whose claim another node took), merge the
// recorded blocks of the rooms taken lately, and reset the sessions whose
// media node died and drop the hosted peers whose session node died.
func (cm *clusterMedia) checkOnce() {
	ctx, cancel := context.WithTimeout(context.Background(), MediaCheckInterval)
	defer cancel()
	cm.claimMu.Lock()
	cm.mu.Lock()
	var keep []rooms.Key
	var gone []rooms.Key
	for room := range cm.owned {
		if cm.plane.srv.Existing(room.String()) == nil {
			gone = append(gone, room)
			delete(cm.owned, room)
			delete(cm.epochs, room)
		} else {
			keep = append(keep, room)
		}
	}
	cm.mu.Unlock()
	cm.forgetDecisions(gone...)
	for _, room := range gone {
		if err := cm.reg.MediaRelease(ctx, room); err != nil {
			cm.log.Warn("media claim not released (it expires)", "room", room.String(), "err", err)
		}
	}
	if err := cm.relay.Keep(ctx); err != nil {
		cm.log.Warn("media relay key not checked", "err", err)
	}
	lost, err := cm.reg.MediaKeep(ctx, keep)
	cm.claimMu.Unlock()
	if err != nil {
		cm.log.Warn("media claims not refreshed", "err", err)
	}
	for _, room := range lost {
		cm.log.Warn("another node took this room's media: resetting it here", "room", room.String())
		cm.resetRoom(room)
	}

	cm.mu.Lock()
	routed := make([]*routedPeer, 0, len(cm.routed))
	for _, p := range cm.routed {
		routed = append(routed, p)
	}
	origins := map[string][]*hostedPeer{}
	for _, h := range cm.hosted {
		origins[h.origin] = append(origins[h.origin], h)
	}
	cm.mu.Unlock()
	// A peer's lock is taken before cm.mu (bind), never under it.
	remote := map[string][]*routedPeer{}
	for _, p := range routed {
		if o := p.remoteOwner(); o != "" {
			remote[o] = append(remote[o], p)
		}
	}
	for inc, ps := range remote {
		if alive, err := cm.reg.Alive(ctx, inc); err == nil && !alive {
			cm.stopTracks(ctx, ps, inc)
			for _, p := range ps {
				p.reset(inc)
			}
		}
	}
	for inc, hs := range origins {
		if alive, err := cm.reg.Alive(ctx, inc); err == nil && !alive {
			for _, h := range hs {
				h.enqueue(relayMsg{Op: opLeave, Reason: rooms.ReasonTimeout})
			}
		}
	}
	// Last, with a deadline of its own: the liveness checks above do not
	// wait for it.
	mctx, mcancel := context.WithTimeout(context.Background(), MediaCheckInterval)
	defer mcancel()
	cm.mergeRecorded(mctx)
}

// stopTracks writes the stop events of the tracks that the dead media node
// dead ran in the rooms of ps and that are still live, before their
// sessions are sent media_reset, so that the stops come before the starts
// of the tracks published again. Any node noticing may ask: Redis writes
// each stop once (cluster.Registry.MediaStopTracks). A failure is logged;
// the node that claims the room next writes them.
func (cm *clusterMedia) stopTracks(ctx context.Context, ps []*routedPeer, dead string) {
	done := map[rooms.Key]bool{}
	for _, p := range ps {
		if done[p.room] {
			continue
		}
		done[p.room] = true
		n, err := cm.reg.MediaStopTracks(ctx, p.room, dead)
		if err != nil {
			cm.log.Warn("stop events of a dead media node's tracks not written here (the room's next media node writes them)", "room", p.room.String(), "media_node", dead, "err", err)
		} else if n > 0 {
			cm.log.Info("stop events written for a dead media node's tracks", "room", p.room.String(), "media_node", dead, "stops", n)
		}
	}
}

// resetRoom ends this node's media of room: the stops of its live tracks
// are written (if the node that took the room has not), then its sessions
// and the hosted ones are told media_reset (they renegotiate with the
// room's media node).
func (cm *clusterMedia) resetRoom(room rooms.Key) {
	cm.mu.Lock()
	delete(cm.owned, room)
	epoch := cm.epochs[room]
	delete(cm.epochs, room)
	var ps []*routedPeer
	for _, p := range cm.routed {
		if p.room == room {
			ps = append(ps, p)
		}
	}
	var hs []*hostedPeer
	for _, h := range cm.hosted {
		if h.room == room {
			hs = append(hs, h)
		}
	}
	cm.mu.Unlock()
	cm.forgetDecisions(room)
	// This node's blocks go to the node that took the room first (if Redis
	// lost them), so that they hold there before the clients follow their
	// resets to it.
	cm.handOver(room, epoch)
	// The room's tracks here stop: their stops come before the resets (the
	// node that took the room has normally written them already).
	ctx, cancel := context.WithTimeout(context.Background(), cluster.DefaultOpTimeout)
	if _, err := cm.reg.MediaStopTracks(ctx, room, cm.inc); err != nil {
		cm.log.Warn("stop events of this node's tracks in a room it lost not written", "room", room.String(), "err", err)
	}
	cancel()
	for _, p := range ps {
		p.reset("")
	}
	for _, h := range hs {
		cm.send(h.origin, relayMsg{Op: opReset, Room: room.String(), Peer: h.id})
		h.enqueue(relayMsg{Op: opLeave, Reason: rooms.ReasonLeft})
	}
	if r := cm.plane.srv.Existing(room.String()); r != nil {
		r.Close()
	}
}

// counts are the rooms claimed and the peers hosted now (/metrics).
func (cm *clusterMedia) counts() (claimed, hosted int) {
	cm.mu.Lock()
	defer cm.mu.Unlock()
	return len(cm.owned), len(cm.hosted)
}

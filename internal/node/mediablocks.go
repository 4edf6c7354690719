package node

import (
	"context"
	"time"

	"github.com/trtcd/trtcd/internal/cluster"
	"github.com/trtcd/trtcd/internal/rooms"
)

// Blocks in cluster mode (docs/media.md, "Cluster mode"). The room's media
// node applies them; they are also recorded in Redis, so that a node that
// takes the room's media over applies them too. The record follows the
// media node's state: after each block, release, leave or removal it
// applies, the media node writes its state of those users again (reconcile),
// and when Redis lost the records (restarted empty) it writes back every
// block it holds as it re-registers (writeBackBlocks). blocksMu orders the
// two, so that a write-back never leaves a record older than the state.
//
// Another node may take the room's media before that write-back (a session
// renegotiating, a SetUserBlocked): it starts from the records Redis has
// then, without the lost blocks. So the old media node, when it finds the
// room taken (write-back refused, or its claim lost) and Redis's epoch
// (cluster.Registry.RedisEpoch) is not the one it took the room or last
// wrote its blocks back in, hands its blocks over (handOver): it merges
// them into the record, where a user's entry written since is newer and
// stays, and sends them to the room's media node. With the epoch unchanged
// Redis kept the records, which are then newer than this node's copy (a
// release or leave handled while it stalled): the copy is dropped. That node applies them, from the message or from the record it
// reads again at each check for MediaMergeWindow after taking the room
// (mergeRecorded: the message may be lost), to users it blocks in
// nothing, unless it decided on that user itself since it took the room
// (merge). Its own decisions are newer than the copy handed over: a block
// it released must not come back. A block always reaches the record, so
// no node that takes the room later starts without it.

// restoreBlocks applies room's recorded blocks to this node's fresh media
// of the room (after a take-over, or a room whose media was let go while
// nobody was blocked: then there are none). Under claimMu.
func (cm *clusterMedia) restoreBlocks(room rooms.Key) {
	ctx, cancel := context.WithTimeout(context.Background(), cluster.DefaultOpTimeout)
	defer cancel()
	blocks, err := cm.reg.MediaBlocked(ctx, room)
	if err != nil {
		cm.log.Warn("the room's blocks not read: its new media starts without them", "room", room.String(), "err", err)
		return
	}
	for u, av := range blocks {
		cm.plane.blockLocal(room, u, av[0], av[1])
	}
}

// recordBlock writes a block to Redis, for a media node that takes over.
func (cm *clusterMedia) recordBlock(room rooms.Key, user string, audio, video bool) {
	ctx, cancel := context.WithTimeout(context.Background(), cluster.DefaultOpTimeout)
	defer cancel()
	if err := cm.reg.MediaSetBlocked(ctx, room, user, audio, video); err != nil {
		cm.log.Warn("block not recorded: a media node taking the room over would not know it", "room", room.String(), "user", user, "err", err)
	}
}

// reconcile records users' blocks as this node's media of room holds them
// now (none if it has no media of room), after a change applied here.
func (cm *clusterMedia) reconcile(room rooms.Key, users ...string) {
	cm.blocksMu.Lock()
	defer cm.blocksMu.Unlock()
	st := cm.plane.srv.States(room.String())
	for _, u := range users {
		cm.recordBlock(room, u, st[u].BlockedAudio, st[u].BlockedVideo)
	}
}

// forget deletes room's recorded blocks after its media closed (DismissRoom).
func (cm *clusterMedia) forget(room rooms.Key) {
	cm.blocksMu.Lock()
	defer cm.blocksMu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), cluster.DefaultOpTimeout)
	defer cancel()
	if err := cm.reg.MediaForget(ctx, room); err != nil {
		cm.log.Warn("the room's recorded blocks not deleted", "room", room.String(), "err", err)
	}
}

// writeBackBlocks runs when this process re-registers (Redis restarted
// empty): for each room whose media claim it holds, the blocks its media
// holds are written back with the claim, keeping no expiry (blocks have
// none). A room another node claimed meanwhile is left to that node, with
// the blocks handed over to it (its media started from the records then in
// Redis). An error makes the registry call it again next heartbeat.
func (cm *clusterMedia) writeBackBlocks(ctx context.Context) error {
	select {
	case <-cm.stop:
		return nil
	default:
	}
	epoch, err := cm.reg.RedisEpoch(ctx)
	if err != nil {
		return err
	}
	cm.claimMu.Lock()
	defer cm.claimMu.Unlock()
	cm.mu.Lock()
	owned := make([]rooms.Key, 0, len(cm.owned))
	for room := range cm.owned {
		owned = append(owned, room)
	}
	cm.mu.Unlock()
	restored := 0
	for _, room := range owned {
		n, err := cm.writeBackRoom(ctx, room, epoch)
		if err != nil {
			cm.log.Warn("the room's blocks not written back yet", "room", room.String(), "err", err)
			return err
		}
		restored += n
	}
	cm.st.blocksRestored.Add(uint64(restored))
	if restored > 0 {
		cm.log.Warn("Redis had lost the rooms' blocks: wrote back those this node's media holds", "blocks", restored)
	}
	return nil
}

// writeBackRoom writes back room's blocks in Redis's epoch now; it returns
// how many entries it wrote. If another node took the room meanwhile, they
// are handed over to it instead (merged into the record, and sent) when
// Redis lost them (the epoch changed since this node took the room), and
// dropped otherwise; this node lets the room go at its next check.
func (cm *clusterMedia) writeBackRoom(ctx context.Context, room rooms.Key, epoch string) (int, error) {
	cm.blocksMu.Lock()
	defer cm.blocksMu.Unlock()
	cm.mu.Lock()
	lost := cm.epochs[room] != epoch
	cm.mu.Unlock()
	blocks := cm.heldBlocks(room)
	if len(blocks) == 0 {
		return 0, nil
	}
	holder, written, err := cm.reg.MediaRestoreBlocks(ctx, room, blocks, lost)
	if err != nil {
		return 0, err
	}
	switch {
	case holder == cm.inc:
		cm.mu.Lock()
		cm.epochs[room] = epoch // the record holds this copy in this epoch
		cm.mu.Unlock()
	case lost:
		cm.log.Warn("another node took the room's media while Redis was empty of its blocks: handed them over", "room", room.String(), "media_node", holder, "blocks", len(blocks))
		cm.send(holder, relayMsg{Op: opMerge, Room: room.String(), Blocks: blocks})
	}
	return written, nil
}

// heldBlocks is what this node's media of room blocks: user → (audio,
// video). Under blocksMu.
func (cm *clusterMedia) heldBlocks(room rooms.Key) map[string][2]bool {
	blocks := map[string][2]bool{}
	for u, st := range cm.plane.srv.States(room.String()) {
		if st.BlockedAudio || st.BlockedVideo {
			blocks[u] = [2]bool{st.BlockedAudio, st.BlockedVideo}
		}
	}
	return blocks
}

// handOver runs when this node lets room's media go because another node
// holds its claim. If Redis's epoch is still the one this node took the
// room or last wrote its blocks back in (epoch), the record is newer than
// this node's copy, which is dropped. Otherwise Redis lost the records:
// the blocks its media holds are merged into the record and sent to that
// node (merge); if none holds it any more, the record keeps them for the
// next media node.
func (cm *clusterMedia) handOver(room rooms.Key, epoch string) {
	cm.blocksMu.Lock()
	defer cm.blocksMu.Unlock()
	blocks := cm.heldBlocks(room)
	if len(blocks) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), cluster.DefaultOpTimeout)
	defer cancel()
	if now, err := cm.reg.RedisEpoch(ctx); err == nil && now == epoch {
		return
	}
	holder, written, err := cm.reg.MediaMergeBlocks(ctx, room, blocks)
	if err != nil {
		cm.log.Warn("the room's blocks not handed over: its media node keeps those it read from the record", "room", room.String(), "blocks", len(blocks), "err", err)
		return
	}
	cm.st.blocksRestored.Add(uint64(written)) // the record had lost them
	if holder != "" && holder != cm.inc {
		cm.send(holder, relayMsg{Op: opMerge, Room: room.String(), Blocks: blocks})
	}
}

// roomDecisions are the users whose blocks this node changed in a room
// (a block, release, leave or removal it applied) since it took the
// room's media, kept for MediaMergeWindow; while they are kept, the room's
// record is merged at each check.
type roomDecisions struct {
	since time.Time
	users map[string]bool
}

// tookRoom: this node just took room's media; its decisions count from now.
func (cm *clusterMedia) tookRoom(room rooms.Key) {
	cm.mergeMu.Lock()
	if cm.decided[room] == nil {
		cm.decided[room] = &roomDecisions{since: time.Now(), users: map[string]bool{}}
	}
	cm.mergeMu.Unlock()
}

// deciding notes users' blocks in room as changed here; it runs before the
// change is applied, so that a merge either sees it or comes before it.
func (cm *clusterMedia) deciding(room rooms.Key, users ...string) {
	cm.mergeMu.Lock()
	defer cm.mergeMu.Unlock()
	if d := cm.decided[room]; d != nil {
		for _, u := range users {
			d.users[u] = true
		}
	}
}

// forgetDecisions drops the decisions in rooms this node let go, and in
// those it took more than MediaMergeWindow ago.
func (cm *clusterMedia) forgetDecisions(rs ...rooms.Key) {
	cm.mergeMu.Lock()
	defer cm.mergeMu.Unlock()
	for _, room := range rs {
		delete(cm.decided, room)
	}
	for room, d := range cm.decided {
		if time.Since(d.since) > MediaMergeWindow {
			delete(cm.decided, room)
		}
	}
}

// merge applies the blocks that room's previous media node held: handed
// over (from names it), or merged into the record and read back at a check
// (from is empty; mergeRecorded). Within MediaMergeWindow of taking the
// room, a block applies to a user this node blocks in nothing and has not
// decided on since; the record of a user it decided on follows its state
// (a release here undoes the entry the previous node merged). A hand-over
// that comes later is older than what this node did meanwhile: nothing
// applies, and the record follows this node's state. The others' entries
// are left as they are, and so are all of them if this node's media of the
// room has closed meanwhile (its next start reads them), except for the
// users it decided on.
func (cm *clusterMedia) merge(room rooms.Key, from string, blocks map[string][2]bool) {
	cm.mu.Lock()
	own := cm.owned[room]
	cm.mu.Unlock()
	if !own {
		if from != "" {
			cm.log.Warn("blocks handed over for a room whose media this node does not run: left in the record", "room", room.String(), "from", from, "blocks", len(blocks))
		}
		return
	}
	var fix []string
	applied := 0
	cm.mergeMu.Lock()
	d := cm.decided[room]
	r := cm.plane.srv.Existing(room.String())
	st := cm.plane.srv.States(room.String())
	late := d == nil // past MediaMergeWindow: this node's state is newer than any copy
	for u, av := range blocks {
		have := [2]bool{st[u].BlockedAudio, st[u].BlockedVideo}
		switch {
		case late && r == nil: // its media closed: its next start reads the record
		case late || d.users[u]:
			if have != av {
				fix = append(fix, u)
			}
		case r != nil && have == [2]bool{} && av != [2]bool{}:
			r.SetBlocked(u, av[0], av[1])
			applied++
		}
	}
	cm.mergeMu.Unlock()
	cm.st.blocksMerged.Add(uint64(applied))
	if applied > 0 {
		cm.log.Warn("applied blocks its media did not hold yet, handed over by the room's previous media node or read from the record", "room", room.String(), "from", from, "blocks", applied)
	}
	if len(fix) > 0 {
		cm.reconcile(room, fix...)
	}
}

// mergeRecorded merges, at each check, the records of the rooms this node
// took less than MediaMergeWindow ago: the previous media node's hand-over
// is relayed, and a relayed message is lost if its receiver's pub/sub
// connection is still coming back (as it may be after the Redis outage
// that caused the hand-over), but the blocks it merged into the record
// are there.
func (cm *clusterMedia) mergeRecorded(ctx context.Context) {
	cm.mergeMu.Lock()
	rs := make([]rooms.Key, 0, len(cm.decided))
	for room := range cm.decided {
		rs = append(rs, room)
	}
	cm.mergeMu.Unlock()
	for _, room := range rs {
		blocks, err := cm.reg.MediaBlocked(ctx, room)
		if err != nil {
			cm.log.Warn("the room's recorded blocks not read for a merge", "room", room.String(), "err", err)
			continue
		}
		cm.merge(room, "", blocks)
	}
}

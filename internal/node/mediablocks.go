package node

import (
	"context"

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
// none). A room another node claimed meanwhile is left to that node (its
// media started from the records then in Redis). An error makes the
// registry call it again next heartbeat.
func (cm *clusterMedia) writeBackBlocks(ctx context.Context) error {
	select {
	case <-cm.stop:
		return nil
	default:
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
		n, err := cm.writeBackRoom(ctx, room)
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

// writeBackRoom writes back room's blocks; it returns how many.
func (cm *clusterMedia) writeBackRoom(ctx context.Context, room rooms.Key) (int, error) {
	cm.blocksMu.Lock()
	defer cm.blocksMu.Unlock()
	blocks := map[string][2]bool{}
	for u, st := range cm.plane.srv.States(room.String()) {
		if st.BlockedAudio || st.BlockedVideo {
			blocks[u] = [2]bool{st.BlockedAudio, st.BlockedVideo}
		}
	}
	if len(blocks) == 0 {
		return 0, nil
	}
	ours, err := cm.reg.MediaRestoreBlocks(ctx, room, blocks)
	if err != nil || !ours {
		if err == nil {
			cm.log.Warn("another node runs the room's media now: its blocks not written back", "room", room.String(), "blocks", len(blocks))
		}
		return 0, err
	}
	return len(blocks), nil
}

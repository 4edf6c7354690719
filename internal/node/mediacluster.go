package node

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/trtcd/trtcd/client/media/wire"
	"github.com/trtcd/trtcd/internal/cluster"
	"github.com/trtcd/trtcd/internal/rooms"
	"github.com/trtcd/trtcd/internal/signal"
)

// The media plane's cluster policies (docs/media.md, "Cluster mode").
const (
	// MediaActionTimeout bounds the wait of RemoveUser, DismissRoom and
	// SetUserBlocked for the room's media node to confirm that it cut or
	// blocked the media; past it the action answers anyway (the change is
	// committed) and the media node follows when the kicked sessions end.
	MediaActionTimeout = 2 * time.Second
	// MediaCheckInterval is how often a node refreshes its rooms' media
	// claims and checks that the media nodes of its sessions, and the
	// session nodes of the peers it hosts, are alive.
	MediaCheckInterval = time.Second
	// MediaRelayQueue is how many relayed messages wait to be published;
	// beyond it a message is dropped (counted).
	MediaRelayQueue = 4096
	// MediaHostQueue is how many messages wait for one hosted peer (a
	// session on another node); beyond it a message is dropped (counted).
	MediaHostQueue = 256
	// MediaMergeWindow is how long after taking a room's media a node
	// merges the blocks the room's previous media node hands over (it lost
	// the room while Redis was empty of them, mediablocks.go) from the
	// record at each check, and remembers whose blocks it changed there so
	// that those blocks do not undo its changes. That node hands them over
	// within a check (MediaCheckInterval) of finding the room taken; ten
	// checks leave room for a loaded node.
	MediaMergeWindow = 10 * MediaCheckInterval
)

// clusterMedia places each room's media on one node of the cluster and
// relays the signalling of sessions whose WebSocket is on another node.
//
// A session node holds a routedPeer per session with media: bound either to
// a peer of this node's SFU (the room's media is here) or to a peer hosted
// on the room's media node, reached through the relay. A media node runs a
// hostedPeer per such remote session. The room's media node is the holder
// of its claim in Redis (cluster.Registry.MediaClaim).
type clusterMedia struct {
	plane *mediaPlane
	reg   *cluster.Registry
	relay *cluster.MediaRelay
	inc   string
	log   *slog.Logger
	out   chan outbound
	hub   *rooms.Hub // this node's sessions, told of blocks decided on other nodes

	claimMu  sync.Mutex // a claim and the local room it covers change together
	blocksMu sync.Mutex // the blocks' records and their write-back (mediablocks.go)

	mergeMu sync.Mutex                   // decided, and a merge's check and apply (mediablocks.go)
	decided map[rooms.Key]*roomDecisions // rooms taken less than MediaMergeWindow ago

	mu     sync.Mutex
	routed map[string]*routedPeer // this node's sessions with media, by peer id
	hosted map[string]*hostedPeer // peers of other nodes' sessions hosted here
	owned  map[rooms.Key]bool     // rooms whose media claim this node holds
	epochs map[rooms.Key]string   // the Redis epoch each owned room was taken or written back in (mediablocks.go)
	acks   map[uint64]chan struct{}
	req    uint64

	st        relayStats
	stop      chan struct{}
	closeOnce sync.Once
	wg        sync.WaitGroup
}

type outbound struct {
	to string
	b  []byte
}

// relayStats count what the cluster media policies did (/metrics).
type relayStats struct {
	sent, received, dropped, refused, bad atomic.Uint64
	actionTimeouts, resets, takeOvers     atomic.Uint64
	blocksRestored, blocksMerged          atomic.Uint64
}

func newClusterMedia(plane *mediaPlane, reg *cluster.Registry, hub *rooms.Hub, log *slog.Logger) (*clusterMedia, error) {
	cm := &clusterMedia{plane: plane, reg: reg, hub: hub, inc: reg.Incarnation(), log: log, out: make(chan outbound, MediaRelayQueue),
		routed: map[string]*routedPeer{}, hosted: map[string]*hostedPeer{}, owned: map[rooms.Key]bool{}, epochs: map[rooms.Key]string{},
		decided: map[rooms.Key]*roomDecisions{}, acks: map[uint64]chan struct{}{}, stop: make(chan struct{})}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	relay, err := reg.NewMediaRelay(ctx, cm.deliver, func() { cm.st.refused.Add(1) })
	if err != nil {
		return nil, err
	}
	cm.relay = relay
	reg.OnReregister(cm.writeBackBlocks)
	cm.wg.Add(2)
	go cm.publish()
	go cm.check()
	return cm, nil
}

func newPeerID() string {
	b := make([]byte, 9)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// send queues m for incarnation to; it never blocks.
func (cm *clusterMedia) send(to string, m relayMsg) {
	m.From = cm.inc
	select {
	case cm.out <- outbound{to, m.encode()}:
	default:
		cm.st.dropped.Add(1)
	}
}

// publish sends the queued messages one at a time, so each peer's messages
// reach the other node in order.
func (cm *clusterMedia) publish() {
	defer cm.wg.Done()
	for {
		select {
		case o := <-cm.out:
			cm.publishOne(o)
		case <-cm.stop:
			for { // flush what is queued (a closing node's resets and leaves)
				select {
				case o := <-cm.out:
					cm.publishOne(o)
				default:
					return
				}
			}
		}
	}
}

func (cm *clusterMedia) publishOne(o outbound) {
	ctx, cancel := context.WithTimeout(context.Background(), cluster.DefaultOpTimeout)
	defer cancel()
	if err := cm.relay.Send(ctx, o.to, o.b); err != nil {
		cm.st.dropped.Add(1)
		cm.log.Warn("media relay: message not sent", "to", o.to, "err", err)
		return
	}
	cm.st.sent.Add(1)
}

// owner is the room's media node ("" when none), without claiming.
func (cm *clusterMedia) owner(room rooms.Key) string {
	ctx, cancel := context.WithTimeout(context.Background(), cluster.DefaultOpTimeout)
	defer cancel()
	o, err := cm.reg.MediaOwner(ctx, room)
	if err != nil {
		cm.log.Warn("media owner not read", "room", room.String(), "err", err)
	}
	return o
}

// join makes a session's routed peer and binds it.
func (cm *clusterMedia) join(room rooms.Key, user string, role rooms.Role, send func(wire.Message) error) (signal.MediaPeer, error) {
	p := &routedPeer{cm: cm, id: newPeerID(), room: room, user: user, role: role, send: send}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.bind(); err != nil {
		return nil, err
	}
	return p, nil
}

// joinLocal joins this node's SFU, with the room's claim held (or taken).
func (cm *clusterMedia) joinLocal(room rooms.Key, user string, role rooms.Role, send func(wire.Message) error) (signal.MediaPeer, string, error) {
	cm.claimMu.Lock()
	defer cm.claimMu.Unlock()
	owner, err := cm.claim(room)
	if err != nil || owner != cm.inc {
		return nil, owner, err
	}
	if cm.plane.srv.Existing(room.String()) == nil {
		cm.restoreBlocks(room)
	}
	p, err := cm.plane.joinLocal(room, user, role, send)
	return p, owner, err
}

// request sends an action to the media node and waits for its ack, at most
// MediaActionTimeout.
func (cm *clusterMedia) request(to string, m relayMsg) {
	ch := make(chan struct{})
	cm.mu.Lock()
	cm.req++
	m.Req = cm.req
	cm.acks[m.Req] = ch
	cm.mu.Unlock()
	cm.send(to, m)
	t := time.NewTimer(MediaActionTimeout)
	defer t.Stop()
	select {
	case <-ch:
	case <-t.C:
		cm.st.actionTimeouts.Add(1)
		cm.log.Warn("the room's media node did not confirm in time", "op", m.Op, "room", m.Room, "media_node", to, "timeout", MediaActionTimeout.String())
	case <-cm.stop:
	}
	cm.mu.Lock()
	delete(cm.acks, m.Req)
	cm.mu.Unlock()
}

// remove cuts users' media wherever the room's media is (RemoveUser).
func (cm *clusterMedia) remove(room rooms.Key, users []string) {
	for _, u := range users {
		cm.recordBlock(room, u, false, false)
	}
	switch o := cm.owner(room); o {
	case "":
		cm.plane.removeLocal(room, users)
	case cm.inc:
		cm.deciding(room, users...)
		cm.plane.removeLocal(room, users)
		cm.reconcile(room, users...)
	default:
		cm.request(o, relayMsg{Op: opRemove, Room: room.String(), Users: users})
	}
}

// dismiss closes the room's media wherever it is (DismissRoom).
func (cm *clusterMedia) dismiss(room rooms.Key) {
	ctx, cancel := context.WithTimeout(context.Background(), cluster.DefaultOpTimeout)
	if err := cm.reg.MediaForget(ctx, room); err != nil {
		cm.log.Warn("the room's recorded blocks not deleted", "room", room.String(), "err", err)
	}
	cancel()
	switch o := cm.owner(room); o {
	case "":
		cm.plane.dismissLocal(room)
	case cm.inc:
		cm.plane.dismissLocal(room)
		cm.forget(room)
	default:
		cm.request(o, relayMsg{Op: opDismiss, Room: room.String()})
	}
}

// block blocks user on the room's media node, claiming the room when it
// has none, so that the state holds for tracks published later.
func (cm *clusterMedia) block(room rooms.Key, user string, audio, video bool) {
	cm.recordBlock(room, user, audio, video)
	cm.claimMu.Lock()
	o, err := cm.claim(room)
	if err == nil && o == cm.inc {
		if cm.plane.srv.Existing(room.String()) == nil {
			cm.restoreBlocks(room) // the others' blocks, recorded by an earlier media node
		}
		cm.deciding(room, user)
		cm.plane.blockLocal(room, user, audio, video)
		cm.claimMu.Unlock()
		cm.reconcile(room, user)
		return
	}
	cm.claimMu.Unlock()
	if err != nil {
		cm.log.Warn("media claim failed: the block applies to this node only", "room", room.String(), "err", err)
		cm.plane.blockLocal(room, user, audio, video)
		return
	}
	cm.request(o, relayMsg{Op: opBlock, Room: room.String(), User: user, Audio: audio, Video: video})
}

// announceBlocked tells the sessions of room on every other node that
// user is blocked (the node that answered SetUserBlocked told its own).
func (cm *clusterMedia) announceBlocked(room rooms.Key, user string, audio, video bool, at time.Time) {
	ctx, cancel := context.WithTimeout(context.Background(), cluster.DefaultOpTimeout)
	defer cancel()
	incs, err := cm.reg.Incarnations(ctx)
	if err != nil {
		cm.log.Warn("user_blocked not relayed to the other nodes", "room", room.String(), "err", err)
		return
	}
	for _, inc := range incs {
		if inc != cm.inc {
			cm.send(inc, relayMsg{Op: opBlocked, Room: room.String(), User: user, Audio: audio, Video: video, Time: at.UnixMilli()})
		}
	}
}

// left: user left room; its blocking goes, wherever the media is.
func (cm *clusterMedia) left(room rooms.Key, user string, reason rooms.Reason) {
	cm.recordBlock(room, user, false, false)
	switch o := cm.owner(room); o {
	case "":
		cm.plane.leftLocal(room, user, reason)
	case cm.inc:
		cm.deciding(room, user)
		cm.plane.leftLocal(room, user, reason)
		cm.reconcile(room, user)
	default:
		cm.send(o, relayMsg{Op: opLeft, Room: room.String(), User: user, Reason: reason})
	}
}

// deliver handles one relayed message, in the relay's goroutine: nothing
// here blocks for long (a hosted peer's work runs in its own goroutine).
func (cm *clusterMedia) deliver(b []byte) {
	m, room, err := decodeRelay(b)
	if err != nil {
		cm.st.bad.Add(1)
		cm.log.Warn("media relay: bad message", "err", err)
		return
	}
	cm.st.received.Add(1)
	switch m.Op {
	case opJoin:
		cm.host(room, m)
	case opMsg, opRole, opLeave:
		cm.mu.Lock()
		h := cm.hosted[m.Peer]
		cm.mu.Unlock()
		if h != nil {
			h.enqueue(m)
		}
	case opOut, opReset:
		cm.mu.Lock()
		p := cm.routed[m.Peer]
		cm.mu.Unlock()
		if p != nil {
			p.fromMedia(m)
		}
	case opLeft:
		if m.Reason != rooms.ReasonDuplicate {
			cm.deciding(room, m.User)
			cm.plane.leftLocal(room, m.User, m.Reason)
			cm.wg.Add(1)
			go func() {
				defer cm.wg.Done()
				cm.reconcile(room, m.User)
			}()
		}
	case opBlocked:
		cm.hub.Announce(room, &rooms.Notice{Type: rooms.UserBlocked, Room: room, UserID: m.User, Audio: m.Audio, Video: m.Video, Time: time.UnixMilli(m.Time)})
	case opRemove, opDismiss, opBlock:
		cm.wg.Add(1)
		go func() {
			defer cm.wg.Done()
			switch m.Op {
			case opRemove:
				cm.deciding(room, m.Users...)
				cm.plane.removeLocal(room, m.Users)
			case opDismiss:
				cm.plane.dismissLocal(room)
			case opBlock:
				cm.deciding(room, m.User)
				cm.plane.blockLocal(room, m.User, m.Audio, m.Video)
			}
			cm.send(m.From, relayMsg{Op: opAck, Req: m.Req})
			// the records follow this node's state (mediablocks.go)
			switch m.Op {
			case opRemove:
				cm.reconcile(room, m.Users...)
			case opDismiss:
				cm.forget(room)
			case opBlock:
				cm.reconcile(room, m.User)
			}
		}()
	case opMerge:
		cm.wg.Add(1)
		go func() {
			defer cm.wg.Done()
			cm.merge(room, m.From, m.Blocks)
		}()
	case opAck:
		cm.mu.Lock()
		if ch := cm.acks[m.Req]; ch != nil {
			close(ch)
			delete(cm.acks, m.Req)
		}
		cm.mu.Unlock()
	}
}

// close: the hosted sessions are told to renegotiate elsewhere, the stop
// events of the rooms' live tracks are written, the claims are released so
// that another node takes the rooms at once, and the relay stops.
func (cm *clusterMedia) close() { cm.closeOnce.Do(cm.doClose) }

func (cm *clusterMedia) doClose() {
	cm.mu.Lock()
	var rs []rooms.Key
	for room := range cm.owned {
		rs = append(rs, room)
	}
	hs := make([]*hostedPeer, 0, len(cm.hosted))
	for _, h := range cm.hosted {
		hs = append(hs, h)
	}
	cm.mu.Unlock()
	for _, h := range hs {
		cm.send(h.origin, relayMsg{Op: opReset, Room: h.room.String(), Peer: h.id})
	}
	ctx, cancel := context.WithTimeout(context.Background(), cluster.DefaultOpTimeout)
	for _, room := range rs {
		// The room's tracks stop here: their stops are written now (or,
		// failing that, by the next node to claim the room).
		if _, err := cm.reg.MediaStopTracks(ctx, room, cm.inc); err != nil {
			cm.log.Warn("stop events of this node's tracks not written (the room's next media node writes them)", "room", room.String(), "err", err)
		}
		cm.reg.MediaHandOver(ctx, room)
	}
	cancel()
	close(cm.stop)
	cm.relay.Close()
	cm.wg.Wait()
}

package media

import (
	"errors"
	"sync"
	"time"

	"github.com/trtcd/trtcd/client/media/wire"
	"github.com/trtcd/trtcd/internal/rooms"
)

// ErrNotJoined is returned by SetRole for a user without a peer in the room.
var ErrNotJoined = errors.New("media: user has not joined the room's media")

// Room is one room's media: its peers and their published tracks. A room
// lives until Close (or Server.Close), even without peers.
type Room struct {
	srv *Server
	key string

	mu      sync.Mutex
	peers   map[string]*Peer
	tracks  map[string]map[wire.Kind]*pubTrack // by publisher
	blocked map[string]BlockState
	closed  bool

	evMu sync.Mutex // one media event at a time, in order
}

// BlockState is what SetBlocked left in force for a user: whether its audio
// and video are withheld from subscribers, and whether it has joined.
type BlockState struct {
	Audio, Video bool
	Joined       bool
}

func newRoom(s *Server, key string) *Room {
	return &Room{srv: s, key: key, peers: map[string]*Peer{}, tracks: map[string]map[wire.Kind]*pubTrack{}, blocked: map[string]BlockState{}}
}

// Key is the room's key as given to Server.Room.
func (r *Room) Key() string { return r.key }

// Join adds user's peer. send carries the server's messages to the client:
// it is called from several goroutines but never concurrently for one
// peer, and must neither block nor call back into the media package. A
// user that is already joined is removed first (reason "duplicate"). The
// peer receives every anchor's tracks; it may publish once it is an anchor.
func (r *Room) Join(user string, role rooms.Role, send func(wire.Message) error) (*Peer, error) {
	if !wire.ValidUserID(user) {
		return nil, errors.New("media: invalid user id")
	}
	p, err := newPeer(r, user, role, send)
	if err != nil {
		return nil, err
	}
	for {
		r.mu.Lock()
		if r.closed {
			r.mu.Unlock()
			p.close()
			return nil, ErrClosed
		}
		if r.peers[user] == nil {
			break
		}
		r.mu.Unlock()
		r.Remove(user, "duplicate")
	}
	r.peers[user] = p
	var ts []*pubTrack
	for u, byKind := range r.tracks {
		if u == user {
			continue
		}
		for _, t := range byKind {
			ts = append(ts, t)
		}
	}
	r.mu.Unlock()
	p.addTracks(ts)
	return p, nil
}

// Remove closes user's connections and ends its tracks for every
// subscriber; when it returns, none of its packets is forwarded again and
// each subscriber has been sent media_track_unpublished and a new offer.
// No media event is emitted. It reports whether the user had joined.
func (r *Room) Remove(user, reason string) bool { return r.remove(user, nil, reason) }

// RemovePeer is Remove for one peer: it does nothing when p is no longer
// its user's peer in the room (a later Join replaced it). A transport calls
// it when the session that joined p ends.
func (r *Room) RemovePeer(p *Peer, reason string) bool { return r.remove(p.user, p, reason) }

// remove removes user's peer, if it is only (when only is not nil).
func (r *Room) remove(user string, only *Peer, reason string) bool {
	r.mu.Lock()
	p := r.peers[user]
	if p == nil || only != nil && p != only {
		r.mu.Unlock()
		return false
	}
	delete(r.peers, user)
	ts := r.takeTracks(user)
	others := r.peerList()
	r.mu.Unlock()
	for _, t := range ts {
		t.end()
	}
	// The others hear first; closing the removed user's connections and
	// the offers that take the tracks away follow.
	changed := dropFromAll(others, ts)
	p.close()
	renegotiateAll(changed)
	r.srv.log.Debug("media peer removed", "room", r.key, "user", user, "reason", reason)
	return true
}

// SetRole changes a peer's role. An anchor that becomes audience stops
// publishing: its tracks end (with stop events) and its publishing
// connection is closed. An audience member that becomes an anchor may
// offer to publish.
func (r *Room) SetRole(user string, role rooms.Role) error {
	r.mu.Lock()
	p := r.peers[user]
	r.mu.Unlock()
	if p == nil {
		return ErrNotJoined
	}
	if !p.setRole(role) || role != rooms.Audience {
		return nil
	}
	r.mu.Lock()
	ts := r.takeTracks(user)
	others := r.peerList()
	r.mu.Unlock()
	r.endTracks(ts, others, true)
	return nil
}

// SetBlocked withholds or releases a user's audio and video (SetUserBlocked:
// IsMute 0 releases both, 1 blocks both, 2 audio only, 3 video only). When
// it returns, no blocked packet is forwarded; a released video track asks
// its publisher for a keyframe. The state holds for tracks published later
// and across rejoins, until changed or the room is closed. The screen share
// counts as video.
func (r *Room) SetBlocked(user string, audio, video bool) BlockState {
	r.mu.Lock()
	st := BlockState{Audio: audio, Video: video}
	if audio || video {
		r.blocked[user] = st
	} else {
		delete(r.blocked, user)
	}
	_, st.Joined = r.peers[user]
	var ts []*pubTrack
	for _, t := range r.tracks[user] {
		ts = append(ts, t)
	}
	r.mu.Unlock()
	for _, t := range ts {
		t.setBlocked(blockedKind(st, t.kind))
	}
	return st
}

func blockedKind(st BlockState, k wire.Kind) bool {
	if k == wire.Audio {
		return st.Audio
	}
	return st.Video
}

// Close ends the room (dismissal): every peer's connections are closed,
// without media events; later Joins fail with ErrClosed.
func (r *Room) Close() { r.close(false) }

// close closes the room, only when idle if idleOnly is set; it reports
// whether the room is closed.
func (r *Room) close(idleOnly bool) bool {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return true
	}
	if idleOnly && (len(r.peers) > 0 || len(r.blocked) > 0) {
		r.mu.Unlock()
		return false
	}
	r.closed = true
	var ts []*pubTrack
	for u := range r.tracks {
		ts = append(ts, r.takeTracks(u)...)
	}
	ps := r.peerList()
	clear(r.peers)
	r.mu.Unlock()
	r.srv.forget(r)
	for _, t := range ts {
		t.end()
	}
	for _, p := range ps {
		p.close()
	}
	return true
}

// CloseIfIdle closes the room if it has no peer and blocks nobody, so that
// a transport can let go of the media of rooms nobody uses; it reports
// whether the room is closed. A Join racing with it fails with ErrClosed
// and may be retried on a fresh Server.Room.
func (r *Room) CloseIfIdle() bool { return r.close(true) }

// Joined reports whether user has a peer in the room.
func (r *Room) Joined(user string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.peers[user] != nil
}

// Closed reports whether the room was closed (Close, CloseIfIdle, or the
// server's Close).
func (r *Room) Closed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.closed
}

// takeTracks removes user's tracks from the room; under r.mu.
func (r *Room) takeTracks(user string) []*pubTrack {
	var ts []*pubTrack
	for _, t := range r.tracks[user] {
		ts = append(ts, t)
	}
	delete(r.tracks, user)
	return ts
}

// peerList is the peers; under r.mu.
func (r *Room) peerList() []*Peer {
	ps := make([]*Peer, 0, len(r.peers))
	for _, p := range r.peers {
		ps = append(ps, p)
	}
	return ps
}

// publish makes t visible: it replaces the owner's earlier track of the
// same kind, emits the start event and offers t to every other peer.
func (r *Room) publish(t *pubTrack) bool {
	r.mu.Lock()
	if r.closed || r.peers[t.owner.user] != t.owner || t.owner.getRole() != rooms.Anchor {
		r.mu.Unlock()
		return false
	}
	byKind := r.tracks[t.owner.user]
	if byKind == nil {
		byKind = map[wire.Kind]*pubTrack{}
		r.tracks[t.owner.user] = byKind
	}
	old := byKind[t.kind]
	byKind[t.kind] = t
	t.blocked = blockedKind(r.blocked[t.owner.user], t.kind)
	others := r.peerList()
	r.mu.Unlock()
	if old != nil {
		r.endTracks([]*pubTrack{old}, others, true)
	}
	r.emit(t, true)
	for _, o := range others {
		if o != t.owner {
			o.addTracks([]*pubTrack{t})
		}
	}
	return true
}

// unpublish ends one track its publisher took away; it emits the stop event.
func (r *Room) unpublish(t *pubTrack) {
	r.mu.Lock()
	if byKind := r.tracks[t.owner.user]; byKind[t.kind] == t {
		delete(byKind, t.kind)
	}
	others := r.peerList()
	r.mu.Unlock()
	r.endTracks([]*pubTrack{t}, others, true)
}

// trackGone is called when the publisher's track stops delivering
// packets: unless Remove or Close ended it, it is unpublished.
func (r *Room) trackGone(t *pubTrack) {
	if !t.isEnded() {
		r.unpublish(t)
	}
}

// endTracks ends ts, emits their stop events when stop is set, and takes
// them from every peer in ps.
func (r *Room) endTracks(ts []*pubTrack, ps []*Peer, stop bool) {
	var ended []*pubTrack
	for _, t := range ts {
		if t.end() {
			ended = append(ended, t)
		}
	}
	if stop {
		for _, t := range ended {
			r.emit(t, false)
		}
	}
	removeFromAll(ps, ended)
}

// TrackEndWorkers is how many subscribers at most are given their new
// offer at once when tracks end (a removal, a role switch, an unpublish):
// each offer is a CreateOffer over all of the subscriber's transceivers,
// and done one after another on the caller's goroutine the last of 100
// subscribers waited for the 99 before it.
const TrackEndWorkers = 8

// removeFromAll takes ts away from every peer of ps.
func removeFromAll(ps []*Peer, ts []*pubTrack) {
	renegotiateAll(dropFromAll(ps, ts))
}

// dropFromAll stops sending ts to every peer of ps and tells each at once
// (a media_track_unpublished notice costs one message); changed are the
// peers that had any of ts and need a new offer. So a subscriber learns
// that a track ended without waiting for the others' offers.
func dropFromAll(ps []*Peer, ts []*pubTrack) (changed []*Peer) {
	if len(ts) == 0 {
		return nil
	}
	for _, p := range ps {
		if p.dropTracks(ts) {
			changed = append(changed, p)
		}
	}
	return changed
}

// renegotiateAll sends each peer of ps a new offer, several at a time.
func renegotiateAll(ps []*Peer) {
	if len(ps) <= 2 {
		for _, p := range ps {
			p.renegotiate()
		}
		return
	}
	next := make(chan *Peer)
	var wg sync.WaitGroup
	for range min(TrackEndWorkers, len(ps)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range next {
				p.renegotiate()
			}
		}()
	}
	for _, p := range ps {
		next <- p
	}
	close(next)
	wg.Wait()
}

// emit sends t's start or stop event; a stop follows only a start.
func (r *Room) emit(t *pubTrack, start bool) {
	r.evMu.Lock()
	defer r.evMu.Unlock()
	var typ EventType
	switch {
	case start && !t.started && !t.isEnded():
		t.started = true
		typ = startEvent(t.kind)
	case !start && t.started && !t.stopped:
		t.stopped = true
		typ = stopEvent(t.kind)
	default:
		return
	}
	if f := r.srv.cfg.OnMediaEvent; f != nil {
		f(MediaEvent{Type: typ, Room: r.key, User: t.owner.user, Time: time.Now()})
	}
}

// lookup finds the current track of user and kind.
func (r *Room) lookup(user string, k wire.Kind) *pubTrack {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.tracks[user][k]
}

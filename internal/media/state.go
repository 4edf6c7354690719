package media

import "github.com/trtcd/trtcd/client/media/wire"

// UserState is one user's media in a room, as the console shows it: what
// it publishes now and what SetBlocked withholds.
type UserState struct {
	Joined                     bool // has a peer in the room
	Audio, Video, Screen       bool // publishing a track of that kind
	BlockedAudio, BlockedVideo bool // SetBlocked in force
}

// States is a read-only snapshot of the media of the room with this key,
// by user: its peers and the users blocked in it. It does not create the
// room; nil when there is none. It changes nothing.
func (s *Server) States(key string) map[string]UserState {
	s.mu.Lock()
	r := s.rooms[key]
	s.mu.Unlock()
	if r == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]UserState, len(r.peers)+len(r.blocked))
	for u := range r.peers {
		out[u] = UserState{Joined: true}
	}
	for u, byKind := range r.tracks {
		st := out[u]
		st.Audio, st.Video, st.Screen = byKind[wire.Audio] != nil, byKind[wire.Video] != nil, byKind[wire.SubVideo] != nil
		out[u] = st
	}
	for u, b := range r.blocked {
		st := out[u]
		st.BlockedAudio, st.BlockedVideo = b.Audio, b.Video
		out[u] = st
	}
	return out
}

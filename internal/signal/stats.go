package signal

import (
	"sync"
	"sync/atomic"
)

// stats counts what the connection policies did, for /metrics.
type stats struct {
	errors sync.Map // protocol error code → *atomic.Uint64
	idle   atomic.Uint64

	mediaIn, mediaOut, mediaRefused atomic.Uint64
}

func (st *stats) countError(code string) {
	v, ok := st.errors.Load(code)
	if !ok {
		v, _ = st.errors.LoadOrStore(code, new(atomic.Uint64))
	}
	v.(*atomic.Uint64).Add(1)
}

// ErrorsSent counts the error messages sent to clients, by protocol code
// (refused joins and bad frames; docs/protocol.md lists the codes).
func (s *Server) ErrorsSent() map[string]uint64 {
	m := map[string]uint64{}
	s.stats.errors.Range(func(k, v any) bool {
		m[k.(string)] = v.(*atomic.Uint64).Load()
		return true
	})
	return m
}

// IdleTimeouts counts joined sessions ended by the idle timeout.
func (s *Server) IdleTimeouts() uint64 { return s.stats.idle.Load() }

// MediaMessages counts the media messages: received from clients, sent to
// them, and refused (answered with a media_error).
type MediaMessages struct{ In, Out, Refused uint64 }

func (s *Server) MediaMessages() MediaMessages {
	return MediaMessages{s.stats.mediaIn.Load(), s.stats.mediaOut.Load(), s.stats.mediaRefused.Load()}
}

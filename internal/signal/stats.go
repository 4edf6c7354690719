package signal

import (
	"sync"
	"sync/atomic"
)

// stats counts what the connection policies did, for /metrics.
type stats struct {
	errors  codeCounts // every error message sent
	refused codeCounts // of those, the ones that refused a join
	idle    atomic.Uint64
	slow    atomic.Uint64

	mediaIn, mediaOut, mediaRefused atomic.Uint64
}

// codeCounts counts by protocol error code.
type codeCounts struct{ m sync.Map } // code → *atomic.Uint64

func (cc *codeCounts) add(code string) {
	v, ok := cc.m.Load(code)
	if !ok {
		v, _ = cc.m.LoadOrStore(code, new(atomic.Uint64))
	}
	v.(*atomic.Uint64).Add(1)
}

func (cc *codeCounts) snapshot() map[string]uint64 {
	m := map[string]uint64{}
	cc.m.Range(func(k, v any) bool {
		m[k.(string)] = v.(*atomic.Uint64).Load()
		return true
	})
	return m
}

func (st *stats) countError(code string) { st.errors.add(code) }

// ErrorsSent counts the error messages sent to clients, by protocol code
// (refused joins and bad frames; docs/protocol.md lists the codes).
func (s *Server) ErrorsSent() map[string]uint64 { return s.stats.errors.snapshot() }

// JoinsRefused counts the joins refused, by protocol code: every error
// answered before a session joined (ServerFull, AuthFailure.UserSig,
// JoinTimeout...).
func (s *Server) JoinsRefused() map[string]uint64 { return s.stats.refused.snapshot() }

// SlowDrops counts the clients disconnected because their outbound queue
// was full (policy: slow clients are dropped).
func (s *Server) SlowDrops() uint64 { return s.stats.slow.Load() }

// IdleTimeouts counts joined sessions ended by the idle timeout.
func (s *Server) IdleTimeouts() uint64 { return s.stats.idle.Load() }

// MediaMessages counts the media messages: received from clients, sent to
// them, and refused (answered with a media_error).
type MediaMessages struct{ In, Out, Refused uint64 }

func (s *Server) MediaMessages() MediaMessages {
	return MediaMessages{s.stats.mediaIn.Load(), s.stats.mediaOut.Load(), s.stats.mediaRefused.Load()}
}

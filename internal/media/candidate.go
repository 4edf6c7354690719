package media

import (
	"net/netip"
	"strings"

	"github.com/pion/ice/v4"

	"github.com/trtcd/trtcd/client/media/wire"
)

// checkCandidate parses a remote ICE candidate ("candidate:..." as in SDP
// or an RTCIceCandidateInit) and checks its address against the allowed
// networks. Host names (mDNS ".local" names included) cannot be checked
// and are refused like addresses outside the networks. It never panics.
func (c *Config) checkCandidate(raw string) *wire.Error {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return wire.Errorf(wire.CodeInvalidCandidate, "candidate is empty")
	}
	if len(raw) > 1024 {
		return wire.Errorf(wire.CodeInvalidCandidate, "candidate is longer than 1024 bytes")
	}
	cand, err := ice.UnmarshalCandidate(raw)
	if err != nil {
		return wire.Errorf(wire.CodeInvalidCandidate, "candidate: %v", err)
	}
	addr, err := netip.ParseAddr(cand.Address())
	if err != nil {
		return wire.Errorf(wire.CodeCandidateNetwork, "candidate address %q is not an IP address", cand.Address())
	}
	if !c.allowed(addr) {
		return wire.Errorf(wire.CodeCandidateNetwork, "candidate address %s is outside the allowed networks", addr)
	}
	return nil
}

package media

import (
	"fmt"
	"net/netip"
	"time"
)

// Config configures the SFU. The zero value of each field means its default.
type Config struct {
	// UDPPort is the one UDP port every PeerConnection shares (pion's UDP
	// mux), bound on each local address inside Networks; 0 picks a free port.
	UDPPort int
	// TCPPort is the ICE-over-TCP fallback port (pion's TCP mux), on the
	// same addresses; 0 picks a free port, -1 disables ICE over TCP.
	TCPPort int
	// PublicIPs are advertised in host candidates instead of the local
	// addresses (1:1 NAT); empty advertises the local addresses.
	PublicIPs []string
	// Networks restricts the local addresses that are gathered and the
	// remote candidates that are accepted. Empty allows every address.
	Networks []netip.Prefix

	// MaxTracks is the most tracks one user may publish (policy
	// TrackLimit); 0 means DefaultMaxTracks.
	MaxTracks int
	// Renegotiation limits the offers and renegotiation requests of one peer.
	Renegotiation RenegotiationPolicy
	// Bitrate limits what a published track may send.
	Bitrate BitratePolicy
	// KeyframeInterval is the least time between two keyframe requests sent
	// to one publisher's track (policy KeyframeRateLimit); requests inside
	// it are merged into one sent when it ends. 0 means DefaultKeyframeInterval.
	KeyframeInterval time.Duration
	// NACKBuffer is how many sent packets per track each subscriber
	// connection keeps for retransmission (a power of two); 0 means
	// DefaultNACKBuffer.
	NACKBuffer uint16

	// OnMediaEvent receives the start/stop events of published tracks, one
	// at a time per room, in the order they happen. It must not block or
	// call back into the room.
	OnMediaEvent func(MediaEvent)
}

// RenegotiationPolicy is a token bucket per peer: Burst offers at once, then
// one per Interval. An offer beyond it is refused with
// LimitExceeded.Renegotiation and changes nothing.
type RenegotiationPolicy struct {
	Burst    int
	Interval time.Duration
}

// BitratePolicy bounds each published track: over every Window it may send
// Tolerance times its announced bitrate; packets beyond that are dropped and
// the publisher is told once per Window (LimitExceeded.Bitrate). A track
// that announces nothing gets the default of its kind; an announcement
// above Max is cut to Max.
type BitratePolicy struct {
	DefaultAudio int // bits per second
	DefaultVideo int
	Max          int
	Tolerance    float64
	Window       time.Duration
}

// Defaults of the policies.
const (
	DefaultMaxTracks        = 3 // audio, camera video, screen-share video
	DefaultKeyframeInterval = 500 * time.Millisecond
	DefaultNACKBuffer       = 1024
	DefaultRenegotiateBurst = 10
	DefaultRenegotiateEvery = time.Second
	DefaultAudioBitrate     = 256_000
	DefaultVideoBitrate     = 4_000_000
	DefaultMaxBitrate       = 10_000_000
	DefaultBitrateTolerance = 2.0
	DefaultBitrateWindow    = time.Second
)

func (c Config) withDefaults() (Config, error) {
	if c.MaxTracks == 0 {
		c.MaxTracks = DefaultMaxTracks
	}
	if c.KeyframeInterval == 0 {
		c.KeyframeInterval = DefaultKeyframeInterval
	}
	if c.NACKBuffer == 0 {
		c.NACKBuffer = DefaultNACKBuffer
	}
	r := &c.Renegotiation
	if r.Burst == 0 {
		r.Burst = DefaultRenegotiateBurst
	}
	if r.Interval == 0 {
		r.Interval = DefaultRenegotiateEvery
	}
	b := &c.Bitrate
	if b.DefaultAudio == 0 {
		b.DefaultAudio = DefaultAudioBitrate
	}
	if b.DefaultVideo == 0 {
		b.DefaultVideo = DefaultVideoBitrate
	}
	if b.Max == 0 {
		b.Max = DefaultMaxBitrate
	}
	if b.Tolerance == 0 {
		b.Tolerance = DefaultBitrateTolerance
	}
	if b.Window == 0 {
		b.Window = DefaultBitrateWindow
	}
	switch {
	case c.UDPPort < 0 || c.UDPPort > 65535:
		return c, fmt.Errorf("media: UDPPort %d out of range", c.UDPPort)
	case c.TCPPort < -1 || c.TCPPort > 65535:
		return c, fmt.Errorf("media: TCPPort %d out of range", c.TCPPort)
	case c.MaxTracks < 0:
		return c, fmt.Errorf("media: MaxTracks must not be negative")
	case r.Burst < 0 || r.Interval < 0:
		return c, fmt.Errorf("media: Renegotiation must not be negative")
	case b.DefaultAudio < 0 || b.DefaultVideo < 0 || b.Max < 0 || b.Tolerance < 1 || b.Window < 0:
		return c, fmt.Errorf("media: Bitrate: rates must be positive and Tolerance at least 1")
	case c.NACKBuffer&(c.NACKBuffer-1) != 0:
		return c, fmt.Errorf("media: NACKBuffer %d is not a power of two", c.NACKBuffer)
	}
	for _, ip := range c.PublicIPs {
		if _, err := netip.ParseAddr(ip); err != nil {
			return c, fmt.Errorf("media: PublicIPs: %q is not an IP address", ip)
		}
	}
	return c, nil
}

// allowed reports whether ip is inside the configured networks.
func (c *Config) allowed(ip netip.Addr) bool {
	if len(c.Networks) == 0 {
		return ip.IsValid()
	}
	ip = ip.Unmap()
	for _, p := range c.Networks {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// allowsLoopback reports whether some allowed network holds a loopback address.
func (c *Config) allowsLoopback() bool {
	if len(c.Networks) == 0 {
		return false
	}
	for _, p := range c.Networks {
		if p.Contains(netip.MustParseAddr("127.0.0.1")) || p.Contains(netip.IPv6Loopback()) {
			return true
		}
	}
	return false
}

// Package media is the SFU: it forwards the RTP that anchors publish to
// every member of their room, without decoding it. Each room's media lives
// in one process; signalling reaches it as wire.Messages through Peer.Handle,
// and the room API (Remove, SetBlocked, SetRole, Close) acts on it
// synchronously.
package media

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"

	"github.com/pion/ice/v4"
	"github.com/pion/webrtc/v4"
)

// ErrClosed is returned by Join on a closed room or server.
var ErrClosed = errors.New("media: closed")

// Server holds the rooms' media and the shared UDP/TCP sockets.
type Server struct {
	cfg  Config
	log  *slog.Logger
	api  *webrtc.API
	udp  *ice.MultiUDPMuxDefault
	tcp  []ice.TCPMux
	tcpL []net.Listener
	n    counters

	mu     sync.Mutex
	rooms  map[string]*Room
	closed bool

	gmu     sync.Mutex
	gclosed bool           // no goroutine starts any more
	wg      sync.WaitGroup // goroutines the server started (forwarders, RTCP readers)
}

// NewServer binds the media ports and returns a server without rooms.
func NewServer(cfg Config, log *slog.Logger) (*Server, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, log: log, rooms: map[string]*Room{}}
	logs := pionLogs{log}
	ipFilter := func(ip net.IP) bool {
		a, ok := netip.AddrFromSlice(ip)
		return ok && s.cfg.allowed(a)
	}
	opts := []ice.UDPMuxFromPortOption{ice.UDPMuxFromPortWithIPFilter(ipFilter), ice.UDPMuxFromPortWithLogger(logs.NewLogger("udpmux"))}
	if cfg.allowsLoopback() {
		opts = append(opts, ice.UDPMuxFromPortWithLoopback())
	}
	s.udp, err = ice.NewMultiUDPMuxFromPort(cfg.UDPPort, opts...)
	if err != nil {
		return nil, fmt.Errorf("media: UDP port %d: %w", cfg.UDPPort, err)
	}
	if len(s.udp.GetListenAddresses()) == 0 {
		s.udp.Close()
		return nil, fmt.Errorf("media: no local address inside Networks %v", cfg.Networks)
	}
	if cfg.TCPPort >= 0 {
		for _, a := range s.udp.GetListenAddresses() {
			ua := a.(*net.UDPAddr)
			l, err := net.ListenTCP("tcp", &net.TCPAddr{IP: ua.IP, Port: cfg.TCPPort, Zone: ua.Zone})
			if err != nil {
				s.closeSockets()
				return nil, fmt.Errorf("media: TCP port %d: %w", cfg.TCPPort, err)
			}
			s.tcpL = append(s.tcpL, l)
			s.tcp = append(s.tcp, webrtc.NewICETCPMux(logs.NewLogger("tcpmux"), l, 8192))
		}
	}

	m, reg, err := newEngine(cfg.NACKBuffer)
	if err != nil {
		s.closeSockets()
		return nil, err
	}
	var se webrtc.SettingEngine
	se.LoggerFactory = logs
	se.SetICEUDPMux(s.udp)
	nets := []webrtc.NetworkType{webrtc.NetworkTypeUDP4, webrtc.NetworkTypeUDP6}
	if len(s.tcp) > 0 {
		se.SetICETCPMux(ice.NewMultiTCPMuxDefault(s.tcp...))
		nets = append(nets, webrtc.NetworkTypeTCP4, webrtc.NetworkTypeTCP6)
	}
	se.SetNetworkTypes(nets)
	se.SetIPFilter(ipFilter)
	se.SetRemoteIPFilter(ipFilter)
	se.SetIncludeLoopbackCandidate(cfg.allowsLoopback())
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.DisableActiveTCP(true)
	if len(cfg.PublicIPs) > 0 {
		se.SetNAT1To1IPs(cfg.PublicIPs, webrtc.ICECandidateTypeHost)
	}
	s.api = webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(reg), webrtc.WithSettingEngine(se))
	return s, nil
}

func (s *Server) closeSockets() {
	for _, t := range s.tcp {
		t.Close()
	}
	for _, l := range s.tcpL {
		l.Close()
	}
	s.udp.Close()
}

// UDPAddrs are the addresses of the shared UDP sockets.
func (s *Server) UDPAddrs() []netip.AddrPort { return addrPorts(s.udp.GetListenAddresses()) }

// TCPAddrs are the addresses of the ICE-over-TCP listeners.
func (s *Server) TCPAddrs() []netip.AddrPort {
	var as []net.Addr
	for _, l := range s.tcpL {
		as = append(as, l.Addr())
	}
	return addrPorts(as)
}

func addrPorts(as []net.Addr) []netip.AddrPort {
	var out []netip.AddrPort
	for _, a := range as {
		if ap, err := netip.ParseAddrPort(a.String()); err == nil {
			out = append(out, ap)
		}
	}
	return out
}

// Metrics are the policy counters so far.
func (s *Server) Metrics() Metrics { return s.n.snapshot() }

// Room returns the room with this key, creating it when absent. After
// Close it returns a closed room whose Join fails with ErrClosed.
func (s *Server) Room(key string) *Room {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r := s.rooms[key]; r != nil {
		return r
	}
	r := newRoom(s, key)
	if s.closed {
		r.closed = true
		return r
	}
	s.rooms[key] = r
	return r
}

// Existing is the room of key if this server has one now, else nil: for
// the paths that only tidy up (a leave, a removal, a dismissal) and must not
// make a room for signalling-only members.
func (s *Server) Existing(key string) *Room {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rooms[key]
}

func (s *Server) forget(r *Room) {
	s.mu.Lock()
	if s.rooms[r.key] == r {
		delete(s.rooms, r.key)
	}
	s.mu.Unlock()
}

// Close closes every room, then the sockets, and waits for the server's
// goroutines.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	rs := make([]*Room, 0, len(s.rooms))
	for _, r := range s.rooms {
		rs = append(rs, r)
	}
	s.mu.Unlock()
	for _, r := range rs {
		r.Close()
	}
	s.gmu.Lock()
	s.gclosed = true
	s.gmu.Unlock()
	s.wg.Wait()
	s.closeSockets()
}

// goroutine runs f as a server goroutine that Close waits for.
func (s *Server) goroutine(f func()) {
	s.gmu.Lock()
	defer s.gmu.Unlock()
	if s.gclosed {
		return
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		f()
	}()
}

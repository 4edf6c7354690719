package media_test

import (
	"testing"

	mc "github.com/trtcd/trtcd/client/media"
	"github.com/trtcd/trtcd/client/media/wire"
	"github.com/trtcd/trtcd/internal/media"
	"github.com/trtcd/trtcd/internal/rooms"
)

func TestOneUDPPortForAllPeers(t *testing.T) {
	e := newEnv(t, media.Config{})
	udp := e.srv.UDPAddrs()
	if len(udp) != 1 || !udp[0].Addr().IsLoopback() {
		t.Fatalf("UDP sockets %v, want one on loopback", udp)
	}
	a := e.join("alice", rooms.Anchor)
	b := e.join("bob", rooms.Anchor)
	e.publish(a, av...)
	e.publish(b, mc.TrackSpec{Kind: wire.Audio})
	grows(t, "bob receiving alice", packets(b.c, "alice", wire.Video), 10)
	grows(t, "alice receiving bob", packets(a.c, "bob", wire.Audio), 10)
	// Every candidate the server sent names that one port (or the TCP one).
	for _, m := range []*member{a, b} {
		for _, sdp := range m.sent.sdps() {
			for _, c := range candidates(sdp) {
				if c.udp && c.port != udp[0].Port() {
					t.Fatalf("a UDP candidate on port %d, not %d", c.port, udp[0].Port())
				}
			}
		}
	}
}

func TestICEOverTCP(t *testing.T) {
	e := newEnv(t, media.Config{})
	if len(e.srv.TCPAddrs()) != 1 {
		t.Fatalf("TCP listeners %v", e.srv.TCPAddrs())
	}
	tcpOnly := mc.Options{Networks: loopback, TCP: true}
	a := e.join("alice", rooms.Anchor, tcpOnly)
	b := e.join("bob", rooms.Anchor, tcpOnly)
	e.publish(a, av...)
	grows(t, "bob receiving alice's video over TCP", packets(b.c, "alice", wire.Video), 10)
}

func TestH264IsForwarded(t *testing.T) {
	e := newEnv(t, media.Config{})
	a := e.join("alice", rooms.Anchor)
	b := e.join("bob", rooms.Anchor)
	e.publish(a, mc.TrackSpec{Kind: wire.Audio}, mc.TrackSpec{Kind: wire.Video, Codec: "H264"})
	grows(t, "bob receiving alice's H.264", packets(b.c, "alice", wire.Video), 10)
	if st := b.c.Received("alice", wire.Video); st.Codec != "video/H264" {
		t.Fatalf("codec %q", st.Codec)
	}
}

func TestPublicIPsAreAdvertised(t *testing.T) {
	e := newEnv(t, media.Config{PublicIPs: []string{"127.0.0.42"}})
	a := e.join("alice", rooms.Anchor)
	b := e.join("bob", rooms.Anchor)
	e.publish(a, mc.TrackSpec{Kind: wire.Audio})
	grows(t, "bob receiving alice through the advertised address", packets(b.c, "alice", wire.Audio), 10)
	for _, sdp := range a.sent.sdps() {
		for _, c := range candidates(sdp) {
			if c.addr != "127.0.0.42" {
				t.Fatalf("candidate address %s, want the public 127.0.0.42", c.addr)
			}
		}
	}
}

package config

import (
	"net/netip"
	"reflect"
	"testing"
)

// TestMediaKeys: media defaults (on for one node, off in cluster mode
// unless enabled, loopback networks), bad values named by key and line, and the
// environment's overrides named by variable.
func TestMediaKeys(t *testing.T) {
	c, err := Load(write(t, base), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !c.MediaOn() || c.Media.UDPPort != 0 || c.Media.TCPPort != 0 {
		t.Fatalf("single node defaults: on=%v %+v", c.MediaOn(), c.Media)
	}
	want := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	if got := c.MediaPrefixes(); !reflect.DeepEqual(got, want) {
		t.Fatalf("default networks %v, want %v", got, want)
	}
	c, err = Load(write(t, base+"redis: redis://127.0.0.1:1/0\n"), nil)
	if err != nil || c.MediaOn() {
		t.Fatalf("cluster mode: on=%v err=%v; want off", c.MediaOn(), err)
	}
	c, err = Load(write(t, base+"redis: redis://127.0.0.1:1/0\nmedia:\n  enabled: true\n"), nil)
	if err != nil || !c.MediaOn() {
		t.Fatalf("cluster mode, enabled true: on=%v err=%v; want on", c.MediaOn(), err)
	}
	c, err = Load(write(t, base+"media:\n  enabled: false\n"), nil)
	if err != nil || c.MediaOn() {
		t.Fatalf("enabled false: on=%v err=%v", c.MediaOn(), err)
	}

	for _, tc := range []struct{ name, body, want string }{
		{"udp port", base + "media:\n  udp_port: 70000\n", "trtcd.yaml:10: media.udp_port: must be a port"},
		{"tcp port", base + "media:\n  tcp_port: -2\n", "trtcd.yaml:10: media.tcp_port: must be a port"},
		{"public ip", base + "media:\n  public_ips: [1.2.3.4, example.com]\n", "media.public_ips[1]: \"example.com\" is not an IP address"},
		{"network", base + "media:\n  networks: [10.0.0.0/8, 10.0.0.1]\n", "media.networks[1]: \"10.0.0.1\" is not a network"},
		{"type", base + "media:\n  udp_port: many\n", "media.udp_port: must be an integer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(write(t, tc.body), nil)
			checkMessage(t, err, tc.want)
		})
	}

	env := []string{"TRTCD_MEDIA_UDP_PORT=40000", "TRTCD_MEDIA_TCP_PORT=-1", "TRTCD_MEDIA_PUBLIC_IPS=203.0.113.7,2001:db8::7", "TRTCD_MEDIA_NETWORKS=10.0.0.0/8", "TRTCD_MEDIA_ENABLED=0"}
	c, err = Load(write(t, base), env)
	if err != nil {
		t.Fatal(err)
	}
	if c.MediaOn() || c.Media.UDPPort != 40000 || c.Media.TCPPort != -1 || !reflect.DeepEqual(c.Media.PublicIPs, []string{"203.0.113.7", "2001:db8::7"}) || !reflect.DeepEqual(c.Media.Networks, []string{"10.0.0.0/8"}) {
		t.Fatalf("environment not applied: on=%v %+v", c.MediaOn(), c.Media)
	}
	for _, tc := range []struct{ env, want string }{
		{"TRTCD_MEDIA_UDP_PORT=x", "TRTCD_MEDIA_UDP_PORT: must be an integer"},
		{"TRTCD_MEDIA_ENABLED=yes", "TRTCD_MEDIA_ENABLED: must be true or false"},
		{"TRTCD_MEDIA_NETWORKS=10.0.0.0/33", "TRTCD_MEDIA_NETWORKS (media.networks[0]): \"10.0.0.0/33\" is not a network"},
		{"TRTCD_MEDIA_TCP_PORT=65536", "TRTCD_MEDIA_TCP_PORT (media.tcp_port): must be a port"},
	} {
		_, err := Load(write(t, base), []string{tc.env})
		checkMessage(t, err, tc.want)
	}
}

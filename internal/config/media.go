package config

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// MediaConfig is the media plane (the SFU, docs/media.md): whether it runs,
// its sockets, and the addresses it uses and accepts.
type MediaConfig struct {
	// Enabled runs the SFU. Unset: on for a single node, off in cluster
	// mode, where each node that runs it may host rooms' media and must be
	// reachable by clients on media.networks / media.public_ips, so it is
	// turned on deliberately (docs/media.md, "Cluster mode").
	Enabled   *bool    `yaml:"enabled"`
	UDPPort   int      `yaml:"udp_port"`   // the one UDP port of every PeerConnection; 0: a free port
	TCPPort   int      `yaml:"tcp_port"`   // ICE over TCP; 0: a free port, -1: off
	PublicIPs []string `yaml:"public_ips"` // advertised instead of the local addresses (1:1 NAT)
	Networks  []string `yaml:"networks"`   // CIDR prefixes: local addresses used, remote candidates accepted
}

// DefaultMediaNetworks are the networks of media.networks when it is not
// set: loopback only, like the default listen address, so that a server
// started without a config opens no UDP port to the outside.
var DefaultMediaNetworks = []string{"127.0.0.0/8", "::1/128"}

// MediaOn reports whether the SFU runs: media.enabled, or when unset,
// whether this is a single node.
func (c *Config) MediaOn() bool {
	if c.Media.Enabled != nil {
		return *c.Media.Enabled
	}
	return c.Redis == ""
}

// MediaPrefixes are media.networks parsed (the default when unset); call
// after Validate.
func (c *Config) MediaPrefixes() []netip.Prefix {
	nets := c.Media.Networks
	if len(nets) == 0 {
		nets = DefaultMediaNetworks
	}
	out := make([]netip.Prefix, 0, len(nets))
	for _, s := range nets {
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
		}
	}
	return out
}

func (m *MediaConfig) fill(redis string) {
	if m.Enabled == nil {
		on := redis == ""
		m.Enabled = &on
	}
	if len(m.PublicIPs) == 0 {
		m.PublicIPs = nil
	}
	if len(m.Networks) == 0 {
		m.Networks = append([]string(nil), DefaultMediaNetworks...)
	}
}

func (c *Config) validateMedia() error {
	m := &c.Media
	bad := func(key, format string, args ...any) error {
		return &KeyError{Key: "media." + key, Msg: fmt.Sprintf(format, args...)}
	}
	if m.UDPPort < 0 || m.UDPPort > 65535 {
		return bad("udp_port", "must be a port from 0 (a free port) to 65535")
	}
	if m.TCPPort < -1 || m.TCPPort > 65535 {
		return bad("tcp_port", "must be a port from 0 (a free port) to 65535, or -1 (no ICE over TCP)")
	}
	for i, ip := range m.PublicIPs {
		if _, err := netip.ParseAddr(ip); err != nil {
			return bad(fmt.Sprintf("public_ips[%d]", i), "%q is not an IP address", ip)
		}
	}
	for i, n := range m.Networks {
		if _, err := netip.ParsePrefix(n); err != nil {
			return bad(fmt.Sprintf("networks[%d]", i), "%q is not a network such as 10.0.0.0/8 or 127.0.0.1/32", n)
		}
	}
	return nil
}

// applyMediaEnv reads TRTCD_MEDIA_* into the media keys.
func (c *Config) applyMediaEnv(env func(string) (string, bool), set map[string]string) error {
	m := &c.Media
	if v, ok := env("TRTCD_MEDIA_ENABLED"); ok {
		b, ok := parseBool(v)
		if !ok {
			return fmt.Errorf("config: TRTCD_MEDIA_ENABLED: must be true or false (or 1 or 0)")
		}
		m.Enabled = &b
		set["media.enabled"] = "TRTCD_MEDIA_ENABLED"
	}
	for name, p := range map[string]*int{"TRTCD_MEDIA_UDP_PORT": &m.UDPPort, "TRTCD_MEDIA_TCP_PORT": &m.TCPPort} {
		if v, ok := env(name); ok {
			n, err := strconv.Atoi(v)
			if err != nil {
				return fmt.Errorf("config: %s: must be an integer", name)
			}
			*p = n
			set["media."+strings.ToLower(strings.TrimPrefix(name, "TRTCD_MEDIA_"))] = name
		}
	}
	for name, p := range map[string]*[]string{"TRTCD_MEDIA_PUBLIC_IPS": &m.PublicIPs, "TRTCD_MEDIA_NETWORKS": &m.Networks} {
		if v, ok := env(name); ok {
			*p = nil
			if v != "" {
				*p = strings.Split(v, ",")
			}
			set["media."+strings.ToLower(strings.TrimPrefix(name, "TRTCD_MEDIA_"))] = name
		}
	}
	return nil
}

package main

import (
	"context"
	"net/netip"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/trtcd/trtcd/client/media"
	"github.com/trtcd/trtcd/client/media/wire"
)

// mediaFlags are join's media options.
type mediaFlags struct {
	publish bool
	receive time.Duration
	nets    string
}

func (f *mediaFlags) add(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.BoolVar(&f.publish, "publish", false, "publish a synthetic audio and video track (Opus-sized packets, VP8 frames)")
	fl.DurationVar(&f.receive, "receive", 0, "receive the room's media and print the packets received per user this often (e.g. 2s)")
	fl.StringVar(&f.nets, "media-networks", "127.0.0.0/8,::1/128", "comma-separated networks whose local addresses media may use (the server's media.networks default)")
}

func (f *mediaFlags) networks() ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range strings.Split(f.nets, ",") {
		p, err := netip.ParsePrefix(strings.TrimSpace(s))
		if err != nil {
			return nil, usageError("--media-networks: %q is not a network such as 127.0.0.0/8", s)
		}
		out = append(out, p)
	}
	return out, nil
}

// publishSynthetic publishes audio and video; it returns the line to print.
func publishSynthetic(mc *media.Client) map[string]any {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := mc.Publish(ctx, media.TrackSpec{Kind: wire.Audio}, media.TrackSpec{Kind: wire.Video}); err != nil {
		return map[string]any{"type": "media_publish_failed", "error": err.Error()}
	}
	return map[string]any{"type": "media_published", "kinds": []wire.Kind{wire.Audio, wire.Video}}
}

// received is the JSON line of --receive: packets received so far from
// each user met in the room, by kind.
func received(mc *media.Client, users map[string]bool, self string) map[string]any {
	per := map[string]map[wire.Kind]uint64{}
	for u := range users {
		if u == self {
			continue
		}
		for _, k := range []wire.Kind{wire.Audio, wire.Video, wire.SubVideo} {
			if n := mc.Received(u, k).Packets; n > 0 {
				if per[u] == nil {
					per[u] = map[wire.Kind]uint64{}
				}
				per[u][k] = n
			}
		}
	}
	return map[string]any{"type": "media_received", "packets": per}
}

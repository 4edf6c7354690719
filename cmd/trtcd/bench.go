package main

import (
	"context"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/trtcd/trtcd/internal/config"
	"github.com/trtcd/trtcd/internal/loadtest"
)

func benchCmd() *cobra.Command {
	var t loadtest.Target
	var asJSON, baseline bool
	var timeout time.Duration
	root := &cobra.Command{
		Use:   "bench",
		Short: "Load a running server and measure it (clients, kick, api, dismiss, media)",
		Long: `Drives a server given by --server and credentials (default: the development account),
reporting a table (or --json) with a baseline measured in the same run where one applies.
Progress goes to stderr. Every run is bounded by --timeout. Raise the server's rate limits for
kick and api runs (e.g. TRTCD_RATE_LIMIT_RemoveUser=100000), and its open-file limit for many clients.`,
	}
	pf := root.PersistentFlags()
	pf.StringVar(&t.Server, "server", defaultServer, "server URL")
	pf.StringVar(&t.SecretID, "secret-id", config.DevSecretID, "SecretId")
	pf.StringVar(&t.SecretKey, "secret-key", config.DevSecretKey, "SecretKey")
	pf.Uint64Var(&t.SdkAppID, "sdkappid", config.DevSdkAppID, "SdkAppId")
	pf.StringVar(&t.AppKey, "key", config.DevAppKey, "the app's UserSig key")
	pf.IntVar(&t.Sources, "sources", 1, "loopback source addresses 127.0.0.1..N to spread connections over (28k ports each)")
	pf.BoolVar(&asJSON, "json", false, "print JSON")
	pf.BoolVar(&baseline, "baseline", true, "measure the baseline in the same run")
	pf.DurationVar(&timeout, "timeout", 10*time.Minute, "stop the run after this long")

	run := func(f func(ctx context.Context, b *loadtest.Baseline) (*loadtest.Report, error)) func(*cobra.Command, []string) error {
		return func(cmd *cobra.Command, _ []string) error {
			t.Progress = cmd.ErrOrStderr()
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			defer cancel()
			var b *loadtest.Baseline
			if baseline {
				exe, err := os.Executable()
				if err != nil {
					return err
				}
				b = &loadtest.Baseline{Exe: exe, Args: []string{"bench", "baseline-server"}}
			}
			rep, err := f(ctx, b)
			if err != nil {
				return err
			}
			return rep.Write(cmd.OutOrStdout(), asJSON)
		}
	}

	var cc loadtest.ClientsConfig
	clients := &cobra.Command{Use: "clients", Short: "N idle joined clients over M rooms: join rate, join latency, server memory per client", Args: cobra.NoArgs,
		RunE: run(func(ctx context.Context, b *loadtest.Baseline) (*loadtest.Report, error) {
			cc.Target, cc.Baseline = t, b
			return loadtest.RunClients(ctx, cc)
		})}
	clients.Flags().IntVar(&cc.Clients, "clients", 1000, "clients")
	clients.Flags().IntVar(&cc.Rooms, "rooms", 100, "rooms")
	clients.Flags().Float64Var(&cc.Rate, "rate", 0, "joins per second (0: as fast as possible)")
	clients.Flags().IntVar(&cc.Concurrency, "concurrency", 64, "joins in flight")
	clients.Flags().DurationVar(&cc.Hold, "hold", 5*time.Second, "how long to hold the clients before measuring memory")
	clients.Flags().DurationVar(&cc.Heartbeat, "heartbeat", 3*time.Second, "client ping interval")

	var kc loadtest.KickConfig
	kick := &cobra.Command{Use: "kick", Short: "RemoveUser at a target rate: latency to the client's kicked, and API latency", Args: cobra.NoArgs,
		RunE: run(func(ctx context.Context, _ *loadtest.Baseline) (*loadtest.Report, error) {
			kc.Target = t
			return loadtest.RunKick(ctx, kc)
		})}
	kick.Flags().IntVar(&kc.Count, "count", 1000, "kicks (one client joined per kick)")
	kick.Flags().Float64Var(&kc.Rate, "rate", 1000, "kicks per second")

	var ac loadtest.APIConfig
	api := &cobra.Command{Use: "api", Short: "signed API calls as fast as possible, beside a bare net/http handler", Args: cobra.NoArgs,
		RunE: run(func(ctx context.Context, b *loadtest.Baseline) (*loadtest.Report, error) {
			ac.Target, ac.Baseline = t, b
			return loadtest.RunAPI(ctx, ac)
		})}
	api.Flags().IntVar(&ac.Concurrency, "concurrency", 16, "calls in flight")
	api.Flags().DurationVar(&ac.Duration, "duration", 5*time.Second, "how long")

	var dc loadtest.DismissConfig
	dismiss := &cobra.Command{Use: "dismiss", Short: "one room of N members dismissed: time until the last kicked", Args: cobra.NoArgs,
		RunE: run(func(ctx context.Context, _ *loadtest.Baseline) (*loadtest.Report, error) {
			dc.Target = t
			return loadtest.RunDismiss(ctx, dc)
		})}
	dismiss.Flags().IntVar(&dc.Members, "members", 1000, "members")

	var mc loadtest.MediaConfig
	media := &cobra.Command{Use: "media", Short: "P publishers, N subscribers of synthetic 1.5 Mbit/s video + 48 kbit/s audio: CPU per packet, latency, loss, RemoveUser to track end, beside a bare pion relay",
		Long: `One room: --publishers anchors each send VP8-shaped video (1.5 Mbit/s, 30 fps) and Opus-sized audio
(48 kbit/s) with a send stamp in every payload; --subscribers audience members receive every track.
Reports the server's CPU per forwarded packet and per subscriber stream over --duration, forwarding
latency and loss (from RTP sequence numbers), server RSS per media participant, and the time from one
RemoveUser of every publisher to each subscriber's track ending (ReadRTP EOF) and to its
media_track_unpublished. The baseline is a bare pion relay process forwarding one publisher to the same
number of subscriber streams. Media must be on in the server (the default on one node).`,
		Args: cobra.NoArgs,
		RunE: run(func(ctx context.Context, b *loadtest.Baseline) (*loadtest.Report, error) {
			mc.Target, mc.Baseline = t, b
			return loadtest.RunMedia(ctx, mc)
		})}
	media.Flags().IntVar(&mc.Publishers, "publishers", 1, "publishers (anchors sending audio and video)")
	media.Flags().IntVar(&mc.Subscribers, "subscribers", 10, "subscribers (audience members receiving every track)")
	media.Flags().DurationVar(&mc.Duration, "duration", 10*time.Second, "measured interval once every stream flows")

	var listen string
	baselineServer := &cobra.Command{Use: "baseline-server echo|bare|relay", Hidden: true, Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return loadtest.ServeBaseline(args[0], listen, cmd.OutOrStdout())
		}}
	baselineServer.Flags().StringVar(&listen, "listen", "127.0.0.1:0", "address")

	root.AddCommand(clients, kick, api, dismiss, media, baselineServer)
	return root
}

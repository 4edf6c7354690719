package loadtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/trtcd/trtcd/internal/procstat"
)

// MediaConfig: Publishers anchors each publishing the synthetic audio and
// video (see VideoBitrate) and Subscribers audience members receiving them,
// in one room; measured for Duration once every stream flows.
type MediaConfig struct {
	Target
	Publishers  int
	Subscribers int
	Duration    time.Duration
	Baseline    *Baseline // the bare relay ("relay"), nil for none
}

// mediaWait bounds every wait of a media run for something to happen
// (tracks arriving, tracks ending).
const mediaWait = 30 * time.Second

// window counts the packets and latencies of the measured interval only.
type window struct {
	on      atomic.Bool
	packets atomic.Uint64
}

// RunMedia reports the server's CPU per forwarded packet and per
// subscriber stream, forwarding latency and loss, RSS per media
// participant, and the time from RemoveUser (of every publisher, in one
// call) to each subscriber's track ending (the server's
// media_track_unpublished, sent once it stopped forwarding the track) and
// to the track leaving the subscriber's connection (ReadRTP returning EOF
// after the server's new offer), beside the bare relay's CPU and latency
// with one publisher and the same number of subscriber streams.
func RunMedia(ctx context.Context, cfg MediaConfig) (*Report, error) {
	if cfg.Publishers <= 0 || cfg.Subscribers <= 0 {
		return nil, errors.New("bench media: --publishers and --subscribers must be at least 1")
	}
	if cfg.Duration <= 0 {
		cfg.Duration = 10 * time.Second
	}
	streams := cfg.Publishers * cfg.Subscribers * 2
	rep := NewReport("media", map[string]any{"publishers": cfg.Publishers, "subscribers": cfg.Subscribers,
		"duration": cfg.Duration.String(), "subscriber_streams": streams,
		"load": fmt.Sprintf("video %d bit/s at %d fps in packets of ≤%d bytes, audio %d bit/s every %s, per publisher",
			VideoBitrate, VideoFPS, MediaPacketBytes, AudioBitrate, AudioPacketInterval)})
	api, err := loopbackAPI()
	if err != nil {
		return nil, err
	}
	room := uint64(time.Now().Unix()%1000000)*1000 + 777
	rss0, err := BaselineRSS(cfg.Server)
	if err != nil {
		return nil, err
	}

	st := newStreamStats()
	var win window
	var removeAt atomic.Uint64 // stamp of the RemoveUser call, 0 before
	ended, unpub := NewLatencies(), NewLatencies()
	var members []*mediaMember
	var pubs []*synthPublisher
	defer func() {
		for _, p := range pubs {
			p.stop()
		}
		for _, m := range members {
			m.close()
		}
	}()
	onTrack := func(t *webrtc.TrackRemote) {
		st.receive(t, &win, func() {
			if at := removeAt.Load(); at != 0 {
				ended.Record(time.Duration(stampNow() - at))
			}
		})
	}
	var users []string
	for p := 0; p < cfg.Publishers; p++ {
		user := fmt.Sprintf("mp%d", p)
		m, err := cfg.joinMedia(ctx, p, api, user, room, "anchor", nil)
		if err != nil {
			return nil, err
		}
		members = append(members, m)
		s, err := newSynthPublisher(user)
		if err != nil {
			return nil, err
		}
		if err := m.publish(ctx, s); err != nil {
			return nil, err
		}
		s.start()
		pubs = append(pubs, s)
		users = append(users, `"`+user+`"`)
	}
	var unpubWG sync.WaitGroup
	for i := 0; i < cfg.Subscribers; i++ {
		m, err := cfg.joinMedia(ctx, cfg.Publishers+i, api, fmt.Sprintf("ms%d", i), room, "audience", onTrack)
		if err != nil {
			return nil, err
		}
		members = append(members, m)
		if err := m.askMedia(); err != nil {
			return nil, err
		}
		unpubWG.Add(1)
		go func() {
			defer unpubWG.Done()
			for n := 0; n < cfg.Publishers*2; n++ {
				select {
				case <-m.unpublished:
					if at := removeAt.Load(); at != 0 {
						unpub.Record(time.Duration(stampNow() - at))
					}
				case <-m.done:
					return
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	if err := waitStreams(ctx, cfg.Target, st, streams); err != nil {
		return nil, err
	}
	time.Sleep(time.Second) // past the first keyframes and retransmissions
	cpu, n, self, err := measure(ctx, cfg.Target, &win, st, cfg.Duration, func() (float64, error) { return ServerCPU(cfg.Server) })
	if err != nil {
		return nil, err
	}
	rep.Figures["server_cores_busy"] = cpu / cfg.Duration.Seconds()
	rep.Figures["loadgen_cores_busy"] = self / cfg.Duration.Seconds()
	rep.Figures["forwarded_packets"] = float64(n)
	rep.Figures["server_cpu_us_per_packet"] = Ratio(cpu*1e6, float64(n))
	rep.Figures["server_cpu_ms_per_s_per_stream"] = cpu * 1000 / cfg.Duration.Seconds() / float64(streams)
	rep.Latency["forwarding trtcd (send → subscriber ReadRTP)"] = st.lat.Summary()
	// RSS after the measured interval, once the per-stream retransmission
	// buffers have filled.
	rss1, err := ServerRSS(cfg.Server)
	if err != nil {
		return nil, err
	}
	rep.Figures["server_rss_bytes_per_participant"] = float64(rss1-rss0) / float64(cfg.Publishers+cfg.Subscribers)

	// RemoveUser every publisher; every subscriber's tracks must end.
	caller := cfg.newCaller("RemoveUser", nil, 1)
	defer caller.close()
	cfg.progress("RemoveUser %s", strings.Join(users, ","))
	removeAt.Store(stampNow())
	code, err := caller.callWith(ctx, fmt.Appendf(nil, `{"SdkAppId":%d,"RoomId":%d,"UserIds":[%s]}`, cfg.SdkAppID, room, strings.Join(users, ",")))
	if err == nil && code != "" {
		err = fmt.Errorf("RemoveUser answered %s", code)
	}
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(mediaWait)
	for st.ended.Load() < int64(streams) && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(10 * time.Millisecond)
	}
	rep.Figures["tracks_ended"] = float64(st.ended.Load())
	rep.Figures["missing"] = float64(int64(streams) - st.ended.Load())
	rep.Figures["received_packets"] = float64(st.received.Load())
	rep.Figures["lost_packets"] = float64(st.lost.Load())
	rep.Figures["loss_ratio"] = Ratio(float64(st.lost.Load()), float64(st.lost.Load())+float64(st.received.Load()))
	rep.Latency["RemoveUser → track removed from the connection (new offer applied, ReadRTP EOF)"] = ended.Summary()
	for _, m := range members {
		m.ws.Close()
	}
	unpubWG.Wait()
	rep.Latency["RemoveUser → track ended (media_track_unpublished)"] = unpub.Summary()

	if cfg.Baseline != nil {
		for _, p := range pubs {
			p.stop()
		}
		if err := runRelay(ctx, cfg, api, streams, rep); err != nil {
			return nil, fmt.Errorf("bare relay: %w", err)
		}
		rep.Figures["ratio_cpu_per_packet_vs_relay"] = Ratio(rep.Figures["server_cpu_us_per_packet"], rep.Figures["baseline_relay_cpu_us_per_packet"])
	}
	return rep, nil
}

// waitStreams waits until want tracks are being received and each has had
// time to deliver packets.
func waitStreams(ctx context.Context, t Target, st *streamStats, want int) error {
	deadline := time.Now().Add(mediaWait)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if st.flowing.Load() >= int64(want) {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("%d of %d subscriber streams flowing after %s", st.flowing.Load(), want, mediaWait)
}

// measure counts the packets received over d and the CPU seconds cpu()
// grew by meanwhile.
// The bench process's own CPU over the same interval is also returned
// (the load generator shares the machine with the server).
func measure(ctx context.Context, t Target, win *window, st *streamStats, d time.Duration, cpu func() (float64, error)) (float64, uint64, float64, error) {
	self := strconv.Itoa(os.Getpid())
	c0, err := cpu()
	if err != nil {
		return 0, 0, 0, err
	}
	s0, err := procstat.CPU(self)
	if err != nil {
		return 0, 0, 0, err
	}
	win.on.Store(true)
	t.progress("measuring %s", d)
	select {
	case <-time.After(d):
	case <-ctx.Done():
		return 0, 0, 0, ctx.Err()
	}
	win.on.Store(false)
	c1, err := cpu()
	if err != nil {
		return 0, 0, 0, err
	}
	s1, err := procstat.CPU(self)
	if err != nil {
		return 0, 0, 0, err
	}
	return c1 - c0, win.packets.Load(), s1 - s0, nil
}

// runRelay measures the bare relay: one publisher, streams/2 subscribers.
func runRelay(ctx context.Context, cfg MediaConfig, api *webrtc.API, streams int, rep *Report) error {
	addr, cmd, err := cfg.Baseline.start(ctx, "relay")
	if err != nil {
		return err
	}
	defer stop(cmd)
	pid := strconv.Itoa(cmd.Process.Pid)
	st := newStreamStats()
	var win window
	var pcs []*webrtc.PeerConnection
	defer func() {
		for _, pc := range pcs {
			pc.Close()
		}
	}()
	pub, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return err
	}
	pcs = append(pcs, pub)
	s, err := newSynthPublisher("relay-pub")
	if err != nil {
		return err
	}
	defer s.stop()
	if err := s.addTo(pub); err != nil {
		return err
	}
	offer, err := pub.CreateOffer(nil)
	if err != nil {
		return err
	}
	local, err := completeLocal(pub, offer)
	if err != nil {
		return err
	}
	answer, _, err := relayPost(ctx, addr, "/publish", local)
	if err != nil {
		return err
	}
	if err := pub.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer}); err != nil {
		return err
	}
	s.start()
	for i := 0; i < streams/2; i++ {
		pc, err := api.NewPeerConnection(webrtc.Configuration{})
		if err != nil {
			return err
		}
		pcs = append(pcs, pc)
		pc.OnTrack(func(t *webrtc.TrackRemote, _ *webrtc.RTPReceiver) { st.receive(t, &win, nil) })
		offer, id, err := relayPost(ctx, addr, "/subscribe", "")
		if err != nil {
			return err
		}
		if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
			return err
		}
		ans, err := pc.CreateAnswer(nil)
		if err != nil {
			return err
		}
		local, err := completeLocal(pc, ans)
		if err != nil {
			return err
		}
		if _, _, err := relayPost(ctx, addr, "/answer?id="+id, local); err != nil {
			return err
		}
	}
	if err := waitStreams(ctx, cfg.Target, st, streams); err != nil {
		return err
	}
	time.Sleep(time.Second)
	cpu, n, self, err := measure(ctx, cfg.Target, &win, st, cfg.Duration, func() (float64, error) { return procstat.CPU(pid) })
	if err != nil {
		return err
	}
	rep.Figures["baseline_relay_cores_busy"] = cpu / cfg.Duration.Seconds()
	rep.Figures["baseline_loadgen_cores_busy"] = self / cfg.Duration.Seconds()
	rep.Figures["baseline_relay_forwarded_packets"] = float64(n)
	rep.Figures["baseline_relay_cpu_us_per_packet"] = Ratio(cpu*1e6, float64(n))
	rep.Latency["forwarding bare pion relay (send → subscriber ReadRTP)"] = st.lat.Summary()
	return nil
}

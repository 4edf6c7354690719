package loadtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/pion/webrtc/v4"
)

// The bare relay is the baseline of `trtcd bench media`: a minimal pion
// program, run as its own process, that receives one publisher's audio and
// video and forwards them to every subscriber through shared
// TrackLocalStaticRTPs. No rooms, no signalling beyond two HTTP calls per
// peer on loopback:
//
//	POST /publish      body: the publisher's offer  → the answer
//	POST /subscribe    → the relay's offer (id in X-Peer)
//	POST /answer?id=N  body: the subscriber's answer
type relay struct {
	api    *webrtc.API
	mu     sync.Mutex
	tracks map[string]*webrtc.TrackLocalStaticRTP // by kind, once the publisher's track arrived
	ready  chan struct{}                          // closed when both tracks arrived
	peers  map[int]*webrtc.PeerConnection
	next   int
}

// ServeRelay runs the bare relay on listen, printing its address on out.
func ServeRelay(listen string, out io.Writer) error {
	api, err := loopbackAPI()
	if err != nil {
		return err
	}
	r := &relay{api: api, tracks: map[string]*webrtc.TrackLocalStaticRTP{}, ready: make(chan struct{}), peers: map[int]*webrtc.PeerConnection{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /publish", r.publish)
	mux.HandleFunc("POST /subscribe", r.subscribe)
	mux.HandleFunc("POST /answer", r.answer)
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	fmt.Fprintln(out, ln.Addr().String())
	return http.Serve(ln, mux)
}

func (r *relay) publish(w http.ResponseWriter, req *http.Request) {
	offer, _ := io.ReadAll(req.Body)
	pc, err := r.api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		http.Error(w, err.Error(), 500)
		return
	}
	pc.OnTrack(func(t *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		kind := t.Kind().String()
		local, err := webrtc.NewTrackLocalStaticRTP(t.Codec().RTPCodecCapability, kind, "relay")
		if err != nil {
			return
		}
		r.mu.Lock()
		r.tracks[kind] = local
		if len(r.tracks) == 2 {
			close(r.ready)
		}
		r.mu.Unlock()
		for {
			p, _, err := t.ReadRTP()
			if err != nil {
				return
			}
			local.WriteRTP(p)
		}
	})
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: string(offer)}); err != nil {
		http.Error(w, err.Error(), 400)
		return
	}
	ans, err := pc.CreateAnswer(nil)
	if err == nil {
		var sdp string
		if sdp, err = completeLocal(pc, ans); err == nil {
			io.WriteString(w, sdp)
			return
		}
	}
	http.Error(w, err.Error(), 500)
}

func (r *relay) subscribe(w http.ResponseWriter, req *http.Request) {
	select {
	case <-r.ready:
	case <-time.After(30 * time.Second):
		http.Error(w, "no published tracks", 503)
		return
	}
	pc, err := r.api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		http.Error(w, err.Error(), 500)
		return
	}
	r.mu.Lock()
	id := r.next
	r.next++
	r.peers[id] = pc
	tracks := []*webrtc.TrackLocalStaticRTP{r.tracks["audio"], r.tracks["video"]}
	r.mu.Unlock()
	for _, t := range tracks {
		snd, err := pc.AddTrack(t)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		go func() {
			for {
				if _, _, err := snd.ReadRTCP(); err != nil {
					return
				}
			}
		}()
	}
	offer, err := pc.CreateOffer(nil)
	if err == nil {
		var sdp string
		if sdp, err = completeLocal(pc, offer); err == nil {
			w.Header().Set("X-Peer", strconv.Itoa(id))
			io.WriteString(w, sdp)
			return
		}
	}
	http.Error(w, err.Error(), 500)
}

func (r *relay) answer(w http.ResponseWriter, req *http.Request) {
	id, _ := strconv.Atoi(req.URL.Query().Get("id"))
	r.mu.Lock()
	pc := r.peers[id]
	r.mu.Unlock()
	body, _ := io.ReadAll(req.Body)
	if pc == nil {
		http.Error(w, "no such peer", 404)
		return
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: string(body)}); err != nil {
		http.Error(w, err.Error(), 400)
	}
}

// relayPost sends body to the relay and returns its answer and X-Peer.
func relayPost(ctx context.Context, addr, path, body string) (string, string, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr+path, bytes.NewReader([]byte(body)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return "", "", errors.New("relay " + path + ": " + resp.Status + " " + string(b))
	}
	return string(b), resp.Header.Get("X-Peer"), nil
}

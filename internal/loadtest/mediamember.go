package loadtest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/pion/webrtc/v4"

	"github.com/trtcd/trtcd/client/media/wire"
	"github.com/trtcd/trtcd/protocol"
	"github.com/trtcd/trtcd/usersig"
)

// mediaMember is one room member speaking the media protocol
// (docs/media.md) with pion directly, so that the bench sees every packet
// (its send stamp and sequence number) and the moment each track ends.
type mediaMember struct {
	user string
	ws   *websocket.Conn
	api  *webrtc.API

	writeMu sync.Mutex
	mu      sync.Mutex
	pub     *webrtc.PeerConnection
	sub     *webrtc.PeerConnection
	answers chan wire.Message // answers and errors to this member's offers

	// onTrack is called for each track received on sub (in its own goroutine).
	onTrack func(*webrtc.TrackRemote)
	// unpublished receives the users named by media_track_unpublished.
	unpublished chan string

	done chan struct{}
	wg   sync.WaitGroup
}

// joinMedia joins room as user with role over a raw WebSocket.
func (t Target) joinMedia(ctx context.Context, i int, api *webrtc.API, user string, room uint64, role string, onTrack func(*webrtc.TrackRemote)) (*mediaMember, error) {
	u, err := url.Parse(t.Server)
	if err != nil {
		return nil, err
	}
	u.Path = protocol.Path
	if u.Scheme == "https" {
		u.Scheme = "wss"
	} else {
		u.Scheme = "ws"
	}
	ws, _, err := t.dialer(i).DialContext(ctx, u.String(), nil)
	if err != nil {
		return nil, err
	}
	sig := usersig.Generate(t.SdkAppID, t.AppKey, user, 24*time.Hour, time.Now(), nil)
	f := protocol.ClientFrame{Type: protocol.TypeJoin, SdkAppID: json.RawMessage(strconv.FormatUint(t.SdkAppID, 10)),
		UserID: user, UserSig: sig, RoomID: json.RawMessage(strconv.FormatUint(room, 10)), Role: role}
	ws.SetReadDeadline(time.Now().Add(30 * time.Second))
	var first protocol.ServerMessage
	if err := ws.WriteJSON(f); err == nil {
		err = ws.ReadJSON(&first)
	}
	if err != nil || first.Type != protocol.TypeJoined {
		ws.Close()
		return nil, fmt.Errorf("join %s: %v %s %s", user, err, first.Type, first.Message)
	}
	ws.SetReadDeadline(time.Time{})
	m := &mediaMember{user: user, ws: ws, api: api, answers: make(chan wire.Message, 4), onTrack: onTrack,
		unpublished: make(chan string, 16), done: make(chan struct{})}
	m.wg.Add(2)
	go m.readLoop()
	go m.heartbeat()
	return m, nil
}

func (m *mediaMember) send(v any) error {
	m.writeMu.Lock()
	defer m.writeMu.Unlock()
	m.ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
	return m.ws.WriteJSON(v)
}

func (m *mediaMember) heartbeat() {
	defer m.wg.Done()
	t := time.NewTicker(3 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-m.done:
			return
		case <-t.C:
			m.send(protocol.ClientFrame{Type: protocol.TypePing})
		}
	}
}

func (m *mediaMember) readLoop() {
	defer m.wg.Done()
	defer close(m.done)
	for {
		_, b, err := m.ws.ReadMessage()
		if err != nil {
			return
		}
		msg, werr := wire.Decode(b)
		if werr != nil {
			continue // a room event, not a media message
		}
		switch msg.Type {
		case wire.TypeAnswer, wire.TypeError:
			select {
			case m.answers <- msg:
			default:
			}
		case wire.TypeOffer:
			if err := m.answerSub(msg.SDP); err != nil {
				return
			}
		case wire.TypeTrackUnpublished:
			select {
			case m.unpublished <- msg.UserID:
			default:
			}
		}
	}
}

// answerSub answers the server's offer on the receiving connection.
func (m *mediaMember) answerSub(sdp string) error {
	m.mu.Lock()
	if m.sub == nil {
		pc, err := m.api.NewPeerConnection(webrtc.Configuration{})
		if err != nil {
			m.mu.Unlock()
			return err
		}
		pc.OnTrack(func(t *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
			if m.onTrack != nil {
				m.onTrack(t)
			}
		})
		m.sub = pc
	}
	pc := m.sub
	m.mu.Unlock()
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: sdp}); err != nil {
		return err
	}
	answer, err := pc.CreateAnswer(nil)
	if err != nil {
		return err
	}
	local, err := completeLocal(pc, answer)
	if err != nil {
		return err
	}
	return m.send(wire.Message{Type: wire.TypeAnswer, PC: wire.PCSub, SDP: local})
}

// publish negotiates the publisher's two tracks on pub.
func (m *mediaMember) publish(ctx context.Context, s *synthPublisher) error {
	pc, err := m.api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return err
	}
	m.mu.Lock()
	m.pub = pc
	m.mu.Unlock()
	if err := s.addTo(pc); err != nil {
		return err
	}
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		return err
	}
	local, err := completeLocal(pc, offer)
	if err != nil {
		return err
	}
	tracks := []wire.TrackInfo{{TrackID: s.audio.ID(), Kind: wire.Audio, Bitrate: AudioBitrate}, {TrackID: s.video.ID(), Kind: wire.Video, Bitrate: VideoBitrate}}
	if err := m.send(wire.Message{Type: wire.TypeOffer, PC: wire.PCPub, SDP: local, Tracks: tracks, ID: "o1"}); err != nil {
		return err
	}
	select {
	case a := <-m.answers:
		if a.Type == wire.TypeError {
			return fmt.Errorf("publish refused: %s %s", a.Code, a.Message)
		}
		return pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: a.SDP})
	case <-m.done:
		return fmt.Errorf("%s: connection closed", m.user)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// askMedia asks for an offer of the room's tracks.
func (m *mediaMember) askMedia() error {
	return m.send(wire.Message{Type: wire.TypeRenegotiate, PC: wire.PCSub})
}

func (m *mediaMember) close() {
	m.ws.Close()
	m.wg.Wait()
	m.mu.Lock()
	pub, sub := m.pub, m.sub
	m.mu.Unlock()
	for _, pc := range []*webrtc.PeerConnection{pub, sub} {
		if pc != nil {
			pc.Close()
		}
	}
}

// Package wire is the media signalling protocol of trtcd: the messages a
// client and the SFU exchange to negotiate WebRTC PeerConnections, written
// once and used by both sides. It is documented in docs/media.md.
//
// Every message is one JSON object with a "type" starting with "media_", so
// it can travel on the room WebSocket beside the room events.
package wire

import (
	"bytes"
	"encoding/json"
)

// Message types.
const (
	TypeOffer            = "media_offer"             // both ways: an SDP offer
	TypeAnswer           = "media_answer"            // both ways: an SDP answer
	TypeCandidate        = "media_candidate"         // both ways: a trickled ICE candidate
	TypeRenegotiate      = "media_renegotiate"       // client: ask for a fresh offer on the sub connection
	TypeSubscribe        = "media_subscribe"         // client: receive a user's audio or video again
	TypeUnsubscribe      = "media_unsubscribe"       // client: stop receiving a user's audio or video
	TypeTrackPublished   = "media_track_published"   // server: a user's track is offered to you
	TypeTrackUnpublished = "media_track_unpublished" // server: a user's track was taken away
	TypeError            = "media_error"             // server: a refused message; the connection stays
	TypeReset            = "media_reset"             // server: the room's media restarted elsewhere; publish and receive again
)

// PeerConnections of one client: it offers on "pub" (what it publishes) and
// answers on "sub" (what it receives).
const (
	PCPub = "pub"
	PCSub = "sub"
)

// Kind names a published track of a user: the microphone, the camera (main
// stream) or the screen share (TRTC's substream).
type Kind string

// Kinds of track.
const (
	Audio    Kind = "audio"
	Video    Kind = "video"
	SubVideo Kind = "subvideo"
)

// Valid reports whether k is one of the three kinds.
func (k Kind) Valid() bool { return k == Audio || k == Video || k == SubVideo }

// IsVideo reports whether k is carried by a video m-section.
func (k Kind) IsVideo() bool { return k == Video || k == SubVideo }

// TrackInfo declares one published track in an offer: which kind it is and
// the bitrate the publisher announces (bits per second; 0 for the default).
type TrackInfo struct {
	TrackID string `json:"trackId"`
	Kind    Kind   `json:"kind"`
	Bitrate int    `json:"bitrate,omitempty"`
}

// Candidate is an ICE candidate as a browser's RTCIceCandidateInit.
type Candidate struct {
	Candidate        string  `json:"candidate"`
	SDPMid           *string `json:"sdpMid,omitempty"`
	SDPMLineIndex    *uint16 `json:"sdpMLineIndex,omitempty"`
	UsernameFragment *string `json:"usernameFragment,omitempty"`
}

// Message is every media message; fields a type does not use are empty.
type Message struct {
	Type      string      `json:"type"`
	PC        string      `json:"pc,omitempty"`
	SDP       string      `json:"sdp,omitempty"`
	Tracks    []TrackInfo `json:"tracks,omitempty"`
	Candidate *Candidate  `json:"candidate,omitempty"`
	UserID    string      `json:"userId,omitempty"`
	Kind      Kind        `json:"kind,omitempty"`
	Code      string      `json:"code,omitempty"`
	Message   string      `json:"message,omitempty"`
	Ref       string      `json:"ref,omitempty"` // media_error: the type of the message refused, if any
	// ID is chosen by the client for an offer (at most 64 bytes); the
	// answer and a media_error refusing it carry it back.
	ID string `json:"id,omitempty"`
}

// MaxMessageBytes bounds one encoded message (an SDP with several m-sections
// and candidates fits with room to spare).
const MaxMessageBytes = 64 << 10

// MaxSDPBytes bounds the sdp field.
const MaxSDPBytes = 48 << 10

// MaxUserIDBytes is the longest userId (the room protocol's rule).
const MaxUserIDBytes = 32

// Decode parses one message and checks the fields its type needs. It never
// panics; a refused message gets an *Error naming the field.
func Decode(b []byte) (Message, *Error) {
	var m Message
	if len(b) > MaxMessageBytes {
		return m, Errorf(CodeMessageTooLarge, "a media message must be at most %d bytes", MaxMessageBytes)
	}
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '{' {
		return m, Errorf(CodeInvalidMessage, "a media message must be one JSON object")
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return Message{}, Errorf(CodeInvalidMessage, "malformed media message: %v", err)
	}
	if e := m.Check(); e != nil {
		return Message{}, e
	}
	return m, nil
}

// Encode is the JSON form of m.
func (m Message) Encode() []byte {
	b, _ := json.Marshal(m)
	return b
}

// Check validates the fields m's type needs.
func (m Message) Check() *Error {
	if len(m.ID) > 64 {
		return Errorf(CodeInvalidMessage, "id must be at most 64 bytes")
	}
	switch m.Type {
	case TypeOffer, TypeAnswer:
		if m.PC != PCPub && m.PC != PCSub {
			return Errorf(CodeInvalidMessage, "pc must be %q or %q", PCPub, PCSub)
		}
		if m.SDP == "" {
			return Errorf(CodeInvalidMessage, "sdp is required")
		}
		if len(m.SDP) > MaxSDPBytes {
			return Errorf(CodeInvalidMessage, "sdp must be at most %d bytes", MaxSDPBytes)
		}
		for i, t := range m.Tracks {
			if t.TrackID == "" || len(t.TrackID) > 64 {
				return Errorf(CodeInvalidMessage, "tracks[%d].trackId must be 1-64 bytes", i)
			}
			if !t.Kind.Valid() {
				return Errorf(CodeInvalidMessage, "tracks[%d].kind must be audio, video or subvideo", i)
			}
			if t.Bitrate < 0 {
				return Errorf(CodeInvalidMessage, "tracks[%d].bitrate must not be negative", i)
			}
		}
	case TypeCandidate:
		if m.PC != PCPub && m.PC != PCSub {
			return Errorf(CodeInvalidMessage, "pc must be %q or %q", PCPub, PCSub)
		}
		if m.Candidate == nil {
			return Errorf(CodeInvalidMessage, "candidate is required")
		}
	case TypeRenegotiate:
		if m.PC != PCSub {
			return Errorf(CodeInvalidMessage, "pc must be %q", PCSub)
		}
	case TypeSubscribe, TypeUnsubscribe, TypeTrackPublished, TypeTrackUnpublished:
		if !ValidUserID(m.UserID) {
			return Errorf(CodeInvalidMessage, "userId must be 1-32 characters of A-Z a-z 0-9 _ -")
		}
		if !m.Kind.Valid() {
			return Errorf(CodeInvalidMessage, "kind must be audio, video or subvideo")
		}
	case TypeReset:
	case TypeError:
		if m.Code == "" {
			return Errorf(CodeInvalidMessage, "code is required")
		}
	case "":
		return Errorf(CodeInvalidMessage, "the message has no type")
	default:
		return Errorf(CodeUnknownType, "unknown media message type %q", m.Type)
	}
	return nil
}

// FromClient reports whether a client may send a message of type t.
func FromClient(t string) bool {
	switch t {
	case TypeOffer, TypeAnswer, TypeCandidate, TypeRenegotiate, TypeSubscribe, TypeUnsubscribe:
		return true
	}
	return false
}

// ValidUserID is the room protocol's userId rule: 1-32 bytes of A-Z a-z 0-9 _ -.
func ValidUserID(s string) bool {
	if len(s) == 0 || len(s) > MaxUserIDBytes {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

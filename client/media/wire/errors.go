package wire

import "fmt"

// Error codes of the media protocol (the table in docs/media.md). None of
// them ends the room connection: the refused message changes nothing and the
// client may go on.
const (
	CodeInvalidMessage       = "InvalidMessage"                    // not JSON, a field missing or of the wrong type
	CodeMessageTooLarge      = "MessageTooLarge"                   // over MaxMessageBytes
	CodeUnknownType          = "UnknownType"                       // a type the receiver does not take
	CodeInvalidSDP           = "InvalidParameter.SDP"              // the SDP does not parse or is refused by WebRTC
	CodeInvalidTracks        = "InvalidParameter.Tracks"           // two tracks of one kind, a declared track missing
	CodeInvalidCandidate     = "InvalidParameter.Candidate"        // the candidate does not parse
	CodeCandidateNetwork     = "InvalidParameter.CandidateNetwork" // the candidate's address is outside the allowed networks
	CodeUnsupportedCodec     = "UnsupportedOperation.Codec"        // a published m-section offers no supported codec
	CodePublishNotAllowed    = "FailedOperation.PublishNotAllowed" // an audience member offered to publish
	CodeInvalidState         = "FailedOperation.InvalidState"      // an answer with no offer pending, a candidate before an offer
	CodeTooManyTracks        = "LimitExceeded.Tracks"              // more published tracks than Config.MaxTracks
	CodeRenegotiationLimited = "LimitExceeded.Renegotiation"       // offers faster than the renegotiation policy allows
	CodeBitrateExceeded      = "LimitExceeded.Bitrate"             // a track sends far above its announced bitrate; packets are dropped
	CodeClosed               = "FailedOperation.Closed"            // the peer was removed or the room closed
	CodeMediaDisabled        = "FailedOperation.MediaDisabled"     // this server does not run the media plane
	CodeInternal             = "InternalError"                     // the server failed; the message changed nothing
)

// Error is a refused message, sent to the client as a media_error.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return fmt.Sprintf("media: %s: %s", e.Code, e.Message) }

// Errorf makes an *Error.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Msg is e as a media_error message.
func (e *Error) Msg() Message {
	return Message{Type: TypeError, Code: e.Code, Message: e.Message}
}

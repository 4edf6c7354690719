package console

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/trtcd/trtcd/internal/rooms"
)

// Limits of what the console's endpoints read.
const (
	MaxSignInBody = 4 << 10  // a sign-in request's body
	MaxCallBody   = 64 << 10 // a call request's body (the action's parameters)
	MaxSecretLen  = 256      // SecretId and SecretKey
)

// inputError is a bad request: 400 with a message that names the field.
type inputError struct{ msg string }

func (e *inputError) Error() string { return e.msg }

func bad(format string, args ...any) error { return &inputError{fmt.Sprintf(format, args...)} }

// decodeStrict decodes one JSON object into v, refusing unknown fields and
// trailing data.
func decodeStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var ut *json.UnmarshalTypeError
		if errors.As(err, &ut) && ut.Field != "" {
			return bad("%s: must be a %s", ut.Field, ut.Type)
		}
		if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			return bad("unknown field %s", f)
		}
		return bad("the body must be a JSON object")
	}
	if dec.More() {
		return bad("the body holds data after its JSON object")
	}
	return nil
}

type signInRequest struct {
	SecretID  string `json:"secretId"`
	SecretKey string `json:"secretKey"`
}

// parseSignIn reads {"secretId":…,"secretKey":…}.
func parseSignIn(b []byte) (signInRequest, error) {
	var req signInRequest
	if len(b) > MaxSignInBody {
		return req, bad("the body is larger than %d bytes", MaxSignInBody)
	}
	if err := decodeStrict(b, &req); err != nil {
		return req, err
	}
	for _, f := range []struct{ name, v string }{{"secretId", req.SecretID}, {"secretKey", req.SecretKey}} {
		switch {
		case f.v == "":
			return req, bad("%s: is required", f.name)
		case len(f.v) > MaxSecretLen:
			return req, bad("%s: must be at most %d bytes", f.name, MaxSecretLen)
		}
	}
	return req, nil
}

type callRequest struct {
	Action string          `json:"action"`
	Region string          `json:"region"`
	Params json.RawMessage `json:"params"`
}

// parseCall reads {"action":…,"region":…,"params":{…}}; params defaults
// to {} and must be an object.
func parseCall(b []byte) (callRequest, error) {
	var req callRequest
	if len(b) > MaxCallBody {
		return req, bad("the body is larger than %d bytes", MaxCallBody)
	}
	if err := decodeStrict(b, &req); err != nil {
		return req, err
	}
	if req.Action == "" {
		return req, bad("action: is required")
	}
	if len(req.Action) > 64 || len(req.Region) > 64 {
		return req, bad("action and region must be at most 64 bytes")
	}
	p := bytes.TrimSpace(req.Params)
	if len(p) == 0 || string(p) == "null" {
		p = []byte("{}")
	}
	if p[0] != '{' {
		return req, bad("params: must be a JSON object")
	}
	req.Params = p
	return req, nil
}

// parseApp reads an SdkAppId query value.
func parseApp(s string) (uint64, error) {
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n == 0 || n > 1<<32-1 || strconv.FormatUint(n, 10) != s {
		return 0, bad("app: must be an SdkAppId (1..4294967295)")
	}
	return n, nil
}

// parseRoom reads a room reference: "n:1234" (numeric) or "s:<room>"
// (string), as the console's links write them.
func parseRoom(app uint64, s string) (rooms.Key, error) {
	kind, v, ok := strings.Cut(s, ":")
	switch {
	case ok && kind == "n":
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil || !rooms.ValidRoomNum(n) || strconv.FormatUint(n, 10) != v {
			return rooms.Key{}, bad("room: n:<RoomId> must be 1..%d", rooms.MaxRoomNum)
		}
		return rooms.NumRoom(app, n), nil
	case ok && kind == "s":
		if !rooms.ValidStrRoom(v) {
			return rooms.Key{}, bad("room: s:<RoomId> must be a valid string RoomId (1-64 bytes)")
		}
		return rooms.StrRoom(app, v), nil
	}
	return rooms.Key{}, bad("room: must be n:<RoomId> or s:<string RoomId>")
}

// roomRef is the reference parseRoom reads.
func roomRef(k rooms.Key) string {
	if k.IsStr() {
		return "s:" + k.Str
	}
	return "n:" + strconv.FormatUint(k.Num, 10)
}

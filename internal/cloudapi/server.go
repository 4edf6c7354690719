// Package cloudapi is the generic Tencent Cloud API 3.0 front door: it reads
// a request in any form the official SDKs send, authenticates it (TC3 or
// signature v1), applies the per-account rate limit and dispatches it to a
// registered Action, answering in the cloud's envelope. It knows nothing of
// any product.
package cloudapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
)

// MaxClockSkew is how far a request's Timestamp may be from server time.
const MaxClockSkew = 300 * time.Second

// Credentials finds the account that owns a SecretId.
type Credentials func(secretID string) (account, secretKey string, ok bool)

// Server is the API handler, mounted at "/".
type Server struct {
	Catalog     *Catalog
	Credentials Credentials
	Limiter     Limiter
	RateLimits  map[string]int // per action name; overrides Action.RateLimit
	Log         *slog.Logger
	Now         func() time.Time // injectable clock; time.Now when nil

	// BodyBudget caps the body bytes held by requests not yet
	// authenticated; nil: no cap.
	BodyBudget *BodyBudget
	// ReadTimeout is how long a POST's body may take to arrive once its
	// headers are in (policy: API read deadline); 0: no deadline. It is set
	// on the connection for the request only, so the WebSocket path, which
	// is not served here, is not affected.
	ReadTimeout time.Duration
	// Observe, when set, is told of every answered call: the registered
	// action's name ("" when the request named none), the code ("OK" on
	// success) and the time since the request's headers were read.
	Observe func(action, code string, elapsed time.Duration)
	// Hook, when set, is the developer tools' view of the calls (request
	// journal, fault injection); see Hook.
	Hook Hook

	bodyTimeouts  atomic.Int64
	paramsRefused atomic.Int64
	limiterDown   atomic.Int64
}

// Stats are the front door's policy counters, for /metrics.
type Stats struct {
	BodyBudgetHeld    int64 // body bytes held now by requests not yet authenticated
	BodyBudgetRefused int64 // requests answered ServiceUnavailable for lack of body budget
	BodyTimeouts      int64 // request bodies that did not arrive within ReadTimeout
	ParamsRefused     int64 // JSON bodies refused for passing the parameter decoding limits
	RateLimitFailOpen int64 // calls let through uncounted because the limiter could not be reached
}

func (s *Server) Stats() Stats {
	return Stats{s.BodyBudget.Held(), s.BodyBudget.Refused(), s.bodyTimeouts.Load(), s.paramsRefused.Load(), s.limiterDown.Load()}
}

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// callInfo is what the per-call log line reports, and how the request's
// body ended.
type callInfo struct {
	account, action string
	known           string // the registered action's name, once found
	bodyRead        bool   // the body was read whole (or there was none)

	// for the Hook only
	admin    bool                  // an Admin action: not shown to the hook
	secretID string                // as the request named it
	claimed  string                // the account of a SecretId whose signature failed
	sr       *signedRequest        // the request, once read
	params   *Params               // the business parameters, once decoded
	fault    string                // the injected fault's ID
	diag     *SignatureDiagnostics // on SignatureFailure
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	reqID := uuid.NewString()
	var rc *http.ResponseController
	if s.ReadTimeout > 0 && r.Method == http.MethodPost {
		rc = http.NewResponseController(w)
		rc.SetReadDeadline(start.Add(s.ReadTimeout))
	}
	var info callInfo
	out, err := s.serve(r, rc, reqID, &info)
	body, code := envelope(reqID, out, err)
	var msg string
	if s.Hook != nil && code != "" {
		var ae *Error
		if errors.As(err, &ae) {
			msg = ae.Message
		}
	}
	if !info.bodyRead {
		// What is left of the body is not worth reading: the connection
		// goes after the answer, and a deadline in the past stops net/http
		// from waiting for the rest of the body first.
		w.Header().Set("Connection", "close")
		http.NewResponseController(w).SetReadDeadline(time.Unix(1, 0))
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	w.Write(body)
	if code == "" {
		code = "OK"
	}
	if s.Observe != nil {
		s.Observe(info.known, code, time.Since(start))
	}
	if s.Hook != nil && !info.admin {
		s.Hook.Record(s.record(start, reqID, &info, code, msg))
	}
	if s.Log != nil {
		attrs := []slog.Attr{slog.String("request_id", reqID), slog.String("account", info.account),
			slog.String("action", Clip(info.action)), slog.String("code", code),
			slog.Float64("latency_ms", float64(time.Since(start).Microseconds())/1000)}
		if info.fault != "" {
			attrs = append(attrs, slog.String("fault", info.fault))
		}
		s.Log.LogAttrs(r.Context(), slog.LevelInfo, "api call", attrs...)
	}
}

// serve runs the request through the checks in the decided order; the first
// failure wins. The body's bytes count against the body budget until the
// request has authenticated.
func (s *Server) serve(r *http.Request, rc *http.ResponseController, reqID string, info *callInfo) (out any, err error) {
	sr, e := readRequest(r, readConfig{s.BodyBudget, &s.bodyTimeouts, &info.bodyRead})
	if rc != nil && info.bodyRead {
		// The body is in: the deadline must not cut the connection's
		// background read while the action runs.
		rc.SetReadDeadline(time.Time{})
	}
	if e != nil {
		return nil, e
	}
	info.action = sr.action
	if s.Hook != nil {
		info.sr = sr
		if sr.tc3 {
			auth, _ := parseTC3Authorization(sr.authorization)
			info.secretID = auth.SecretID
		} else {
			info.secretID = sr.form.Get("SecretId")
		}
	}
	defer func() { s.BodyBudget.release(sr.held) }()
	action, e := s.Catalog.lookup(sr.action, sr.version)
	if e != nil {
		return nil, e
	}
	info.known = action.Name
	info.admin = action.Admin
	if e := action.checkRegion(sr.region); e != nil {
		return nil, e
	}
	account, e := s.authenticate(sr, info)
	s.BodyBudget.release(sr.held)
	sr.held = 0
	if e != nil {
		return nil, e
	}
	info.account = account
	if s.Hook != nil && !action.Admin {
		if e := s.injectFault(r.Context(), account, action.Name, info); e != nil {
			return nil, e
		}
	}
	if e := s.rateLimit(r.Context(), account, action); e != nil {
		return nil, e
	}
	params, e := s.businessParams(sr, action)
	if e != nil {
		return nil, e
	}
	info.params = &params
	call := &Call{RequestID: reqID, Account: account, Action: action.Name, Region: sr.region, Params: params}
	return s.invoke(r.Context(), action, call)
}

// invoke calls the handler, turning a panic into InternalError so that one
// bad request never takes the server down.
func (s *Server) invoke(ctx context.Context, a *Action, call *Call) (out any, err error) {
	defer func() {
		if p := recover(); p != nil {
			if s.Log != nil {
				s.Log.Error("action panicked", "request_id", call.RequestID, "action", a.Name,
					"panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			}
			out, err = nil, ErrInternalError()
		}
	}()
	return a.Handle(ctx, call)
}

func (s *Server) authenticate(sr *signedRequest, info *callInfo) (string, *Error) {
	if sr.tc3 {
		return s.authenticateTC3(sr, info)
	}
	if e := s.checkSkew(sr.ts); e != nil {
		return "", e
	}
	account, key, ok := s.Credentials(sr.form.Get("SecretId"))
	if !ok {
		return "", ErrSecretIDNotFound()
	}
	if !v1Verify(key, sr.method, sr.host, sr.form) {
		if s.Hook != nil {
			info.claimed, info.diag = account, v1Diagnostics(sr.method, sr.host, sr)
		}
		return "", ErrSignatureFailure()
	}
	if sr.token != "" {
		return "", ErrTokenFailure()
	}
	return account, nil
}

func (s *Server) authenticateTC3(sr *signedRequest, info *callInfo) (string, *Error) {
	auth, why := parseTC3Authorization(sr.authorization)
	if why != "" {
		return "", ErrInvalidAuthorization(why)
	}
	if e := s.checkSkew(sr.ts); e != nil {
		return "", e
	}
	account, key, ok := s.Credentials(auth.SecretID)
	if !ok {
		return "", ErrSecretIDNotFound()
	}
	req := tc3Request{Method: sr.method, Timestamp: sr.tsRaw, Headers: map[string]string{}}
	if sr.method == http.MethodGet {
		req.RawQuery = sr.rawQuery
	}
	for _, name := range auth.SignedHeaders {
		if name == "host" {
			req.Headers[name] = sr.host
		} else {
			req.Headers[name] = sr.header.Get(name)
		}
	}
	switch {
	case sr.header.Get("X-TC-Content-SHA256") == unsignedPayload:
		req.PayloadHash = sha256Hex([]byte(unsignedPayload))
	default:
		req.PayloadHash = sha256Hex(sr.body)
	}
	if !tc3Verify(key, auth, req) {
		if s.Hook != nil {
			info.claimed, info.diag = account, tc3Diagnostics(auth, req)
		}
		return "", ErrSignatureFailure()
	}
	if sr.token != "" {
		return "", ErrTokenFailure()
	}
	return account, nil
}

func (s *Server) checkSkew(ts int64) *Error {
	now := s.now().Unix()
	if d := now - ts; d > int64(MaxClockSkew/time.Second) || d < -int64(MaxClockSkew/time.Second) {
		return ErrSignatureExpire(ts, now)
	}
	return nil
}

func (s *Server) rateLimit(ctx context.Context, account string, a *Action) *Error {
	if s.Limiter == nil {
		return nil
	}
	limit := a.RateLimit
	if n, ok := s.RateLimits[a.Name]; ok {
		limit = n
	}
	ok, count, err := s.Limiter.Allow(ctx, account, a.Name, limit)
	if err != nil {
		// Fail open: a limiter that cannot count (its Redis is away) must not
		// hide the action's own, more precise answer.
		s.limiterDown.Add(1)
		if s.Log != nil {
			s.Log.Warn("rate limiter unavailable; call not counted", "action", a.Name, "err", err)
		}
		return nil
	}
	if !ok {
		return ErrRequestLimitExceeded(count, limit)
	}
	return nil
}

func (s *Server) businessParams(sr *signedRequest, a *Action) (Params, *Error) {
	var p Params
	if sr.tc3 && sr.method == http.MethodPost {
		if _, e := checkShape(sr.body, paramLimits); e != nil {
			s.paramsRefused.Add(1)
			return p, e
		}
		var e *Error
		if p, e = jsonParams(sr.body); e != nil {
			return p, e
		}
	} else {
		p = formParams(sr.form)
	}
	if name := p.unknown(a.Params, commonFor(sr)); name != "" {
		return p, ErrUnknownParameter(Clip(name))
	}
	return p, nil
}

func commonFor(sr *signedRequest) map[string]bool {
	if sr.tc3 && sr.method == http.MethodPost {
		return nil
	}
	return commonV1
}

// envelope builds the one response shape: {"Response":{…,"RequestId":…}}.
// It returns the error code ("" on success) for the log line.
func envelope(reqID string, out any, err error) ([]byte, string) {
	if err != nil {
		var ae *Error
		if !errors.As(err, &ae) {
			ae = ErrInternalError()
		}
		b, _ := json.Marshal(struct {
			Response struct {
				Error     *Error
				RequestId string
			}
		}{Response: struct {
			Error     *Error
			RequestId string
		}{ae, reqID}})
		return b, ae.Code
	}
	fields := []byte("{}")
	if out != nil {
		b, err := json.Marshal(out)
		if err != nil || len(b) < 2 || b[0] != '{' {
			return envelope(reqID, nil, ErrInternalError())
		}
		fields = b
	}
	var buf bytes.Buffer
	buf.Grow(len(fields) + 64)
	buf.WriteString(`{"Response":`)
	buf.Write(fields[:len(fields)-1])
	if len(bytes.TrimSpace(fields[1:len(fields)-1])) > 0 {
		buf.WriteByte(',')
	}
	buf.WriteString(`"RequestId":"`)
	buf.WriteString(reqID)
	buf.WriteString(`"}}`)
	return buf.Bytes(), ""
}

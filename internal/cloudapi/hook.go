package cloudapi

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// Hook lets the developer tools (internal/devtools) see every call and
// answer some in place of the action. With Server.Hook nil a call pays one
// nil check; actions registered with Admin set are never shown to the hook.
type Hook interface {
	// Fault is asked once the caller is authenticated, before the rate
	// limit. A non-nil answer delays the call and/or answers its code.
	Fault(account, action string) *Fault
	// Record is told of every answered call. It must not keep r's slices
	// beyond what it copies and must not block.
	Record(r *Record)
}

// Fault is an injected answer: wait Delay, then answer Code (if not empty)
// with Message instead of running the action.
type Fault struct {
	ID      string
	Delay   time.Duration
	Code    string
	Message string
}

// Record is one answered call as the journal keeps it: never a key or a
// signature.
type Record struct {
	Time      time.Time
	RequestID string
	SecretID  string // as the request named it (even when unknown)
	Account   string // the account that owns SecretID; "" when there is none
	Action    string // as the request named it (clipped)
	Params    json.RawMessage
	Code      string // "OK" on success
	Message   string // the error message ("" on success)
	Latency   time.Duration
	Fault     string // the injected fault's ID, "" when none
	Signature *SignatureDiagnostics
}

// SignatureDiagnostics is what the server computed for a call it refused
// with AuthFailure.SignatureFailure: enough to compare with the client's
// own computation, and nothing secret.
type SignatureDiagnostics struct {
	Algorithm        string   // TC3-HMAC-SHA256, HmacSHA1 or HmacSHA256
	CanonicalRequest string   // TC3 only
	StringToSign     string   // with the host as received
	SignedHeaders    []string // TC3 only
	CredentialScope  string   // TC3 only
}

// MaxJournalParams caps the bytes of the decoded parameters a Record
// carries; longer parameters are kept as a JSON string cut at that size.
const MaxJournalParams = 4096

// MaxJournalDiagnostic caps each text of SignatureDiagnostics.
const MaxJournalDiagnostic = 16 << 10

// record builds the hook's Record for a call.
func (s *Server) record(start time.Time, reqID string, info *callInfo, code, msg string) *Record {
	account := info.account
	if account == "" {
		account = info.claimed
	}
	r := &Record{Time: start, RequestID: reqID, SecretID: Clip(info.secretID), Account: account,
		Action: Clip(info.action), Code: code, Message: msg, Latency: time.Since(start), Fault: info.fault,
		Signature: info.diag}
	if info.sr != nil {
		r.Params = journalParams(info.sr, info.params)
	}
	return r
}

// journalParams renders the business parameters as a JSON object: those
// decoded for the action or, when the call stopped earlier, decoded here at
// best. Signature-related common parameters are left out.
func journalParams(sr *signedRequest, p *Params) json.RawMessage {
	var v Params
	switch {
	case p != nil:
		v = *p
	case sr.tc3 && sr.method == http.MethodPost:
		if _, e := checkShape(sr.body, paramLimits); e != nil {
			return clipParams([]byte(`"(not decoded: ` + strings.ReplaceAll(e.Message, `"`, `'`) + `)"`))
		}
		var e *Error
		if v, e = jsonParams(sr.body); e != nil {
			return json.RawMessage(`"(not a JSON object)"`)
		}
	default:
		v = formParams(sr.form)
	}
	var b []byte
	if v.json != nil {
		b, _ = json.Marshal(v.json)
	} else {
		m := map[string]string{}
		for k, vs := range v.form {
			if !commonV1[k] && len(vs) > 0 {
				m[k] = vs[0]
			}
		}
		b, _ = json.Marshal(m)
	}
	return clipParams(b)
}

func clipParams(b []byte) json.RawMessage {
	if len(b) <= MaxJournalParams {
		return b
	}
	s, _ := json.Marshal(string(b[:MaxJournalParams]) + "…")
	return s
}

func clipText(s string) string {
	if len(s) <= MaxJournalDiagnostic {
		return s
	}
	return s[:MaxJournalDiagnostic] + "…"
}

// tc3Diagnostics is what the server computed for a TC3 request, with the
// host as received.
func tc3Diagnostics(a tc3Auth, r tc3Request) *SignatureDiagnostics {
	canon := tc3CanonicalRequest(r, a.SignedHeaders)
	sts := tc3Algorithm + "\n" + r.Timestamp + "\n" + a.scope() + "\n" + sha256Hex([]byte(canon))
	return &SignatureDiagnostics{Algorithm: tc3Algorithm, CanonicalRequest: clipText(canon), StringToSign: clipText(sts),
		SignedHeaders: append([]string(nil), a.SignedHeaders...), CredentialScope: a.scope()}
}

func v1Diagnostics(method, host string, sr *signedRequest) *SignatureDiagnostics {
	alg := "HmacSHA1"
	if sr.form.Get("SignatureMethod") == "HmacSHA256" {
		alg = "HmacSHA256"
	}
	return &SignatureDiagnostics{Algorithm: alg, StringToSign: clipText(v1StringToSign(strings.ToUpper(method), host, sr.form))}
}

// injectFault asks the hook for a fault: its delay is waited (or the
// request's end, whichever comes first) and its code answered.
func (s *Server) injectFault(ctx context.Context, account, action string, info *callInfo) *Error {
	f := s.Hook.Fault(account, action)
	if f == nil {
		return nil
	}
	info.fault = f.ID
	if f.Delay > 0 {
		t := time.NewTimer(f.Delay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
		}
	}
	if f.Code != "" {
		return &Error{Code: f.Code, Message: f.Message}
	}
	return nil
}

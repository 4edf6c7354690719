package cloudapi

import (
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
)

// Size limits by request kind (decisions: transport errors).
const (
	MaxTC3Body  = 10 << 20
	MaxV1Body   = 1 << 20
	MaxGETQuery = 32 << 10
)

// signedRequest is an HTTP request reduced to what API 3.0 cares about:
// which signature kind, the common parameters, and the raw material to
// verify the signature and read the business parameters from.
type signedRequest struct {
	tc3      bool
	method   string
	host     string
	action   string
	version  string
	region   string
	language string
	token    string
	tsRaw    string
	ts       int64

	// TC3
	authorization string
	rawQuery      string
	header        http.Header
	body          []byte
	held          int64 // bytes of the body's buffer reserved from the body budget

	// v1 (and TC3 GET business parameters)
	form url.Values
}

// readConfig is what reading a request needs from the server.
type readConfig struct {
	budget   *BodyBudget
	timeouts *atomic.Int64 // bodies that hit the read deadline
	bodyRead *bool         // set when the body has been read whole, or there is none
}

// commonV1 are the parameter names that v1 (and tolerant TC3 GET) requests
// may carry besides the action's own.
var commonV1 = map[string]bool{
	"Action": true, "Version": true, "Region": true, "Timestamp": true, "Nonce": true,
	"SecretId": true, "Signature": true, "SignatureMethod": true, "Token": true,
	"Language": true, "RequestClient": true,
}

// readRequest applies the transport checks and collects the common
// parameters, in the order the decisions fix: method, size, content type,
// then missing common parameters.
func readRequest(r *http.Request, rc readConfig) (*signedRequest, *Error) {
	sr := &signedRequest{method: r.Method, host: r.Host, header: r.Header}
	*rc.bodyRead = r.Body == nil || r.Body == http.NoBody
	hasAuth := r.Header.Get("Authorization") != ""
	switch r.Method {
	case http.MethodGet:
		if len(r.URL.RawQuery) > MaxGETQuery {
			return nil, ErrRequestSizeLimitExceeded(MaxGETQuery)
		}
		q, err := url.ParseQuery(r.URL.RawQuery)
		if err != nil {
			return nil, ErrInvalidParameter("The query string is not valid URL encoding.")
		}
		sr.tc3, sr.form, sr.rawQuery = hasAuth, q, r.URL.RawQuery
		if sr.tc3 && mediaType(r) != "application/x-www-form-urlencoded" {
			return nil, ErrInvalidParameter("A TC3-HMAC-SHA256 GET request must have Content-Type application/x-www-form-urlencoded.")
		}
	case http.MethodPost:
		switch mt := mediaType(r); {
		case mt == "application/json":
			sr.tc3 = true
		case mt == "application/x-www-form-urlencoded" && !hasAuth:
			sr.tc3 = false
		case mt == "application/x-www-form-urlencoded":
			return nil, ErrInvalidParameter("Content-Type application/x-www-form-urlencoded is for signature v1 POST; a TC3-HMAC-SHA256 POST must send application/json.")
		case mt == "multipart/form-data":
			return nil, ErrInvalidParameter("Content-Type multipart/form-data is not supported by this server's actions; send application/json.")
		default:
			return nil, ErrInvalidParameter("Content-Type `" + Clip(mt) + "` is not supported; send application/json (TC3-HMAC-SHA256) or application/x-www-form-urlencoded (signature v1).")
		}
		limit := int64(MaxV1Body)
		if sr.tc3 {
			limit = MaxTC3Body
		}
		body, held, e := readBody(r, limit, rc.budget, rc.timeouts)
		if e != nil {
			return nil, e
		}
		*rc.bodyRead = true
		sr.held = held
		sr.body = body
		if !sr.tc3 {
			// v1 POST reads only the body; the query string is ignored.
			q, err := url.ParseQuery(string(body))
			if err != nil {
				rc.budget.release(held)
				return nil, ErrInvalidParameter("The form body is not valid URL encoding.")
			}
			sr.form = q
		}
	default:
		return nil, ErrUnsupportedProtocol()
	}
	var e *Error
	if sr.tc3 {
		e = sr.commonTC3(r.Header)
	} else {
		e = sr.commonV1()
	}
	if e != nil {
		rc.budget.release(sr.held)
		return nil, e
	}
	return sr, nil
}

func mediaType(r *http.Request) string {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		return strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Type")))
	}
	return mt
}

func (sr *signedRequest) commonTC3(h http.Header) *Error {
	sr.action = h.Get("X-TC-Action")
	sr.version = h.Get("X-TC-Version")
	sr.tsRaw = h.Get("X-TC-Timestamp")
	sr.region = h.Get("X-TC-Region")
	sr.language = h.Get("X-TC-Language")
	sr.token = h.Get("X-TC-Token")
	sr.authorization = h.Get("Authorization")
	for _, req := range [][2]string{{"X-TC-Action", sr.action}, {"X-TC-Version", sr.version}, {"X-TC-Timestamp", sr.tsRaw}, {"Authorization", sr.authorization}} {
		if req[1] == "" {
			return ErrMissingParameter(req[0])
		}
	}
	return sr.checkCommonValues()
}

func (sr *signedRequest) commonV1() *Error {
	for _, name := range []string{"Action", "Version", "Timestamp", "Nonce", "SecretId", "Signature"} {
		if sr.form.Get(name) == "" {
			return ErrMissingParameter(name)
		}
	}
	for name, vs := range sr.form {
		if len(vs) > 1 {
			return ErrInvalidParameter("The parameter `" + Clip(name) + "` is given more than once.")
		}
	}
	f := sr.form
	sr.action, sr.version, sr.tsRaw = f.Get("Action"), f.Get("Version"), f.Get("Timestamp")
	sr.region, sr.language, sr.token = f.Get("Region"), f.Get("Language"), f.Get("Token")
	return sr.checkCommonValues()
}

func (sr *signedRequest) checkCommonValues() *Error {
	ts, err := strconv.ParseInt(sr.tsRaw, 10, 64)
	if err != nil || ts < 0 {
		return ErrInvalidParameter("Timestamp must be the Unix time in seconds, as a decimal integer.")
	}
	sr.ts = ts
	switch sr.language {
	case "", "zh-CN", "en-US":
	default:
		return ErrInvalidParameterValue("Language must be zh-CN or en-US.")
	}
	return nil
}

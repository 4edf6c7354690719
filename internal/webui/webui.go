// Package webui serves trtcd's browser files: the browser SDK at /sdk/ on
// every server, and the demo page at /demo with its UserSig endpoint in
// development mode only (docs/browser.md).
package webui

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/trtcd/trtcd/internal/config"
	"github.com/trtcd/trtcd/internal/metrics"
	"github.com/trtcd/trtcd/internal/rooms"
	"github.com/trtcd/trtcd/usersig"
	"github.com/trtcd/trtcd/web"
)

// Paths served.
const (
	SDKPath      = "/sdk/trtcd.js"
	TypesPath    = "/sdk/trtcd.d.ts"
	DemoPath     = "/demo"
	UserSigPath  = "/demo/usersig"
	demoJSPath   = "/demo/demo.js"
	demoCSSPath  = "/demo/demo.css"
	demoIndexDir = "/demo/"
)

// ContentSecurityPolicy is sent with every demo response (policy
// DemoCSP): scripts, styles and connections from trtcd itself only, no
// inline script or style, no frames, no plugins.
const ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"media-src 'self' blob: mediastream:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// MaxUserSigRequestBytes bounds the body of a POST /demo/usersig (policy
// DemoUserSigBody); a larger body is refused with 413.
const MaxUserSigRequestBytes = 1024

// DemoUserSigExpire is the validity of the UserSigs the demo mints.
const DemoUserSigExpire = 24 * time.Hour

// DevMode reports whether apps (config.Config.Apps) hold the development
// app with its public development key, as `trtcd serve` without a
// configuration file does. Only then is the demo served (policy
// DemoDevelopmentOnly): its UserSigs are made with that public key, which
// protects nothing.
func DevMode(apps map[uint64][2]string) bool {
	a, ok := apps[config.DevSdkAppID]
	return ok && a[1] == config.DevAppKey
}

// Stats counts what the demo's UserSig endpoint did.
type Stats struct {
	UserSigsMinted  uint64
	UserSigsRefused uint64 // bad method, body or userId
}

// UI is the mounted browser files.
type UI struct {
	dev     bool
	now     func() time.Time
	minted  atomic.Uint64
	refused atomic.Uint64
}

// Mount registers the SDK's paths on mux, and the demo's when DevMode(apps).
func Mount(mux *http.ServeMux, apps map[uint64][2]string) *UI {
	u := &UI{dev: DevMode(apps), now: time.Now}
	mux.Handle(SDKPath, static("sdk/trtcd.js", "text/javascript; charset=utf-8", false))
	mux.Handle(TypesPath, static("sdk/trtcd.d.ts", "application/typescript; charset=utf-8", false))
	if u.dev {
		index := static("demo/index.html", "text/html; charset=utf-8", true)
		mux.Handle(DemoPath, index)
		mux.Handle(demoIndexDir+"{$}", index)
		mux.Handle(demoJSPath, static("demo/demo.js", "text/javascript; charset=utf-8", true))
		mux.Handle(demoCSSPath, static("demo/demo.css", "text/css; charset=utf-8", true))
		mux.HandleFunc(UserSigPath, u.userSig)
	}
	return u
}

// Dev reports whether the demo is served.
func (u *UI) Dev() bool { return u.dev }

// Stats is a snapshot of the counters.
func (u *UI) Stats() Stats {
	return Stats{UserSigsMinted: u.minted.Load(), UserSigsRefused: u.refused.Load()}
}

// descUserSigs is the demo endpoint's counter (docs/metrics.md).
var descUserSigs = prometheus.NewDesc(metrics.Namespace+"_demo_usersigs_total",
	"UserSigs asked of the development demo's endpoint, by outcome: minted, refused (served only in development mode).", []string{"outcome"}, nil)

// Describe implements prometheus.Collector.
func (u *UI) Describe(ch chan<- *prometheus.Desc) { ch <- descUserSigs }

// Collect implements prometheus.Collector.
func (u *UI) Collect(ch chan<- prometheus.Metric) {
	s := u.Stats()
	ch <- prometheus.MustNewConstMetric(descUserSigs, prometheus.CounterValue, float64(s.UserSigsMinted), "minted")
	ch <- prometheus.MustNewConstMetric(descUserSigs, prometheus.CounterValue, float64(s.UserSigsRefused), "refused")
}

// static serves one embedded file for GET and HEAD, with an ETag of its
// content. SDK files may be loaded by pages of other origins (a module
// script is fetched with CORS); demo files carry the demo's headers.
func static(name, contentType string, demo bool) http.Handler {
	body, err := fs.ReadFile(web.Files, name)
	if err != nil {
		panic("webui: " + name + " is not embedded: " + err.Error())
	}
	sum := sha256.Sum256(body)
	etag := `"` + hex.EncodeToString(sum[:8]) + `"`
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		if demo {
			demoHeaders(h)
		} else {
			h.Set("Access-Control-Allow-Origin", "*")
			h.Set("X-Content-Type-Options", "nosniff")
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			h.Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		h.Set("Content-Type", contentType)
		h.Set("Cache-Control", "no-cache")
		h.Set("ETag", etag)
		if match := r.Header.Get("If-None-Match"); match != "" && strings.Contains(match, etag) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		h.Set("Content-Length", fmt.Sprint(len(body)))
		if r.Method == http.MethodHead {
			return
		}
		w.Write(body)
	})
}

func demoHeaders(h http.Header) {
	h.Set("Content-Security-Policy", ContentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
}

// Error codes of the demo's UserSig endpoint (the "code" of its JSON error).
const (
	CodeMethodNotAllowed = "MethodNotAllowed"             // not a POST
	CodeContentType      = "InvalidParameter.ContentType" // not application/json
	CodeBody             = "InvalidParameter.Body"        // unreadable, too large or not a JSON object
	CodeUserID           = "InvalidParameter.UserId"      // userId breaks the room protocol's rule
)

// userSigRequest is the body of POST /demo/usersig.
type userSigRequest struct {
	UserID string `json:"userId"`
}

// userSigAnswer is its answer.
type userSigAnswer struct {
	SdkAppID      uint64 `json:"sdkAppId"`
	UserID        string `json:"userId"`
	UserSig       string `json:"userSig"`
	ExpireSeconds int64  `json:"expireSeconds"`
}

type demoError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// userSig mints a UserSig for the development app (and no other): POST
// {"userId":"alice"} → {"sdkAppId":1400000001,"userId":"alice","userSig":"…","expireSeconds":86400}.
func (u *UI) userSig(w http.ResponseWriter, r *http.Request) {
	demoHeaders(w.Header())
	w.Header().Set("Cache-Control", "no-store")
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		u.fail(w, http.StatusMethodNotAllowed, CodeMethodNotAllowed, "use POST with a JSON body {\"userId\":\"…\"}")
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(strings.ToLower(ct), "application/json") {
		u.fail(w, http.StatusUnsupportedMediaType, CodeContentType, "Content-Type must be application/json")
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxUserSigRequestBytes+1))
	if err != nil {
		u.fail(w, http.StatusBadRequest, CodeBody, "the body could not be read")
		return
	}
	if len(body) > MaxUserSigRequestBytes {
		u.fail(w, http.StatusRequestEntityTooLarge, CodeBody, fmt.Sprintf("the body must be at most %d bytes", MaxUserSigRequestBytes))
		return
	}
	var req userSigRequest
	if err := json.Unmarshal(body, &req); err != nil {
		u.fail(w, http.StatusBadRequest, CodeBody, "the body must be a JSON object {\"userId\":\"…\"}")
		return
	}
	if !rooms.ValidUserID(req.UserID) {
		u.fail(w, http.StatusBadRequest, CodeUserID, "userId must be 1-32 characters of A-Z a-z 0-9 _ -")
		return
	}
	sig := usersig.Generate(config.DevSdkAppID, config.DevAppKey, req.UserID, DemoUserSigExpire, u.now(), nil)
	u.minted.Add(1)
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(userSigAnswer{SdkAppID: config.DevSdkAppID, UserID: req.UserID, UserSig: sig, ExpireSeconds: int64(DemoUserSigExpire / time.Second)})
}

func (u *UI) fail(w http.ResponseWriter, status int, code, msg string) {
	u.refused.Add(1)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(demoError{Code: code, Message: msg})
}

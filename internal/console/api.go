package console

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/trtcd/trtcd/internal/cloudapi"
	"github.com/trtcd/trtcd/internal/rooms"
	"github.com/trtcd/trtcd/internal/trtc"
)

type signInResult int

const (
	signInOK signInResult = iota
	signInRefused
	signInLimited
)

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

// serveAPI routes /console/api/<name>. Everything but sign-in needs a
// session (401, no detail, otherwise); every POST needs a JSON body from
// this origin, and with a session, the session's CSRF token.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request, name string) {
	post := r.Method == http.MethodPost
	if !post && r.Method != http.MethodGet {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if post {
		if o := r.Header.Get("Origin"); o != "" && o != "http://"+r.Host && o != "https://"+r.Host {
			writeError(w, http.StatusForbidden, "cross-origin request refused")
			return
		}
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			writeError(w, http.StatusUnsupportedMediaType, "Content-Type must be application/json")
			return
		}
	}
	if name == "signin" && post {
		s.signIn(w, r)
		return
	}
	token, ss := s.sessions.get(r)
	if ss == nil {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	if post && !ss.csrfOK(r) {
		writeError(w, http.StatusForbidden, "missing or wrong "+CSRFHeader)
		return
	}
	switch {
	case name == "session" && !post:
		s.sessionInfo(w, ss)
	case name == "signout" && post:
		s.sessions.remove(token)
		setCookie(w, r, "", time.Unix(1, 0), -1)
		w.WriteHeader(http.StatusNoContent)
	case name == "actions" && !post:
		s.actions(w)
	case name == "rooms" && !post:
		s.roomList(w, r, ss)
	case name == "room" && !post:
		s.room(w, r, ss)
	case name == "live/rooms" && !post, name == "live/room" && !post:
		s.live(w, r, ss, strings.TrimPrefix(name, "live/"))
	case name == "call" && post:
		s.call(w, r, ss)
	case name == "history/rooms" && !post:
		s.historyRooms(w, r, ss)
	case name == "history/room" && !post:
		s.historyRoom(w, r, ss)
	case name == "callbacks" && !post:
		s.callbacksInfo(w, r, ss)
	case name == "callbacks/replay" && post:
		s.replay(w, r, ss)
	default:
		writeError(w, http.StatusNotFound, "no such console endpoint")
	}
}

func (s *Server) signIn(w http.ResponseWriter, r *http.Request) {
	if !s.limiter.allow(r) {
		s.signIns[signInLimited].Add(1)
		writeError(w, http.StatusTooManyRequests, "too many sign-in attempts from this address; wait and try again")
		return
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, MaxSignInBody+1))
	if err != nil {
		writeError(w, http.StatusBadRequest, "the body could not be read")
		return
	}
	req, err := parseSignIn(b)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	account, key, ok := s.d.Credentials(req.SecretID)
	if !ok || subtle.ConstantTimeCompare([]byte(key), []byte(req.SecretKey)) != 1 {
		s.signIns[signInRefused].Add(1)
		writeError(w, http.StatusUnauthorized, "the SecretId and SecretKey do not match an account")
		return
	}
	token, ss := s.sessions.create(account, req.SecretID)
	if ss == nil {
		writeError(w, http.StatusServiceUnavailable, "too many console sessions; try again later")
		return
	}
	s.signIns[signInOK].Add(1)
	s.d.Log.Info("console sign-in", "account", account)
	setCookie(w, r, token, ss.expires, int(SessionTTL/time.Second))
	s.sessionInfo(w, ss)
}

func (s *Server) sessionInfo(w http.ResponseWriter, ss *session) {
	apps := slices.Clone(s.d.Apps(ss.account))
	slices.Sort(apps)
	if apps == nil {
		apps = []uint64{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"account": ss.account, "secretId": ss.secretID, "apps": apps,
		"csrf": ss.csrf, "expires": ss.expires.UTC(), "journal": s.d.Journal, "faults": s.d.Faults})
}

func (s *Server) actions(w http.ResponseWriter) {
	type param struct{ Name, Type string }
	type action struct {
		Name, Service, Version string
		Regions                []string
		Params                 []param
		Admin                  bool
	}
	out := []action{}
	for _, a := range s.d.Actions {
		x := action{Name: a.Name, Service: a.Service, Version: a.Version, Regions: a.Regions, Admin: a.Admin, Params: []param{}}
		for _, p := range a.Params {
			t := map[cloudapi.ParamType]string{cloudapi.Integer: "Integer", cloudapi.String: "String", cloudapi.StringArray: "Array of String"}[p.Type]
			x.Params = append(x.Params, param{p.Name, t})
		}
		out = append(out, x)
	}
	writeJSON(w, http.StatusOK, map[string]any{"actions": out, "defaultRegion": s.d.DefaultRegion})
}

// ownedApp reads ?app= and checks that the account owns it; another
// account's app answers 404 like one that does not exist.
func (s *Server) ownedApp(w http.ResponseWriter, r *http.Request, ss *session) (uint64, bool) {
	app, err := parseApp(r.URL.Query().Get("app"))
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return 0, false
	}
	if !ownsApp(s.d.Apps(ss.account), app) {
		writeError(w, http.StatusNotFound, "no such app")
		return 0, false
	}
	return app, true
}

func ownsApp(apps []uint64, app uint64) bool { return slices.Contains(apps, app) }

type roomJSON struct {
	Ref       string `json:"ref"`
	RoomID    uint64 `json:"roomId,omitempty"`
	StrRoomID string `json:"strRoomId,omitempty"`
	Members   int    `json:"members"`
	Anchors   int    `json:"anchors"`
}

type memberJSON struct {
	UserID   string      `json:"userId"`
	Role     string      `json:"role"`
	JoinedAt time.Time   `json:"joinedAt"`
	Node     string      `json:"node"`
	Media    *MediaState `json:"media"` // nil: media is off
}

func (s *Server) roomsOf(r *http.Request, app uint64) (any, error) {
	list, trunc, err := s.d.Rooms.Rooms(r.Context(), app)
	if err != nil {
		return nil, err
	}
	out := make([]roomJSON, 0, len(list))
	for _, x := range list {
		out = append(out, roomJSON{Ref: roomRef(x.Key), RoomID: x.Key.Num, StrRoomID: x.Key.Str, Members: x.Members, Anchors: x.Anchors})
	}
	return map[string]any{"app": app, "rooms": out, "truncated": trunc}, nil
}

func (s *Server) membersOf(r *http.Request, room rooms.Key) (any, error) {
	ms, err := s.d.Rooms.Members(r.Context(), room)
	if err != nil {
		return nil, err
	}
	sort.Slice(ms, func(i, j int) bool {
		if !ms[i].JoinedAt.Equal(ms[j].JoinedAt) {
			return ms[i].JoinedAt.Before(ms[j].JoinedAt)
		}
		return ms[i].UserID < ms[j].UserID
	})
	var media map[string]MediaState
	if s.d.Media != nil {
		media = s.d.Media(room)
	}
	out := make([]memberJSON, 0, len(ms))
	for _, m := range ms {
		x := memberJSON{m.UserID, m.Role.String(), m.JoinedAt.UTC(), m.NodeID, nil}
		if s.d.Media != nil {
			st := media[m.UserID]
			x.Media = &st
		}
		out = append(out, x)
	}
	return map[string]any{"app": room.App, "ref": roomRef(room), "roomId": room.Num, "strRoomId": room.Str, "members": out,
		"media": s.d.Media != nil}, nil
}

func (s *Server) roomList(w http.ResponseWriter, r *http.Request, ss *session) {
	app, ok := s.ownedApp(w, r, ss)
	if !ok {
		return
	}
	v, err := s.roomsOf(r, app)
	s.answer(w, v, err)
}

func (s *Server) room(w http.ResponseWriter, r *http.Request, ss *session) {
	app, ok := s.ownedApp(w, r, ss)
	if !ok {
		return
	}
	key, err := parseRoom(app, r.URL.Query().Get("room"))
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	v, err := s.membersOf(r, key)
	s.answer(w, v, err)
}

func (s *Server) answer(w http.ResponseWriter, v any, err error) {
	switch {
	case errors.Is(err, rooms.ErrNoListing):
		writeError(w, http.StatusNotImplemented, "this server's registry cannot list rooms")
	case err != nil:
		s.d.Log.Warn("console: reading rooms failed", "err", err)
		writeError(w, http.StatusServiceUnavailable, "the room registry is unavailable; try again")
	default:
		writeJSON(w, http.StatusOK, v)
	}
}

// call runs an API action for the signed-in account: a TC3-signed request
// built here, with the account's own key, through the front door, so its
// checks, rate limits, faults and journal apply as to any client.
func (s *Server) call(w http.ResponseWriter, r *http.Request, ss *session) {
	b, err := io.ReadAll(io.LimitReader(r.Body, MaxCallBody+1))
	if err != nil {
		writeError(w, http.StatusBadRequest, "the body could not be read")
		return
	}
	req, err := parseCall(b)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	i := slices.IndexFunc(s.d.Actions, func(a cloudapi.ActionInfo) bool { return a.Name == req.Action })
	if i < 0 {
		writeError(w, http.StatusBadRequest, "action: no such action")
		return
	}
	a := s.d.Actions[i]
	_, key, ok := s.d.Credentials(ss.secretID)
	if !ok { // the account is gone from the configuration
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	region := req.Region
	if region == "" && len(a.Regions) > 0 {
		region = s.d.DefaultRegion
		if !slices.Contains(a.Regions, region) {
			region = a.Regions[0]
		}
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	body := []byte(req.Params)
	areq, _ := http.NewRequestWithContext(r.Context(), http.MethodPost, scheme+"://"+r.Host+"/", bytes.NewReader(body))
	areq.Host = r.Host
	areq.RemoteAddr = r.RemoteAddr
	areq.Header.Set("Content-Type", "application/json")
	areq.Header.Set("X-TC-Action", a.Name)
	areq.Header.Set("X-TC-Version", a.Version)
	if region != "" {
		areq.Header.Set("X-TC-Region", region)
	}
	areq.Header.Set("X-TC-RequestClient", "trtcd-console")
	cloudapi.SignTC3(areq, body, ss.secretID, key, a.Service, s.d.Now())
	rec := &recorder{header: http.Header{}}
	s.d.API.ServeHTTP(rec, areq)
	headers := map[string]string{"Host": r.Host}
	for _, k := range []string{"Content-Type", "X-TC-Action", "X-TC-Version", "X-TC-Region", "X-TC-Timestamp", "X-TC-RequestClient", "Authorization"} {
		if v := areq.Header.Get(k); v != "" {
			headers[k] = v
		}
	}
	headers["Authorization"] = redactSignature(headers["Authorization"])
	var resp json.RawMessage = rec.body.Bytes()
	if !json.Valid(resp) {
		resp, _ = json.Marshal(rec.body.String())
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"request":  map[string]any{"method": "POST", "url": scheme + "://" + r.Host + "/", "headers": headers, "body": string(body)},
		"response": resp,
		"cli":      cliLine(a, region, s.d.DefaultRegion, string(body), scheme+"://"+r.Host),
		"go":       goSnippet(a, region, string(body), r.Host, scheme),
	})
}

// redactSignature keeps an Authorization header's shape without its
// signature.
func redactSignature(h string) string {
	if i := strings.Index(h, "Signature="); i >= 0 {
		return h[:i] + "Signature=(hidden)"
	}
	return h
}

// cliLine is the equivalent `trtcd api` command line.
func cliLine(a cloudapi.ActionInfo, region, defaultRegion, body, endpoint string) string {
	var b strings.Builder
	b.WriteString("trtcd api " + a.Name + " " + shellQuote(body) + " --endpoint " + shellQuote(endpoint))
	if a.Service != "trtc" {
		b.WriteString(" --service " + shellQuote(a.Service) + " --version " + shellQuote(a.Version))
	}
	if region != "" && region != defaultRegion {
		b.WriteString(" --region " + shellQuote(region))
	}
	return b.String()
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// recorder is the ResponseWriter of an in-process API call.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) WriteHeader(code int)        { r.status = code }
func (r *recorder) Write(b []byte) (int, error) { return r.body.Write(b) }

// goSnippet is the equivalent call with the official Go SDK
// (tencentcloud-sdk-go, trtc v20190722); "" for an action of another
// service (trtcd's admin actions have no SDK client).
func goSnippet(a cloudapi.ActionInfo, region, body, host, scheme string) string {
	if a.Service != trtc.Service || a.Version != trtc.Version {
		return ""
	}
	lit := "`" + body + "`"
	if strings.Contains(body, "`") {
		lit = strconv.Quote(body)
	}
	return `// go get github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/trtc
package main

import (
	"fmt"
	"os"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/profile"
	trtc "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/trtc/v20190722"
)

func main() {
	cred := common.NewCredential(os.Getenv("TENCENTCLOUD_SECRET_ID"), os.Getenv("TENCENTCLOUD_SECRET_KEY"))
	cpf := profile.NewClientProfile()
	cpf.HttpProfile.Endpoint = ` + strconv.Quote(host) + `
	cpf.HttpProfile.Scheme = ` + strconv.Quote(strings.ToUpper(scheme)) + `
	client, err := trtc.NewClient(cred, ` + strconv.Quote(region) + `, cpf)
	if err != nil {
		panic(err)
	}
	req := trtc.New` + a.Name + `Request()
	if err := req.FromJsonString(` + lit + `); err != nil {
		panic(err)
	}
	resp, err := client.` + a.Name + `(req)
	if err != nil {
		fmt.Println(err) // a *errors.TencentCloudSDKError carries the Code
		os.Exit(1)
	}
	fmt.Println(resp.ToJsonString())
}
`
}

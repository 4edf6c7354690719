package console

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"net"
	"net/http"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Session policies (docs/console.md).
const (
	// SessionTTL is how long a sign-in lasts; the cookie expires with it.
	SessionTTL = 8 * time.Hour
	// MaxSessions bounds the sessions held; a sign-in beyond it is refused
	// with 503 until some expire or sign out.
	MaxSessions = 10_000
	// CookieName is the session cookie: HttpOnly, SameSite=Strict, Path
	// /console/, Secure over TLS.
	CookieName = "trtcd_console"
	// CSRFHeader carries the session's CSRF token on every state-changing
	// request.
	CSRFHeader = "X-CSRF-Token"
	// SignInBurst sign-in attempts are allowed at once from one address,
	// then one per SignInInterval.
	SignInBurst    = 5
	SignInInterval = 10 * time.Second
	// maxLimiterAddrs bounds the addresses whose sign-in attempts are
	// counted; past it the oldest half is forgotten.
	maxLimiterAddrs = 10_000
)

type session struct {
	account, secretID string
	csrf              string
	expires           time.Time
}

type sessions struct {
	mu  sync.Mutex
	m   map[string]*session // by cookie token
	now func() time.Time
}

func newSessions(now func() time.Time) *sessions {
	return &sessions{m: map[string]*session{}, now: now}
}

func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// create starts a session; "" when MaxSessions are held.
func (s *sessions) create(account, secretID string) (string, *session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	for k, v := range s.m {
		if !now.Before(v.expires) {
			delete(s.m, k)
		}
	}
	if len(s.m) >= MaxSessions {
		return "", nil
	}
	token := randomToken()
	ss := &session{account: account, secretID: secretID, csrf: randomToken(), expires: now.Add(SessionTTL)}
	s.m[token] = ss
	return token, ss
}

// get finds the request's live session.
func (s *sessions) get(r *http.Request) (string, *session) {
	c, err := r.Cookie(CookieName)
	if err != nil || c.Value == "" {
		return "", nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ss := s.m[c.Value]
	if ss == nil {
		return "", nil
	}
	if !s.now().Before(ss.expires) {
		delete(s.m, c.Value)
		return "", nil
	}
	return c.Value, ss
}

func (s *sessions) remove(token string) {
	s.mu.Lock()
	delete(s.m, token)
	s.mu.Unlock()
}

func (s *sessions) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.m)
}

func (ss *session) csrfOK(r *http.Request) bool {
	got := r.Header.Get(CSRFHeader)
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(ss.csrf)) == 1
}

// signInLimiter limits sign-in attempts per remote address.
type signInLimiter struct {
	mu  sync.Mutex
	m   map[string]*rate.Limiter
	now func() time.Time
}

func newSignInLimiter(now func() time.Time) *signInLimiter {
	return &signInLimiter{m: map[string]*rate.Limiter{}, now: now}
}

func (l *signInLimiter) allow(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	lim := l.m[host]
	if lim == nil {
		if len(l.m) >= maxLimiterAddrs {
			n := 0
			for k := range l.m {
				delete(l.m, k)
				if n++; n >= maxLimiterAddrs/2 {
					break
				}
			}
		}
		lim = rate.NewLimiter(rate.Every(SignInInterval), SignInBurst)
		l.m[host] = lim
	}
	return lim.AllowN(l.now(), 1)
}

func setCookie(w http.ResponseWriter, r *http.Request, value string, expires time.Time, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: value, Path: Path, Expires: expires, MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
}

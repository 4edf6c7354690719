package cluster

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"strings"

	"github.com/redis/go-redis/v9"
)

// redacted stands in for a secret of the redis URL in errors and logs.
const redacted = "xxxxx"

// secrets lists what must not be shown of a redis URL: the password of its
// user info (or the whole user info when it has no ":"), and the values of
// query parameters whose name mentions a password, raw and unescaped.
func secrets(raw string) []string {
	var out []string
	add := func(s string) {
		if s != "" {
			out = append(out, s)
			if u, err := url.PathUnescape(s); err == nil && u != s {
				out = append(out, u)
			}
		}
	}
	rest := raw
	if _, r, ok := strings.Cut(raw, "://"); ok {
		rest = r
	}
	hostPart, query, _ := strings.Cut(rest, "?")
	if at := strings.LastIndex(hostPart, "@"); at >= 0 {
		info := hostPart[:at]
		if _, pw, ok := strings.Cut(info, ":"); ok {
			add(pw)
		} else {
			add(info)
		}
	}
	for _, kv := range strings.Split(query, "&") {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.Contains(strings.ToLower(k), "password") {
			add(v)
		}
	}
	return out
}

// Redact hides the secrets of the redis URL raw wherever they occur in s.
func Redact(s, raw string) string {
	for _, sec := range secrets(raw) {
		s = strings.ReplaceAll(s, sec, redacted)
	}
	return s
}

// redactError is an error whose text has the URL's secrets hidden.
type redactError struct {
	msg string
	err error
}

func (e *redactError) Error() string { return e.msg }
func (e *redactError) Unwrap() error { return e.err }

// RedactError hides the secrets of the redis URL raw in err's text; the
// error still wraps err.
func RedactError(err error, raw string) error {
	if err == nil {
		return nil
	}
	return &redactError{msg: Redact(err.Error(), raw), err: err}
}

// slogRedis passes go-redis's own log lines to the structured logger.
type slogRedis struct {
	log *slog.Logger
	url string
}

func (l slogRedis) Printf(ctx context.Context, format string, v ...any) {
	l.log.WarnContext(ctx, "go-redis", "detail", Redact(strings.TrimSpace(fmt.Sprintf(format, v...)), l.url))
}

// SetRedisLogger sends go-redis's log lines (a process-wide setting) to log
// as warnings with their text in "detail", with the URL's secrets hidden.
func SetRedisLogger(log *slog.Logger, rawURL string) {
	redis.SetLogger(slogRedis{log: log, url: rawURL})
}

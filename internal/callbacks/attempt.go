package callbacks

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Delivery outcomes, as counted in Stats.Deliveries.
const (
	OutcomeOK       = "ok"        // answered 200 with at most MaxAnswerBytes
	OutcomeStatus   = "status"    // answered another status (redirects are not followed: 3xx lands here)
	OutcomeTimeout  = "timeout"   // no complete answer within the timeout
	OutcomeConnect  = "error"     // could not connect, or the connection broke
	OutcomeTooLarge = "too_large" // the answer's body or headers exceed the caps
	outcomeCanceled = "canceled"  // the sender stopped; not counted
)

// Request headers besides the cloud's.
const (
	HeaderEventID = "X-Trtcd-Event-Id" // EventID: the same on every attempt; receivers deduplicate on it
	HeaderAttempt = "X-Trtcd-Attempt"  // 1 for the first attempt
)

type result struct {
	outcome string
	err     string // why it failed, for the dead letters
}

// attempt sends r once to q's receiver.
func (s *Sender) attempt(q *appQueue, r *row) result {
	if r.attempts > 0 {
		s.m.retry(r.app)
	}
	body := Body(r.etype, time.Now().UnixMilli(), r.info)
	ctx, cancel := context.WithTimeout(s.ctx, s.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, q.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return result{OutcomeConnect, err.Error()}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Sign", Sign(q.cfg.Key, body))
	req.Header.Set("SdkAppId", strconv.FormatUint(r.app, 10))
	req.Header.Set(HeaderEventID, EventID(r.room, r.seq, r.etype, r.eventMs))
	req.Header.Set(HeaderAttempt, strconv.Itoa(r.attempts+1))
	resp, err := q.client.Do(req)
	if err != nil {
		return s.failure(ctx, err)
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, io.LimitReader(resp.Body, MaxAnswerBytes+1))
	switch {
	case n > MaxAnswerBytes:
		return result{OutcomeTooLarge, fmt.Sprintf("HTTP %d with an answer longer than %d bytes", resp.StatusCode, MaxAnswerBytes)}
	case err != nil:
		return s.failure(ctx, err)
	case resp.StatusCode != http.StatusOK:
		return result{OutcomeStatus, fmt.Sprintf("HTTP %d", resp.StatusCode)}
	}
	return result{outcome: OutcomeOK}
}

func (s *Sender) failure(ctx context.Context, err error) result {
	switch {
	case s.ctx.Err() != nil:
		return result{outcome: outcomeCanceled}
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return result{OutcomeTimeout, fmt.Sprintf("no answer within %v", s.opts.Timeout)}
	case strings.Contains(err.Error(), "response headers exceeded"): // net/http's MaxResponseHeaderBytes
		return result{OutcomeTooLarge, "answer headers too large"}
	}
	return result{OutcomeConnect, err.Error()}
}

package callbacks

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strconv"
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
	if q.wireErr != nil {
		return result{OutcomeConnect, q.wireErr.Error()}
	}
	body := Body(r.etype, time.Now().UnixMilli(), r.info)
	ctx, cancel := context.WithTimeout(s.ctx, s.opts.Timeout)
	defer cancel()
	status, err := q.wire.post(ctx, []header{
		{"Content-Type", "application/json"},
		{"Sign", Sign(q.cfg.Key, body)},
		{"SdkAppId", strconv.FormatUint(r.app, 10)},
		{HeaderEventID, EventID(r.room, r.seq, r.etype, r.eventMs)},
		{HeaderAttempt, strconv.Itoa(r.attempts + 1)},
	}, body)
	switch {
	case err != nil:
		return s.failure(ctx, err)
	case status != http.StatusOK:
		return result{OutcomeStatus, fmt.Sprintf("HTTP %d", status)}
	}
	return result{outcome: OutcomeOK}
}

func (s *Sender) failure(ctx context.Context, err error) result {
	switch {
	case s.ctx.Err() != nil:
		return result{outcome: outcomeCanceled}
	case errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded):
		return result{OutcomeTimeout, fmt.Sprintf("no answer within %v", s.opts.Timeout)}
	case errors.As(err, new(errAnswerTooLarge)):
		return result{OutcomeTooLarge, err.Error()}
	}
	return result{OutcomeConnect, err.Error()}
}

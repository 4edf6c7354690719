package cluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Outcome policy. A change's answer can be lost or late (Redis stalled, the
// connection broke) after Redis has run, or will run, its script. Every
// change therefore carries a deadline on Redis's clock: the script refuses to
// apply after it. When a call fails without a clear answer, the node asks
// Redis (outcomeScript) once Redis's clock is past the deadline: the outcome
// record says the change was applied (the call succeeds with the recorded
// answer), its absence that it never will be (the call fails). If Redis does
// not answer within ResolveTimeout, the call fails as unknown; the deadline
// has passed by then, so the change was applied before the answer or never.
const (
	// DefaultResolveTimeout bounds how long a node looks for the outcome of
	// a change whose answer was lost, after the operation timeout.
	DefaultResolveTimeout = 2 * time.Second
	// outcomeTTL is how long Redis keeps a change's outcome record.
	outcomeTTL = 30 * time.Second
	// outcomeHorizon is how long after its deadline a missing record still
	// means "never applied" (well inside outcomeTTL).
	outcomeHorizon = 20 * time.Second
	// resolvePoll is the first pause between outcome queries; it doubles.
	resolvePoll = 50 * time.Millisecond
)

// outcome of a change whose answer was lost.
type outcome int

const (
	applied outcome = iota
	notApplied
	unknown
)

func (o outcome) String() string {
	return [...]string{"applied", "not_applied", "unknown"}[o]
}

// syncClock measures Redis's clock against ours (offset = redis - local),
// so that deadlines can be written on Redis's clock.
func (r *Registry) syncClock(ctx context.Context) error {
	t0 := time.Now()
	rt, err := r.rdb.Time(ctx).Result()
	if err != nil {
		return err
	}
	t1 := time.Now()
	mid := t0.Add(t1.Sub(t0) / 2)
	r.offset.Store(int64(rt.Sub(mid)))
	return nil
}

// deadline is now plus the operation timeout, on Redis's clock (Unix ms).
func (r *Registry) deadline() int64 {
	return time.Now().Add(time.Duration(r.offset.Load()) + r.opt.OpTimeout).UnixMilli()
}

// opID names one change uniquely: this incarnation and a counter.
func (r *Registry) opID() string {
	return fmt.Sprintf("%s:%d", r.inc, r.ops.Add(1))
}

func isReply(err error, reply string) bool {
	var re redis.Error
	return errors.As(err, &re) && strings.HasPrefix(re.Error(), reply)
}

// definite reports whether a failed call certainly changed nothing: the
// script refused (late), Redis answered with an error, or the command never
// left this node (no connection).
func definite(err error) bool {
	var re redis.Error
	if errors.As(err, &re) {
		return true
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	return errors.Is(err, redis.ErrPoolTimeout) || errors.Is(err, redis.ErrClosed)
}

// fenced runs a room script carrying deadline dl and outcome record opKey.
// It returns the script's answer, or the recorded answer when the reply was
// lost but the change applied; an error means the change was not applied
// (or, after ResolveTimeout, is unknown: applied before the error or never).
func (r *Registry) fenced(ctx context.Context, s *redis.Script, keys []string, opKey string, dl int64, args ...any) (reply any, recorded string, err error) {
	cctx, cancel := r.opCtx(ctx)
	reply, err = s.Run(cctx, r.rdb, keys, args...).Result()
	cancel()
	if err == nil || definite(err) {
		return reply, "", err
	}
	out, rec := r.resolve(opKey, dl)
	switch out {
	case applied:
		return nil, rec, nil
	case notApplied:
		return nil, "", err
	}
	return nil, "", fmt.Errorf("outcome unknown after %v: %w", r.opt.OpTimeout+r.opt.ResolveTimeout, err)
}

// resolve asks Redis, until ResolveTimeout, whether the change with this
// outcome record ran before its deadline.
func (r *Registry) resolve(opKey string, dl int64) (outcome, string) {
	ctx, cancel := context.WithTimeout(context.Background(), r.opt.ResolveTimeout)
	defer cancel()
	out, rec := unknown, ""
	for pause := resolvePoll; ; pause = min(2*pause, 500*time.Millisecond) {
		res, err := outcomeScript.Run(ctx, r.rdb, []string{opKey}, dl, outcomeHorizon.Milliseconds()).Slice()
		if err == nil && len(res) > 0 {
			if n, _ := res[0].(int64); n == 1 && len(res) == 2 {
				out, rec = applied, fmt.Sprint(res[1])
			} else {
				out = notApplied
			}
			break
		}
		if isReply(err, replyUnknown) {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(pause):
			continue
		}
		break
	}
	r.stats.resolved[out].Add(1)
	r.opt.Log.Warn("resolved the outcome of a change whose answer was lost", "op", opKey, "outcome", out.String())
	return out, rec
}

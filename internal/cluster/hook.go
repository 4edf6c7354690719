package cluster

import (
	"context"
	"errors"
	"net"
	"time"

	"github.com/redis/go-redis/v9"
)

// CallError is how a Redis call failed.
type CallError uint8

const (
	CallOK         CallError = iota
	CallTimeout              // no answer in time: a deadline, or no connection free in the pool
	CallConnection           // refused, reset or closed connection
	CallReply                // Redis answered with an error (a script's refusal included)
)

var callErrorNames = [...]string{"", "timeout", "connection", "reply"}

// String is the kind's name in trtcd_redis_errors_total ("" for CallOK).
func (k CallError) String() string { return callErrorNames[k] }

// classify says how err failed a call; a nil reply (redis.Nil) is an answer.
func classify(err error) CallError {
	var re redis.Error
	var ne net.Error
	switch {
	case err == nil || errors.Is(err, redis.Nil):
		return CallOK
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, redis.ErrPoolTimeout),
		errors.As(err, &ne) && ne.Timeout():
		return CallTimeout
	case errors.As(err, &re):
		return CallReply
	}
	return CallConnection
}

// ObserveCalls adds a go-redis hook to rdb that tells obs how long each
// call (a command, or a pipeline as one) took and how it failed.
func ObserveCalls(rdb redis.UniversalClient, obs func(elapsed time.Duration, kind CallError)) {
	rdb.AddHook(callHook{obs})
}

type callHook struct {
	obs func(time.Duration, CallError)
}

func (callHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h callHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		start := time.Now()
		err := next(ctx, cmd)
		h.obs(time.Since(start), classify(err))
		return err
	}
}

func (h callHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		start := time.Now()
		err := next(ctx, cmds)
		h.obs(time.Since(start), classify(err))
		return err
	}
}

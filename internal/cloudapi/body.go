package cloudapi

import (
	"errors"
	"io"
	"net"
	"net/http"
	"sync/atomic"
)

// BodyBudget caps the request-body bytes held in memory, server-wide, by
// requests that have not authenticated yet (policy: unauthenticated body
// budget). A TC3 body must be read whole before its signature can be
// checked; without a cap, a few hundred connections that each declare a
// 10 MB body and then stall would hold gigabytes. A request whose next
// chunk does not fit is answered at once with ServiceUnavailable and its
// connection is closed. A nil *BodyBudget is unlimited.
type BodyBudget struct {
	max     int64
	held    atomic.Int64
	refused atomic.Int64
}

// NewBodyBudget returns a budget of max bytes.
func NewBodyBudget(max int64) *BodyBudget { return &BodyBudget{max: max} }

func (b *BodyBudget) reserve(n int64) bool {
	if b == nil {
		return true
	}
	if b.held.Add(n) > b.max {
		b.held.Add(-n)
		b.refused.Add(1)
		return false
	}
	return true
}

func (b *BodyBudget) release(n int64) {
	if b != nil && n != 0 {
		b.held.Add(-n)
	}
}

// Held is the number of bytes reserved now.
func (b *BodyBudget) Held() int64 {
	if b == nil {
		return 0
	}
	return b.held.Load()
}

// Refused counts the requests answered ServiceUnavailable for lack of budget.
func (b *BodyBudget) Refused() int64 {
	if b == nil {
		return 0
	}
	return b.refused.Load()
}

// minBodyChunk is the first buffer for a body of unknown length.
const minBodyChunk = 512

// readBody reads a body of at most limit bytes. Its buffer grows as bytes
// arrive (doubling, never sized by a declared Content-Length alone), and
// every byte of buffer is reserved from budget before it is allocated. On
// success held is what stays reserved, for the caller to release once the
// request has authenticated; on failure nothing stays reserved. A read that
// hits the connection's read deadline is counted in timeouts.
func readBody(r *http.Request, limit int64, budget *BodyBudget, timeouts *atomic.Int64) (body []byte, held int64, e *Error) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, 0, nil
	}
	if r.ContentLength > limit {
		return nil, 0, ErrRequestSizeLimitExceeded(limit)
	}
	ceiling := limit + 1 // one byte over the limit tells a body that is too large
	if r.ContentLength > 0 {
		ceiling = r.ContentLength
	}
	fail := func(e *Error) ([]byte, int64, *Error) {
		budget.release(held)
		return nil, 0, e
	}
	var buf []byte
	for {
		if len(buf) == cap(buf) {
			if int64(cap(buf)) >= ceiling {
				break
			}
			size := min(max(2*int64(cap(buf)), minBodyChunk), ceiling)
			if !budget.reserve(size - int64(cap(buf))) {
				return fail(ErrServiceUnavailable(budget.max))
			}
			held = size
			grown := make([]byte, len(buf), size)
			copy(grown, buf)
			buf = grown
		}
		n, err := r.Body.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				timeouts.Add(1)
				return fail(ErrInvalidParameter("The request body did not arrive in time."))
			}
			return fail(ErrInvalidParameter("The request body could not be read."))
		}
	}
	if int64(len(buf)) > limit {
		return fail(ErrRequestSizeLimitExceeded(limit))
	}
	return buf, held, nil
}

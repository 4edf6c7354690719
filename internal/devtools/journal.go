// Package devtools is trtcd's developer tools on the cloud API front door:
// a journal of the last calls (with the signature diagnostics of refused
// ones) and fault injection, per account, and the admin actions that read
// and set them. docs/devtools.md describes them.
package devtools

import (
	"encoding/json"
	"sync"
	"time"

	"github.com/trtcd/trtcd/internal/cloudapi"
)

// DefaultJournalSize is how many calls the journal keeps unless
// devtools.journal_size says otherwise.
const DefaultJournalSize = 1000

// Entry is one journaled call as DescribeApiJournal answers it.
type Entry struct {
	Time      time.Time       `json:"Time"`
	RequestId string          `json:"RequestId"`
	SecretId  string          `json:"SecretId"`
	Account   string          `json:"Account"`
	Action    string          `json:"Action"`
	Params    json.RawMessage `json:"Params,omitempty"`
	Code      string          `json:"Code"`
	Message   string          `json:"Message,omitempty"`
	LatencyMs float64         `json:"LatencyMs"`
	Fault     string          `json:"Fault,omitempty"` // the injected fault's id: this answer was injected
	Signature *Signature      `json:"Signature,omitempty"`
}

// Signature is the server's side of a refused signature.
type Signature struct {
	Algorithm        string   `json:"Algorithm"`
	CanonicalRequest string   `json:"CanonicalRequest,omitempty"`
	StringToSign     string   `json:"StringToSign"`
	SignedHeaders    []string `json:"SignedHeaders,omitempty"`
	CredentialScope  string   `json:"CredentialScope,omitempty"`
}

// Journal keeps the last Size calls in a ring.
type Journal struct {
	mu    sync.Mutex
	ring  []Entry
	next  int // where the next entry goes
	full  bool
	added uint64
}

// NewJournal keeps the last size calls (DefaultJournalSize when size <= 0).
func NewJournal(size int) *Journal {
	if size <= 0 {
		size = DefaultJournalSize
	}
	return &Journal{ring: make([]Entry, size)}
}

// Size is the journal's capacity.
func (j *Journal) Size() int { return len(j.ring) }

// Added is how many calls were ever journaled.
func (j *Journal) Added() uint64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.added
}

// Add journals a call.
func (j *Journal) Add(r *cloudapi.Record) {
	e := Entry{Time: r.Time.UTC(), RequestId: r.RequestID, SecretId: r.SecretID, Account: r.Account, Action: r.Action,
		Params: r.Params, Code: r.Code, Message: r.Message, LatencyMs: float64(r.Latency.Microseconds()) / 1000, Fault: r.Fault}
	if d := r.Signature; d != nil {
		e.Signature = &Signature{d.Algorithm, d.CanonicalRequest, d.StringToSign, d.SignedHeaders, d.CredentialScope}
	}
	j.mu.Lock()
	j.ring[j.next] = e
	j.next++
	if j.next == len(j.ring) {
		j.next, j.full = 0, true
	}
	j.added++
	j.mu.Unlock()
}

// Filter selects entries; empty fields match everything. Account is always
// set by the callers that serve an account (it sees only its own calls).
type Filter struct {
	Account string
	Action  string
	Code    string
	Limit   int // at most this many, newest first; <= 0: all
}

// Query answers the matching entries, newest first.
func (j *Journal) Query(f Filter) []Entry {
	j.mu.Lock()
	defer j.mu.Unlock()
	n := j.next
	if j.full {
		n = len(j.ring)
	}
	var out []Entry
	for i := 0; i < n; i++ {
		e := &j.ring[(j.next-1-i+len(j.ring))%len(j.ring)]
		if f.Account != "" && e.Account != f.Account || f.Action != "" && e.Action != f.Action || f.Code != "" && e.Code != f.Code {
			continue
		}
		out = append(out, *e)
		if f.Limit > 0 && len(out) == f.Limit {
			break
		}
	}
	return out
}

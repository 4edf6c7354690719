package devtools

import "github.com/trtcd/trtcd/internal/cloudapi"

// Tools is the front door's Hook: a journal and faults, each nil when off.
type Tools struct {
	Journal *Journal
	Faults  *Faults
}

// New makes the tools the configuration asks for; nil when both are off,
// so that the front door's Hook stays nil.
func New(journal bool, journalSize int, faults bool) *Tools {
	if !journal && !faults {
		return nil
	}
	t := &Tools{}
	if journal {
		t.Journal = NewJournal(journalSize)
	}
	if faults {
		t.Faults = NewFaults(nil)
	}
	return t
}

func (t *Tools) Fault(account, action string) *cloudapi.Fault {
	if t.Faults == nil {
		return nil
	}
	return t.Faults.Match(account, action)
}

func (t *Tools) Record(r *cloudapi.Record) {
	if t.Journal != nil {
		t.Journal.Add(r)
	}
}

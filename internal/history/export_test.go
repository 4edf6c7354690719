package history

// DuplicateChecks is how many duplicate-login UPDATEs the store has run.
func (s *Store) DuplicateChecks() int64 { return s.dupChecks.Load() }

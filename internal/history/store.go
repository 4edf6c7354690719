package history

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/trtcd/trtcd/internal/yielder"

	_ "github.com/jackc/pgx/v5/stdlib" // driver "pgx"
	_ "modernc.org/sqlite"             // driver "sqlite", pure Go
)

// DefaultRetention is how long history is kept when the config does not say:
// 14 days, as the cloud keeps its monitoring data.
const DefaultRetention = 14 * 24 * time.Hour

// PruneInterval is how often RunRetention deletes what is older than the
// retention period.
const PruneInterval = time.Hour

// SQLiteFile is the file name of the embedded database inside data_dir.
const SQLiteFile = "history.db"

// WALCheckpointPages is how many pages SQLite's write-ahead log holds before
// the writer copies them into the database file (wal_autocheckpoint).
const WALCheckpointPages = 4000

// Options are the store's policies.
type Options struct {
	Retention time.Duration    // DefaultRetention when 0
	Now       func() time.Time // injectable clock; time.Now when nil
	Log       *slog.Logger     // nil: no logs
}

// Store is the history database: the writer (Apply) and the Reader.
type Store struct {
	db        *sql.DB
	pg        bool
	now       func() time.Time
	retention time.Duration
	log       *slog.Logger
	w         writer        // group commit (commit.go)
	sessions  *sessionCache // SQLite only (sessions.go); nil with PostgreSQL
	pruneMu   sync.RWMutex  // Prune holds it, each write transaction shares it

	stmtMu sync.Mutex
	stmts  map[string]*sql.Stmt // the write path's prepared statements

	applied, ignored, pruned, failed atomic.Int64
	dupChecks                        atomic.Int64 // duplicate-login UPDATEs run (apply.go)
}

// Stats are the store's counters, for /metrics.
type Stats struct {
	Applied int64 // events written (redeliveries included)
	Ignored int64 // events of a type the store does not keep, or malformed
	Pruned  int64 // rows deleted by retention
	Failed  int64 // Apply or Prune calls that failed
	Turns   int64 // turns the writer gave the network during its transactions (SQLite; the "writer yield" policy)
}

func (s *Store) Stats() Stats {
	return Stats{s.applied.Load(), s.ignored.Load(), s.pruned.Load(), s.failed.Load(), s.w.turns.Turns()}
}

// Settings are the config keys that choose the store.
type Settings struct {
	DataDir   string        // data_dir: where the SQLite file lives
	URL       string        // history: "" (SQLite on one node), "postgres://…", or "off"
	Clustered bool          // redis is configured: several nodes share the history
	Retention time.Duration // history_retention
}

// Open opens the store the settings name. It returns (nil, nil) when history
// is not configured: `history: off`, or cluster mode without a PostgreSQL
// URL (nodes do not share a SQLite file). The actions then answer
// FailedOperation.HistoryNotConfigured.
func Open(ctx context.Context, st Settings, opts Options) (*Store, error) {
	if opts.Retention == 0 {
		opts.Retention = st.Retention
	}
	switch {
	case st.URL == "off":
		return nil, nil
	case strings.HasPrefix(st.URL, "postgres://") || strings.HasPrefix(st.URL, "postgresql://"):
		return OpenPostgres(ctx, st.URL, opts)
	case st.URL != "":
		return nil, fmt.Errorf("config: history: must be a postgres:// URL or off, not %q", redact(st.URL))
	case st.Clustered:
		return nil, nil
	case st.DataDir == "":
		return nil, errors.New("config: data_dir: is required for the embedded history database (or set history: off)")
	}
	return OpenSQLite(ctx, filepath.Join(st.DataDir, SQLiteFile), opts)
}

// OpenSQLite opens (creating when needed) a SQLite database file in WAL mode
// and migrates it.
func OpenSQLite(ctx context.Context, path string, opts Options) (*Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("history: %w", err)
	}
	q := url.Values{}
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "synchronous(NORMAL)") // with WAL: durable across a crash of the process; see docs/history.md
	// A checkpoint copies every page changed since the last one from the WAL
	// into the database file; a join burst changes the same index pages over
	// and over, so copying less often copies each fewer times: 4 000 pages
	// (a WAL of up to 16 MiB, SQLite's default is 1 000) took 12-20 % less
	// of the writer's CPU per join (BenchmarkApplyJoins, docs/benchmarks.md).
	q.Add("_pragma", "wal_autocheckpoint("+strconv.Itoa(WALCheckpointPages)+")")
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("history: %w", err)
	}
	return open(ctx, db, false, opts)
}

// OpenPostgres connects to PostgreSQL through pgx and migrates the schema.
func OpenPostgres(ctx context.Context, dsn string, opts Options) (*Store, error) {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("history: %w", err)
	}
	db.SetMaxOpenConns(16)
	db.SetMaxIdleConns(4)
	db.SetConnMaxIdleTime(time.Minute)
	return open(ctx, db, true, opts)
}

func open(ctx context.Context, db *sql.DB, pg bool, opts Options) (*Store, error) {
	s := &Store{db: db, pg: pg, now: opts.Now, retention: opts.Retention, log: opts.Log, w: newWriter()}
	if !pg {
		s.sessions = &sessionCache{}
		y, err := yielder.New(yielder.Every)
		if err != nil {
			db.Close()
			return nil, fmt.Errorf("history: %w", err)
		}
		s.w.turns = y
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.retention <= 0 {
		s.retention = DefaultRetention
	}
	if err := s.migrate(ctx); err != nil {
		s.w.turns.Close()
		db.Close()
		return nil, fmt.Errorf("history: opening the database: %w", err)
	}
	return s, nil
}

// Close stops the group-commit writer (an Apply still waiting gets
// ErrUnavailable) and closes the database.
func (s *Store) Close() error {
	s.closeWriter()
	s.closeStmts()
	return s.db.Close()
}

func (s *Store) Now() time.Time { return s.now() }

func (s *Store) Retention() time.Duration { return s.retention }

// bind turns ? placeholders into PostgreSQL's $1, $2, … (SQLite takes ?).
func (s *Store) bind(query string) string {
	if !s.pg {
		return query
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(query[i])
	}
	return b.String()
}

// Prune deletes what ended before now minus the retention period: user
// events, member sessions that have left, room sessions that have closed.
// Open sessions are kept however old. It returns the rows deleted.
func (s *Store) Prune(ctx context.Context) (int64, error) {
	cutoff := s.now().Add(-s.retention).UnixMilli()
	// No write transaction runs meanwhile, so none finds in the session
	// cache a session this deletes (SQLite takes one writer at a time
	// anyway, so this costs the writers nothing).
	s.pruneMu.Lock()
	defer s.pruneMu.Unlock()
	var total int64
	fail := func(err error) error {
		s.failed.Add(1)
		return fmt.Errorf("%w: prune: %v", ErrUnavailable, err)
	}
	del := func(q string, args ...any) error {
		res, err := s.db.ExecContext(ctx, s.bind(q), args...)
		if err != nil {
			return fail(err)
		}
		n, _ := res.RowsAffected()
		total += n
		return nil
	}
	if err := del(`DELETE FROM user_events WHERE time_ms < ?`, cutoff); err != nil {
		return total, err
	}
	// The end times have no index (each would be one more B-tree that every
	// stay and every close writes): what ended before the cutoff began
	// before it, and the start-time indexes lead with the app.
	for _, t := range []struct{ table, del string }{
		{"member_sessions", `DELETE FROM member_sessions WHERE app = ? AND join_ms < ? AND leave_ms IS NOT NULL AND leave_ms < ?`},
		{"room_sessions", `DELETE FROM room_sessions WHERE app = ? AND created_ms < ? AND destroyed_ms IS NOT NULL AND destroyed_ms < ?`},
	} {
		apps, err := s.apps(ctx, t.table)
		if err != nil {
			return total, fail(err)
		}
		for _, app := range apps {
			if err := del(t.del, app, cutoff, cutoff); err != nil {
				return total, err
			}
		}
	}
	if total > 0 {
		s.sessions.forget()
	}
	s.pruned.Add(total)
	return total, nil
}

// apps lists the apps that have rows in table, whose index leads with
// app: one index seek per app (SELECT DISTINCT would read every entry).
func (s *Store) apps(ctx context.Context, table string) ([]int64, error) {
	var out []int64
	after := int64(-1)
	for {
		var app sql.NullInt64
		if err := s.db.QueryRowContext(ctx, s.bind(`SELECT MIN(app) FROM `+table+` WHERE app > ?`), after).Scan(&app); err != nil {
			return nil, err
		}
		if !app.Valid {
			return out, nil
		}
		out = append(out, app.Int64)
		after = app.Int64
	}
}

// RunRetention prunes at once and then every PruneInterval until ctx ends.
func (s *Store) RunRetention(ctx context.Context) {
	t := time.NewTicker(PruneInterval)
	defer t.Stop()
	for {
		if n, err := s.Prune(ctx); err != nil && ctx.Err() == nil && s.log != nil {
			s.log.Warn("history retention failed", "err", err)
		} else if n > 0 && s.log != nil {
			s.log.Info("history retention", "deleted_rows", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// redact hides a password in a URL for error messages.
func redact(s string) string {
	if u, err := url.Parse(s); err == nil && u.User != nil {
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
			return u.String()
		}
	}
	return s
}

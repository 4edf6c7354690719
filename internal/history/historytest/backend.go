package historytest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/trtcd/trtcd/internal/history"
)

// Backend is one kind of database the suite runs against.
type Backend struct {
	Name string
	// New makes an empty database and returns its address.
	New func(t testing.TB) string
	// Open opens the store on an address (migrating it).
	Open func(ctx context.Context, addr string, opts history.Options) (*history.Store, error)
	// SQL opens the database itself, for checks below the store.
	SQL func(t testing.TB, addr string) *sql.DB
}

// SQLite is the embedded backend: a fresh file in a temporary directory.
var SQLite = Backend{
	Name: "sqlite",
	New:  func(t testing.TB) string { return filepath.Join(t.TempDir(), "data", history.SQLiteFile) },
	Open: history.OpenSQLite,
	SQL: func(t testing.TB, addr string) *sql.DB {
		db, err := sql.Open("sqlite", "file:"+addr+"?_pragma=busy_timeout(10000)")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	},
}

// PostgresEnv names the variable that holds the URL of a throwaway
// PostgreSQL server (scripts/test.sh starts one). Each test gets a database
// of its own on it, dropped at the end.
const PostgresEnv = "TRTCD_TEST_POSTGRES"

// Postgres is the many-node backend. Without TRTCD_TEST_POSTGRES the test is
// skipped with a message, or fails when CI=true.
var Postgres = Backend{
	Name: "postgres",
	New:  newPostgresDB,
	Open: history.OpenPostgres,
	SQL: func(t testing.TB, addr string) *sql.DB {
		db, err := sql.Open("pgx", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	},
}

// Backends are both, for suites that run the same contract against each.
var Backends = []Backend{SQLite, Postgres}

func newPostgresDB(t testing.TB) string {
	t.Helper()
	admin := os.Getenv(PostgresEnv)
	if admin == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not set: CI requires the PostgreSQL tests (scripts/test.sh starts a server)", PostgresEnv)
		}
		t.Skipf("%s is not set: skipping the PostgreSQL tests (scripts/test.sh starts a throwaway server)", PostgresEnv)
	}
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("%s: %v", PostgresEnv, err)
	}
	b := make([]byte, 6)
	rand.Read(b)
	name := "trtcd_test_" + hex.EncodeToString(b)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := sql.Open("pgx", admin)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("creating a test database on %s: %v", PostgresEnv, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		db, err := sql.Open("pgx", admin)
		if err != nil {
			return
		}
		defer db.Close()
		db.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	})
	u.Path = "/" + name
	return u.String()
}

// Open makes a fresh database on b and opens a store on it for the test.
func Open(t testing.TB, b Backend, opts history.Options) (*history.Store, string) {
	t.Helper()
	addr := b.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := b.Open(ctx, addr, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, addr
}

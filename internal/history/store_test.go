package history_test

import (
	"testing"

	"github.com/trtcd/trtcd/internal/history/historytest"
)

func TestSQLite(t *testing.T)   { historytest.Run(t, historytest.SQLite) }
func TestPostgres(t *testing.T) { historytest.Run(t, historytest.Postgres) }

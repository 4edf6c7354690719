package history

import (
	"context"
	"database/sql"
	"fmt"
)

// migrations are the schema versions in order; migration i brings the schema
// to version i+1. Statements are plain SQL accepted by SQLite and PostgreSQL
// alike. Never edit a released migration: append a new one.
var migrations = [][]string{
	{ // 1: room sessions, member sessions, user events, and their indexes
		`CREATE TABLE room_sessions (
			comm_id      TEXT PRIMARY KEY,
			app          BIGINT NOT NULL,
			room_key     TEXT NOT NULL,
			room_text    TEXT NOT NULL,
			is_str       BIGINT NOT NULL,
			open_seq     BIGINT NOT NULL,
			created_ms   BIGINT NOT NULL,
			destroyed_ms BIGINT,
			creator      TEXT NOT NULL,
			close_reason TEXT NOT NULL
		)`,
		// DescribeRoomInfo: one app, by creation time.
		`CREATE INDEX room_sessions_app_created ON room_sessions (app, created_ms)`,
		// Apply: the session an event belongs to.
		`CREATE INDEX room_sessions_room ON room_sessions (room_key, created_ms)`,
		// Retention.
		`CREATE INDEX room_sessions_destroyed ON room_sessions (destroyed_ms)`,
		`CREATE TABLE member_sessions (
			comm_id      TEXT NOT NULL,
			enter_seq    BIGINT NOT NULL,
			user_id      TEXT NOT NULL,
			app          BIGINT NOT NULL,
			room_key     TEXT NOT NULL,
			room_text    TEXT NOT NULL,
			role         TEXT NOT NULL,
			session_id   TEXT NOT NULL,
			join_ms      BIGINT NOT NULL,
			leave_ms     BIGINT,
			leave_reason TEXT NOT NULL,
			client_ip    TEXT NOT NULL,
			device       TEXT NOT NULL,
			sdk_version  TEXT NOT NULL,
			PRIMARY KEY (comm_id, enter_seq, user_id)
		)`,
		// Apply: one user's stays in one session.
		`CREATE INDEX member_sessions_comm_user ON member_sessions (comm_id, user_id, join_ms)`,
		// DescribeUserInfo: one session's members by join time.
		`CREATE INDEX member_sessions_comm_join ON member_sessions (comm_id, join_ms)`,
		// DescribeScaleInfo: one app's entries per day, answered from the index alone.
		`CREATE INDEX member_sessions_app_join ON member_sessions (app, join_ms, room_key, user_id)`,
		`CREATE INDEX member_sessions_leave ON member_sessions (leave_ms)`,
		`CREATE TABLE user_events (
			comm_id   TEXT NOT NULL,
			user_id   TEXT NOT NULL,
			seq       BIGINT NOT NULL,
			type      TEXT NOT NULL,
			app       BIGINT NOT NULL,
			time_ms   BIGINT NOT NULL,
			event_id  BIGINT NOT NULL,
			stream    BIGINT NOT NULL,
			param_one BIGINT NOT NULL,
			param_two BIGINT NOT NULL,
			PRIMARY KEY (comm_id, user_id, seq, type)
		)`,
		// DescribeUserEvent: one user in one session, by time.
		`CREATE INDEX user_events_comm_user_time ON user_events (comm_id, user_id, time_ms)`,
		`CREATE INDEX user_events_time ON user_events (time_ms)`,
	},
	{ // 2: two indexes the queries do without, each a B-tree every event wrote
		// DescribeUserInfo finds a session's stays through the primary key or
		// member_sessions_comm_user (both begin with comm_id) and sorts them.
		`DROP INDEX member_sessions_comm_join`,
		// DescribeUserEvent finds one user's events in a session through the
		// primary key (comm_id, user_id, ...) and sorts them by time.
		`DROP INDEX user_events_comm_user_time`,
	},
	{ // 3: a member's enter and leave are read off its stay (query.go), no longer written as user_events rows too
		`ALTER TABLE member_sessions ADD COLUMN leave_seq BIGINT`,
		// The sequence number of the leave event that closed each stay: at
		// its leave time, after its join, with its reason (a stay closed in
		// the same millisecond by a duplicate login or its room's close
		// has another reason, and no leave event). A leave without a reason
		// (ParamOne 0) stays a row (apply.go).
		`UPDATE member_sessions SET leave_seq = (SELECT MIN(u.seq) FROM user_events u
			WHERE u.comm_id = member_sessions.comm_id AND u.user_id = member_sessions.user_id AND u.type = 'leave'
			AND u.time_ms = member_sessions.leave_ms AND (member_sessions.leave_ms > member_sessions.join_ms OR u.seq > member_sessions.enter_seq)
			AND u.param_one <> 0 AND u.param_one = ` + reasonCodeSQL("member_sessions.leave_reason") + `)
			WHERE leave_ms IS NOT NULL`,
		// Every enter has its stay; a leave row goes when its stay has it.
		`DELETE FROM user_events WHERE type = 'enter' OR (type = 'leave' AND EXISTS (SELECT 1 FROM member_sessions m
			WHERE m.comm_id = user_events.comm_id AND m.user_id = user_events.user_id AND m.leave_seq = user_events.seq))`,
	},
	{ // 4: fewer B-trees per stay: an entry writes three instead of five, a leave and a room's close one instead of three
		// The primary key leads with (comm_id, user_id), so it also serves
		// what member_sessions_comm_user did (a user's stays in a session).
		// The end-time indexes go: retention finds what ended through the
		// start-time indexes (store.go, Prune), since nothing ends before it starts.
		`CREATE TABLE member_sessions_v4 (
			comm_id      TEXT NOT NULL,
			enter_seq    BIGINT NOT NULL,
			user_id      TEXT NOT NULL,
			app          BIGINT NOT NULL,
			room_key     TEXT NOT NULL,
			room_text    TEXT NOT NULL,
			role         TEXT NOT NULL,
			session_id   TEXT NOT NULL,
			join_ms      BIGINT NOT NULL,
			leave_ms     BIGINT,
			leave_reason TEXT NOT NULL,
			client_ip    TEXT NOT NULL,
			device       TEXT NOT NULL,
			sdk_version  TEXT NOT NULL,
			leave_seq    BIGINT,
			PRIMARY KEY (comm_id, user_id, enter_seq)
		)`,
		`INSERT INTO member_sessions_v4 (` + memberColumns + `) SELECT ` + memberColumns + ` FROM member_sessions`,
		`DROP TABLE member_sessions`, // and its indexes
		`ALTER TABLE member_sessions_v4 RENAME TO member_sessions`,
		// DescribeScaleInfo, and retention (join_ms: a stay ends after it starts).
		`CREATE INDEX member_sessions_app_join ON member_sessions (app, join_ms, room_key, user_id)`,
		`DROP INDEX room_sessions_destroyed`, // retention uses room_sessions_app_created
	},
}

// memberColumns are member_sessions' columns, for migration 4's copy.
const memberColumns = `comm_id, enter_seq, user_id, app, room_key, room_text, role, session_id, join_ms, leave_ms,
	leave_reason, client_ip, device, sdk_version, leave_seq`

// SchemaVersion is the schema version this binary writes.
func SchemaVersion() int { return len(migrations) }

// migrate brings the database to SchemaVersion in one transaction. On
// PostgreSQL an advisory lock makes nodes that start together take turns.
func (s *Store) migrate(ctx context.Context) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if s.pg {
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(7310001)`); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS history_schema (version BIGINT NOT NULL)`); err != nil {
		return err
	}
	var v sql.NullInt64
	if err := tx.QueryRowContext(ctx, `SELECT MAX(version) FROM history_schema`).Scan(&v); err != nil {
		return err
	}
	if int(v.Int64) > len(migrations) {
		return fmt.Errorf("history: the database has schema version %d, newer than this binary's %d", v.Int64, len(migrations))
	}
	for i := int(v.Int64); i < len(migrations); i++ {
		for _, stmt := range migrations[i] {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("history: migration %d: %w", i+1, err)
			}
		}
		if _, err := tx.ExecContext(ctx, s.bind(`INSERT INTO history_schema (version) VALUES (?)`), i+1); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// Version reads the schema version recorded in the database.
func (s *Store) Version(ctx context.Context) (int, error) {
	var v sql.NullInt64
	err := s.db.QueryRowContext(ctx, `SELECT MAX(version) FROM history_schema`).Scan(&v)
	return int(v.Int64), err
}

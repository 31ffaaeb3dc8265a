package store

import (
	"context"
	"database/sql"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pressly/goose/v3"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/certops/certops/internal/certs"
)

// SQLite is the Store on a SQLite file: the single-node default, no server.
// Processes on one machine may share the file (SQLite's file locks
// serialize their writers, so the guarantees hold); a network filesystem
// is not supported by SQLite's WAL mode.
type SQLite struct {
	*core
	// reads has many connections: in WAL mode readers never wait.
	// writes has one: in-process writers queue for it in Go, in order and
	// honouring their contexts, instead of in SQLite's busy handler, which
	// polls with sleeps of up to 100ms and lets an unlucky writer starve
	// (measured with 8 writers: runs that fell from ~800 to ~30 updates/s).
	// busy_timeout still covers writers in other processes.
	reads, writes *sql.DB
}

var _ certs.Store = (*SQLite)(nil)

// sqliteBusyTimeout is how long a writer waits for another process's
// transaction to end before failing with SQLITE_BUSY. Transactions here last
// milliseconds; the margin absorbs bursts.
const sqliteBusyTimeout = 10 * time.Second

// OpenSQLite opens (creating it and its directory when missing) the SQLite
// database at path, in WAL mode, and migrates it.
func OpenSQLite(ctx context.Context, path string, opts Options) (*SQLite, error) {
	opts = opts.withDefaults()
	if path == "" {
		return nil, certs.Errorf(certs.EINVALID, "a SQLite file path is required")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, certs.StoreUnavailable("create the SQLite directory", err)
	}
	s := &SQLite{}
	var err error
	for _, db := range []**sql.DB{&s.writes, &s.reads} {
		if *db, err = sql.Open("sqlite", sqliteDSN(path)); err != nil {
			s.Close()
			return nil, certs.StoreUnavailable("open SQLite", err)
		}
	}
	s.writes.SetMaxOpenConns(1)
	// The writer first: it creates the file and switches it to WAL.
	for _, db := range []*sql.DB{s.writes, s.reads} {
		if err := pingSQLite(ctx, db); err != nil {
			s.Close()
			return nil, certs.StoreUnavailable("open SQLite", err)
		}
	}
	if err := migrateSQLite(ctx, s.writes, opts); err != nil {
		s.Close()
		return nil, certs.StoreUnavailable("migrate SQLite", err)
	}
	s.core = newCore(sqliteEngine{reads: s.reads, writes: s.writes}, opts)
	opts.Logger.Info("database ready", "engine", "sqlite", "path", path)
	return s, nil
}

// pingSQLite opens a first connection. Switching a new file to WAL takes an
// exclusive lock, and SQLite answers SQLITE_BUSY at once, without its busy
// handler, to a process that asks while another is switching it: so replicas
// starting together on a new file try again for up to sqliteBusyTimeout.
func pingSQLite(ctx context.Context, db *sql.DB) error {
	deadline := time.Now().Add(sqliteBusyTimeout)
	wait := 10 * time.Millisecond
	for {
		err := db.PingContext(ctx)
		if err == nil || !strings.Contains(err.Error(), "SQLITE_BUSY") || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, 200*time.Millisecond)
	}
}

// migrateSQLite migrates, tolerating processes that start together on a new
// file. goose has no lock for SQLite, so two of them can both decide a
// migration is due; each migration runs in an IMMEDIATE transaction, so the
// second waits, then fails on the tables the first created and rolls back.
// Trying again then finds the migration recorded and does nothing.
func migrateSQLite(ctx context.Context, db *sql.DB, opts Options) error {
	var err error
	for range 3 {
		if err = migrate(ctx, db, goose.DialectSQLite3, "sqlite", opts.Logger); err == nil || ctx.Err() != nil {
			return err
		}
	}
	return err
}

// sqliteDSN is path as a modernc.org/sqlite URI:
//   - busy_timeout makes a writer wait for the lock instead of failing;
//   - WAL lets reads proceed during a write;
//   - _txlock=immediate begins every transaction with BEGIN IMMEDIATE, so a
//     transaction takes the write lock before it reads: two compare-and-sets
//     queue rather than both reading "pending" (with a deferred BEGIN the
//     second would fail with SQLITE_BUSY on upgrade, which no timeout
//     retries);
//   - synchronous=FULL syncs the WAL at every commit. WAL's usual NORMAL
//     can lose the last commits on power loss, and a lost "submitting"
//     would let a worker submit a reassignment to ISC a second time.
func sqliteDSN(path string) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout("+itoa(sqliteBusyTimeout.Milliseconds())+")")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(FULL)")
	q.Add("_pragma", "foreign_keys(ON)")
	q.Set("_txlock", "immediate")
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
}

// Ping checks the database answers.
func (s *SQLite) Ping(ctx context.Context) error {
	return certs.StoreUnavailable("ping SQLite", s.reads.PingContext(ctx))
}

// Close closes the database.
func (s *SQLite) Close() error {
	var errs []error
	for _, db := range []*sql.DB{s.reads, s.writes} {
		if db != nil {
			errs = append(errs, db.Close())
		}
	}
	return errors.Join(errs...)
}

type sqliteEngine struct{ reads, writes *sql.DB }

func (e sqliteEngine) exec(ctx context.Context, q string, args ...any) (int64, error) {
	// Outside a transaction only for statements that change nothing.
	return sqlExec(ctx, e.reads, q, args)
}

func (e sqliteEngine) query(ctx context.Context, q string, args ...any) (rows, error) {
	return sqlQuery(ctx, e.reads, q, args)
}

func (e sqliteEngine) begin(ctx context.Context) (tx, error) {
	t, err := e.writes.BeginTx(ctx, nil) // IMMEDIATE, through _txlock
	if err != nil {
		return nil, certs.StoreUnavailable("begin", err)
	}
	return sqliteTx{t}, nil
}

func (sqliteEngine) forUpdate() string  { return "" }
func (sqliteEngine) skipLocked() string { return "" }

func (sqliteEngine) timeArg(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMicro()
}

// lockEvents does nothing: SQLite has one writer at a time, so seq order is
// already commit order.
func (sqliteEngine) lockEvents(context.Context, querier) error { return nil }

type sqliteTx struct{ t *sql.Tx }

func (t sqliteTx) exec(ctx context.Context, q string, args ...any) (int64, error) {
	return sqlExec(ctx, t.t, q, args)
}

func (t sqliteTx) query(ctx context.Context, q string, args ...any) (rows, error) {
	return sqlQuery(ctx, t.t, q, args)
}

func (t sqliteTx) commit(context.Context) error {
	return certs.StoreUnavailable("commit", t.t.Commit())
}
func (t sqliteTx) rollback(context.Context) { _ = t.t.Rollback() }

// sqlConn is what *sql.DB and *sql.Tx share.
type sqlConn interface {
	ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
}

func sqlExec(ctx context.Context, c sqlConn, q string, args []any) (int64, error) {
	res, err := c.ExecContext(ctx, q, args...)
	if err != nil {
		return 0, certs.StoreUnavailable("exec", err)
	}
	n, err := res.RowsAffected()
	return n, certs.StoreUnavailable("exec", err)
}

func sqlQuery(ctx context.Context, c sqlConn, q string, args []any) (rows, error) {
	rs, err := c.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, certs.StoreUnavailable("query", err)
	}
	return sqlRows{rs}, nil
}

type sqlRows struct{ r *sql.Rows }

func (r sqlRows) Next() bool             { return r.r.Next() }
func (r sqlRows) Scan(dest ...any) error { return certs.StoreUnavailable("scan", r.r.Scan(dest...)) }
func (r sqlRows) Err() error             { return certs.StoreUnavailable("query", r.r.Err()) }
func (r sqlRows) Close()                 { _ = r.r.Close() }

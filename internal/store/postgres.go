package store

import (
	"context"
	"hash/fnv"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/certops/certops/internal/certs"
)

// Postgres is the Store on PostgreSQL, for several replicas sharing state.
// Its tables live in the connection's current schema: set search_path in
// the URL (…?search_path=certops) to keep them apart from other things.
type Postgres struct {
	*core
	pool *pgxpool.Pool
}

var _ certs.Store = (*Postgres)(nil)

// OpenPostgres connects to databaseURL and migrates the current schema.
// Replicas starting together take turns through a session advisory lock
// named after the schema.
func OpenPostgres(ctx context.Context, databaseURL string, opts Options) (*Postgres, error) {
	opts = opts.withDefaults()
	cfg, err := pgxpool.ParseConfig(databaseURL)
	if err != nil {
		// pgx's message masks the password.
		return nil, &certs.Error{Code: certs.EINVALID, Message: "the PostgreSQL URL is not valid", Err: err}
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, certs.StoreUnavailable("connect to PostgreSQL", err)
	}
	schema, err := currentSchema(ctx, pool)
	if err != nil {
		pool.Close()
		return nil, err
	}
	locker, err := lock.NewPostgresSessionLocker(
		lock.WithLockID(lockKey("certops migrations", schema)),
		lock.WithLockTimeout(1, 300), // probe every second, for up to five minutes
	)
	if err != nil {
		pool.Close()
		return nil, certs.StoreUnavailable("migrate PostgreSQL", err)
	}
	db := stdlib.OpenDBFromPool(pool) // closing it leaves the pool open
	err = migrate(ctx, db, goose.DialectPostgres, "postgres", opts.Logger, goose.WithSessionLocker(locker))
	db.Close()
	if err != nil {
		pool.Close()
		return nil, certs.StoreUnavailable("migrate PostgreSQL", err)
	}
	p := &Postgres{pool: pool}
	p.core = newCore(pgEngine{pool: pool, eventsLock: lockKey("certops events", schema)}, opts)
	// Host, database and schema only: the URL may hold a password.
	opts.Logger.Info("database ready", "engine", "postgres", "host", cfg.ConnConfig.Host,
		"database", cfg.ConnConfig.Database, "schema", schema)
	return p, nil
}

func currentSchema(ctx context.Context, pool *pgxpool.Pool) (string, error) {
	var schema *string
	if err := pool.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		return "", certs.StoreUnavailable("connect to PostgreSQL", err)
	}
	if schema == nil {
		return "", certs.Errorf(certs.EINVALID, "the PostgreSQL search_path names no existing schema; create it first")
	}
	return *schema, nil
}

// lockKey names an advisory lock for one schema, so deployments (and tests)
// in different schemas of one database do not wait on each other.
func lockKey(what, schema string) int64 {
	h := fnv.New64a()
	h.Write([]byte(what + "\x00" + schema))
	return int64(h.Sum64())
}

// Ping checks the database answers.
func (p *Postgres) Ping(ctx context.Context) error {
	return certs.StoreUnavailable("ping PostgreSQL", p.pool.Ping(ctx))
}

// Close closes the pool, waiting for connections in use to be returned.
func (p *Postgres) Close() error {
	p.pool.Close()
	return nil
}

type pgEngine struct {
	pool       *pgxpool.Pool
	eventsLock int64
}

func (e pgEngine) exec(ctx context.Context, q string, args ...any) (int64, error) {
	tag, err := e.pool.Exec(ctx, q, args...)
	if err != nil {
		return 0, certs.StoreUnavailable("exec", err)
	}
	return tag.RowsAffected(), nil
}

func (e pgEngine) query(ctx context.Context, q string, args ...any) (rows, error) {
	rs, err := e.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, certs.StoreUnavailable("query", err)
	}
	return pgRows{rs}, nil
}

func (e pgEngine) begin(ctx context.Context) (tx, error) {
	t, err := e.pool.Begin(ctx) // READ COMMITTED; rows are locked explicitly
	if err != nil {
		return nil, certs.StoreUnavailable("begin", err)
	}
	return pgTx{t}, nil
}

func (pgEngine) forUpdate() string  { return " FOR UPDATE" }
func (pgEngine) skipLocked() string { return " FOR UPDATE SKIP LOCKED" }

func (pgEngine) timeArg(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

// lockEvents takes the transaction-level advisory lock that serializes event
// inserts until commit; see insertEvents for why.
func (e pgEngine) lockEvents(ctx context.Context, q querier) error {
	_, err := q.exec(ctx, `SELECT pg_advisory_xact_lock($1)`, e.eventsLock)
	return err
}

type pgTx struct{ t pgx.Tx }

func (t pgTx) exec(ctx context.Context, q string, args ...any) (int64, error) {
	tag, err := t.t.Exec(ctx, q, args...)
	if err != nil {
		return 0, certs.StoreUnavailable("exec", err)
	}
	return tag.RowsAffected(), nil
}

func (t pgTx) query(ctx context.Context, q string, args ...any) (rows, error) {
	rs, err := t.t.Query(ctx, q, args...)
	if err != nil {
		return nil, certs.StoreUnavailable("query", err)
	}
	return pgRows{rs}, nil
}

func (t pgTx) commit(ctx context.Context) error {
	return certs.StoreUnavailable("commit", t.t.Commit(ctx))
}
func (t pgTx) rollback(ctx context.Context) { _ = t.t.Rollback(ctx) }

type pgRows struct{ r pgx.Rows }

func (r pgRows) Next() bool             { return r.r.Next() }
func (r pgRows) Scan(dest ...any) error { return certs.StoreUnavailable("scan", r.r.Scan(dest...)) }
func (r pgRows) Err() error             { return certs.StoreUnavailable("query", r.r.Err()) }
func (r pgRows) Close()                 { r.r.Close() }

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

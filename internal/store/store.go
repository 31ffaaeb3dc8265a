package store

import (
	"context"
	"log/slog"
	"time"

	"github.com/certops/certops/internal/certs"
)

// Options configures either engine.
type Options struct {
	// Now is the clock for leases and timestamps (time.Now when nil).
	Now func() time.Time
	// Logger receives start-up messages (slog.Default when nil).
	Logger *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

// Open opens PostgreSQL when databaseURL is set, else SQLite at sqlitePath.
func Open(ctx context.Context, databaseURL, sqlitePath string, opts Options) (certs.Store, error) {
	if databaseURL != "" {
		return OpenPostgres(ctx, databaseURL, opts)
	}
	if sqlitePath == "" {
		return nil, certs.Errorf(certs.EINVALID, "no database configured: set a PostgreSQL URL or a SQLite file path")
	}
	return OpenSQLite(ctx, sqlitePath, opts)
}

// core is the certs.Store implementation both engines share.
type core struct {
	eng engine
	now func() time.Time
	log *slog.Logger
}

func newCore(eng engine, opts Options) *core {
	return &core{eng: eng, now: opts.Now, log: opts.Logger}
}

// clock is now as stored.
func (c *core) clock() time.Time { return certs.StoredTime(c.now()) }

// withTx runs fn in a write transaction and commits it. fn's errors are
// returned as they are (driver errors are already EUNAVAILABLE).
func (c *core) withTx(ctx context.Context, op string, fn func(tx tx) error) error {
	t, err := c.eng.begin(ctx)
	if err != nil {
		return err
	}
	// Rolling back after a commit is a no-op; WithoutCancel so a cancelled
	// call still releases its locks promptly.
	defer t.rollback(context.WithoutCancel(ctx))
	if err := fn(t); err != nil {
		return err
	}
	return t.commit(ctx)
}

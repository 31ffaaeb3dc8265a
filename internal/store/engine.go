package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"time"
)

// querier runs statements; the engines' pools and transactions implement it.
// Errors it returns are already *certs.Error (EUNAVAILABLE wrapping the
// driver's error), so the shared code passes them on as they are.
type querier interface {
	exec(ctx context.Context, q string, args ...any) (rowsAffected int64, err error)
	query(ctx context.Context, q string, args ...any) (rows, error)
}

// rows is the part of *sql.Rows and pgx.Rows the shared code uses.
type rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close()
}

// tx is a write transaction.
type tx interface {
	querier
	commit(ctx context.Context) error
	rollback(ctx context.Context)
}

// engine is one database: what the shared code needs from a driver, and the
// SQL that differs between SQLite and PostgreSQL.
type engine interface {
	querier
	// begin starts a write transaction (BEGIN IMMEDIATE on SQLite).
	begin(ctx context.Context) (tx, error)
	// forUpdate is appended to a SELECT that reads a row the transaction
	// will change (" FOR UPDATE" on PostgreSQL; SQLite's IMMEDIATE
	// transaction already excludes other writers).
	forUpdate() string
	// skipLocked is appended to the SELECT choosing rows to claim.
	skipLocked() string
	// timeArg turns a time into the engine's column value.
	timeArg(t time.Time) any
	// lockEvents is called in a transaction before it inserts events; see
	// insertEvents.
	lockEvents(ctx context.Context, q querier) error
}

// params collects the arguments of a statement built piece by piece and
// returns the placeholder of each.
type params []any

func (p *params) add(v any) string {
	*p = append(*p, v)
	return "$" + strconv.Itoa(len(*p))
}

// list adds each value and returns "($a, $b, ...)".
func list[T any](p *params, vs []T) string {
	s := "("
	for i, v := range vs {
		if i > 0 {
			s += ", "
		}
		s += p.add(v)
	}
	return s + ")"
}

// dbTime scans a time column of either engine: INTEGER unix microseconds
// (SQLite) or timestamptz (PostgreSQL, through pgx's database/sql
// compatibility). NULL scans as the zero time.
type dbTime struct{ t *time.Time }

func (d dbTime) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*d.t = time.Time{}
	case int64:
		*d.t = time.UnixMicro(v).UTC()
	case time.Time:
		*d.t = v.UTC()
	default:
		return fmt.Errorf("time column holds %T", src)
	}
	return nil
}

var _ sql.Scanner = dbTime{}

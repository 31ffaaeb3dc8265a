package store_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/certs"
	"github.com/certops/certops/internal/store"
	"github.com/certops/certops/internal/store/storetest"
)

// engine is one SQL engine under test: fresh makes a database no other test
// uses and returns where it is (a file path, a URL), open opens a handle on
// it.
type engine struct {
	name  string
	fresh func(t testing.TB) string
	open  func(ctx context.Context, where string, opts store.Options) (certs.Store, error)
}

var engines = []engine{
	{"sqlite",
		// "data" checks the directory is created.
		func(t testing.TB) string { return filepath.Join(t.TempDir(), "data", "certops.db") },
		func(ctx context.Context, path string, opts store.Options) (certs.Store, error) {
			return store.OpenSQLite(ctx, path, opts)
		}},
	{"postgres",
		// A schema of its own on the test database (others run tests
		// there at the same time), dropped when the test ends.
		func(t testing.TB) string { return storetest.SchemaURL(t) },
		func(ctx context.Context, dbURL string, opts store.Options) (certs.Store, error) {
			return store.OpenPostgres(ctx, dbURL, opts)
		}},
}

// handle opens a handle on the database at where, with now as its clock
// (nil: the wall clock), and closes it when the test ends.
func (e engine) handle(t testing.TB, where string, now func() time.Time) certs.Store {
	t.Helper()
	s, err := e.open(t.Context(), where, store.Options{Now: now, Logger: quietLogger()})
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

// TestConformance runs the store conformance suite on each engine.
func TestConformance(t *testing.T) {
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			storetest.Run(t, func(t *testing.T) storetest.Opener {
				where := e.fresh(t)
				return func(t *testing.T, now func() time.Time) certs.Store { return e.handle(t, where, now) }
			})
		})
	}
}

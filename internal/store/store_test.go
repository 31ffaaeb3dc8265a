package store_test

import (
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/certs"
	"github.com/certops/certops/internal/store"
	"github.com/certops/certops/internal/store/storetest"
)

func quietLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

func TestOpen(t *testing.T) {
	t.Run("SQLite when no database URL", func(t *testing.T) {
		s, err := store.Open(t.Context(), "", filepath.Join(t.TempDir(), "certops.db"), store.Options{Logger: quietLogger()})
		require.NoError(t, err)
		defer s.Close()
		assert.IsType(t, &store.SQLite{}, s)
		assert.NoError(t, s.Ping(t.Context()))
	})
	t.Run("PostgreSQL when a database URL is given", func(t *testing.T) {
		u := storetest.SchemaURL(t)
		s, err := store.Open(t.Context(), u, "ignored.db", store.Options{Logger: quietLogger()})
		require.NoError(t, err)
		defer s.Close()
		assert.IsType(t, &store.Postgres{}, s)
		assert.NoError(t, s.Ping(t.Context()))
	})
	t.Run("neither is invalid", func(t *testing.T) {
		_, err := store.Open(t.Context(), "", "", store.Options{})
		assert.Equal(t, certs.EINVALID, certs.ErrorCode(err))
	})
}

func TestOpenSQLiteUnusualPath(t *testing.T) {
	path := filepath.Join(t.TempDir(), "my data", "certs?#%.db")
	s, err := store.OpenSQLite(t.Context(), path, store.Options{Logger: quietLogger()})
	require.NoError(t, err)
	defer s.Close()
	require.NoError(t, s.AppendEvents(t.Context(), certs.Event{Actor: certs.SystemActor, Action: certs.ActionExport}))
	_, err = os.Stat(path)
	assert.NoError(t, err, "the database is the file named, not a mangled name")
}

// TestOpenConcurrently starts replicas together on a fresh database: the
// migration runs once and every replica opens.
func TestOpenConcurrently(t *testing.T) {
	for _, tc := range []struct {
		name string
		open func(t *testing.T) func() (certs.Store, error)
	}{
		{"sqlite", func(t *testing.T) func() (certs.Store, error) {
			path := filepath.Join(t.TempDir(), "certops.db")
			return func() (certs.Store, error) {
				return store.OpenSQLite(t.Context(), path, store.Options{Logger: quietLogger()})
			}
		}},
		{"postgres", func(t *testing.T) func() (certs.Store, error) {
			u := storetest.SchemaURL(t)
			return func() (certs.Store, error) {
				return store.OpenPostgres(t.Context(), u, store.Options{Logger: quietLogger()})
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			open := tc.open(t)
			const replicas = 3
			stores := make([]certs.Store, replicas)
			errs := make([]error, replicas)
			var wg sync.WaitGroup
			for i := range replicas {
				wg.Go(func() { stores[i], errs[i] = open() })
			}
			wg.Wait()
			for i := range replicas {
				if assert.NoError(t, errs[i], "replica %d", i) {
					assert.NoError(t, stores[i].Ping(t.Context()))
					stores[i].Close()
				}
			}
		})
	}
}

package store_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/certs"
	"github.com/certops/certops/internal/store"
	"github.com/certops/certops/internal/store/storetest"
)

func TestSQLite(t *testing.T) {
	t.Parallel()
	storetest.Run(t, newSQLiteDB)
}

// newSQLiteDB is a fresh database file in the test's temporary directory.
func newSQLiteDB(t *testing.T) storetest.Opener {
	path := filepath.Join(t.TempDir(), "data", "certops.db") // "data" checks the directory is created
	return func(t *testing.T, now func() time.Time) certs.Store {
		t.Helper()
		s, err := store.OpenSQLite(t.Context(), path, store.Options{Now: now, Logger: quietLogger()})
		require.NoError(t, err)
		t.Cleanup(func() { s.Close() })
		return s
	}
}

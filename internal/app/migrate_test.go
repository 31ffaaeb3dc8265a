package app_test

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/app"
)

// clearDatabaseSettings leaves Migrate to the SQLite file it is given, and
// shows it needs no SailPoint settings.
func clearDatabaseSettings(t *testing.T) {
	t.Helper()
	for _, name := range []string{"DATABASE_URL", "DATABASE_URL_FILE", "CERTOPS_SQLITE_PATH", "SAIL_BASE_URL", "SAIL_CLIENT_ID", "SAIL_CLIENT_SECRET", "SAIL_CLIENT_SECRET_FILE"} {
		t.Setenv(name, "")
	}
}

func TestMigrateAppliesTheSchemaOnceAndReturns(t *testing.T) {
	clearDatabaseSettings(t)
	path := filepath.Join(t.TempDir(), "sub", "certops.db")

	var first bytes.Buffer
	require.NoError(t, app.Migrate(t.Context(), path, slog.New(slog.NewTextHandler(&first, nil))))
	assert.FileExists(t, path)
	assert.Contains(t, first.String(), "applied database migration")
	assert.Contains(t, first.String(), "database schema up to date")

	var again bytes.Buffer
	require.NoError(t, app.Migrate(t.Context(), path, slog.New(slog.NewTextHandler(&again, nil))))
	assert.NotContains(t, again.String(), "applied database migration", "an up-to-date database is left as it is")
	assert.Contains(t, again.String(), "database schema up to date")
}

func TestMigrateReadsCERTOPS_SQLITE_PATH(t *testing.T) {
	clearDatabaseSettings(t)
	path := filepath.Join(t.TempDir(), "env.db")
	t.Setenv("CERTOPS_SQLITE_PATH", path)
	var log bytes.Buffer
	require.NoError(t, app.Migrate(t.Context(), "", slog.New(slog.NewTextHandler(&log, nil))))
	assert.FileExists(t, path)
}

func TestMigrateDatabaseURLSettings(t *testing.T) {
	t.Run("both set", func(t *testing.T) {
		clearDatabaseSettings(t)
		t.Setenv("DATABASE_URL", "postgres://certops@db.invalid/certops")
		t.Setenv("DATABASE_URL_FILE", filepath.Join(t.TempDir(), "url"))
		err := app.Migrate(t.Context(), filepath.Join(t.TempDir(), "x.db"), nil)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "DATABASE_URL and DATABASE_URL_FILE are both set")
	})
	t.Run("missing file", func(t *testing.T) {
		clearDatabaseSettings(t)
		t.Setenv("DATABASE_URL_FILE", filepath.Join(t.TempDir(), "absent"))
		err := app.Migrate(t.Context(), filepath.Join(t.TempDir(), "x.db"), nil)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "DATABASE_URL_FILE")
	})
	t.Run("a URL that is not PostgreSQL's", func(t *testing.T) {
		clearDatabaseSettings(t)
		file := filepath.Join(t.TempDir(), "url")
		require.NoError(t, os.WriteFile(file, []byte("postgres://certops@%zz/certops\n"), 0o600))
		t.Setenv("DATABASE_URL_FILE", file)
		err := app.Migrate(t.Context(), filepath.Join(t.TempDir(), "x.db"), nil)
		require.Error(t, err, "the URL from the file is used, not the SQLite file")
		assert.Contains(t, err.Error(), "PostgreSQL URL is not valid")
	})
}

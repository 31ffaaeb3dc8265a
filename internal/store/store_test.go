package store_test

import (
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/certs"
	"github.com/certops/certops/internal/store"
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
		u := schemaURL(t, testDatabaseURL(t))
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

package store_test

import (
	"crypto/rand"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/certs"
	"github.com/certops/certops/internal/store"
	"github.com/certops/certops/internal/store/storetest"
)

func TestPostgres(t *testing.T) {
	t.Parallel()
	storetest.Run(t, newPostgresDB)
}

// newPostgresDB creates a schema of its own on the test database (others
// run tests there at the same time) and drops it when the test ends.
func newPostgresDB(t *testing.T) storetest.Opener {
	dbURL := storetest.SchemaURL(t)
	return func(t *testing.T, now func() time.Time) certs.Store {
		t.Helper()
		s, err := store.OpenPostgres(t.Context(), dbURL, store.Options{Now: now, Logger: quietLogger()})
		require.NoError(t, err)
		t.Cleanup(func() { s.Close() })
		return s
	}
}

func TestOpenPostgresBadURL(t *testing.T) {
	_, err := store.OpenPostgres(t.Context(), "postgres://user:s3cret@[::1", store.Options{})
	require.Error(t, err)
	require.Equal(t, certs.EINVALID, certs.ErrorCode(err))
	require.NotContains(t, err.Error(), "s3cret", "the password reaches neither people nor logs")
}

func TestOpenPostgresMissingSchema(t *testing.T) {
	u, err := url.Parse(storetest.DatabaseURL(t))
	require.NoError(t, err)
	q := u.Query()
	q.Set("search_path", "certops_no_such_schema_"+rand.Text()[:8])
	u.RawQuery = q.Encode()
	_, err = store.OpenPostgres(t.Context(), u.String(), store.Options{Logger: quietLogger()})
	require.Error(t, err)
	require.Equal(t, certs.EINVALID, certs.ErrorCode(err), fmt.Sprint(err))
}

package store_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/certs"
	"github.com/certops/certops/internal/store"
	"github.com/certops/certops/internal/store/storetest"
)

func TestPostgres(t *testing.T) {
	t.Parallel()
	storetest.Run(t, newPostgresDB)
}

const defaultTestDatabaseURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// testDatabaseURL returns the server tests use, skipping when it was not
// configured and does not answer, failing when it was configured.
func testDatabaseURL(t testing.TB) string {
	t.Helper()
	u, set := os.LookupEnv("CERTOPS_TEST_DATABASE_URL")
	if !set || u == "" {
		u = defaultTestDatabaseURL
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		if set {
			t.Fatalf("CERTOPS_TEST_DATABASE_URL is set but PostgreSQL does not answer: %v", err)
		}
		t.Skipf("PostgreSQL does not answer at %s (set CERTOPS_TEST_DATABASE_URL to run these tests): %v", defaultTestDatabaseURL, err)
	}
	conn.Close(ctx)
	return u
}

// newPostgresDB creates a schema of its own on the test database (others
// run tests there at the same time) and drops it when the test ends.
func newPostgresDB(t *testing.T) storetest.Opener {
	dbURL := schemaURL(t, testDatabaseURL(t))
	return func(t *testing.T, now func() time.Time) certs.Store {
		t.Helper()
		s, err := store.OpenPostgres(t.Context(), dbURL, store.Options{Now: now, Logger: quietLogger()})
		require.NoError(t, err)
		t.Cleanup(func() { s.Close() })
		return s
	}
}

// schemaURL creates a randomly named schema, registers its removal, and
// returns base with search_path set to it.
func schemaURL(t testing.TB, base string) string {
	t.Helper()
	// Lower case: search_path folds unquoted names.
	schema := "certops_test_" + strings.ToLower(rand.Text()[:16])
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	require.NoError(t, err)
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{schema}.Sanitize())
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx := context.WithoutCancel(context.Background())
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	require.NoError(t, err)
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func TestOpenPostgresBadURL(t *testing.T) {
	_, err := store.OpenPostgres(t.Context(), "postgres://user:s3cret@[::1", store.Options{})
	require.Error(t, err)
	require.Equal(t, certs.EINVALID, certs.ErrorCode(err))
	require.NotContains(t, err.Error(), "s3cret", "the password reaches neither people nor logs")
}

func TestOpenPostgresMissingSchema(t *testing.T) {
	u, err := url.Parse(testDatabaseURL(t))
	require.NoError(t, err)
	q := u.Query()
	q.Set("search_path", "certops_no_such_schema_"+rand.Text()[:8])
	u.RawQuery = q.Encode()
	_, err = store.OpenPostgres(t.Context(), u.String(), store.Options{Logger: quietLogger()})
	require.Error(t, err)
	require.Equal(t, certs.EINVALID, certs.ErrorCode(err), fmt.Sprint(err))
}

package storetest

import (
	"context"
	"crypto/rand"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// DefaultDatabaseURL is the PostgreSQL server tests use when
// CERTOPS_TEST_DATABASE_URL is unset.
const DefaultDatabaseURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// DatabaseURL returns the PostgreSQL server tests use. When
// CERTOPS_TEST_DATABASE_URL is set and the server does not answer, the test
// fails (CI must not silently skip); when it is unset and nothing answers at
// DefaultDatabaseURL, the test is skipped with a message.
func DatabaseURL(t testing.TB) string {
	t.Helper()
	u, set := os.LookupEnv("CERTOPS_TEST_DATABASE_URL")
	if !set || u == "" {
		u = DefaultDatabaseURL
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		if set {
			t.Fatalf("CERTOPS_TEST_DATABASE_URL is set but PostgreSQL does not answer: %v", err)
		}
		t.Skipf("PostgreSQL does not answer at %s (set CERTOPS_TEST_DATABASE_URL to run this test): %v", DefaultDatabaseURL, err)
	}
	_ = conn.Close(ctx)
	return u
}

// SchemaURL creates a randomly named schema on the test server, drops it
// when the test ends, and returns the server's URL with search_path set to
// it. Tests of several packages share one database at the same time; each
// works in a schema of its own.
func SchemaURL(t testing.TB) string {
	t.Helper()
	base := DatabaseURL(t)
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

package e2e

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

const defaultTestDatabaseURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// postgresSchema creates a schema of this test's own, dropped when the test
// ends, and returns the database URL with search_path set to it (the store
// keeps its tables in the connection's current schema). It skips when
// CERTOPS_TEST_DATABASE_URL is unset and PostgreSQL does not answer, and
// fails when the variable is set and PostgreSQL does not answer.
func postgresSchema(t *testing.T) string {
	t.Helper()
	base, set := os.LookupEnv("CERTOPS_TEST_DATABASE_URL")
	if !set || base == "" {
		base = defaultTestDatabaseURL
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		if set {
			t.Fatalf("CERTOPS_TEST_DATABASE_URL is set but PostgreSQL does not answer: %v", err)
		}
		t.Skipf("PostgreSQL does not answer at %s (set CERTOPS_TEST_DATABASE_URL to run this test): %v", base, err)
	}
	defer conn.Close(context.Background())
	// Lower case: search_path folds unquoted names.
	schema := "e2e_" + strings.ToLower(rand.Text()[:16])
	_, err = conn.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{schema}.Sanitize())
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(context.Background()), 30*time.Second)
		defer cancel()
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

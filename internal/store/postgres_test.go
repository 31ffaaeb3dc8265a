package store_test

import (
	"crypto/rand"
	"fmt"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/certs"
	"github.com/certops/certops/internal/store"
	"github.com/certops/certops/internal/store/storetest"
)

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

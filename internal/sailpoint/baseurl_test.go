package sailpoint_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/certs"
	"github.com/certops/certops/internal/sailpoint"
	"github.com/certops/certops/internal/sandbox"
	"github.com/certops/certops/internal/sandbox/sandboxtest"
)

// TestBaseURLWithPath mounts the tenant under /tenant/acme/ (as behind a
// reverse proxy), so that a path built from the root instead of the base
// URL fails loudly, for the API and the token endpoint alike.
func TestBaseURLWithPath(t *testing.T) {
	for _, version := range versions {
		t.Run(version, func(t *testing.T) {
			t.Parallel()
			sb := sandbox.New(sandbox.Config{RateLimit: -1})
			mux := http.NewServeMux()
			mux.Handle("/tenant/acme/", http.StripPrefix("/tenant/acme", sandboxtest.Contract(t, sb)))
			srv := httptest.NewServer(mux)
			t.Cleanup(srv.Close)

			c, err := sailpoint.New(sailpoint.Config{
				BaseURL: srv.URL + "/tenant/acme/", ClientID: sandbox.AdminClientID, ClientSecret: sandbox.AdminClientSecret,
				APIVersion: version, Timeout: 5 * time.Second, Concurrency: 2,
			}, sailpoint.Options{})
			require.NoError(t, err)
			ctx := context.Background()
			page, err := c.ListCertifications(ctx, certs.CertificationFilter{Page: certs.PageOptions{Limit: 2}})
			require.NoError(t, err)
			require.Len(t, page.Items, 2)
			got, err := c.GetCertification(ctx, page.Items[1].ID)
			require.NoError(t, err)
			assert.Equal(t, page.Items[1].ID, got.ID)
			_, err = c.ListPendingTasks(ctx, got.ID)
			require.NoError(t, err)
			_, err = c.GetIdentity(ctx, got.Reviewer.ID)
			require.NoError(t, err)
		})
	}
}

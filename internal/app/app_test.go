package app_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/app"
	"github.com/certops/certops/internal/certs"
	"github.com/certops/certops/internal/settings"
)

func TestLoadConfigNamesMissingSailPointSettings(t *testing.T) {
	t.Setenv("SAIL_BASE_URL", "")
	t.Setenv("SAIL_CLIENT_ID", "")
	t.Setenv("SAIL_CLIENT_SECRET", "")

	_, err := app.LoadConfig(false)
	require.Error(t, err)
	for _, name := range []string{"SAIL_BASE_URL", "SAIL_CLIENT_ID", "SAIL_CLIENT_SECRET"} {
		assert.Contains(t, err.Error(), name)
	}

	assert.Contains(t, err.Error(), "--sandbox", "the way to try certops without a tenant")

	cfg, err := app.LoadConfig(true)
	require.NoError(t, err, "the sandbox needs no SailPoint settings")
	assert.Equal(t, certs.DefaultRequestTTL, cfg.RequestTTL)
}

func TestLoadConfigReportsEveryProblemAtOnce(t *testing.T) {
	t.Setenv("SAIL_BASE_URL", "")
	t.Setenv("SAIL_CLIENT_ID", "id")
	t.Setenv("SAIL_CLIENT_SECRET", "")
	t.Setenv("SAIL_TIMEOUT", "hunter2")
	t.Setenv("CERTOPS_REQUEST_TTL", "0s")
	t.Setenv("CERTOPS_CLAIM_LEASE", "soon")
	t.Setenv("CERTOPS_REQUIRE_APPROVAL", "maybe")
	t.Setenv("DATABASE_URL_FILE", filepath.Join(t.TempDir(), "missing"))

	_, err := app.LoadConfig(false)
	require.Error(t, err)
	var se *settings.Error
	require.ErrorAs(t, err, &se)
	var names []string
	for _, p := range se.Problems {
		var pr *settings.Problem
		require.ErrorAs(t, p, &pr)
		names = append(names, pr.Name)
	}
	assert.ElementsMatch(t, []string{"SAIL_BASE_URL", "SAIL_CLIENT_SECRET", "SAIL_TIMEOUT", "CERTOPS_REQUEST_TTL",
		"CERTOPS_CLAIM_LEASE", "CERTOPS_REQUIRE_APPROVAL", "DATABASE_URL_FILE"}, names)
	assert.Contains(t, err.Error(), "configuration: 7 settings to fix:\n")
	assert.Contains(t, err.Error(), "\n  - CERTOPS_CLAIM_LEASE must be a duration such as 30s or 1m\n")
	assert.NotContains(t, err.Error(), "hunter2")
	assert.True(t, strings.HasSuffix(err.Error(), "\n"+app.SandboxHint), err.Error())

	t.Setenv("SAIL_BASE_URL", "https://acme.api.identitynow.com")
	t.Setenv("SAIL_CLIENT_SECRET", "s")
	t.Setenv("SAIL_TIMEOUT", "")
	_, err = app.LoadConfig(false)
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "--sandbox", "no SailPoint setting is missing")

	t.Setenv("SAIL_API_VERSION", "v2")
	_, err = app.LoadConfig(true)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "SAIL_API_VERSION")
	assert.Contains(t, err.Error(), "CERTOPS_REQUEST_TTL", "the sandbox reports the rest too")
}

func TestLoadConfigRejectsBadDurations(t *testing.T) {
	tests := map[string]string{
		"CERTOPS_REQUEST_TTL":     "0s",
		"CERTOPS_WORKER_INTERVAL": "-1s",
		"CERTOPS_CLAIM_LEASE":     "0",
		"CERTOPS_SUBMIT_LEASE":    "soon",
	}
	for name, value := range tests {
		t.Run(name, func(t *testing.T) {
			t.Setenv(name, value)
			_, err := app.LoadConfig(true)
			require.Error(t, err)
			assert.Contains(t, err.Error(), name)
		})
	}
}

func TestOpenSandbox(t *testing.T) {
	t.Setenv("CERTOPS_SQLITE_PATH", filepath.Join(t.TempDir(), "certops.db"))
	cfg, err := app.LoadConfig(true)
	require.NoError(t, err)

	ctx := context.Background()
	a, err := app.Open(ctx, cfg, app.Options{Sandbox: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, a.Close()) })

	require.NotNil(t, a.Sandbox)
	assert.Contains(t, a.SandboxURL, "http://127.0.0.1:")
	require.NoError(t, a.Ready(ctx), "the store answers and a token can be had")

	// The service reaches the in-process tenant through the ISC client.
	reviewer := a.Sandbox.Clients()[1]
	require.Equal(t, "reviewer", reviewer.Role)
	actor := certs.Actor{ID: "t", Frontend: certs.FrontendMCP, Role: certs.RoleReviewer, IdentityID: reviewer.IdentityID}
	page, err := a.Service.ListCertifications(ctx, actor, certs.CertificationQuery{})
	require.NoError(t, err)
	require.NotEmpty(t, page.Items)
	for _, c := range page.Items {
		assert.Equal(t, reviewer.IdentityID, c.Reviewer.ID)
	}
}

func TestLoadConfigReadsDatabaseURLFromAFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "database-url")
	require.NoError(t, os.WriteFile(path, []byte("postgres://certops:pw@db:5432/certops\n"), 0o600))
	t.Setenv("DATABASE_URL", "")
	t.Setenv("DATABASE_URL_FILE", path)
	cfg, err := app.LoadConfig(true)
	require.NoError(t, err)
	assert.Equal(t, "postgres://certops:pw@db:5432/certops", cfg.DatabaseURL)

	t.Setenv("DATABASE_URL", "postgres://other")
	_, err = app.LoadConfig(true)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "DATABASE_URL and DATABASE_URL_FILE are both set")

	t.Setenv("DATABASE_URL", "")
	t.Setenv("DATABASE_URL_FILE", path+".missing")
	_, err = app.LoadConfig(true)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "DATABASE_URL_FILE")
	assert.Contains(t, err.Error(), path+".missing")
}

package app

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/certs"
	"github.com/certops/certops/internal/sandbox"
)

// TestIdentityModes: email, the default, changes nothing; oauth needs its
// settings, reported by name, and routes the Service's calls per person.
func TestIdentityModes(t *testing.T) {
	cfg, err := LoadConfig(true)
	require.NoError(t, err)
	assert.False(t, cfg.Identity.OAuth())
	a, err := Open(t.Context(), cfg, Options{Sandbox: true})
	require.NoError(t, err)
	t.Cleanup(func() { _ = a.Close() })
	assert.Nil(t, a.SignIn, "email mode: no sign-in")

	t.Setenv("CERTOPS_IDENTITY", "sso")
	_, err = LoadConfig(true)
	require.ErrorContains(t, err, "CERTOPS_IDENTITY")

	t.Setenv("CERTOPS_IDENTITY", "oauth")
	t.Setenv("SAIL_BASE_URL", "https://acme.api.identitynow.com")
	t.Setenv("SAIL_CLIENT_ID", "id")
	t.Setenv("SAIL_CLIENT_SECRET", "secret")
	_, err = LoadConfig(false)
	require.Error(t, err)
	for _, name := range []string{"CERTOPS_OAUTH_CLIENT_ID", "CERTOPS_OAUTH_REDIRECT_URL", "CERTOPS_GRANT_KEY_FILE"} {
		assert.Contains(t, err.Error(), name)
	}
	key := filepath.Join(t.TempDir(), "grant-key")
	require.NoError(t, os.WriteFile(key, []byte("not a key"), 0o600))
	t.Setenv("CERTOPS_GRANT_KEY_FILE", key)
	t.Setenv("CERTOPS_OAUTH_CLIENT_ID", "certops")
	t.Setenv("CERTOPS_OAUTH_REDIRECT_URL", "https://certops.acme.com/oauth/callback")
	_, err = LoadConfig(false)
	require.ErrorContains(t, err, "CERTOPS_GRANT_KEY_FILE")
	assert.NotContains(t, err.Error(), "not a key")
	require.NoError(t, os.WriteFile(key, []byte("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="), 0o600))
	cfg, err = LoadConfig(false)
	require.NoError(t, err)
	assert.True(t, cfg.Identity.OAuth())
	assert.Equal(t, "https://acme.api.identitynow.com/oauth/authorize", cfg.Identity.SignIn.AuthURL)

	// The sandbox: its own OAuth client; a key made for the run.
	t.Setenv("CERTOPS_GRANT_KEY_FILE", "")
	cfg, err = LoadConfig(true)
	require.NoError(t, err)
	assert.Equal(t, sandbox.CertopsClientID, cfg.Identity.SignIn.ClientID)
	a, err = Open(t.Context(), cfg, Options{Sandbox: true})
	require.NoError(t, err)
	t.Cleanup(func() { _ = a.Close() })
	require.NotNil(t, a.SignIn)
	_, err = a.Service.GetCertification(t.Context(), certs.Actor{ID: "x", Frontend: certs.FrontendMCP, Role: certs.RoleReviewer, IdentityID: "x"}, "c")
	require.Error(t, err)
	assert.Equal(t, certs.EFORBIDDEN, certs.ErrorCode(err), "a person who did not sign in is asked to: %v", err)
}

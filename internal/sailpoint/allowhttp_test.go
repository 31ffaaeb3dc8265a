package sailpoint

import (
	"bytes"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// SAIL_ALLOW_HTTP lets certops reach the sandbox tenant running as its own
// Deployment (manifests/components/sandbox), at http://certops-sandbox, and
// New says so in the log.
func TestAllowHTTP(t *testing.T) {
	cfg := Config{BaseURL: "http://certops-sandbox", ClientID: "sandbox-admin", ClientSecret: "sandbox-admin-secret", APIVersion: APIv3,
		RateLimit: 100, RateWindow: 10 * time.Second, Timeout: time.Second, MaxRetries: 5, Concurrency: 8}
	err := cfg.Validate()
	require.Error(t, err, "plain http to another host than loopback")
	assert.Contains(t, err.Error(), "SAIL_ALLOW_HTTP", "the refusal names the setting")

	cfg.AllowHTTP = true
	require.NoError(t, cfg.Validate())
	cfg.TokenURL = "http://certops-sandbox/oauth/token"
	require.NoError(t, cfg.Validate(), "the token URL too")
	cfg.BaseURL = "ftp://certops-sandbox"
	assert.Error(t, cfg.Validate(), "http or https only, still")

	t.Run("New warns", func(t *testing.T) {
		cfg := cfg
		cfg.BaseURL = "http://certops-sandbox"
		var log bytes.Buffer
		_, err := New(cfg, Options{Logger: slog.New(slog.NewTextHandler(&log, nil))})
		require.NoError(t, err)
		assert.Contains(t, log.String(), "level=WARN")
		assert.Contains(t, log.String(), "SAIL_ALLOW_HTTP")
		assert.NotContains(t, log.String(), "sandbox-admin-secret")

		log.Reset()
		cfg.BaseURL = "https://acme.api.identitynow.com"
		_, err = New(cfg, Options{Logger: slog.New(slog.NewTextHandler(&log, nil))})
		require.NoError(t, err)
		assert.NotContains(t, log.String(), "SAIL_ALLOW_HTTP", "https needs no warning, even with the setting on")
	})

	t.Run("from the environment", func(t *testing.T) {
		sailEnv(t, "http://certops-sandbox", "sandbox-admin", "sandbox-admin-secret")
		t.Setenv("SAIL_ALLOW_HTTP", "")
		_, err := LoadConfig()
		require.Error(t, err)
		t.Setenv("SAIL_ALLOW_HTTP", "true")
		got, err := LoadConfig()
		require.NoError(t, err)
		assert.True(t, got.AllowHTTP)
	})
}

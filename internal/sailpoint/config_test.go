package sailpoint

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sailEnv sets SAIL_BASE_URL, SAIL_CLIENT_ID and SAIL_CLIENT_SECRET for the
// test.
func sailEnv(t *testing.T, baseURL, clientID, clientSecret string) {
	t.Helper()
	t.Setenv("SAIL_BASE_URL", baseURL)
	t.Setenv("SAIL_CLIENT_ID", clientID)
	t.Setenv("SAIL_CLIENT_SECRET", clientSecret)
}

func TestLoadConfig(t *testing.T) {
	t.Run("defaults", func(t *testing.T) {
		sailEnv(t, "https://acme.api.identitynow.com", "id", "secret")
		cfg, err := LoadConfig()
		require.NoError(t, err)
		assert.Equal(t, Config{
			BaseURL: "https://acme.api.identitynow.com", ClientID: "id", ClientSecret: "secret",
			APIVersion: "v3", RateLimit: 100, RateWindow: 10 * time.Second, RateBurst: 0,
			Timeout: 30 * time.Second, MaxRetries: 5, Concurrency: 8, MaxBackoff: 10 * time.Second,
		}, cfg)
	})
	t.Run("all missing names every variable", func(t *testing.T) {
		sailEnv(t, "", "", "")
		_, err := LoadConfig()
		require.Error(t, err)
		for _, name := range []string{"SAIL_BASE_URL is required", "SAIL_CLIENT_ID is required", "SAIL_CLIENT_SECRET is required"} {
			assert.Contains(t, err.Error(), name)
		}
	})
	t.Run("bad duration names the variable and hides the value", func(t *testing.T) {
		sailEnv(t, "https://acme.api.identitynow.com", "id", "secret")
		t.Setenv("SAIL_TIMEOUT", "hunter2")
		_, err := LoadConfig()
		require.Error(t, err)
		assert.Contains(t, err.Error(), "SAIL_TIMEOUT")
		assert.NotContains(t, err.Error(), "hunter2")
	})
	t.Run("missing and malformed at once", func(t *testing.T) {
		sailEnv(t, "http://acme.api.identitynow.com", " ", "")
		t.Setenv("SAIL_TIMEOUT", "soon")
		t.Setenv("SAIL_MAX_RETRIES", "99")
		_, err := LoadConfig()
		require.Error(t, err)
		lines := strings.Split(err.Error(), "\n")
		require.Len(t, lines, 5, err.Error())
		assert.Equal(t, "SAIL_TIMEOUT must be a duration such as 30s or 1m", lines[0])
		assert.True(t, strings.HasPrefix(lines[1], "SAIL_BASE_URL must use https"), lines[1])
		assert.Equal(t, "SAIL_CLIENT_ID is required (the id of an ISC API client of an ORG_ADMIN or CERT_ADMIN identity)", lines[2])
		assert.Equal(t, "SAIL_CLIENT_SECRET is required (or SAIL_CLIENT_SECRET_FILE)", lines[3])
		assert.Equal(t, "SAIL_MAX_RETRIES must be between 0 and 20, got 99", lines[4])
	})
	t.Run("bad version", func(t *testing.T) {
		sailEnv(t, "https://acme.api.identitynow.com", "id", "secret")
		t.Setenv("SAIL_API_VERSION", "v2")
		_, err := LoadConfig()
		require.EqualError(t, err, "SAIL_API_VERSION must be v3 or v1, got v2")
	})
}

func TestConfigValidate(t *testing.T) {
	valid := Config{BaseURL: "https://acme.api.identitynow.com", ClientID: "id", ClientSecret: "s", APIVersion: "v3",
		RateLimit: 100, RateWindow: 10 * time.Second, RateBurst: 1, Timeout: time.Second, MaxRetries: 5, Concurrency: 8}
	tests := []struct {
		name    string
		change  func(*Config)
		wantErr string // "" = valid
	}{
		{"valid", func(*Config) {}, ""},
		{"v1", func(c *Config) { c.APIVersion = "v1" }, ""},
		{"http on 127.0.0.1", func(c *Config) { c.BaseURL = "http://127.0.0.1:8080" }, ""},
		{"http on 127.5.0.1", func(c *Config) { c.BaseURL = "http://127.5.0.1:8080/base" }, ""},
		{"http on ::1", func(c *Config) { c.BaseURL = "http://[::1]:8080" }, ""},
		{"http on localhost", func(c *Config) { c.BaseURL = "http://localhost:8080" }, ""},
		{"rate limit off", func(c *Config) { c.RateLimit = 0; c.RateWindow = 0 }, ""},
		{"http elsewhere", func(c *Config) { c.BaseURL = "http://acme.api.identitynow.com" }, "SAIL_BASE_URL must use https"},
		{"http on a name that looks local", func(c *Config) { c.BaseURL = "http://localhost.evil.com" }, "SAIL_BASE_URL must use https"},
		{"relative", func(c *Config) { c.BaseURL = "acme.api.identitynow.com" }, "SAIL_BASE_URL must be an absolute https URL"},
		{"ftp", func(c *Config) { c.BaseURL = "ftp://acme" }, "SAIL_BASE_URL must be an absolute https URL"},
		{"credentials in URL", func(c *Config) { c.BaseURL = "https://u:p@acme" }, "SAIL_BASE_URL must not carry credentials"},
		{"query in URL", func(c *Config) { c.BaseURL = "https://acme?x=1" }, "SAIL_BASE_URL must not have a query"},
		{"base missing", func(c *Config) { c.BaseURL = " " }, "SAIL_BASE_URL is required"},
		{"token URL http", func(c *Config) { c.TokenURL = "http://login.example.com/oauth/token" }, "SAIL_TOKEN_URL must use https"},
		{"client id missing", func(c *Config) { c.ClientID = "" }, "SAIL_CLIENT_ID is required"},
		{"secret missing", func(c *Config) { c.ClientSecret = "" }, "SAIL_CLIENT_SECRET is required"},
		{"version v2", func(c *Config) { c.APIVersion = "v2" }, "SAIL_API_VERSION must be v3 or v1, got v2"},
		{"version empty", func(c *Config) { c.APIVersion = "" }, `SAIL_API_VERSION must be v3 or v1, got ""`},
		{"negative rate", func(c *Config) { c.RateLimit = -1 }, "SAIL_RATE_LIMIT"},
		{"zero window", func(c *Config) { c.RateWindow = 0 }, "SAIL_RATE_WINDOW"},
		{"zero timeout", func(c *Config) { c.Timeout = 0 }, "SAIL_TIMEOUT"},
		{"negative retries", func(c *Config) { c.MaxRetries = -1 }, "SAIL_MAX_RETRIES"},
		{"too many retries", func(c *Config) { c.MaxRetries = 100 }, "SAIL_MAX_RETRIES"},
		{"zero concurrency", func(c *Config) { c.Concurrency = 0 }, "SAIL_CONCURRENCY"},
		{"huge concurrency", func(c *Config) { c.Concurrency = 1000 }, "SAIL_CONCURRENCY"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := valid
			tt.change(&cfg)
			err := cfg.Validate()
			if tt.wantErr == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.wantErr)
		})
	}
}

func TestConfigValidateReportsEveryProblem(t *testing.T) {
	err := Config{APIVersion: "v9"}.Validate()
	require.Error(t, err)
	lines := strings.Split(err.Error(), "\n")
	assert.GreaterOrEqual(t, len(lines), 5, err.Error())
}

func TestURLsEscapeEverySegment(t *testing.T) {
	for _, version := range []string{APIv3, APIv1} {
		c, err := New(Config{BaseURL: "https://acme.example.com/base/", ClientID: "id", ClientSecret: "s", APIVersion: version,
			Timeout: time.Second, Concurrency: 1}, Options{})
		require.NoError(t, err)
		u := c.url(opListPermissions, nil, "cert/1", "access-review-items", "it em?", "permissions")
		want := map[string]string{
			APIv3: "https://acme.example.com/base/v3/certifications/cert%2F1/access-review-items/it%20em%3F/permissions",
			APIv1: "https://acme.example.com/base/certifications/v1/cert%2F1/access-review-items/it%20em%3F/permissions",
		}[version]
		assert.Equal(t, want, u.String())
		assert.Equal(t, map[string]string{APIv3: "getIdentityCertificationItemPermissions", APIv1: "getIdentityCertificationItemPermissionsV1"}[version], c.opID(opListPermissions))
	}
}

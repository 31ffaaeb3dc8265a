package sailpoint_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/certs"
	"github.com/certops/certops/internal/metrics"
	"github.com/certops/certops/internal/metrics/metricstest"
	"github.com/certops/certops/internal/sailpoint"
	"github.com/certops/certops/internal/sandbox"
	"github.com/certops/certops/internal/store/storetest"
)

// secretRecorder records the client_secret of every token request.
type secretRecorder struct {
	next http.RoundTripper
	mu   sync.Mutex
	sent []string
}

func (r *secretRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	if strings.HasSuffix(req.URL.Path, "/oauth/token") && req.Body != nil {
		body, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, err
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
		form, _ := url.ParseQuery(string(body))
		r.mu.Lock()
		r.sent = append(r.sent, form.Get("client_secret"))
		r.mu.Unlock()
	}
	return r.next.RoundTrip(req)
}

func (r *secretRecorder) Sent() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.sent...)
}

// startWithSecretFile starts a harness whose client reads its secret from a
// file holding initial, on the sandbox's clock.
func startWithSecretFile(t *testing.T, initial string) (*harness, *secretRecorder, string, *storetest.Clock) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "client-secret")
	require.NoError(t, os.WriteFile(path, []byte(initial+"\n"), 0o600))
	clk := newClock()
	rec := &secretRecorder{next: http.DefaultTransport}
	h := start(t, sandbox.Config{TokenTTL: 100 * time.Second, Now: clk.Now}, sailpoint.APIv3, func(c *sailpoint.Config, o *sailpoint.Options) {
		c.ClientSecret, c.ClientSecretFile = "", path
		o.HTTPClient = &http.Client{Transport: rec}
		o.Now = clk.Now
	})
	return h, rec, path, clk
}

func TestClientSecretFile(t *testing.T) {
	ctx := context.Background()

	t.Run("a rotated secret is used from the next token fetch", func(t *testing.T) {
		h, rec, path, clk := startWithSecretFile(t, sandbox.AdminClientSecret)
		cert := h.firstCertID(t)
		require.NoError(t, os.WriteFile(path, []byte("rotated-client-secret\n"), 0o600))

		_, err := h.client.GetCertification(ctx, cert)
		require.NoError(t, err, "the current token is still good: no fetch, no change")
		assert.Equal(t, []string{sandbox.AdminClientSecret}, rec.Sent())

		clk.Advance(95 * time.Second) // the token is due for renewal, the file for a look
		_, err = h.client.GetCertification(ctx, cert)
		require.Error(t, err, "this tenant does not know the rotated secret")
		assert.Equal(t, certs.EFORBIDDEN, certs.ErrorCode(err))
		assert.Equal(t, []string{sandbox.AdminClientSecret, "rotated-client-secret"}, rec.Sent(), "the next fetch sent the new secret")

		require.NoError(t, os.WriteFile(path, []byte(sandbox.AdminClientSecret+"\n"), 0o600))
		clk.Advance(10 * time.Second)
		_, err = h.client.GetCertification(ctx, cert)
		require.NoError(t, err, "and the one after that, the file's new content")
		assert.NotContains(t, h.logs.String(), "rotated-client-secret")
		assert.NotContains(t, h.logs.String(), sandbox.AdminClientSecret)
	})

	t.Run("a refused secret makes the client read the file again at once", func(t *testing.T) {
		h, rec, path, _ := startWithSecretFile(t, "stale-client-secret")
		// Rotated after start-up, before the file is due for a look.
		require.NoError(t, os.WriteFile(path, []byte(sandbox.AdminClientSecret+"\n"), 0o600))

		h.firstCertID(t)
		assert.Equal(t, []string{"stale-client-secret", sandbox.AdminClientSecret}, rec.Sent())
		assert.Equal(t, 1, h.client.TokensFetched())
		assert.Contains(t, h.logs.String(), "secret rotated")
		assert.NotContains(t, h.logs.String(), "stale-client-secret")
		assert.NotContains(t, h.logs.String(), sandbox.AdminClientSecret)
	})

	t.Run("token requests are counted, the refused one too", func(t *testing.T) {
		reg := prometheus.NewRegistry()
		path := filepath.Join(t.TempDir(), "client-secret")
		require.NoError(t, os.WriteFile(path, []byte("stale-client-secret\n"), 0o600))
		h := start(t, sandbox.Config{}, sailpoint.APIv3, func(c *sailpoint.Config, o *sailpoint.Options) {
			c.ClientSecret, c.ClientSecretFile = "", path
			o.Metrics = metrics.New(reg)
		})
		require.NoError(t, os.WriteFile(path, []byte(sandbox.AdminClientSecret+"\n"), 0o600))
		h.firstCertID(t)

		f := metricstest.ScrapeHandler(t, metrics.Handler(reg))
		name := "certops_sailpoint_requests_total"
		assert.Equal(t, 1.0, f.Value(name, map[string]string{"operation": "oauthToken", "status": "401"}), f.Series(name))
		assert.Equal(t, 1.0, f.Value(name, map[string]string{"operation": "oauthToken", "status": "200"}), f.Series(name))
		assert.Equal(t, 1.0, f.Value(name, map[string]string{"operation": "listIdentityCertifications", "status": "200"}), f.Series(name))
	})

	t.Run("an unreadable file fails New naming the variable and path", func(t *testing.T) {
		missing := filepath.Join(t.TempDir(), "nope")
		_, err := sailpoint.New(sailpoint.Config{BaseURL: "https://acme.api.identitynow.com", ClientID: "id", ClientSecretFile: missing,
			APIVersion: "v3", Timeout: time.Second, Concurrency: 1}, sailpoint.Options{})
		require.Error(t, err)
		assert.Contains(t, err.Error(), "SAIL_CLIENT_SECRET_FILE")
		assert.Contains(t, err.Error(), missing)
	})

	t.Run("LoadConfig takes the file instead of the variable", func(t *testing.T) {
		t.Setenv("SAIL_BASE_URL", "https://acme.api.identitynow.com")
		t.Setenv("SAIL_CLIENT_ID", "id")
		t.Setenv("SAIL_CLIENT_SECRET", "")
		t.Setenv("SAIL_CLIENT_SECRET_FILE", "/run/secrets/sail-client-secret")
		cfg, err := sailpoint.LoadConfig()
		require.NoError(t, err)
		assert.Equal(t, "/run/secrets/sail-client-secret", cfg.ClientSecretFile)

		t.Setenv("SAIL_CLIENT_SECRET_FILE", "")
		_, err = sailpoint.LoadConfig()
		require.Error(t, err)
		assert.Contains(t, err.Error(), "SAIL_CLIENT_SECRET is required (or SAIL_CLIENT_SECRET_FILE)")
	})

	t.Run("both the secret and the file is a configuration error", func(t *testing.T) {
		err := sailpoint.Config{BaseURL: "https://acme.api.identitynow.com", ClientID: "id", ClientSecret: "s", ClientSecretFile: "/run/secrets/x",
			APIVersion: "v3", Timeout: time.Second, Concurrency: 1}.Validate()
		require.Error(t, err)
		assert.Contains(t, err.Error(), "SAIL_CLIENT_SECRET and SAIL_CLIENT_SECRET_FILE are both set")
	})
}

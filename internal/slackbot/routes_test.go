package slackbot_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/metrics"
	"github.com/certops/certops/internal/metrics/metricstest"
	"github.com/certops/certops/internal/secret"
	"github.com/certops/certops/internal/slackbot"
)

// The bot's HTTP surface: every path of routes.go, its status and the
// route name it is counted under.
func TestHTTPHandlerRoutes(t *testing.T) {
	setup := func(t *testing.T, signing secret.Source, ready error) (http.Handler, func() metricstest.Families) {
		t.Helper()
		reg := metrics.NewRegistry()
		bot := slackbot.New(slackbot.Config{Command: "/certs", ApprovalsChannel: "CAPPROVALS"}, nil, nil)
		h := bot.HTTPHandler(slackbot.HTTPOptions{
			SigningSecret:  signing,
			Ready:          func(context.Context) error { return ready },
			Metrics:        metrics.New(reg),
			MetricsHandler: metrics.Handler(reg),
		})
		return h, func() metricstest.Families { return metricstest.ScrapeHandler(t, metrics.Handler(reg)) }
	}
	serve := func(h http.Handler, method, path string) int {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(method, path, strings.NewReader("")))
		return w.Code
	}
	const reqs = "certops_http_requests_total"

	t.Run("HTTP mode", func(t *testing.T) {
		h, scrape := setup(t, secret.Static("signing-secret"), nil)
		for _, tc := range []struct {
			method, path string
			code         int
			handler      string
		}{
			{http.MethodGet, "/healthz", http.StatusOK, "healthz"},
			{http.MethodGet, "/readyz", http.StatusOK, "readyz"},
			{http.MethodGet, "/metrics", http.StatusOK, "metrics"},
			{http.MethodPost, "/slack/commands", http.StatusUnauthorized, "slack_commands"},
			{http.MethodGet, "/slack/commands", http.StatusMethodNotAllowed, "slack_commands"},
			{http.MethodPost, "/slack/interactions", http.StatusUnauthorized, "slack_interactions"},
			{http.MethodPost, "/slack/events", http.StatusUnauthorized, "slack_events"},
			{http.MethodPost, "/slack/elsewhere", http.StatusNotFound, "slack_other"},
		} {
			assert.Equal(t, tc.code, serve(h, tc.method, tc.path), "%s %s", tc.method, tc.path)
			f := scrape()
			assert.GreaterOrEqual(t, f.Value(reqs, map[string]string{"handler": tc.handler, "code": strconv.Itoa(tc.code)}), 1.0, "%s %s: %v", tc.method, tc.path, f.Series(reqs))
		}
		assert.Equal(t, http.StatusNotFound, serve(h, http.MethodGet, "/elsewhere"))
	})
	t.Run("Socket Mode serves no Slack path", func(t *testing.T) {
		h, _ := setup(t, nil, nil)
		assert.Equal(t, http.StatusNotFound, serve(h, http.MethodPost, "/slack/commands"))
		assert.Equal(t, http.StatusOK, serve(h, http.MethodGet, "/healthz"))
		assert.Equal(t, http.StatusOK, serve(h, http.MethodGet, "/metrics"))
	})
	t.Run("not ready", func(t *testing.T) {
		h, _ := setup(t, nil, errors.New("database: down"))
		require.Equal(t, http.StatusServiceUnavailable, serve(h, http.MethodGet, "/readyz"))
		assert.Equal(t, http.StatusOK, serve(h, http.MethodGet, "/healthz"), "liveness does not depend on readiness")
	})
}

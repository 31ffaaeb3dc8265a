package tools

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/certs"
	"github.com/certops/certops/internal/metrics"
	"github.com/certops/certops/internal/metrics/metricstest"
)

func TestMetrics_countToolCallsAndRequests(t *testing.T) {
	reg := metrics.NewRegistry()
	m := metrics.New(reg)
	s, b := setup(t, testConfig{Options: Options{Metrics: m}})
	auth, err := NewAuthenticator([]Token{{Name: "alice", SHA256: HashToken("s3cret"), IdentityID: "id-alice", Role: certs.RoleAdmin}})
	require.NoError(t, err)
	h, err := NewHTTPHandler(s, HTTPOptions{
		Auth: auth, AllowedHosts: DefaultAllowedHosts("127.0.0.1:8080"), Logger: quietLogger(),
		Metrics: m, MetricsHandler: metrics.Handler(reg),
	})
	require.NoError(t, err)

	require.False(t, callTool(t, s, "list_certifications", map[string]any{}).IsError)
	assertError(t, callTool(t, s, "get_certification", map[string]any{"certificationId": "bad id!"}), certs.EINVALID, `unknown argument "certificationId"`)
	b.tenant.Fail["ListCertifications"] = certs.Errorf(certs.EUNAVAILABLE, "SailPoint did not answer")
	assertError(t, callTool(t, s, "list_certifications", map[string]any{}), certs.EUNAVAILABLE, "SailPoint did not answer")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, mcpRequest(listToolsBody, nil))
	require.Equal(t, http.StatusOK, w.Code)

	// No token and a Host the guard would refuse: /metrics is outside it.
	req := httptest.NewRequest(http.MethodGet, "http://metrics-scraper.internal:8080/metrics", nil)
	req.Header.Set("Accept", "text/plain;version=0.0.4")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	require.Equal(t, http.StatusOK, rec.Code)
	f := metricstest.ScrapeHandler(t, h)

	calls := "certops_tool_calls_total"
	assert.Equal(t, 1.0, f.Value(calls, map[string]string{"tool": "list_certifications", "outcome": "ok"}), f.Series(calls))
	assert.Equal(t, 1.0, f.Value(calls, map[string]string{"tool": "get_certification", "outcome": "invalid"}), f.Series(calls))
	assert.Equal(t, 1.0, f.Value(calls, map[string]string{"tool": "list_certifications", "outcome": "unavailable"}), f.Series(calls))
	reqs := "certops_http_requests_total"
	assert.Equal(t, 1.0, f.Value(reqs, map[string]string{"handler": "mcp", "code": "200"}), f.Series(reqs))
	assert.GreaterOrEqual(t, f.Value(reqs, map[string]string{"handler": "metrics", "code": "200"}), 1.0, f.Series(reqs))
}

func TestMetrics_noneConfigured(t *testing.T) {
	h := newTestHTTP(t, nil) // no Metrics, no MetricsHandler
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "http://127.0.0.1:8080/metrics", nil))
	assert.Equal(t, http.StatusNotFound, w.Code, "no /metrics unless asked for")
	w = httptest.NewRecorder()
	h.ServeHTTP(w, mcpRequest(listToolsBody, nil))
	assert.Equal(t, http.StatusOK, w.Code)

	s, _ := setup(t, testConfig{})
	assert.False(t, callTool(t, s, "list_certifications", map[string]any{}).IsError, "calls work without metrics")
}

func TestResultOutcome(t *testing.T) {
	for code := range errorPrefixes {
		t.Run(code, func(t *testing.T) {
			assert.Equal(t, code, resultOutcome(errorResult(t.Context(), quietLogger(), "t", certs.Errorf(code, "x")), nil))
		})
	}
	t.Run("success", func(t *testing.T) {
		assert.Equal(t, "ok", resultOutcome(mcp.NewToolResultText("fine"), nil))
	})
}

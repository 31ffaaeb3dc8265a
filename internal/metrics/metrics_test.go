package metrics_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/certs"
	"github.com/certops/certops/internal/metrics"
)

// scrape serves reg's metrics over HTTP, as Prometheus would fetch them, and
// parses the text exposition format.
func scrape(t *testing.T, reg *prometheus.Registry) map[string]*dto.MetricFamily {
	t.Helper()
	srv := httptest.NewServer(metrics.Handler(reg))
	t.Cleanup(srv.Close)
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL, nil)
	require.NoError(t, err)
	req.Header.Set("Accept", "text/plain;version=0.0.4")
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, resp.Header.Get("Content-Type"), "text/plain")
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	require.NoError(t, err)
	return families
}

// find returns the metric of family name whose labels are exactly want.
func find(t *testing.T, families map[string]*dto.MetricFamily, name string, want map[string]string) *dto.Metric {
	t.Helper()
	mf, ok := families[name]
	require.True(t, ok, "metric %s not exposed", name)
	for _, m := range mf.GetMetric() {
		got := map[string]string{}
		for _, lp := range m.GetLabel() {
			got[lp.GetName()] = lp.GetValue()
		}
		if fmt.Sprint(got) == fmt.Sprint(want) {
			return m
		}
	}
	require.Failf(t, "series not found", "%s%v", name, want)
	return nil
}

// bucket is the cumulative count of observations <= le.
func bucket(t *testing.T, m *dto.Metric, le float64) uint64 {
	t.Helper()
	for _, b := range m.GetHistogram().GetBucket() {
		if b.GetUpperBound() == le {
			return b.GetCumulativeCount()
		}
	}
	require.Failf(t, "no bucket", "le=%v", le)
	return 0
}

func TestRecordedValuesAreServed(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	m := metrics.New(reg)

	m.ToolCall("list_certifications", metrics.OutcomeOK)
	m.ToolCall("list_certifications", metrics.OutcomeOK)
	m.ToolCall("reassign", metrics.Outcome(certs.Errorf(certs.EFORBIDDEN, "not yours")))
	m.SlashCommand("status", metrics.OutcomeOK)
	m.SailPointRequest("listIdentityCertifications", 200, 120*time.Millisecond)
	m.SailPointRequest("listIdentityCertifications", 429, 30*time.Millisecond)
	m.SailPointRequest("reassignIdentityCertsAsync", 0, 30*time.Second)
	m.SailPointRetry("listIdentityCertifications", "rate_limited")
	m.RateLimiterWait("interactive", 0)
	m.RateLimiterWait("interactive", 1500*time.Millisecond)
	m.RateLimiterWait("background", 5*time.Second)
	m.Approval(string(certs.StateApproved))
	m.Approval(metrics.Outcome(certs.Errorf(certs.ECONFLICT, "already approved")))
	m.RequestState(certs.StateApproved, 2*time.Hour)
	teapot := m.InstrumentHandler("slack_commands", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusTeapot)
	}))
	teapot.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/slack/commands", nil))

	f := scrape(t, reg)
	counter := func(name string, labels map[string]string) float64 {
		return find(t, f, name, labels).GetCounter().GetValue()
	}
	assert.Equal(t, 2.0, counter("certops_tool_calls_total", map[string]string{"tool": "list_certifications", "outcome": "ok"}))
	assert.Equal(t, 1.0, counter("certops_tool_calls_total", map[string]string{"tool": "reassign", "outcome": "forbidden"}))
	assert.Equal(t, 1.0, counter("certops_slash_commands_total", map[string]string{"subcommand": "status", "outcome": "ok"}))
	assert.Equal(t, 1.0, counter("certops_sailpoint_requests_total", map[string]string{"operation": "listIdentityCertifications", "status": "200"}))
	assert.Equal(t, 1.0, counter("certops_sailpoint_requests_total", map[string]string{"operation": "listIdentityCertifications", "status": "429"}))
	assert.Equal(t, 1.0, counter("certops_sailpoint_requests_total", map[string]string{"operation": "reassignIdentityCertsAsync", "status": "no_response"}))
	assert.Equal(t, 1.0, counter("certops_sailpoint_rate_limited_total", map[string]string{}), "429s counted once each")
	assert.Equal(t, 1.0, counter("certops_sailpoint_retries_total", map[string]string{"operation": "listIdentityCertifications", "reason": "rate_limited"}))
	assert.Equal(t, 1.0, counter("certops_approvals_total", map[string]string{"outcome": "approved"}))
	assert.Equal(t, 1.0, counter("certops_approvals_total", map[string]string{"outcome": "conflict"}))
	assert.Equal(t, 1.0, counter("certops_http_requests_total", map[string]string{"handler": "slack_commands", "code": "418"}))

	list := find(t, f, "certops_sailpoint_request_duration_seconds", map[string]string{"operation": "listIdentityCertifications"})
	assert.Equal(t, uint64(2), list.GetHistogram().GetSampleCount())
	assert.InDelta(t, 0.15, list.GetHistogram().GetSampleSum(), 1e-9)
	assert.Equal(t, uint64(1), bucket(t, list, 0.05), "the 30ms attempt")
	assert.Equal(t, uint64(2), bucket(t, list, 0.25), "both attempts")

	wait := find(t, f, "certops_ratelimiter_wait_seconds", map[string]string{"lane": "interactive"})
	assert.Equal(t, uint64(2), wait.GetHistogram().GetSampleCount(), "zero waits are observed too")
	assert.Equal(t, uint64(1), bucket(t, wait, 1))
	assert.Equal(t, uint64(2), bucket(t, wait, 2.5))
	bg := find(t, f, "certops_ratelimiter_wait_seconds", map[string]string{"lane": "background"})
	assert.Equal(t, uint64(1), bg.GetHistogram().GetSampleCount(), "each lane its series")

	age := find(t, f, "certops_request_age_seconds", map[string]string{"state": "approved"})
	assert.Equal(t, uint64(0), bucket(t, age, 3600))
	assert.Equal(t, uint64(1), bucket(t, age, 4*3600))
}

// recordOneOfEach calls each recording method once: every vector then has
// a series.
func recordOneOfEach(m *metrics.Metrics) {
	m.ToolCall("t", "ok")
	m.SlashCommand("s", "ok")
	m.SailPointRequest("op", 200, time.Millisecond)
	m.SailPointRetry("op", "network")
	m.RateLimiterWait("interactive", time.Millisecond)
	m.Approval("approved")
	m.RequestState(certs.StateCompleted, time.Minute)
}

func TestExpositionFollowsConventions(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	m := metrics.New(reg)
	// Vectors appear once they have a series.
	recordOneOfEach(m)
	m.InstrumentHandler("mcp", http.NotFoundHandler()).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))

	families := scrape(t, reg)
	want := map[string]dto.MetricType{
		"certops_tool_calls_total":                   dto.MetricType_COUNTER,
		"certops_slash_commands_total":               dto.MetricType_COUNTER,
		"certops_sailpoint_requests_total":           dto.MetricType_COUNTER,
		"certops_sailpoint_request_duration_seconds": dto.MetricType_HISTOGRAM,
		"certops_sailpoint_retries_total":            dto.MetricType_COUNTER,
		"certops_sailpoint_rate_limited_total":       dto.MetricType_COUNTER,
		"certops_ratelimiter_wait_seconds":           dto.MetricType_HISTOGRAM,
		"certops_approvals_total":                    dto.MetricType_COUNTER,
		"certops_request_age_seconds":                dto.MetricType_HISTOGRAM,
		"certops_http_requests_total":                dto.MetricType_COUNTER,
	}
	for name, mf := range families {
		if typ, ok := want[name]; assert.True(t, ok, "unexpected metric %s", name) {
			assert.Equal(t, typ, mf.GetType(), name)
			assert.NotEmpty(t, mf.GetHelp(), name)
		}
	}
	assert.Len(t, families, len(want))

	var mfs []*dto.MetricFamily
	for _, mf := range families {
		mfs = append(mfs, mf)
	}
	problems, err := promlint.NewWithMetricFamilies(mfs).Lint()
	require.NoError(t, err)
	assert.Empty(t, problems, "promlint")
}

func TestNilMetricsRecordNothing(t *testing.T) {
	t.Parallel()
	for name, m := range map[string]*metrics.Metrics{"nil": nil, "zero value": {}} {
		t.Run(name, func(t *testing.T) {
			assert.NotPanics(t, func() {
				recordOneOfEach(m)
			})
			next := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusAccepted) })
			h := m.InstrumentHandler("mcp", next)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
			assert.Equal(t, http.StatusAccepted, rec.Code, "the handler still serves")
		})
	}
}

func TestRegistriesAreIndependent(t *testing.T) {
	t.Parallel()
	regA, regB := prometheus.NewRegistry(), prometheus.NewRegistry()
	a, _ := metrics.New(regA), metrics.New(regB)
	a.ToolCall("t", "ok")

	assert.Contains(t, scrape(t, regA), "certops_tool_calls_total")
	assert.NotContains(t, scrape(t, regB), "certops_tool_calls_total", "nothing recorded through B's Metrics")
	assert.Panics(t, func() { metrics.New(regA) }, "registering twice on one registry is a wiring bug")
	assert.NotPanics(t, func() { metrics.New(nil).ToolCall("t", "ok") }, "a nil registry registers nothing")
}

func TestNewRegistryServesRuntimeMetrics(t *testing.T) {
	t.Parallel()
	reg := metrics.NewRegistry()
	metrics.New(reg)
	f := scrape(t, reg)
	assert.Contains(t, f, "go_goroutines")
	assert.Contains(t, f, "process_resident_memory_bytes")
}

func TestOutcome(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"success", nil, "ok"},
		{"domain error", certs.Errorf(certs.EINVALID, "bad id"), "invalid"},
		{"wrapped domain error", fmt.Errorf("reassign: %w", certs.Errorf(certs.ERATELIMITED, "slow down")), "rate_limited"},
		{"any other error", errors.New("boom"), "internal"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, metrics.Outcome(tc.err))
		})
	}
}

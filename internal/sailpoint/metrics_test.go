package sailpoint_test

import (
	"context"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/certs"
	"github.com/certops/certops/internal/metrics"
	"github.com/certops/certops/internal/sailpoint"
	"github.com/certops/certops/internal/sandbox"
)

// TestMetrics records into certops' real Prometheus collectors and reads
// them back from the registry.
func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := metrics.New(reg)
	h := start(t, sandbox.Config{}, sailpoint.APIv3, func(_ *sailpoint.Config, o *sailpoint.Options) { o.Metrics = m })
	h.sb.InjectFault(sandbox.Fault{Operation: opList, Kind: sandbox.Fault503, Count: 2})
	h.sb.InjectFault(sandbox.Fault{Operation: opList, Kind: sandbox.Fault429, RetryAfter: 1})
	_, err := h.client.ListCertifications(context.Background(), certs.CertificationFilter{})
	require.NoError(t, err)

	families, err := reg.Gather()
	require.NoError(t, err)
	counts := map[string]float64{}
	for _, f := range families {
		for _, metric := range f.GetMetric() {
			key := f.GetName()
			for _, l := range metric.GetLabel() {
				key += "," + l.GetName() + "=" + l.GetValue()
			}
			switch {
			case metric.GetCounter() != nil:
				counts[key] = metric.GetCounter().GetValue()
			case metric.GetHistogram() != nil:
				counts[key] = float64(metric.GetHistogram().GetSampleCount())
			}
		}
	}
	assert.Equal(t, 2.0, counts["certops_sailpoint_requests_total,operation=listIdentityCertifications,status=503"], "%v", counts)
	assert.Equal(t, 1.0, counts["certops_sailpoint_requests_total,operation=listIdentityCertifications,status=429"], "%v", counts)
	assert.Equal(t, 1.0, counts["certops_sailpoint_requests_total,operation=listIdentityCertifications,status=200"], "%v", counts)
	assert.Equal(t, 2.0, counts["certops_sailpoint_retries_total,operation=listIdentityCertifications,reason=server_error"], "%v", counts)
	assert.Equal(t, 1.0, counts["certops_sailpoint_retries_total,operation=listIdentityCertifications,reason=rate_limited"], "%v", counts)
	assert.Equal(t, 1.0, counts["certops_sailpoint_rate_limited_total"], "%v", counts)
}

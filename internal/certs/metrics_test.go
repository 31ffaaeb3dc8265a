package certs_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/certs"
)

// recordedMetrics is certs.Metrics that remembers what it was told.
type recordedMetrics struct {
	mu        sync.Mutex
	approvals []string
	states    []string // "state@age"
}

func (m *recordedMetrics) Approval(outcome string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.approvals = append(m.approvals, outcome)
}

func (m *recordedMetrics) RequestState(s certs.RequestState, age time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.states = append(m.states, string(s)+"@"+age.String())
}

func TestMetrics_recordDecisionsAndRequestAges(t *testing.T) {
	t.Parallel()
	met := &recordedMetrics{}
	f := setup(t, approvalPolicy, func(o *certs.Options) { o.Metrics = met })
	ctx := context.Background()

	r := f.pending(t)
	_, err := f.svc.Approve(ctx, eve, r.ID)
	requireCode(t, certs.EFORBIDDEN, err)

	f.clock.Advance(2 * time.Hour)
	_, err = f.svc.Approve(ctx, alice, r.ID)
	require.NoError(t, err)
	_, err = f.svc.Approve(ctx, albert, r.ID)
	requireCode(t, certs.ECONFLICT, err)

	met.mu.Lock()
	assert.Equal(t, []string{"forbidden", "approved", "conflict"}, met.approvals)
	require.NotEmpty(t, met.states)
	assert.Equal(t, "pending@0s", met.states[0], "a filed request is measured at creation")
	assert.Contains(t, met.states, "submitting@2h0m0s", "approval two hours after filing")
	assert.Equal(t, "completed@2h0m0s", met.states[len(met.states)-1], "3 items: one synchronous call, done at once")
	met.mu.Unlock()

	g := setup(t, approvalPolicy, func(o *certs.Options) { o.Metrics = met })
	denied := g.pending(t)
	g.clock.Advance(time.Minute)
	_, err = g.svc.Deny(ctx, alice, denied.ID, "not now")
	require.NoError(t, err)
	met.mu.Lock()
	defer met.mu.Unlock()
	assert.Equal(t, "denied", met.approvals[len(met.approvals)-1])
	assert.Equal(t, "denied@1m0s", met.states[len(met.states)-1])
}

func TestMetrics_expiryCountsAsADecision(t *testing.T) {
	t.Parallel()
	met := &recordedMetrics{}
	f := setup(t, approvalPolicy, func(o *certs.Options) { o.Metrics = met })
	r := f.pending(t)
	f.clock.Advance(certs.DefaultRequestTTL + time.Minute)
	require.NoError(t, f.svc.Tick(context.Background()))
	assert.Equal(t, certs.StateExpired, f.get(t, r.ID).State)

	met.mu.Lock()
	defer met.mu.Unlock()
	assert.Equal(t, []string{"expired"}, met.approvals)
	assert.Contains(t, met.states, "expired@"+(certs.DefaultRequestTTL+time.Minute).String())
}

func TestMetrics_noneConfiguredRecordsNothing(t *testing.T) {
	t.Parallel()
	f := setup(t, approvalPolicy) // Options.Metrics nil
	r := f.pending(t)
	assert.NotPanics(t, func() {
		_, err := f.svc.Approve(context.Background(), alice, r.ID)
		require.NoError(t, err)
	})
}

package sailpoint_test

import (
	"testing"
	"time"

	"github.com/certops/certops/internal/certs/certstest/tenanttest"
	"github.com/certops/certops/internal/sailpoint"
	"github.com/certops/certops/internal/sandbox"
)

// TestTenantConformance runs the certs.Tenant suite on the client over the
// sandbox, in both API flavours. The sandbox's clock and the client's are
// one clock the suite moves: tasks run when it says so.
func TestTenantConformance(t *testing.T) {
	for _, version := range versions {
		t.Run(version, func(t *testing.T) {
			t.Parallel()
			tenanttest.Run(t, func(t *testing.T) tenanttest.Fixture {
				clk := newClock()
				const runFor = time.Minute
				h := start(t, sandbox.Config{Now: clk.Now, TaskQueuedFor: runFor, TaskRunningFor: runFor}, version,
					func(_ *sailpoint.Config, o *sailpoint.Options) { o.Now = clk.Now })
				return tenanttest.Fixture{
					Tenant:      h.client,
					FinishTasks: func() { clk.Advance(2*runFor + time.Second) },
				}
			})
		})
	}
}

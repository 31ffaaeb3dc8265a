package sailpoint_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/certs"
	"github.com/certops/certops/internal/sailpoint"
	"github.com/certops/certops/internal/sandbox"
)

func TestToken(t *testing.T) {
	ctx := context.Background()

	t.Run("one token for 200 calls, concurrent ones included", func(t *testing.T) {
		h := start(t, sandbox.Config{}, sailpoint.APIv3)
		cert := h.firstCertID(t)
		done := make(chan error, 200)
		for i := 0; i < 199; i++ {
			go func() {
				_, err := h.client.GetCertification(ctx, cert)
				done <- err
			}()
		}
		for i := 0; i < 199; i++ {
			require.NoError(t, <-done)
		}
		assert.Equal(t, 200, h.sb.Stats().Calls(opList)+h.sb.Stats().Calls(opGet))
		assert.Equal(t, 1, h.sb.Stats().TokensIssued)
		assert.Equal(t, 1, h.client.TokensFetched())
	})

	t.Run("a new token shortly before expiry", func(t *testing.T) {
		clk := newClock()
		h := start(t, sandbox.Config{TokenTTL: 100 * time.Second, Now: clk.Now}, sailpoint.APIv3,
			func(_ *sailpoint.Config, o *sailpoint.Options) { o.Now = clk.Now })
		cert := h.firstCertID(t)
		clk.Advance(80 * time.Second) // still well inside its life
		_, err := h.client.GetCertification(ctx, cert)
		require.NoError(t, err)
		assert.Equal(t, 1, h.sb.Stats().TokensIssued)

		clk.Advance(15 * time.Second) // 95 s: within the last tenth
		_, err = h.client.GetCertification(ctx, cert)
		require.NoError(t, err)
		st := h.sb.Stats()
		assert.Equal(t, 2, st.TokensIssued, "refreshed before it expired")
		assert.Zero(t, countStatus(h.logs.String(), 401), "no call was refused")
	})

	t.Run("a 401 mid-flight refreshes once and retries once", func(t *testing.T) {
		serverClock := newClock()
		// The client keeps real time, so it still believes in its token
		// when the tenant has expired it (a revoked token looks the same).
		h := start(t, sandbox.Config{TokenTTL: time.Minute, Now: serverClock.Now}, sailpoint.APIv3)
		cert := h.firstCertID(t)
		serverClock.Advance(2 * time.Minute)
		got, err := h.client.GetCertification(ctx, cert)
		require.NoError(t, err)
		assert.Equal(t, cert, got.ID)
		assert.Equal(t, 2, h.sb.Stats().TokensIssued)
		assert.Equal(t, 1, countStatus(h.logs.String(), 401))
	})

	t.Run("a 401 on a mutation is retried once, applied once", func(t *testing.T) {
		serverClock := newClock()
		h := start(t, sandbox.Config{TokenTTL: time.Minute, Now: serverClock.Now, TaskQueuedFor: time.Millisecond, TaskRunningFor: time.Millisecond}, sailpoint.APIv3)
		all, err := h.client.ListAllCertifications(ctx, certs.CertificationFilter{Phase: certs.PhaseActive})
		require.NoError(t, err)
		to, refs := h.move(t, all[0], 1)
		serverClock.Advance(2 * time.Minute)
		task, err := h.client.ReassignAsync(ctx, certs.Reassignment{CertificationID: all[0].ID, Refs: refs, To: to, Reason: "r"})
		require.NoError(t, err)
		serverClock.Advance(time.Second)
		done, err := h.client.GetTask(ctx, task.ID)
		require.NoError(t, err)
		assert.Equal(t, certs.TaskSuccess, done.Status)
		st := h.sb.Stats()
		assert.Equal(t, 1, countStatus(h.logs.String(), 401), "refused once (the sandbox counts only authenticated calls)")
		assert.Equal(t, 1, st.Calls(opAsync), "then accepted")
		assert.Equal(t, 2, st.TokensIssued)
		assert.Equal(t, 1, st.ReassignmentsApplied)
	})

	t.Run("bad credentials are EFORBIDDEN naming the settings", func(t *testing.T) {
		h := start(t, sandbox.Config{}, sailpoint.APIv3)
		c, _ := h.newClient(t, sailpoint.APIv3, func(c *sailpoint.Config, _ *sailpoint.Options) { c.ClientSecret = "wrong-secret" })
		_, err := c.ListCertifications(ctx, certs.CertificationFilter{})
		require.Error(t, err)
		assert.Equal(t, certs.EFORBIDDEN, certs.ErrorCode(err))
		assert.Contains(t, certs.ErrorMessage(err), "SAIL_CLIENT_SECRET")
		assert.NotContains(t, err.Error(), "wrong-secret")
		assert.Zero(t, h.sb.Stats().Calls(opList))
	})

	t.Run("a reviewer's token sees only its certifications", func(t *testing.T) {
		h := start(t, sandbox.Config{}, sailpoint.APIv1)
		reviewer := h.sb.Clients()[1]
		c, _ := h.newClient(t, sailpoint.APIv1, func(c *sailpoint.Config, _ *sailpoint.Options) {
			c.ClientID, c.ClientSecret = reviewer.ClientID, reviewer.ClientSecret
		})
		mine, err := c.ListAllCertifications(ctx, certs.CertificationFilter{ReviewerIdentity: "me"})
		require.NoError(t, err)
		require.NotEmpty(t, mine)
		for _, cert := range mine {
			assert.Equal(t, reviewer.IdentityID, cert.Reviewer.ID)
		}
	})
}

// countStatus counts the logged attempts answered with status.
func countStatus(logs string, status int) int {
	n := 0
	for _, line := range strings.Split(logs, "\n") {
		if strings.Contains(line, `"msg":"sailpoint call"`) && strings.Contains(line, `"status":`+strconv.Itoa(status)+`,`) {
			n++
		}
	}
	return n
}

package sailpoint_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/certs"
	"github.com/certops/certops/internal/sailpoint"
	"github.com/certops/certops/internal/sandbox"
)

// TestLogsHoldNoSecrets runs the client through successes, failures,
// retries, token refreshes and a lost reassignment, then checks every log
// record: one per attempt with the promised fields, and no token, secret or
// Authorization header anywhere.
func TestLogsHoldNoSecrets(t *testing.T) {
	ctx := context.Background()
	serverClock := newClock()
	h := start(t, sandbox.Config{TokenTTL: time.Minute, Now: serverClock.Now, TaskQueuedFor: time.Hour}, sailpoint.APIv3)
	c := h.client

	all, err := c.ListAllCertifications(ctx, certs.CertificationFilter{Page: certs.PageOptions{Limit: 5}})
	require.NoError(t, err)
	_, err = c.FindIdentityByEmail(ctx, all[0].Reviewer.Email)
	require.NoError(t, err)
	_, err = c.GetCertification(ctx, "0123456789abcdef0123456789abcdef") // 404
	require.Error(t, err)
	h.sb.InjectFault(sandbox.Fault{Operation: opList, Kind: sandbox.Fault503, Count: 2})
	_, err = c.ListCertifications(ctx, certs.CertificationFilter{})
	require.NoError(t, err)
	h.sb.InjectFault(sandbox.Fault{Operation: opList, Kind: sandbox.Fault429, RetryAfter: 1})
	_, err = c.ListCertifications(ctx, certs.CertificationFilter{})
	require.NoError(t, err)
	serverClock.Advance(2 * time.Minute) // the token dies: 401, refresh
	_, err = c.GetCertification(ctx, all[0].ID)
	require.NoError(t, err)
	var active certs.Certification
	for _, cert := range all {
		if cert.Phase == certs.PhaseActive {
			active = cert
			break
		}
	}
	require.NotEmpty(t, active.ID)
	to, refs := h.move(t, active, 1)
	h.sb.InjectFault(sandbox.Fault{Operation: opAsync, Kind: sandbox.FaultCloseAfterApply})
	_, err = c.ReassignAsync(ctx, certs.Reassignment{CertificationID: active.ID, Refs: refs, To: to, Reason: "r"})
	require.Equal(t, certs.EUNKNOWN, certs.ErrorCode(err))
	bad, _ := h.newClient(t, sailpoint.APIv3, func(c *sailpoint.Config, _ *sailpoint.Options) { c.ClientSecret = "not-the-secret" })
	_, err = bad.ListCertifications(ctx, certs.CertificationFilter{})
	require.Error(t, err)

	logs := h.logs.String()
	tokens := h.bearers.tokens()
	require.Len(t, tokens, 2, "the first token and the refreshed one")
	assert.Equal(t, 2, h.sb.Stats().TokensIssued)
	for _, tok := range tokens {
		require.NotEmpty(t, tok)
		assert.NotContains(t, logs, tok)
		// Nor any piece of it long enough to matter (a JWT's signature).
		parts := strings.Split(tok, ".")
		assert.NotContains(t, logs, parts[len(parts)-1])
	}
	for _, secret := range []string{sandbox.AdminClientSecret, "not-the-secret", "Bearer", "Authorization", "authorization"} {
		assert.NotContains(t, logs, secret)
	}
	assert.NotContains(t, logs, all[0].Reviewer.Email, "queries (which hold emails) are not logged")

	// One record per attempt, with what an operator needs.
	attempts := 0
	statuses := map[float64]int{}
	for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
		var rec map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &rec), line)
		if rec["msg"] != "sailpoint call" {
			continue
		}
		attempts++
		for _, key := range []string{"operation", "method", "path", "status", "duration", "attempt"} {
			assert.Contains(t, rec, key, line)
		}
		assert.NotContains(t, rec["path"], "?")
		statuses[rec["status"].(float64)]++
		if st := rec["status"].(float64); st >= 400 && st != 401 && st != 429 {
			assert.NotEmpty(t, rec["tracking_id"], "an error's tracking id is logged: %s", line)
		}
	}
	assert.Equal(t, 2, statuses[503])
	assert.Equal(t, 1, statuses[429])
	assert.Equal(t, 1, statuses[401])
	assert.Equal(t, 1, statuses[404])
	assert.Equal(t, 1, statuses[0], "the connection closed after the reassignment")
	assert.Contains(t, logs, "sailpoint reassignment: outcome unknown, not resent")
	assert.Equal(t, totalCalls(h.sb.Stats())+1, attempts, "every attempt logged (the 401 is not counted by the sandbox)")
}

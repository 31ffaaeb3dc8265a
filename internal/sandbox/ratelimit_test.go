package sandbox_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/sandbox"
)

func TestRateLimit(t *testing.T) {
	clk := newClock()
	tn := start(t, sandbox.Config{Now: clk.Now, RateLimit: 5, RateWindow: 10 * time.Second})
	list := func(client, path string) *response { return tn.as(client, "GET", path+"?limit=1", nil) }

	for i := 0; i < 5; i++ {
		require.Equal(t, http.StatusOK, list(sandbox.AdminClientID, "/v3/certifications").Status, "call %d", i+1)
		clk.Advance(time.Second)
	}
	res := list(sandbox.AdminClientID, "/v3/certifications")
	require.Equal(t, http.StatusTooManyRequests, res.Status)
	assert.Equal(t, "5", res.Header.Get("Retry-After"), "the first call leaves the window 10 s after it was made")
	var body struct{ Message string }
	res.decode(t, &body)
	assert.Equal(t, " Rate Limit Exceeded ", body.Message)

	// The limit is per API version and per client.
	assert.Equal(t, http.StatusOK, list(sandbox.AdminClientID, "/certifications/v1").Status)
	assert.Equal(t, http.StatusOK, list(sandbox.AdminClientID, "/beta/certifications").Status)
	assert.Equal(t, http.StatusOK, list("sandbox-reviewer-1", "/v3/certifications").Status)

	// A sliding window: one slot frees up when the oldest call is 10 s old.
	clk.Advance(5 * time.Second)
	assert.Equal(t, http.StatusOK, list(sandbox.AdminClientID, "/v3/certifications").Status)
	res = list(sandbox.AdminClientID, "/v3/public-identities")
	assert.Equal(t, http.StatusTooManyRequests, res.Status, "all v3 operations share the limit")
	assert.Equal(t, "1", res.Header.Get("Retry-After"))

	st := tn.sb.Stats()
	assert.Equal(t, 2, st.Clients[sandbox.AdminClientID].RateLimited)
	assert.Equal(t, 0, st.Clients["sandbox-reviewer-1"].RateLimited)
	assert.Equal(t, 1, st.Operations["listIdentityCertifications"].ByClient[sandbox.AdminClientID].RateLimited)
}

func TestRateLimitUnlimited(t *testing.T) {
	tn := start(t, sandbox.Config{RateLimit: -1})
	for i := 0; i < 150; i++ {
		require.Equal(t, http.StatusOK, tn.admin("GET", "/v3/certifications?limit=1", nil).Status)
	}
}

// The default is ISC's: 100 per 10 seconds.
func TestRateLimitDefault(t *testing.T) {
	clk := newClock()
	tn := start(t, sandbox.Config{Now: clk.Now})
	for i := 0; i < 100; i++ {
		require.Equal(t, http.StatusOK, tn.admin("GET", "/v3/public-identities?limit=1", nil).Status, "call %d", i+1)
	}
	res := tn.admin("GET", "/v3/public-identities?limit=1", nil)
	require.Equal(t, http.StatusTooManyRequests, res.Status)
	assert.Equal(t, "10", res.Header.Get("Retry-After"))
}

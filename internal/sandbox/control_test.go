package sandbox_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/sandbox"
)

func post(t *testing.T, url, body string) *response {
	t.Helper()
	res, err := http.Post(url, "application/json", strings.NewReader(body))
	require.NoError(t, err)
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return &response{Status: res.StatusCode, Header: res.Header, Body: data}
}

// The /_sandbox endpoints let a test in another process script the
// sandbox and read its counters.
func TestControlEndpoints(t *testing.T) {
	tn := start(t, sandbox.Config{})
	res := post(t, tn.url+"/_sandbox/faults", `{"operation":"listIdentityCertifications","kind":"500"}`)
	require.Equal(t, http.StatusOK, res.Status, "body: %s", res.Body)
	res = post(t, tn.url+"/_sandbox/faults", `[{"operation":"getPublicIdentities","kind":"429","retryAfter":3},{"kind":"500","count":1}]`)
	require.Equal(t, http.StatusOK, res.Status, "body: %s", res.Body)
	var queued []sandbox.Fault
	res.decode(t, &queued)
	assert.Len(t, queued, 3)

	assert.Equal(t, 500, tn.admin("GET", "/v3/certifications", nil).Status)
	r := tn.admin("GET", "/v3/public-identities", nil)
	assert.Equal(t, 429, r.Status)
	assert.Equal(t, "3", r.Header.Get("Retry-After"))
	assert.Equal(t, 500, tn.admin("GET", "/v3/certification-tasks", nil).Status)
	assert.Equal(t, 200, tn.admin("GET", "/v3/certification-tasks", nil).Status)

	for _, bad := range []string{`{"kind":"teapot"}`, `{"operation":"nope","kind":"500"}`, `not json`, ``} {
		assert.Equal(t, http.StatusBadRequest, post(t, tn.url+"/_sandbox/faults", bad).Status, bad)
	}

	res = post(t, tn.url+"/_sandbox/latency", `{"latency":"40ms","jitter":"0"}`)
	require.Equal(t, http.StatusOK, res.Status, "body: %s", res.Body)
	began := time.Now()
	tn.admin("GET", "/v3/certifications?limit=1", nil)
	assert.GreaterOrEqual(t, time.Since(began), 40*time.Millisecond)
	require.Equal(t, http.StatusOK, post(t, tn.url+"/_sandbox/latency", `{"latency":"0s"}`).Status)
	assert.Equal(t, http.StatusBadRequest, post(t, tn.url+"/_sandbox/latency", `{"latency":"soon"}`).Status)

	hres, err := http.Get(tn.url + "/_sandbox/stats")
	require.NoError(t, err)
	defer hres.Body.Close()
	var st sandbox.Stats
	require.NoError(t, json.NewDecoder(hres.Body).Decode(&st))
	assert.Equal(t, 2, st.Operations["listIdentityCertifications"].Calls)
	assert.Equal(t, 1, st.Operations["listIdentityCertifications"].Faults)
	assert.Equal(t, 1, st.Operations["getPublicIdentities"].RateLimited)
	assert.Equal(t, 1, st.Clients[sandbox.AdminClientID].RateLimited)
	assert.Equal(t, 1, st.TokensIssued)

	hres2, err := http.Get(tn.url + "/_sandbox/clients")
	require.NoError(t, err)
	defer hres2.Body.Close()
	var clients []sandbox.Credential
	require.NoError(t, json.NewDecoder(hres2.Body).Decode(&clients))
	assert.Equal(t, tn.sb.Clients(), clients)
}

func TestStats(t *testing.T) {
	tn := start(t, sandbox.Config{})
	cert := tn.certs("limit=1")[0]
	tn.as("sandbox-reviewer-1", "GET", "/v3/certifications/"+cert.ID, nil)
	tn.admin("GET", "/certifications/v1/"+cert.ID, nil)
	st := tn.sb.Stats()
	assert.Equal(t, 1, st.Calls("listIdentityCertifications"))
	get := st.Operations["getIdentityCertification"]
	assert.Equal(t, 2, get.Calls, "v3 and v1 count as one operation")
	assert.Equal(t, 1, get.ByClient["sandbox-reviewer-1"].Calls)
	assert.Equal(t, 1, get.ByClient[sandbox.AdminClientID].Calls)
	assert.Equal(t, 2, st.Clients[sandbox.AdminClientID].Calls)

	tn.sb.ResetStats()
	assert.Zero(t, tn.sb.Stats().Calls("listIdentityCertifications"))
}

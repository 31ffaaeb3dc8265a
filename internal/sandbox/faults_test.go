package sandbox_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/sandbox"
)

func TestFaultKinds(t *testing.T) {
	tn := start(t, sandbox.Config{})
	tests := []struct {
		fault      sandbox.Fault
		status     int
		detailCode string
	}{
		{sandbox.Fault{Operation: "listIdentityCertifications", Kind: sandbox.Fault500}, 500, "500.0 Internal Fault"},
		{sandbox.Fault{Operation: "listIdentityCertificationsV1", Kind: sandbox.Fault429, RetryAfter: 7}, 429, ""},
		{sandbox.Fault{Kind: sandbox.Fault500}, 500, "500.0 Internal Fault"},
	}
	for _, tt := range tests {
		t.Run(string(tt.fault.Kind)+" "+tt.fault.Operation, func(t *testing.T) {
			tn.sb.InjectFault(tt.fault)
			res := tn.admin("GET", "/certifications/v1?limit=1", nil)
			require.Equal(t, tt.status, res.Status, "body: %s", res.Body)
			if tt.detailCode != "" {
				var e errorBody
				res.decode(t, &e)
				assert.Equal(t, tt.detailCode, e.DetailCode)
				assert.NotEmpty(t, e.TrackingID)
			}
			if tt.status == 429 {
				assert.Equal(t, "7", res.Header.Get("Retry-After"))
			}
			assert.Equal(t, http.StatusOK, tn.admin("GET", "/certifications/v1?limit=1", nil).Status, "a fault answers Count calls only")
		})
	}

	// A fault for another operation leaves this one alone; Count > 1.
	tn.sb.InjectFault(sandbox.Fault{Operation: "getPublicIdentities", Kind: sandbox.Fault500, Count: 2})
	assert.Equal(t, http.StatusOK, tn.admin("GET", "/v3/certifications?limit=1", nil).Status)
	assert.Equal(t, 500, tn.admin("GET", "/v3/public-identities?limit=1", nil).Status)
	assert.Equal(t, 500, tn.admin("GET", "/public-identities/v1?limit=1", nil).Status)
	assert.Equal(t, http.StatusOK, tn.admin("GET", "/v3/public-identities?limit=1", nil).Status)

	assert.Panics(t, func() { tn.sb.InjectFault(sandbox.Fault{Kind: "teapot"}) })
	assert.Panics(t, func() { tn.sb.InjectFault(sandbox.Fault{Operation: "noSuchOperation", Kind: sandbox.Fault500}) })
}

// A 503 is what ISC's gateway answers when a service is down; the specs
// declare no 503, so the contract check would (rightly) flag it: this test
// calls the handler directly.
func TestFault503(t *testing.T) {
	sb := sandbox.New(sandbox.Config{})
	tok := directToken(t, sb)
	sb.InjectFault(sandbox.Fault{Operation: "listIdentityCertifications", Kind: sandbox.Fault503})
	call := func() *httptest.ResponseRecorder {
		req := httptest.NewRequest("GET", "/v3/certifications?limit=1", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		rec := httptest.NewRecorder()
		sb.ServeHTTP(rec, req)
		return rec
	}
	rec := call()
	require.Equal(t, http.StatusServiceUnavailable, rec.Code)
	assert.Equal(t, "503", rec.Header().Get("X-Sandbox-Fault"))
	var e errorBody
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &e))
	assert.Equal(t, "503 Service Unavailable", e.DetailCode)
	assert.Equal(t, http.StatusOK, call().Code)
}

// directToken gets an admin token from the handler itself.
func directToken(t testing.TB, sb *sandbox.Sandbox) string {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {sandbox.AdminClientID}, "client_secret": {sandbox.AdminClientSecret}}
	req := httptest.NewRequest("POST", "/oauth/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	sb.ServeHTTP(rec, req)
	require.Equal(t, http.StatusOK, rec.Code)
	var body struct {
		AccessToken string `json:"access_token"`
	}
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body))
	return body.AccessToken
}

func TestFaultHang(t *testing.T) {
	tn := start(t, sandbox.Config{})
	tn.sb.InjectFault(sandbox.Fault{Operation: "getIdentityCertification", Kind: sandbox.FaultHang})
	cert := tn.certs("limit=1")[0]
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", tn.url+"/v3/certifications/"+cert.ID, nil)
	req.Header.Set("Authorization", "Bearer "+tn.token(sandbox.AdminClientID))
	_, err := http.DefaultClient.Do(req)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Equal(t, cert, tn.cert(cert.ID), "the next call is answered")
}

// close-after-apply: the reassignment takes effect, the client gets no
// answer, and the task can be found among the pending ones.
func TestFaultCloseAfterApply(t *testing.T) {
	tn := start(t, sandbox.Config{})
	cert := tn.certs("filters=" + q(`phase eq "ACTIVE"`))[0]
	items := tn.items(cert.ID, "")
	to := newReviewer(t, tn, cert, items)
	tn.sb.InjectFault(sandbox.Fault{Operation: "submitReassignCertsAsync", Kind: sandbox.FaultCloseAfterApply})

	body, _ := json.Marshal(reassignBody{itemRefs(items[:2]), to.ID, "lost answer"})
	req, _ := http.NewRequest("POST", tn.url+"/v3/certifications/"+cert.ID+"/reassign-async", strings.NewReader(string(body)))
	req.Header.Set("Authorization", "Bearer "+tn.token(sandbox.AdminClientID))
	req.Header.Set("Content-Type", "application/json")
	_, err := http.DefaultClient.Do(req)
	require.Error(t, err, "no answer")

	var pending []taskDto
	tn.admin("GET", "/v3/certification-tasks?filters="+q(`targetId eq "`+cert.ID+`"`), nil).decode(t, &pending)
	require.Len(t, pending, 1, "the task was created")
	assert.Equal(t, to.ID, pending[0].Trail[0].NewOwner)

	// The same for a sync reassignment: the items moved.
	tn.sb.InjectFault(sandbox.Fault{Operation: "reassignIdentityCertifications", Kind: sandbox.FaultCloseAfterApply})
	body, _ = json.Marshal(reassignBody{itemRefs(items[2:3]), to.ID, "lost answer"})
	req, _ = http.NewRequest("POST", tn.url+"/v3/certifications/"+cert.ID+"/reassign", strings.NewReader(string(body)))
	req.Header.Set("Authorization", "Bearer "+tn.token(sandbox.AdminClientID))
	_, err = http.DefaultClient.Do(req)
	require.Error(t, err)
	assert.Equal(t, cert.DecisionsTotal-1, tn.cert(cert.ID).DecisionsTotal)
}

func TestErrorRate(t *testing.T) {
	tn := start(t, sandbox.Config{ErrorRate: 1})
	res := tn.admin("GET", "/v3/certifications", nil)
	assert.Equal(t, http.StatusInternalServerError, res.Status)
	assert.Equal(t, 1, tn.sb.Stats().Clients[sandbox.AdminClientID].Faults)

	tn = start(t, sandbox.Config{ErrorRate: 0.5, Seed: 7, RateLimit: -1})
	failed := 0
	for i := 0; i < 200; i++ {
		if tn.admin("GET", "/v3/certifications?limit=1", nil).Status == 500 {
			failed++
		}
	}
	assert.InDelta(t, 100, failed, 40, "about half fail")
}

// Latency delays every API answer by at least the fixed part.
func TestLatency(t *testing.T) {
	tn := start(t, sandbox.Config{})
	tok := tn.token(sandbox.AdminClientID)
	tn.sb.SetLatency(60*time.Millisecond, 10*time.Millisecond)
	began := time.Now()
	assert.Equal(t, http.StatusOK, tn.do(tok, "GET", "/v3/certifications?limit=1", nil).Status)
	assert.GreaterOrEqual(t, time.Since(began), 60*time.Millisecond)

	// A client that gives up while waiting gets nothing, and nothing breaks.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", tn.url+"/v3/certifications", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	_, err := http.DefaultClient.Do(req)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	tn.sb.SetLatency(0, 0)
}

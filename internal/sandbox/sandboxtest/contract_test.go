package sandboxtest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// failures is a testing.TB that records Errorf calls instead of failing,
// so a test can observe that Contract would have failed a test.
type failures struct {
	testing.TB
	mu   sync.Mutex
	msgs []string
}

func (f *failures) Helper() {}

func (f *failures) Errorf(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.msgs = append(f.msgs, fmt.Sprintf(format, args...))
}

func (f *failures) all() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.msgs...)
}

const (
	validCert     = `{"id":"c1","name":"Manager review","phase":"ACTIVE","completed":false,"due":"2026-12-01T17:00:00Z","signed":null}`
	validError400 = `{"detailCode":"400.1 Bad Request Content","trackingId":"8b6b1b7c","messages":[{"locale":"en-US","localeOrigin":"DEFAULT","text":"limit must be at most 250"}]}`
	validDecision = `[{"id":"i1","decision":"APPROVE","bulk":false}]`
)

// respond answers every request with status, a JSON body and extra headers.
func respond(status int, body string, header ...string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		if w.Header().Get("Content-Type") == "" {
			w.Header().Set("Content-Type", "application/json")
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	})
}

func TestContract(t *testing.T) {
	tests := []struct {
		name    string
		method  string
		target  string
		body    string
		handler http.Handler
		fail    string // a substring of the failure; "" means the exchange is fine
	}{
		{"valid v3 response", "GET", "/v3/certifications/c1", "", respond(200, validCert), ""},
		{"valid per-service response", "GET", "/certifications/v1/c1", "", respond(200, validCert), ""},
		{"valid beta response", "GET", "/beta/certifications/c1/tasks-pending", "", respond(200, `[{"id":"t1","certificationId":"c1","type":"REASSIGN","status":"QUEUED","errors":[]}]`), ""},
		{"valid list with undeclared paging headers", "GET", "/v3/certifications?limit=10&count=true", "", respond(200, "["+validCert+"]", "X-Total-Count", "1"), ""},
		{"429 with Retry-After", "GET", "/v3/certifications", "", respond(429, `{"message":" Rate Limit Exceeded "}`, "Retry-After", "2"), ""},
		{"404 with ErrorResponseDto", "GET", "/v3/certifications/missing", "", respond(404, `{"detailCode":"404 Not found","trackingId":"t","messages":[{"locale":"en-US","localeOrigin":"DEFAULT","text":"not found"}]}`), ""},
		{"401 body", "GET", "/v3/certifications/c1", "", respond(401, `{"error":"JWT validation failed: JWT is expired"}`), ""},
		{"valid decision body", "POST", "/v3/certifications/c1/decide", validDecision, respond(200, validCert), ""},

		{"wrong enum in body", "GET", "/v3/certifications/c1", "", respond(200, `{"id":"c1","phase":"DONE"}`), `response does not match the spec: GET /v3/certifications/c1 (getIdentityCertification) answered 200`},
		{"wrong type in body", "GET", "/v3/certifications/c1", "", respond(200, `{"id":"c1","completed":"yes"}`), "at /completed"},
		{"list where an object is declared", "GET", "/v3/certifications/c1", "", respond(200, "["+validCert+"]"), "response does not match the spec"},
		{"bad date-time", "GET", "/v3/certifications/c1", "", respond(200, `{"due":"tomorrow"}`), "at /due"},
		{"undeclared status", "GET", "/v3/certifications/c1", "", respond(418, `{}`), "status is not supported"},
		{"undeclared 404 on a list", "GET", "/v3/certifications", "", respond(404, validError400), "status is not supported"},
		{"wrong content type", "GET", "/v3/certifications/c1", "", respond(200, validCert, "Content-Type", "text/plain"), "response does not match the spec"},
		{"no content type sniffs text/plain", "GET", "/v3/certifications/c1", "", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, validCert)
		}), "response does not match the spec"},
		{"bad error body", "GET", "/v3/certifications/c1", "", respond(500, `{"detailCode":500}`), "at /detailCode"},
		{"injected 503 from the gateway", "GET", "/v3/certifications", "", respond(503, `{"message":"service unavailable"}`, "X-Sandbox-Fault", "503"), ""},
		{"503 not injected", "GET", "/v3/certifications", "", respond(503, `{"message":"service unavailable"}`), "status is not supported"},
		{"429 body not an object", "GET", "/v3/certifications", "", respond(429, `" Rate Limit Exceeded "`), "response does not match the spec"},

		{"invalid request refused", "GET", "/v3/certifications?limit=251", "", respond(400, validError400), ""},
		{"invalid request accepted", "GET", "/v3/certifications?limit=251", "", respond(200, "[]"), `sandbox accepted a request the spec rejects: GET /v3/certifications?limit=251 (listIdentityCertifications) answered 200`},
		{"invalid request refused with a bad body", "GET", "/v3/certifications?limit=251", "", respond(400, `{"detailCode":400}`), "at /detailCode"},
		{"bad JSON refused", "POST", "/v3/certifications/c1/decide", `[{"id":`, respond(400, validError400), ""},
		{"bad JSON accepted", "POST", "/v3/certifications/c1/decide", `[{"id":`, respond(200, validCert), "sandbox accepted a request the spec rejects"},
		{"unknown enum accepted", "POST", "/v3/certifications/c1/decide", `[{"id":"i1","decision":"MAYBE","bulk":false}]`, respond(200, validCert), "sandbox accepted a request the spec rejects"},
		{"empty decision list accepted", "POST", "/v3/certifications/c1/decide", `[]`, respond(200, validCert), "sandbox accepted a request the spec rejects"},
		{"unknown enum refused with 401", "POST", "/v3/certifications/c1/decide", `[{"id":"i1","decision":"MAYBE","bulk":false}]`, respond(401, `{"error":"JWT validation failed"}`), ""},

		{"token endpoint unchecked", "POST", "/oauth/token", "grant_type=client_credentials", respond(200, `{"access_token":"x"}`), ""},
		{"login page unchecked", "GET", "/oauth/authorize?client_id=x", "", respond(200, `<!doctype html>`, "Content-Type", "text/html"), ""},
		{"login form unchecked", "POST", "/oauth/login", "", respond(303, ""), ""},
		{"sandbox controls unchecked", "GET", "/_sandbox/stats", "", respond(200, `anything`, "Content-Type", "text/plain"), ""},
		{"unknown path answered 404", "GET", "/v3/campaigns", "", respond(404, validError400), ""},
		{"unknown path answered 200", "GET", "/v3/campaigns", "", respond(200, `[]`), "route not in any spec: GET /v3/campaigns answered 200, want 404"},
		{"path of another version", "GET", "/beta/certifications/c1", "", respond(200, validCert), "route not in any spec"},
		{"unknown method answered 405", "DELETE", "/v3/certifications/c1", "", respond(405, ""), ""},
		{"unknown method answered 204", "DELETE", "/v3/certifications/c1", "", respond(204, ""), "route not in any spec: DELETE /v3/certifications/c1 answered 204"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &failures{TB: t}
			h := Contract(f, tt.handler)
			req := httptest.NewRequest(tt.method, tt.target, strings.NewReader(tt.body))
			if tt.body != "" && tt.target != "/oauth/token" {
				req.Header.Set("Content-Type", "application/json")
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)

			got := f.all()
			if tt.fail == "" {
				assert.Empty(t, got)
			} else if assert.Len(t, got, 1) {
				assert.Contains(t, got[0], tt.fail)
			}

			// The client gets the handler's answer unchanged either way.
			want := httptest.NewRecorder()
			tt.handler.ServeHTTP(want, httptest.NewRequest(tt.method, tt.target, strings.NewReader(tt.body)))
			assert.Equal(t, want.Code, rec.Code)
			assert.Equal(t, want.Body.String(), rec.Body.String())
			assert.Equal(t, want.Header().Get("Content-Type"), rec.Header().Get("Content-Type"))
		})
	}
}

func TestContractPassesTheRequestThrough(t *testing.T) {
	f := &failures{TB: t}
	var seen *http.Request
	var seenBody string
	h := Contract(f, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		require.NoError(t, err)
		seen, seenBody = r, string(b)
		respond(200, validCert).ServeHTTP(w, r)
	}))
	req := httptest.NewRequest("POST", "/certifications/v1/c1/decide?x=1", strings.NewReader(validDecision))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer abc")
	h.ServeHTTP(httptest.NewRecorder(), req)

	assert.Empty(t, f.all())
	require.NotNil(t, seen)
	assert.Equal(t, validDecision, seenBody)
	assert.Equal(t, "x=1", seen.URL.RawQuery, "defaults are not added to the query")
	assert.Equal(t, "Bearer abc", seen.Header.Get("Authorization"))
}

func TestContractListDefaultsNotInjected(t *testing.T) {
	f := &failures{TB: t}
	var query string
	h := Contract(f, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		query = r.URL.RawQuery
		respond(200, "[]").ServeHTTP(w, r)
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/v3/certifications", nil))
	assert.Empty(t, f.all())
	assert.Empty(t, query, "the spec's limit/offset defaults must not reach the sandbox")
}

func TestContractOverHTTP(t *testing.T) {
	t.Run("a handler that drops the connection is not checked", func(t *testing.T) {
		f := &failures{TB: t}
		srv := httptest.NewServer(Contract(f, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			conn, _, err := http.NewResponseController(w).Hijack()
			if err == nil {
				_ = conn.Close()
			}
		})))
		defer srv.Close()
		req, _ := http.NewRequest("POST", srv.URL+"/v3/certifications/c1/reassign-async", strings.NewReader(`{"reassign":[{"id":"i1","type":"ITEM"}],"reassignTo":"id2","reason":"r"}`))
		req.Header.Set("Content-Type", "application/json")
		resp, err := srv.Client().Do(req)
		if err == nil {
			resp.Body.Close()
		}
		require.Error(t, err, "the client sees the connection close")
		srv.Close()
		assert.Empty(t, f.all())
	})
	t.Run("a handler that waits for the client to give up is not checked", func(t *testing.T) {
		f := &failures{TB: t}
		srv := httptest.NewServer(Contract(f, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			<-r.Context().Done()
		})))
		defer srv.Close()
		ctx, cancel := context.WithCancel(context.Background())
		req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/v3/certifications/c1", nil)
		go func() { time.Sleep(50 * time.Millisecond); cancel() }()
		_, err := srv.Client().Do(req)
		require.Error(t, err)
		srv.Close() // waits for the handler
		assert.Empty(t, f.all())
	})
	t.Run("a wrong body over a real connection fails", func(t *testing.T) {
		f := &failures{TB: t}
		srv := httptest.NewServer(Contract(f, respond(200, `{"phase":"DONE"}`)))
		defer srv.Close()
		resp, err := srv.Client().Get(srv.URL + "/v3/certifications/c1")
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.Equal(t, `{"phase":"DONE"}`, string(body))
		srv.Close()
		got := f.all()
		require.Len(t, got, 1)
		assert.Contains(t, got[0], "at /phase")
	})
}

func TestSpecOperations(t *testing.T) {
	ops := SpecOperations(t)
	require.Len(t, ops, 6+12+12)

	byID := map[string]Operation{}
	for _, op := range ops {
		_, dup := byID[op.Spec+" "+op.OperationID]
		assert.False(t, dup, "duplicate %s", op)
		byID[op.Spec+" "+op.OperationID] = op
	}
	assert.Equal(t, Operation{Spec: "v3.yaml", Method: "GET", Path: "/v3/certifications/{id}", OperationID: "getIdentityCertification"}, byID["v3.yaml getIdentityCertification"])
	assert.Equal(t, Operation{Spec: "beta.yaml", Method: "GET", Path: "/beta/certifications/{id}/tasks-pending", OperationID: "getIdentityCertificationPendingTasks"}, byID["beta.yaml getIdentityCertificationPendingTasks"])
	assert.Equal(t, Operation{Spec: "per-service-v1.yaml", Method: "GET", Path: "/certifications/v1/{id}", OperationID: "getIdentityCertificationV1"}, byID["per-service-v1.yaml getIdentityCertificationV1"])
	assert.Equal(t, Operation{Spec: "per-service-v1.yaml", Method: "POST", Path: "/certifications/v1/{id}/reassign-async", OperationID: "submitReassignCertsAsyncV1"}, byID["per-service-v1.yaml submitReassignCertsAsyncV1"])
	assert.Equal(t, Operation{Spec: "v3.yaml", Method: "GET", Path: "/v3/public-identities", OperationID: "getPublicIdentities"}, byID["v3.yaml getPublicIdentities"])

	// Every operation's path is routed by Contract: a request to it with
	// the path parameters filled in reaches a spec route.
	c := Contract(t, nil).(*contract)
	for _, op := range ops {
		path := strings.NewReplacer("{id}", "x1", "{certificationId}", "c1", "{itemId}", "i1", "{taskId}", "t1").Replace(op.Path)
		route, _, err := c.findRoute(httptest.NewRequest(op.Method, path, nil))
		if assert.NoError(t, err, op.String()) {
			assert.Equal(t, op.OperationID, route.Operation.OperationID, op.String())
		}
	}
}

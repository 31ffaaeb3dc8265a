package tools

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/certs"
)

func newTestHTTP(t *testing.T, ready error) http.Handler {
	t.Helper()
	auth, err := NewAuthenticator([]Token{{Name: "alice", SHA256: HashToken("s3cret"), IdentityID: "id-alice", Role: certs.RoleAdmin}})
	require.NoError(t, err)
	s, _ := setup(t, testConfig{})
	h, err := NewHTTPHandler(s, HTTPOptions{
		Auth:         auth,
		AllowedHosts: DefaultAllowedHosts("127.0.0.1:8080"),
		MaxBodyBytes: 4096,
		Ready:        func(context.Context) error { return ready },
		Logger:       quietLogger(),
	})
	require.NoError(t, err)
	return h
}

const listToolsBody = `{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}`

func mcpRequest(body string, mod func(r *http.Request)) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "http://127.0.0.1:8080/mcp", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Accept", "application/json, text/event-stream")
	r.Header.Set("Authorization", "Bearer s3cret")
	r.Header.Set("Mcp-Protocol-Version", "2026-07-28")
	r.Header.Set("Mcp-Method", "tools/list")
	r.RemoteAddr = "127.0.0.1:50000"
	if mod != nil {
		mod(r)
	}
	return r
}

func TestHTTPGuard(t *testing.T) {
	h := newTestHTTP(t, nil)
	serve := func(r *http.Request) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	t.Run("a valid token lists tools", func(t *testing.T) {
		w := serve(mcpRequest(listToolsBody, nil))
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		assert.Contains(t, w.Body.String(), "list_certifications")
	})
	t.Run("no token is 401 with a Bearer challenge", func(t *testing.T) {
		w := serve(mcpRequest(listToolsBody, func(r *http.Request) { r.Header.Del("Authorization") }))
		assert.Equal(t, http.StatusUnauthorized, w.Code)
		assert.Equal(t, `Bearer realm="certops"`, w.Header().Get("WWW-Authenticate"))
	})
	t.Run("a wrong token is 401 invalid_token", func(t *testing.T) {
		w := serve(mcpRequest(listToolsBody, func(r *http.Request) { r.Header.Set("Authorization", "Bearer guess") }))
		assert.Equal(t, http.StatusUnauthorized, w.Code)
		assert.Contains(t, w.Header().Get("WWW-Authenticate"), `error="invalid_token"`)
	})
	t.Run("another scheme is 401", func(t *testing.T) {
		w := serve(mcpRequest(listToolsBody, func(r *http.Request) { r.Header.Set("Authorization", "Basic czNjcmV0") }))
		assert.Equal(t, http.StatusUnauthorized, w.Code)
	})
	t.Run("a foreign Host is 403 (DNS rebinding)", func(t *testing.T) {
		w := serve(mcpRequest(listToolsBody, func(r *http.Request) { r.Host = "evil.example:8080" }))
		assert.Equal(t, http.StatusForbidden, w.Code)
	})
	t.Run("a foreign Origin is 403", func(t *testing.T) {
		w := serve(mcpRequest(listToolsBody, func(r *http.Request) { r.Header.Set("Origin", "https://evil.example") }))
		assert.Equal(t, http.StatusForbidden, w.Code)
	})
	t.Run("a null Origin is 403", func(t *testing.T) {
		w := serve(mcpRequest(listToolsBody, func(r *http.Request) { r.Header.Set("Origin", "null") }))
		assert.Equal(t, http.StatusForbidden, w.Code)
	})
	t.Run("a loopback Origin is accepted", func(t *testing.T) {
		w := serve(mcpRequest(listToolsBody, func(r *http.Request) { r.Header.Set("Origin", "http://localhost:6274") }))
		assert.Equal(t, http.StatusOK, w.Code, w.Body.String())
	})
	t.Run("localhost with a port is an allowed Host", func(t *testing.T) {
		w := serve(mcpRequest(listToolsBody, func(r *http.Request) { r.Host = "localhost:8080" }))
		assert.Equal(t, http.StatusOK, w.Code, w.Body.String())
	})
	t.Run("an oversized body is 413", func(t *testing.T) {
		w := serve(mcpRequest(`{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"x":"`+strings.Repeat("a", 5000)+`"}}`, nil))
		assert.Equal(t, http.StatusRequestEntityTooLarge, w.Code)
	})
	t.Run("an oversized body without Content-Length is 413", func(t *testing.T) {
		w := serve(mcpRequest(`{"x":"`+strings.Repeat("a", 5000)+`"}`, func(r *http.Request) { r.ContentLength = -1 }))
		assert.Equal(t, http.StatusRequestEntityTooLarge, w.Code)
	})
	t.Run("healthz needs no token", func(t *testing.T) {
		w := serve(httptest.NewRequest(http.MethodGet, "/healthz", nil))
		assert.Equal(t, http.StatusOK, w.Code)
	})
	t.Run("readyz", func(t *testing.T) {
		w := serve(httptest.NewRequest(http.MethodGet, "/readyz", nil))
		assert.Equal(t, http.StatusOK, w.Code)
		w = httptest.NewRecorder()
		newTestHTTP(t, errors.New("db down")).ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/readyz", nil))
		assert.Equal(t, http.StatusServiceUnavailable, w.Code)
		assert.NotContains(t, w.Body.String(), "db down")
	})
}

func TestNewHTTPHandlerRefusesUnsafeConfig(t *testing.T) {
	s, _ := setup(t, testConfig{})
	auth, err := NewAuthenticator([]Token{{Name: "a", SHA256: HashToken("x"), Role: certs.RoleAdmin}})
	require.NoError(t, err)
	_, err = NewHTTPHandler(s, HTTPOptions{Auth: &Authenticator{}, AllowedHosts: []string{"localhost"}})
	assert.Error(t, err, "no tokens")
	_, err = NewHTTPHandler(s, HTTPOptions{Auth: auth, AllowedHosts: DefaultAllowedHosts("0.0.0.0:8080")})
	assert.Error(t, err, "no allowed hosts on a public listener")
	_, err = NewHTTPHandler(s, HTTPOptions{Auth: auth, AllowedHosts: []string{"mcp.example.com"}, AllowedOrigins: []string{"mcp.example.com"}})
	assert.Error(t, err, "an origin without a scheme")
}

func TestHostAllowed(t *testing.T) {
	allowed := []string{"localhost", "127.0.0.1", "::1", "mcp.example.com:443"}
	for host, want := range map[string]bool{
		"localhost": true, "LOCALHOST:8080": true, "127.0.0.1:1234": true, "[::1]:8080": true,
		"mcp.example.com:443": true, "mcp.example.com": false, "evil.example": false, "127.0.0.2": false,
	} {
		assert.Equal(t, want, hostAllowed(host, allowed), host)
	}
}

func TestHTTPCORSForConfiguredOrigins(t *testing.T) {
	auth, err := NewAuthenticator([]Token{{Name: "alice", SHA256: HashToken("s3cret"), Role: certs.RoleAdmin}})
	require.NoError(t, err)
	s, _ := setup(t, testConfig{})
	h, err := NewHTTPHandler(s, HTTPOptions{
		Auth: auth, AllowedHosts: []string{"mcp.example.com"}, AllowedOrigins: []string{"https://app.example.com"}, Logger: quietLogger(),
	})
	require.NoError(t, err)

	pre := httptest.NewRequest(http.MethodOptions, "https://mcp.example.com/mcp", nil)
	pre.Header.Set("Origin", "https://app.example.com")
	pre.Header.Set("Access-Control-Request-Method", "POST")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, pre)
	assert.Equal(t, http.StatusNoContent, w.Code)
	assert.Equal(t, "https://app.example.com", w.Header().Get("Access-Control-Allow-Origin"))
	assert.Contains(t, w.Header().Get("Access-Control-Allow-Headers"), "Authorization")

	r := mcpRequest(listToolsBody, func(r *http.Request) {
		r.Host = "mcp.example.com"
		r.Header.Set("Origin", "https://app.example.com")
	})
	w = httptest.NewRecorder()
	h.ServeHTTP(w, r)
	assert.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.Equal(t, "https://app.example.com", w.Header().Get("Access-Control-Allow-Origin"))

	pre.Header.Set("Origin", "https://evil.example")
	w = httptest.NewRecorder()
	h.ServeHTTP(w, pre)
	assert.Equal(t, http.StatusForbidden, w.Code, "a preflight from another origin is refused")

	// The 401s too: a browser client reads the challenge.
	for _, token := range []string{"", "wrong"} {
		r = mcpRequest(listToolsBody, func(r *http.Request) {
			r.Host = "mcp.example.com"
			r.Header.Set("Origin", "https://app.example.com")
			r.Header.Del("Authorization")
			if token != "" {
				r.Header.Set("Authorization", "Bearer "+token)
			}
		})
		w = httptest.NewRecorder()
		h.ServeHTTP(w, r)
		assert.Equal(t, http.StatusUnauthorized, w.Code)
		assert.Equal(t, "https://app.example.com", w.Header().Get("Access-Control-Allow-Origin"), "token %q", token)
		assert.Contains(t, w.Header().Get("Access-Control-Expose-Headers"), "WWW-Authenticate")
		assert.NotEmpty(t, w.Header().Get("WWW-Authenticate"))
	}
}

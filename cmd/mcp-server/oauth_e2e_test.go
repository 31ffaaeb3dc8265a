package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/modelcontextprotocol/go-sdk/oauthex"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/sandbox"
)

// clientRedirect is the MCP client's own redirect URI; nothing serves it:
// the browser stops there and hands code and state to the SDK.
const clientRedirect = "http://127.0.0.1:9/callback"

var loginField = regexp.MustCompile(`name="login" value="([^"]+)"`)

// oauthWorld is mcp-server --http --sandbox with CERTOPS_IDENTITY=oauth,
// and every secret the clients saw (none may be logged).
type oauthWorld struct {
	t    testing.TB
	mu   sync.Mutex
	ids  []string // client ids registered, in order
	srv  *httpServer
	base string // http://127.0.0.1:port
	seen *seenSecrets
}

type seenSecrets struct {
	mu   sync.Mutex
	vals []string
}

func (s *seenSecrets) add(vs ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, v := range vs {
		if len(v) >= 8 {
			s.vals = append(s.vals, v)
		}
	}
}

func (s *seenSecrets) all() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.vals...)
}

// recorder notes the tokens, codes and verifiers an HTTP client sends and
// receives.
type recorder struct {
	seen *seenSecrets
	next http.RoundTripper
	w    *oauthWorld
}

func (r recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	if a := req.Header.Get("Authorization"); strings.HasPrefix(a, "Bearer ") {
		r.seen.add(strings.TrimPrefix(a, "Bearer "))
	}
	if req.Body != nil && req.Method == http.MethodPost && !strings.HasSuffix(req.URL.Path, "/mcp") {
		b, _ := io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(b))
		if f, err := url.ParseQuery(string(b)); err == nil {
			r.seen.add(f.Get("code"), f.Get("code_verifier"), f.Get("refresh_token"), f.Get("token"))
		}
	}
	res, err := r.next.RoundTrip(req)
	if err == nil && req.URL.Path == "/oauth/register" && r.w != nil {
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		res.Body = io.NopCloser(bytes.NewReader(b))
		var reg struct {
			ClientID string `json:"client_id"`
		}
		_ = json.Unmarshal(b, &reg)
		r.w.mu.Lock()
		r.w.ids = append(r.w.ids, reg.ClientID)
		r.w.mu.Unlock()
	}
	if err != nil || req.URL.Path != "/oauth/token" {
		return res, err
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	res.Body = io.NopCloser(bytes.NewReader(b))
	var tok struct{ AccessToken, RefreshToken string }
	_ = json.Unmarshal(b, &struct {
		A *string `json:"access_token"`
		R *string `json:"refresh_token"`
	}{&tok.AccessToken, &tok.RefreshToken})
	r.seen.add(tok.AccessToken, tok.RefreshToken)
	return res, nil
}

func freePort(t testing.TB) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	require.NoError(t, ln.Close())
	return port
}

func startOAuth(t testing.TB) *oauthWorld {
	port := freePort(t)
	base := "http://127.0.0.1:" + port
	t.Setenv("CERTOPS_IDENTITY", "oauth")
	t.Setenv("CERTOPS_OAUTH_REDIRECT_URL", base+"/oauth/callback")
	t.Setenv("CERTOPS_MCP_ALLOWED_ORIGINS", "https://app.example.com")
	t.Setenv("CERTOPS_LOG_LEVEL", "debug")
	w := &oauthWorld{t: t, srv: startHTTP(t, "--http", "127.0.0.1:"+port), base: base, seen: &seenSecrets{}}
	t.Cleanup(w.checkLogs)
	return w
}

func (w *oauthWorld) checkLogs() {
	logs := w.srv.Logs.String()
	seen := w.seen.all()
	assert.GreaterOrEqual(w.t, len(seen), 6, "tokens, codes and verifiers were seen")
	for _, s := range seen {
		if strings.Contains(logs, s) {
			w.t.Errorf("a secret (%d chars, starting %q) was logged", len(s), s[:4])
		}
	}
}

func (w *oauthWorld) httpClient() *http.Client {
	return &http.Client{Transport: recorder{seen: w.seen, next: http.DefaultTransport, w: w}, Timeout: 30 * time.Second}
}

func (w *oauthWorld) clients() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	require.Len(w.t, w.ids, 2, "two clients registered")
	return append([]string(nil), w.ids...)
}

func s256(verifier string) string {
	h := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(h[:])
}

// browse is the person's browser: certops's /oauth/authorize → ISC's
// (the sandbox's) login page → certops's callback → the client's redirect
// URI, whose query it returns.
func (w *oauthWorld) browse(authURL string, p sandbox.Person) url.Values {
	return w.browseFrom(authURL, p)
}

func (w *oauthWorld) browseFrom(authURL string, p sandbox.Person) url.Values {
	t := w.t
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	b := &http.Client{Jar: jar, Transport: recorder{seen: w.seen, next: http.DefaultTransport}, CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		if strings.HasPrefix(req.URL.String(), clientRedirect) {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	res, err := b.Get(authURL)
	require.NoError(t, err)
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode, "ISC's login page: %s", page)
	m := loginField.FindSubmatch(page)
	require.NotNil(t, m, "a login form: %s", page)
	res, err = b.PostForm(w.srv.SandboxURL+"/oauth/login", url.Values{"login": {string(m[1])}, "username": {p.Username}, "password": {p.Password}, "action": {"sign-in"}})
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusFound, res.StatusCode)
	u, err := url.Parse(res.Header.Get("Location"))
	require.NoError(t, err)
	require.Equal(t, clientRedirect, u.Scheme+"://"+u.Host+u.Path)
	w.seen.add(u.Query().Get("code"), u.Query().Get("state"))
	return u.Query()
}

// connect is an MCP client with the go-sdk's OAuth (discovery from the 401,
// dynamic client registration, PKCE, resource), signed in as p.
func (w *oauthWorld) connect(p sandbox.Person) (*mcp.ClientSession, *auth.AuthorizationCodeHandler) {
	t := w.t
	h, err := auth.NewAuthorizationCodeHandler(&auth.AuthorizationCodeHandlerConfig{
		DynamicClientRegistrationConfig: &auth.DynamicClientRegistrationConfig{Metadata: &oauthex.ClientRegistrationMetadata{
			RedirectURIs: []string{clientRedirect}, ClientName: "certops-e2e", TokenEndpointAuthMethod: "none",
			GrantTypes: []string{"authorization_code", "refresh_token"},
		}},
		RequestRefreshToken: true,
		Client:              w.httpClient(),
		AuthorizationCodeFetcher: func(_ context.Context, a *auth.AuthorizationArgs) (*auth.AuthorizationResult, error) {
			q := w.browse(a.URL, p)
			return &auth.AuthorizationResult{Code: q.Get("code"), State: q.Get("state"), Iss: q.Get("iss")}, nil
		},
	})
	require.NoError(t, err)
	transport := &mcp.StreamableClientTransport{Endpoint: w.srv.URL, HTTPClient: w.httpClient(), OAuthHandler: h, MaxRetries: -1}
	cs, err := newClient(clientOptions{}).Connect(t.Context(), transport, nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = cs.Close() })
	return cs, h
}

// reviewers are two people of the sandbox who review open certifications,
// and the certifications each reviews.
func (w *oauthWorld) reviewers() ([]sandbox.Person, map[string][]string) {
	t := w.t
	res, err := http.PostForm(w.srv.SandboxURL+"/oauth/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {sandbox.AdminClientID}, "client_secret": {sandbox.AdminClientSecret}})
	require.NoError(t, err)
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	require.NoError(t, json.NewDecoder(res.Body).Decode(&tok))
	res.Body.Close()
	req, _ := http.NewRequest(http.MethodGet, w.srv.SandboxURL+"/v3/certifications?limit=250", nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	res, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	var certsList []struct {
		ID       string `json:"id"`
		Reviewer struct {
			ID string `json:"id"`
		} `json:"reviewer"`
		Completed bool `json:"completed"`
	}
	require.NoError(t, json.NewDecoder(res.Body).Decode(&certsList))
	res.Body.Close()
	byReviewer := map[string][]string{}
	for _, c := range certsList {
		if !c.Completed {
			byReviewer[c.Reviewer.ID] = append(byReviewer[c.Reviewer.ID], c.ID)
		}
	}
	res, err = http.Get(w.srv.SandboxURL + "/_sandbox/people")
	require.NoError(t, err)
	var people []sandbox.Person
	require.NoError(t, json.NewDecoder(res.Body).Decode(&people))
	res.Body.Close()
	var out []sandbox.Person
	for _, p := range people {
		if p.Role != sandbox.RoleAdmin && len(byReviewer[p.IdentityID]) > 0 {
			out = append(out, p)
		}
	}
	require.GreaterOrEqual(t, len(out), 2, "two reviewers with open certifications")
	return out[:2], byReviewer
}

func tokenPost(t *testing.T, c *http.Client, endpoint string, form url.Values) (int, map[string]any) {
	t.Helper()
	res, err := c.PostForm(endpoint, form)
	require.NoError(t, err)
	defer res.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(res.Body).Decode(&body)
	return res.StatusCode, body
}

func mcpStatus(t *testing.T, c *http.Client, endpoint, token string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"probe","version":"1"}}}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := c.Do(req)
	require.NoError(t, err)
	res.Body.Close()
	return res.StatusCode
}

// TestOAuthEndToEnd: an independent client (the go-sdk's OAuth) discovers
// certops's authorization server from a 401, registers, signs a reviewer in
// through ISC (the sandbox's login page) and calls tools as them; reviewer
// A cannot see or change B's work; refresh rotates, a reused refresh token
// revokes the grant, revocation ends a token; nothing secret is logged.
func TestOAuthEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("end to end")
	}
	w := startOAuth(t)
	hc := w.httpClient()

	// Discovery: the 401 names the metadata, CORS for an allowed origin.
	req, _ := http.NewRequest(http.MethodPost, w.srv.URL, strings.NewReader(`{}`))
	req.Header.Set("Origin", "https://app.example.com")
	res, err := hc.Do(req)
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusUnauthorized, res.StatusCode)
	assert.Contains(t, res.Header.Get("WWW-Authenticate"), `resource_metadata="`+w.base+`/.well-known/oauth-protected-resource/mcp"`)
	assert.Equal(t, "https://app.example.com", res.Header.Get("Access-Control-Allow-Origin"))
	req, _ = http.NewRequest(http.MethodGet, w.base+"/.well-known/oauth-protected-resource/mcp", nil)
	req.Header.Set("Origin", "https://app.example.com")
	res, err = hc.Do(req)
	require.NoError(t, err)
	var prm oauthex.ProtectedResourceMetadata
	require.NoError(t, json.NewDecoder(res.Body).Decode(&prm))
	res.Body.Close()
	assert.Equal(t, w.base+"/mcp", prm.Resource)
	assert.Equal(t, []string{w.base}, prm.AuthorizationServers)
	assert.Equal(t, "https://app.example.com", res.Header.Get("Access-Control-Allow-Origin"))

	people, byReviewer := w.reviewers()
	a, b := people[0], people[1]
	csA, hA := w.connect(a)
	csB, hB := w.connect(b)

	// A's calls run as A: ISC shows them their own certifications only.
	listed := call(t, csA, "list_certifications", map[string]any{})
	require.False(t, listed.IsError)
	rows := list(ok(t, listed), "certifications")
	require.NotEmpty(t, rows)
	for _, r := range rows {
		assert.Equal(t, a.IdentityID, str(r, "reviewer", "id"))
	}
	// B's certification, whatever A passes.
	bCert := byReviewer[b.IdentityID][0]
	r := call(t, csA, "get_certification", map[string]any{"certification_id": bCert})
	assert.True(t, r.IsError, "A reads B's certification")
	r = call(t, csA, "list_certifications", map[string]any{"reviewer": b.IdentityID})
	if !r.IsError {
		assert.Empty(t, list(ok(t, r), "certifications"), "A lists B's certifications")
	}
	r = call(t, csA, "plan_decisions", map[string]any{"certification_id": bCert, "select": map[string]any{"decision": "APPROVE"}})
	assert.True(t, r.IsError, "A plans decisions on B's certification")
	r = call(t, csB, "get_certification", map[string]any{"certification_id": bCert})
	assert.False(t, r.IsError, "B reads their own")

	// Refresh rotates; the spent refresh token, presented again, revokes.
	ts, err := hA.TokenSource(t.Context())
	require.NoError(t, err)
	tok, err := ts.Token()
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(tok.AccessToken, "cat_"))
	require.NotEmpty(t, tok.RefreshToken)
	idA, idB := w.clients()[0], w.clients()[1]
	status, body := tokenPost(t, hc, w.base+"/oauth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}, "client_id": {idB}})
	require.Equal(t, http.StatusBadRequest, status, "another client's refresh token: %v", body)
	status, body = tokenPost(t, hc, w.base+"/oauth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}, "client_id": {idA}, "resource": {w.base + "/mcp"}})
	require.Equal(t, http.StatusOK, status, "%v", body)
	fresh, _ := body["access_token"].(string)
	require.NotEqual(t, tok.RefreshToken, body["refresh_token"], "rotated")
	assert.Equal(t, http.StatusOK, mcpStatus(t, hc, w.srv.URL, fresh))
	status, body = tokenPost(t, hc, w.base+"/oauth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}, "client_id": {idA}})
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Equal(t, "invalid_grant", body["error"])
	assert.Equal(t, http.StatusUnauthorized, mcpStatus(t, hc, w.srv.URL, fresh), "reuse revoked the grant's tokens")
	assert.Equal(t, http.StatusUnauthorized, mcpStatus(t, hc, w.srv.URL, tok.AccessToken))

	// Revocation (RFC 7009) ends B's token.
	tsB, err := hB.TokenSource(t.Context())
	require.NoError(t, err)
	tokB, err := tsB.Token()
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, mcpStatus(t, hc, w.srv.URL, tokB.AccessToken))
	status, _ = tokenPost(t, hc, w.base+"/oauth/revoke", url.Values{"token": {tokB.RefreshToken}, "client_id": {idB}})
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, http.StatusUnauthorized, mcpStatus(t, hc, w.srv.URL, tokB.AccessToken))

	// Failures: an unregistered redirect URI, no PKCE, a wrong verifier, a
	// reused code.
	res, err = hc.Get(w.base + "/oauth/authorize?" + url.Values{"response_type": {"code"}, "client_id": {idA}, "redirect_uri": {"http://127.0.0.1:9/other"},
		"code_challenge": {strings.Repeat("a", 43)}, "code_challenge_method": {"S256"}}.Encode())
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusBadRequest, res.StatusCode, "never redirected to an unregistered URI")
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err = noRedirect.Get(w.base + "/oauth/authorize?" + url.Values{"response_type": {"code"}, "client_id": {idA}, "redirect_uri": {clientRedirect}, "state": {"s1"}}.Encode())
	require.NoError(t, err)
	res.Body.Close()
	loc, _ := url.Parse(res.Header.Get("Location"))
	assert.Equal(t, "invalid_request", loc.Query().Get("error"), "PKCE is required")
	verifier := strings.Repeat("v", 50)
	q := w.browseFrom(w.base+"/oauth/authorize?"+url.Values{"response_type": {"code"}, "client_id": {idA}, "redirect_uri": {clientRedirect}, "state": {"s2"},
		"code_challenge": {s256(verifier)}, "code_challenge_method": {"S256"}, "resource": {w.base + "/mcp"}}.Encode(), a)
	assert.Equal(t, "s2", q.Get("state"))
	assert.Equal(t, w.base, q.Get("iss"))
	status, body = tokenPost(t, hc, w.base+"/oauth/token", url.Values{"grant_type": {"authorization_code"}, "code": {q.Get("code")}, "client_id": {idA}, "redirect_uri": {clientRedirect}, "code_verifier": {strings.Repeat("w", 50)}})
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Equal(t, "invalid_grant", body["error"])
	status, _ = tokenPost(t, hc, w.base+"/oauth/token", url.Values{"grant_type": {"authorization_code"}, "code": {q.Get("code")}, "client_id": {idA}, "redirect_uri": {clientRedirect}, "code_verifier": {verifier}})
	assert.Equal(t, http.StatusBadRequest, status, "a code works once, even after a failed attempt")
}

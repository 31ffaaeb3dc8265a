package mcpauth_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/mcpauth"
	"github.com/certops/certops/internal/signin"
)

// fakeSignIn sends the browser to a fake ISC that is never visited.
type fakeSignIn struct{ bindings []string }

func (f *fakeSignIn) Start(_ context.Context, binding string) (string, error) {
	f.bindings = append(f.bindings, binding)
	return "https://isc.example/oauth/authorize?state=x", nil
}
func (f *fakeSignIn) Complete(context.Context, string, string, string) (*signin.Result, error) {
	return &signin.Result{IdentityID: "id1"}, nil
}
func (f *fakeSignIn) SignedIn(context.Context, string) (bool, error) { return true, nil }
func (f *fakeSignIn) Bind(ctx context.Context, _ string) (context.Context, error) {
	return ctx, nil
}

// TestClientIDMetadataDocument: an https client_id is fetched, must name
// itself, and its redirect URIs are matched exactly.
func TestClientIDMetadataDocument(t *testing.T) {
	var docURL string
	doc := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := docURL
		if r.URL.Path == "/liar.json" {
			id = "https://other.example/client.json"
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"client_id": id, "client_name": "app", "redirect_uris": []string{"http://127.0.0.1:7/cb"}, "token_endpoint_auth_method": "none"})
	}))
	defer doc.Close()
	docURL = doc.URL + "/client.json"
	fs := &fakeSignIn{}
	s, err := mcpauth.New(mcpauth.Config{Issuer: "http://127.0.0.1:8080", Resource: "http://127.0.0.1:8080/mcp", CallbackPath: "/oauth/callback",
		SignIn: fs, MetadataClient: doc.Client()})
	require.NoError(t, err)
	mux := http.NewServeMux()
	s.Routes(mux, func(_ string, h http.Handler) http.Handler { return h })

	authorize := func(clientID, redirect string) *httptest.ResponseRecorder {
		q := url.Values{"response_type": {"code"}, "client_id": {clientID}, "redirect_uri": {redirect}, "state": {"st"},
			"code_challenge": {strings.Repeat("c", 43)}, "code_challenge_method": {"S256"}, "resource": {"http://127.0.0.1:8080/mcp"}}
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "http://127.0.0.1:8080/oauth/authorize?"+q.Encode(), nil))
		return w
	}
	w := authorize(docURL, "http://127.0.0.1:7/cb")
	require.Equal(t, http.StatusFound, w.Code, w.Body.String())
	assert.True(t, strings.HasPrefix(w.Header().Get("Location"), "https://isc.example/"), "to ISC")
	require.Len(t, fs.bindings, 1)
	assert.NotEmpty(t, w.Result().Cookies(), "bound to this browser")

	assert.Equal(t, http.StatusBadRequest, authorize(docURL, "http://127.0.0.1:7/cb/").Code, "redirect URIs match exactly")
	assert.Equal(t, http.StatusBadRequest, authorize(doc.URL+"/liar.json", "http://127.0.0.1:7/cb").Code, "a document naming another client")
	assert.Equal(t, http.StatusBadRequest, authorize("unknown", "http://127.0.0.1:7/cb").Code)
	assert.Len(t, fs.bindings, 1)

	// The default fetcher refuses loopback and private addresses (SSRF).
	s2, err := mcpauth.New(mcpauth.Config{Issuer: "http://127.0.0.1:8080", Resource: "http://127.0.0.1:8080/mcp", CallbackPath: "/oauth/callback", SignIn: fs})
	require.NoError(t, err)
	mux2 := http.NewServeMux()
	s2.Routes(mux2, func(_ string, h http.Handler) http.Handler { return h })
	q := url.Values{"response_type": {"code"}, "client_id": {docURL}, "redirect_uri": {"http://127.0.0.1:7/cb"}}
	w = httptest.NewRecorder()
	mux2.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "http://127.0.0.1:8080/oauth/authorize?"+q.Encode(), nil))
	assert.Equal(t, http.StatusBadRequest, w.Code)

	_, err = mcpauth.New(mcpauth.Config{Issuer: "http://certops.example", Resource: "http://certops.example/mcp", CallbackPath: "/cb", SignIn: fs})
	assert.Error(t, err, "https except on loopback")
}

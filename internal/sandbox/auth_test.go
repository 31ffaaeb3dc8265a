package sandbox_test

import (
	"bytes"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/sandbox"
	"github.com/certops/certops/internal/testkit"
)

type tokenBody struct {
	AccessToken      string `json:"access_token"`
	TokenType        string `json:"token_type"`
	RefreshToken     string `json:"refresh_token"`
	ExpiresIn        int    `json:"expires_in"`
	Scope            string `json:"scope"`
	AccessType       string `json:"accessType"`
	TenantID         string `json:"tenant_id"`
	IdentityID       string `json:"identity_id"`
	UserName         string `json:"user_name"`
	ClientID         string `json:"client_id"`
	JTI              string `json:"jti"`
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
}

func postToken(t *testing.T, req *http.Request) (int, tokenBody) {
	t.Helper()
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	var body tokenBody
	require.NoError(t, json.NewDecoder(res.Body).Decode(&body))
	return res.StatusCode, body
}

func TestTokenRequestForms(t *testing.T) {
	tn := start(t, sandbox.Config{})
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {sandbox.AdminClientID}, "client_secret": {sandbox.AdminClientSecret}}
	multipartBody := func(grant string) (*bytes.Buffer, string) {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		_ = mw.WriteField("grant_type", grant)
		_ = mw.WriteField("client_id", sandbox.AdminClientID)
		_ = mw.WriteField("client_secret", sandbox.AdminClientSecret)
		_ = mw.Close()
		return &buf, mw.FormDataContentType()
	}
	tests := []struct {
		name string
		req  func() *http.Request
	}{
		{"urlencoded", func() *http.Request {
			r, _ := http.NewRequest("POST", tn.url+"/oauth/token", strings.NewReader(form.Encode()))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			return r
		}},
		{"multipart", func() *http.Request {
			body, ct := multipartBody("client_credentials")
			r, _ := http.NewRequest("POST", tn.url+"/oauth/token", body)
			r.Header.Set("Content-Type", ct)
			return r
		}},
		{"query parameters", func() *http.Request {
			r, _ := http.NewRequest("POST", tn.url+"/oauth/token?"+form.Encode(), nil)
			return r
		}},
		{"upper-case grant type as in the docs' table", func() *http.Request {
			body, ct := multipartBody("CLIENT_CREDENTIALS")
			r, _ := http.NewRequest("POST", tn.url+"/oauth/token", body)
			r.Header.Set("Content-Type", ct)
			return r
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := postToken(t, tt.req())
			require.Equal(t, http.StatusOK, status)
			assert.Equal(t, "bearer", body.TokenType)
			assert.Equal(t, 749, body.ExpiresIn)
			assert.Equal(t, "sp:scopes:all", body.Scope)
			assert.NotEmpty(t, body.TenantID)
			assert.NotEmpty(t, body.JTI)
			assert.Len(t, strings.Split(body.AccessToken, "."), 3, "JWT-shaped")
			res := tn.do(body.AccessToken, "GET", "/v3/certifications?limit=1", nil)
			assert.Equal(t, http.StatusOK, res.Status)
		})
	}
}

func TestTokenBadClient(t *testing.T) {
	tn := start(t, sandbox.Config{})
	for name, form := range map[string]url.Values{
		"wrong secret":   {"grant_type": {"client_credentials"}, "client_id": {sandbox.AdminClientID}, "client_secret": {"nope"}},
		"unknown client": {"grant_type": {"client_credentials"}, "client_id": {"who"}, "client_secret": {"x"}},
	} {
		t.Run(name, func(t *testing.T) {
			res, err := http.PostForm(tn.url+"/oauth/token", form)
			require.NoError(t, err)
			defer res.Body.Close()
			assert.Equal(t, http.StatusUnauthorized, res.StatusCode)
			var body tokenBody
			require.NoError(t, json.NewDecoder(res.Body).Decode(&body))
			assert.Equal(t, "invalid_client", body.Error)
		})
	}
	res, err := http.PostForm(tn.url+"/oauth/token", url.Values{"grant_type": {"password"}, "client_id": {sandbox.AdminClientID}, "client_secret": {sandbox.AdminClientSecret}})
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusBadRequest, res.StatusCode)
}

func newClock() *testkit.Clock { return testkit.NewClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)) }

func TestBearerTokens(t *testing.T) {
	clk := newClock()
	tn := start(t, sandbox.Config{Now: clk.Now})
	tok := tn.token(sandbox.AdminClientID)

	errorOf := func(res *response) string {
		var body struct {
			Error string `json:"error"`
		}
		res.decode(t, &body)
		return body.Error
	}
	res := tn.do("", "GET", "/v3/certifications", nil)
	assert.Equal(t, http.StatusUnauthorized, res.Status)
	assert.NotEmpty(t, errorOf(res))

	res = tn.do("not-a-token", "GET", "/v3/certifications", nil)
	assert.Equal(t, http.StatusUnauthorized, res.Status)
	assert.Contains(t, errorOf(res), "JWT validation failed")

	clk.Advance(748 * time.Second)
	assert.Equal(t, http.StatusOK, tn.do(tok, "GET", "/v3/certifications?limit=1", nil).Status)
	clk.Advance(2 * time.Second)
	res = tn.do(tok, "GET", "/v3/certifications?limit=1", nil)
	assert.Equal(t, http.StatusUnauthorized, res.Status)
	assert.Equal(t, "JWT validation failed: JWT is expired", errorOf(res))
}

func TestReviewerVisibility(t *testing.T) {
	tn := start(t, sandbox.Config{})
	rev := tn.cred("sandbox-reviewer-1")
	other := tn.cred("sandbox-reviewer-2")

	for _, path := range []string{"/v3/certifications", "/v3/certifications?reviewer-identity=me", "/certifications/v1?reviewer-identity=me"} {
		res := tn.as(rev.ClientID, "GET", path, nil)
		require.Equal(t, http.StatusOK, res.Status)
		var certs []certDto
		res.decode(t, &certs)
		require.NotEmpty(t, certs, path)
		for _, c := range certs {
			assert.Equal(t, rev.IdentityID, c.Reviewer.ID, path)
		}
	}
	// A reviewer asking for another reviewer's certifications sees none.
	var certs []certDto
	tn.as(rev.ClientID, "GET", "/v3/certifications?reviewer-identity="+other.IdentityID, nil).decode(t, &certs)
	assert.Empty(t, certs)
	// The admin's "me" is its own identity, which reviews nothing.
	tn.admin("GET", "/v3/certifications?reviewer-identity=me", nil).decode(t, &certs)
	assert.Empty(t, certs)

	// Another reviewer's certification: 403 to read, list items or reassign.
	var theirs []certDto
	tn.as(other.ClientID, "GET", "/v3/certifications?filters="+q(`phase eq "ACTIVE"`), nil).decode(t, &theirs)
	require.NotEmpty(t, theirs)
	id := theirs[0].ID
	for _, call := range []struct{ method, path string }{
		{"GET", "/v3/certifications/" + id},
		{"GET", "/v3/certifications/" + id + "/access-review-items"},
		{"GET", "/beta/certifications/" + id + "/reviewers"},
		{"POST", "/v3/certifications/" + id + "/reassign"},
	} {
		var body any
		if call.method == "POST" {
			body = map[string]any{"reassign": []map[string]string{{"id": "x", "type": "ITEM"}}, "reassignTo": rev.IdentityID, "reason": "r"}
		}
		res := tn.as(rev.ClientID, call.method, call.path, body)
		assert.Equal(t, http.StatusForbidden, res.Status, "%s %s", call.method, call.path)
		var e errorBody
		res.decode(t, &e)
		assert.Equal(t, "403 Forbidden", e.DetailCode)
	}
}

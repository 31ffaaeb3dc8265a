package sandbox_test

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/sandbox"
	"github.com/certops/certops/internal/testkit"
)

// The whole flow: a reviewer signs in through certops's client, the code
// becomes tokens, the API answers as the reviewer, and the refresh token
// rotates.
func TestAuthorizationCodeFlow(t *testing.T) {
	clk := newClock()
	tn := start(t, sandbox.Config{Now: clk.Now})
	reviewer := tn.person(tn.cred("sandbox-reviewer-1").IdentityID)
	assert.Equal(t, sandbox.RoleReviewer, reviewer.Role)

	a := newAuthz(sandbox.CertopsClientID)
	b := tn.browser()
	page := b.openLogin(a)
	body := string(page.Body)
	assert.Contains(t, body, "<form method=\"post\" action=\"login\">")
	assert.Contains(t, body, "certops")
	assert.NotContains(t, body, "<script")
	assert.NotContains(t, body, a.state, "the state stays on the server")
	csp := page.Header.Get("Content-Security-Policy")
	assert.Contains(t, csp, "default-src 'none'")
	assert.Contains(t, csp, "form-action 'self' http://127.0.0.1:8080;")
	assert.Contains(t, csp, "frame-ancestors 'none'")
	assert.NotContains(t, csp, "unsafe")
	assert.NotContains(t, csp, "script-src")
	assert.Equal(t, "no-store", page.Header.Get("Cache-Control"))
	assert.Equal(t, "DENY", page.Header.Get("X-Frame-Options"))
	// The one inline style is the one the CSP allows by its hash.
	style := regexp.MustCompile(`(?s)<style>(.*?)</style>`).FindStringSubmatch(body)
	require.NotNil(t, style)
	sum := sha256.Sum256([]byte(style[1]))
	assert.Contains(t, csp, "style-src 'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"';")
	assert.Equal(t, 1, strings.Count(body, "<style"))
	assert.NotContains(t, body, "style=", "no inline style attributes")

	res := b.submit(page, reviewer.Username, reviewer.Password, "sign-in")
	assert.Equal(t, http.StatusSeeOther, res.Status)
	q := redirected(t, res, testRedirect)
	assert.Equal(t, a.state, q.Get("state"), "state passed through unchanged")
	code := q.Get("code")
	require.NotEmpty(t, code)

	status, tok := tn.redeem(a, code)
	require.Equal(t, http.StatusOK, status, "%+v", tok)
	assert.Equal(t, "bearer", tok.TokenType)
	assert.Equal(t, 749, tok.ExpiresIn)
	assert.Equal(t, "OFFLINE", tok.AccessType)
	assert.Equal(t, "sp:scopes:all", tok.Scope)
	assert.Equal(t, reviewer.IdentityID, tok.IdentityID)
	assert.Equal(t, reviewer.Username, tok.UserName)
	assert.Equal(t, sandbox.CertopsClientID, tok.ClientID)
	assert.Len(t, strings.Split(tok.AccessToken, "."), 3, "JWT-shaped")
	require.NotEmpty(t, tok.RefreshToken)

	// The API answers as the reviewer: their certifications only.
	certs := tn.certsAs(tok.AccessToken, "count=true")
	require.NotEmpty(t, certs)
	for _, c := range certs {
		assert.Equal(t, reviewer.IdentityID, c.Reviewer.ID)
	}
	assert.Equal(t, certs, tn.certsAs(tn.token("sandbox-reviewer-1"), "count=true"), "what the reviewer's own API client sees")

	// Refresh: new tokens, the old refresh token ended.
	clk.Advance(700 * time.Second)
	status, tok2 := tn.refresh(a, tok.RefreshToken)
	require.Equal(t, http.StatusOK, status, "%+v", tok2)
	assert.NotEqual(t, tok.AccessToken, tok2.AccessToken)
	assert.NotEqual(t, tok.RefreshToken, tok2.RefreshToken)
	assert.Equal(t, reviewer.IdentityID, tok2.IdentityID)
	clk.Advance(100 * time.Second)
	assert.Equal(t, http.StatusUnauthorized, tn.do(tok.AccessToken, "GET", "/v3/certifications", nil).Status, "the first access token expired")
	assert.Equal(t, certs, tn.certsAs(tok2.AccessToken, "count=true"))

	st := tn.sb.Stats()
	assert.Equal(t, 1, st.SignIns)
	assert.Equal(t, 2, st.Clients[sandbox.CertopsClientID].Calls, "a refused token is not counted")
	assert.Equal(t, 2, st.Identities[reviewer.IdentityID].Calls-st.Clients["sandbox-reviewer-1"].Calls, "the person's calls, through either client")
}

// A public client: no secret, PKCE only.
func TestAuthorizationCodePublicClient(t *testing.T) {
	tn := start(t, sandbox.Config{Now: newClock().Now})
	p := tn.person(tn.cred("sandbox-reviewer-2").IdentityID)
	a, tok := tn.userTokens(sandbox.PublicClientID, p)
	assert.Equal(t, sandbox.PublicClientID, tok.ClientID)
	status, tok2 := tn.refresh(a, tok.RefreshToken)
	require.Equal(t, http.StatusOK, status, "%+v", tok2)
	for _, c := range tn.certsAs(tok2.AccessToken, "") {
		assert.Equal(t, p.IdentityID, c.Reviewer.ID)
	}
	// A secret sent for a public client is refused.
	status, body, _ := tn.tokenCall(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok2.RefreshToken},
		"client_id": {sandbox.PublicClientID}, "client_secret": {"guess"}})
	assert.Equal(t, http.StatusUnauthorized, status)
	assert.Equal(t, "invalid_client", body.Error)
}

// A user token sees and changes what its identity may, and nothing else.
func TestUserTokenActsAsIdentity(t *testing.T) {
	tn := start(t, sandbox.Config{Now: newClock().Now})
	rev := tn.person(tn.cred("sandbox-reviewer-1").IdentityID)
	other := tn.cred("sandbox-reviewer-2")
	_, tok := tn.userTokens(sandbox.CertopsClientID, rev)

	theirs := tn.certsAs(tn.token(other.ClientID), "filters="+q(`phase eq "ACTIVE"`))
	require.NotEmpty(t, theirs)
	id := theirs[0].ID
	items := tn.items(id, "limit=1")
	require.NotEmpty(t, items)
	for _, call := range []struct {
		method, path string
		body         any
	}{
		{"GET", "/v3/certifications/" + id, nil},
		{"GET", "/certifications/v1/" + id + "/access-review-items", nil},
		{"GET", "/beta/certifications/" + id + "/reviewers", nil},
		{"POST", "/v3/certifications/" + id + "/decide", []map[string]any{{"id": items[0].ID, "decision": "APPROVE", "bulk": false, "comments": "ok"}}},
		{"POST", "/v3/certifications/" + id + "/reassign", map[string]any{"reassign": []map[string]string{{"id": items[0].ID, "type": "ITEM"}}, "reassignTo": rev.IdentityID, "reason": "r"}},
		{"POST", "/v3/certifications/" + id + "/sign-off", nil},
	} {
		res := tn.do(tok.AccessToken, call.method, call.path, call.body)
		assert.Equal(t, http.StatusForbidden, res.Status, "%s %s: %s", call.method, call.path, res.Body)
	}
	assert.Empty(t, tn.certsAs(tok.AccessToken, "reviewer-identity="+other.IdentityID), "another reviewer's, asked by name")
	assert.Empty(t, tn.sb.Decisions(id))

	// The admin identity's token sees every certification, as the admin
	// client does.
	admin := tn.sb.People()[0]
	require.Equal(t, sandbox.RoleAdmin, admin.Role)
	require.Equal(t, tn.cred(sandbox.AdminClientID).IdentityID, admin.IdentityID)
	_, adminTok := tn.userTokens(sandbox.CertopsClientID, admin)
	res := tn.do(adminTok.AccessToken, "GET", "/v3/certifications?count=true", nil)
	require.Equal(t, http.StatusOK, res.Status)
	assert.Equal(t, fmt.Sprint(sandbox.SmallCertifications), res.Header.Get("X-Total-Count"))
	assert.Equal(t, http.StatusOK, tn.do(adminTok.AccessToken, "GET", "/v3/certifications/"+id, nil).Status)
}

// Decisions and reassignments made with a user token name its person: in
// ISC's data where it has a place (an async task's type), and in the
// sandbox's records.
func TestUserTokenActorRecorded(t *testing.T) {
	clk := newClock()
	tn := start(t, sandbox.Config{Now: clk.Now, TaskQueuedFor: time.Second, TaskRunningFor: time.Second})
	rev := tn.person(tn.cred("sandbox-reviewer-1").IdentityID)
	_, tok := tn.userTokens(sandbox.CertopsClientID, rev)

	mine := tn.certsAs(tok.AccessToken, "filters="+q(`phase eq "ACTIVE"`))
	require.NotEmpty(t, mine)
	cert := mine[0].ID
	to := tn.cred("sandbox-reviewer-2").IdentityID
	var items []itemDto
	for _, it := range tn.items(cert, "") {
		if it.IdentitySummary.IdentityID != to { // no one reviews their own access
			items = append(items, it)
		}
	}
	require.GreaterOrEqual(t, len(items), 4)

	res := tn.do(tok.AccessToken, "POST", "/v3/certifications/"+cert+"/decide",
		[]map[string]any{{"id": items[0].ID, "decision": "APPROVE", "bulk": false, "comments": "still needed"}})
	require.Equal(t, http.StatusOK, res.Status, "body: %s", res.Body)
	ds := tn.sb.Decisions(cert)
	require.Len(t, ds, 1)
	assert.Equal(t, rev.IdentityID, ds[0].IdentityID)
	assert.Equal(t, sandbox.CertopsClientID, ds[0].ClientID)
	assert.Equal(t, sandbox.GrantAuthorizationCode, ds[0].GrantType)

	// A reviewer's reassignment: a REASSIGN task (an admin's would be
	// ADMIN_REASSIGN), recorded with the reviewer as the actor.
	res = tn.do(tok.AccessToken, "POST", "/v3/certifications/"+cert+"/reassign-async",
		map[string]any{"reassign": []map[string]string{{"id": items[1].ID, "type": "ITEM"}}, "reassignTo": to, "reason": "on leave"})
	require.Equal(t, http.StatusOK, res.Status, "body: %s", res.Body)
	var task taskDto
	res.decode(t, &task)
	assert.Equal(t, "REASSIGN", task.Type)
	res = tn.do(tok.AccessToken, "POST", "/v3/certifications/"+cert+"/reassign",
		map[string]any{"reassign": []map[string]string{{"id": items[2].ID, "type": "ITEM"}}, "reassignTo": to, "reason": "sync"})
	require.Equal(t, http.StatusOK, res.Status, "body: %s", res.Body)
	clk.Advance(3 * time.Second)

	rs := tn.sb.Reassignments(cert)
	require.Len(t, rs, 2)
	assert.Equal(t, []string{items[2].ID}, rs[0].Items, "the sync one applied first")
	assert.Empty(t, rs[0].TaskID)
	assert.Equal(t, task.ID, rs[1].TaskID)
	for _, r := range rs {
		assert.Equal(t, rev.IdentityID, r.IdentityID)
		assert.Equal(t, sandbox.CertopsClientID, r.ClientID)
		assert.Equal(t, sandbox.GrantAuthorizationCode, r.GrantType)
		assert.Equal(t, rev.IdentityID, r.PreviousReviewer)
		assert.Equal(t, to, r.NewReviewer)
	}

	// The admin identity's user token reassigns as an admin.
	_, adminTok := tn.userTokens(sandbox.CertopsClientID, tn.sb.People()[0])
	res = tn.do(adminTok.AccessToken, "POST", "/v3/certifications/"+cert+"/reassign-async",
		map[string]any{"reassign": []map[string]string{{"id": items[3].ID, "type": "ITEM"}}, "reassignTo": to, "reason": "admin"})
	require.Equal(t, http.StatusOK, res.Status, "body: %s", res.Body)
	res.decode(t, &task)
	assert.Equal(t, "ADMIN_REASSIGN", task.Type)

	// The records over HTTP, and the per-identity counters.
	hres, err := http.Get(tn.url + "/_sandbox/reassignments?certification=" + cert)
	require.NoError(t, err)
	defer hres.Body.Close()
	assert.Equal(t, http.StatusOK, hres.StatusCode)
	st := tn.sb.Stats()
	assert.Positive(t, st.Identities[rev.IdentityID].Calls)
	assert.Positive(t, st.Identities[tn.sb.People()[0].IdentityID].Calls)
}

// Each person has their own rate-limit budget through the same client.
func TestUserTokenRateLimitPerPerson(t *testing.T) {
	tn := start(t, sandbox.Config{Now: newClock().Now, RateLimit: 2})
	_, a := tn.userTokens(sandbox.CertopsClientID, tn.person(tn.cred("sandbox-reviewer-1").IdentityID))
	_, b := tn.userTokens(sandbox.CertopsClientID, tn.person(tn.cred("sandbox-reviewer-2").IdentityID))
	for range 2 {
		assert.Equal(t, http.StatusOK, tn.do(a.AccessToken, "GET", "/v3/certifications", nil).Status)
	}
	assert.Equal(t, http.StatusTooManyRequests, tn.do(a.AccessToken, "GET", "/v3/certifications", nil).Status)
	assert.Equal(t, http.StatusOK, tn.do(b.AccessToken, "GET", "/v3/certifications", nil).Status)
}

// Refusals at /oauth/authorize: an error page while the client or its
// redirect URI is not known good, RFC 6749 §4.1.2.1 redirects after.
func TestAuthorizeRefusals(t *testing.T) {
	tn := start(t, sandbox.Config{Now: newClock().Now})
	good := newAuthz(sandbox.CertopsClientID)
	for _, tt := range []struct {
		name   string
		change func(q url.Values)
	}{
		{"unknown client", func(q url.Values) { q.Set("client_id", "nope") }},
		{"no client", func(q url.Values) { q.Del("client_id") }},
		{"an API client", func(q url.Values) { q.Set("client_id", sandbox.AdminClientID) }},
		{"no redirect URI", func(q url.Values) { q.Del("redirect_uri") }},
		{"unregistered redirect URI", func(q url.Values) { q.Set("redirect_uri", "https://evil.example/cb") }},
		{"trailing slash", func(q url.Values) { q.Set("redirect_uri", testRedirect+"/") }},
		{"other port", func(q url.Values) { q.Set("redirect_uri", "http://127.0.0.1:8081/oauth/callback") }},
		{"other case", func(q url.Values) { q.Set("redirect_uri", "http://127.0.0.1:8080/OAuth/callback") }},
		{"extra query", func(q url.Values) { q.Set("redirect_uri", testRedirect+"?next=/") }},
		{"two redirect URIs", func(q url.Values) { q.Add("redirect_uri", "https://evil.example/cb") }},
	} {
		t.Run("page: "+tt.name, func(t *testing.T) {
			q := good.query()
			tt.change(q)
			res := tn.browser().get("/oauth/authorize", q)
			assert.Equal(t, http.StatusBadRequest, res.Status)
			assert.Empty(t, res.Header.Get("Location"), "never redirected")
			assert.Contains(t, res.Header.Get("Content-Type"), "text/html")
			assert.Contains(t, res.Header.Get("Content-Security-Policy"), "form-action 'none'")
			assert.NotContains(t, string(res.Body), "login")
		})
	}
	for _, tt := range []struct {
		name, error string
		change      func(q url.Values)
	}{
		{"no PKCE", "invalid_request", func(q url.Values) { q.Del("code_challenge"); q.Del("code_challenge_method") }},
		{"plain PKCE", "invalid_request", func(q url.Values) { q.Set("code_challenge_method", "plain") }},
		{"PKCE method missing", "invalid_request", func(q url.Values) { q.Del("code_challenge_method") }},
		{"not a SHA-256", "invalid_request", func(q url.Values) { q.Set("code_challenge", "short") }},
		{"implicit", "unsupported_response_type", func(q url.Values) { q.Set("response_type", "token") }},
		{"no response type", "invalid_request", func(q url.Values) { q.Del("response_type") }},
		{"unknown scope", "invalid_scope", func(q url.Values) { q.Set("scope", "sp:scopes:all openid") }},
		{"repeated state", "invalid_request", func(q url.Values) { q.Add("state", "other") }},
	} {
		t.Run("redirect: "+tt.name, func(t *testing.T) {
			q := good.query()
			tt.change(q)
			res := tn.browser().get("/oauth/authorize", q)
			assert.Equal(t, http.StatusFound, res.Status, "body: %s", res.Body)
			back := redirected(t, res, testRedirect)
			assert.Equal(t, tt.error, back.Get("error"))
			assert.NotEmpty(t, back.Get("error_description"))
			assert.Equal(t, good.state, back.Get("state"))
			assert.Empty(t, back.Get("code"))
		})
	}
	// A redirect URI with a query keeps it.
	require.NoError(t, tn.sb.AddRedirectURIs(sandbox.PublicClientID, "http://127.0.0.1:9999/cb?tenant=acme"))
	a := newAuthz(sandbox.PublicClientID)
	a.redirectURI = "http://127.0.0.1:9999/cb?tenant=acme"
	q := a.query()
	q.Del("code_challenge")
	res := tn.browser().get("/oauth/authorize", q)
	loc, err := url.Parse(res.Header.Get("Location"))
	require.NoError(t, err)
	assert.Equal(t, "acme", loc.Query().Get("tenant"))
	assert.Equal(t, "invalid_request", loc.Query().Get("error"))
	assert.Error(t, tn.sb.AddRedirectURIs(sandbox.PublicClientID, "http://127.0.0.1/cb#frag"))
	assert.Error(t, tn.sb.AddRedirectURIs("nope", "http://127.0.0.1/cb"))
}

// The login page: wrong passwords, cancel, another browser, expiry, an
// inactive person.
func TestLoginPage(t *testing.T) {
	clk := newClock()
	tn := start(t, sandbox.Config{Now: clk.Now})
	p := tn.person(tn.cred("sandbox-reviewer-1").IdentityID)
	a := newAuthz(sandbox.CertopsClientID)

	t.Run("wrong password, then right", func(t *testing.T) {
		b := tn.browser()
		page := b.openLogin(a)
		res := b.submit(page, p.Username, "wrong", "sign-in")
		assert.Equal(t, http.StatusOK, res.Status)
		assert.Empty(t, res.Header.Get("Location"))
		assert.Contains(t, string(res.Body), "The username or password is wrong.")
		assert.Contains(t, string(res.Body), `value="`+p.Username+`"`, "the username is kept")
		code := redirected(t, b.submit(res, strings.ToUpper(p.Email), p.Password, "sign-in"), testRedirect).Get("code")
		assert.NotEmpty(t, code, "email, any case, as the username")
		// The page worked once.
		res = b.submit(page, p.Username, p.Password, "sign-in")
		assert.Equal(t, http.StatusBadRequest, res.Status)
		assert.Contains(t, string(res.Body), "expired")
	})
	t.Run("too many wrong passwords", func(t *testing.T) {
		b := tn.browser()
		page := b.openLogin(a)
		for range 4 {
			page = b.submit(page, p.Username, "wrong", "sign-in")
			require.Equal(t, http.StatusOK, page.Status)
		}
		back := redirected(t, b.submit(page, p.Username, "wrong", "sign-in"), testRedirect)
		assert.Equal(t, "access_denied", back.Get("error"))
		assert.Equal(t, a.state, back.Get("state"))
	})
	t.Run("cancel", func(t *testing.T) {
		b := tn.browser()
		res := b.submit(b.openLogin(a), "", "", "cancel")
		assert.Equal(t, http.StatusSeeOther, res.Status)
		back := redirected(t, res, testRedirect)
		assert.Equal(t, "access_denied", back.Get("error"))
		assert.Equal(t, a.state, back.Get("state"))
	})
	t.Run("form from another browser", func(t *testing.T) {
		page := tn.browser().openLogin(a)
		res := tn.browser().submit(page, p.Username, p.Password, "sign-in")
		assert.Equal(t, http.StatusBadRequest, res.Status)
		assert.Empty(t, res.Header.Get("Location"))
	})
	t.Run("expired page", func(t *testing.T) {
		b := tn.browser()
		page := b.openLogin(a)
		clk.Advance(10*time.Minute + time.Second)
		res := b.submit(page, p.Username, p.Password, "sign-in")
		assert.Equal(t, http.StatusBadRequest, res.Status)
		assert.Contains(t, string(res.Body), "expired")
	})
	t.Run("a service account or unknown user", func(t *testing.T) {
		b := tn.browser()
		res := b.submit(b.openLogin(a), "svc-backup", "svc-backup-password", "sign-in")
		assert.Contains(t, string(res.Body), "The username or password is wrong.")
	})
	t.Run("inactive person", func(t *testing.T) {
		other := tn.cred("sandbox-reviewer-3")
		q := tn.person(other.IdentityID)
		require.True(t, tn.sb.SetIdentityActive(other.IdentityID, false))
		defer tn.sb.SetIdentityActive(other.IdentityID, true)
		_, ok := tn.sb.PersonOf(other.IdentityID)
		assert.False(t, ok)
		b := tn.browser()
		res := b.submit(b.openLogin(a), q.Username, q.Password, "sign-in")
		assert.Contains(t, string(res.Body), "This account is not active.")
	})
	assert.Positive(t, tn.sb.Stats().SignInFailures)
}

// Refusals at /oauth/token for the authorization code grant.
func TestAuthorizationCodeRefusals(t *testing.T) {
	clk := newClock()
	tn := start(t, sandbox.Config{Now: clk.Now})
	p := tn.person(tn.cred("sandbox-reviewer-1").IdentityID)
	newCode := func() (authz, string) {
		a := newAuthz(sandbox.CertopsClientID)
		return a, tn.browser().signIn(a, p)
	}
	form := func(a authz, code string) url.Values {
		return a.client(url.Values{"grant_type": {"authorization_code"}, "code": {code},
			"redirect_uri": {a.redirectURI}, "code_verifier": {a.verifier}})
	}
	refused := func(t *testing.T, f url.Values, status int, oauthErr string) tokenBody {
		t.Helper()
		got, body, h := tn.tokenCall(f)
		assert.Equal(t, status, got, "%+v", body)
		assert.Equal(t, oauthErr, body.Error, body.ErrorDescription)
		assert.NotEmpty(t, body.ErrorDescription)
		assert.Empty(t, body.AccessToken)
		assert.Equal(t, "no-store", h.Get("Cache-Control"))
		return body
	}

	t.Run("wrong verifier", func(t *testing.T) {
		a, code := newCode()
		f := form(a, code)
		other, _ := newPKCE()
		f.Set("code_verifier", other)
		refused(t, f, http.StatusBadRequest, "invalid_grant")
		refused(t, form(a, code), http.StatusBadRequest, "invalid_grant") // one attempt per code
	})
	t.Run("no verifier", func(t *testing.T) {
		a, code := newCode()
		f := form(a, code)
		f.Del("code_verifier")
		refused(t, f, http.StatusBadRequest, "invalid_request")
	})
	t.Run("reused code revokes what it granted", func(t *testing.T) {
		a, code := newCode()
		status, tok := tn.redeem(a, code)
		require.Equal(t, http.StatusOK, status)
		require.Equal(t, http.StatusOK, tn.do(tok.AccessToken, "GET", "/v3/certifications", nil).Status)
		revoked := tn.sb.Stats().GrantsRevoked
		refused(t, form(a, code), http.StatusBadRequest, "invalid_grant")
		assert.Equal(t, http.StatusUnauthorized, tn.do(tok.AccessToken, "GET", "/v3/certifications", nil).Status)
		status, _ = tn.refresh(a, tok.RefreshToken)
		assert.Equal(t, http.StatusBadRequest, status)
		assert.Equal(t, revoked+1, tn.sb.Stats().GrantsRevoked)
	})
	t.Run("mismatched redirect URI", func(t *testing.T) {
		a, code := newCode()
		f := form(a, code)
		f.Set("redirect_uri", "http://localhost:8080/oauth/callback") // registered, but not the request's
		refused(t, f, http.StatusBadRequest, "invalid_grant")
	})
	t.Run("expired code", func(t *testing.T) {
		a, code := newCode()
		clk.Advance(61 * time.Second)
		body := refused(t, form(a, code), http.StatusBadRequest, "invalid_grant")
		assert.Contains(t, body.ErrorDescription, "expired")
	})
	t.Run("code within its minute", func(t *testing.T) {
		a, code := newCode()
		clk.Advance(59 * time.Second)
		status, _ := tn.redeem(a, code)
		assert.Equal(t, http.StatusOK, status)
	})
	t.Run("unknown code", func(t *testing.T) {
		a, _ := newCode()
		refused(t, form(a, "made-up"), http.StatusBadRequest, "invalid_grant")
	})
	t.Run("another client's code", func(t *testing.T) {
		a, code := newCode()
		f := form(a, code)
		f.Set("client_id", sandbox.PublicClientID)
		f.Del("client_secret")
		refused(t, f, http.StatusBadRequest, "invalid_grant")
	})
	t.Run("wrong client secret", func(t *testing.T) {
		a, code := newCode()
		f := form(a, code)
		f.Set("client_secret", "nope")
		refused(t, f, http.StatusUnauthorized, "invalid_client")
	})
	t.Run("client secret in Basic", func(t *testing.T) {
		a, code := newCode()
		f := form(a, code)
		f.Del("client_id")
		f.Del("client_secret")
		req, _ := http.NewRequest("POST", tn.url+"/oauth/token", strings.NewReader(f.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(sandbox.CertopsClientID, "nope")
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		res.Body.Close()
		assert.Equal(t, http.StatusUnauthorized, res.StatusCode)
		assert.Contains(t, res.Header.Get("WWW-Authenticate"), "Basic")
		req, _ = http.NewRequest("POST", tn.url+"/oauth/token", strings.NewReader(f.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(sandbox.CertopsClientID, sandbox.CertopsClientSecret)
		status, body := postToken(t, req)
		assert.Equal(t, http.StatusOK, status, "an unauthenticated attempt does not use the code up: %+v", body)
	})
	t.Run("repeated parameter", func(t *testing.T) {
		a, code := newCode()
		f := form(a, code)
		f.Add("code", code)
		refused(t, f, http.StatusBadRequest, "invalid_request")
	})
	t.Run("API clients use client credentials only", func(t *testing.T) {
		a, code := newCode()
		f := form(a, code)
		f.Set("client_id", sandbox.AdminClientID)
		f.Set("client_secret", sandbox.AdminClientSecret)
		refused(t, f, http.StatusBadRequest, "unauthorized_client")
		refused(t, url.Values{"grant_type": {"client_credentials"}, "client_id": {sandbox.CertopsClientID},
			"client_secret": {sandbox.CertopsClientSecret}}, http.StatusBadRequest, "unauthorized_client")
	})
}

// Refresh tokens rotate; one presented again revokes the whole grant.
func TestRefreshTokenRotation(t *testing.T) {
	clk := newClock()
	tn := start(t, sandbox.Config{Now: clk.Now})
	p := tn.person(tn.cred("sandbox-reviewer-1").IdentityID)

	t.Run("reuse revokes the grant", func(t *testing.T) {
		a, tok1 := tn.userTokens(sandbox.CertopsClientID, p)
		status, tok2 := tn.refresh(a, tok1.RefreshToken)
		require.Equal(t, http.StatusOK, status)
		_, other := tn.userTokens(sandbox.CertopsClientID, p) // another sign-in of the same person

		status, body := tn.refresh(a, tok1.RefreshToken)
		assert.Equal(t, http.StatusBadRequest, status)
		assert.Equal(t, "invalid_grant", body.Error)
		assert.Contains(t, body.ErrorDescription, "revoked")
		status, _ = tn.refresh(a, tok2.RefreshToken)
		assert.Equal(t, http.StatusBadRequest, status, "the current refresh token is revoked too")
		for _, tok := range []string{tok1.AccessToken, tok2.AccessToken} {
			assert.Equal(t, http.StatusUnauthorized, tn.do(tok, "GET", "/v3/certifications", nil).Status)
		}
		assert.Equal(t, http.StatusOK, tn.do(other.AccessToken, "GET", "/v3/certifications", nil).Status, "other sign-ins are untouched")
	})
	t.Run("another client's refresh token", func(t *testing.T) {
		_, tok := tn.userTokens(sandbox.CertopsClientID, p)
		status, body := tn.refresh(newAuthz(sandbox.PublicClientID), tok.RefreshToken)
		assert.Equal(t, http.StatusBadRequest, status)
		assert.Equal(t, "invalid_grant", body.Error)
	})
	t.Run("expiry", func(t *testing.T) {
		a, tok := tn.userTokens(sandbox.CertopsClientID, p)
		clk.Advance(23 * time.Hour)
		status, tok2 := tn.refresh(a, tok.RefreshToken)
		require.Equal(t, http.StatusOK, status)
		clk.Advance(24*time.Hour + time.Second)
		status, body := tn.refresh(a, tok2.RefreshToken)
		assert.Equal(t, http.StatusBadRequest, status)
		assert.Equal(t, "invalid_grant", body.Error)
	})
	t.Run("a person made inactive loses their grants", func(t *testing.T) {
		q := tn.person(tn.cred("sandbox-reviewer-2").IdentityID)
		a, tok := tn.userTokens(sandbox.CertopsClientID, q)
		require.True(t, tn.sb.SetIdentityActive(q.IdentityID, false))
		assert.Equal(t, http.StatusUnauthorized, tn.do(tok.AccessToken, "GET", "/v3/certifications", nil).Status)
		status, _ := tn.refresh(a, tok.RefreshToken)
		assert.Equal(t, http.StatusBadRequest, status)
		tn.sb.SetIdentityActive(q.IdentityID, true)
		status, _ = tn.refresh(a, tok.RefreshToken)
		assert.Equal(t, http.StatusBadRequest, status, "still revoked")
	})
}

// Nothing secret reaches the log over whole flows, refusals included.
func TestOAuthSecretsNeverLogged(t *testing.T) {
	var logs testkit.Buffer
	clk := newClock()
	tn := start(t, sandbox.Config{Now: clk.Now, Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	p := tn.person(tn.cred("sandbox-reviewer-1").IdentityID)
	secrets := []string{p.Password, sandbox.CertopsClientSecret}
	keep := func(s ...string) { secrets = append(secrets, s...) }

	// A whole flow with refreshes.
	a := newAuthz(sandbox.CertopsClientID)
	b := tn.browser()
	page := b.openLogin(a)
	keep(loginID(t, page), a.verifier)
	cookies := b.c.Jar.Cookies(mustURL(t, tn.url+"/oauth/login"))
	require.Len(t, cookies, 1, "the login page binds itself to the browser")
	keep(cookies[0].Value)
	res := b.submit(page, p.Password, p.Username, "sign-in") // fields swapped: a password typed as the username
	res = b.submit(res, p.Username, p.Password, "sign-in")
	code := redirected(t, res, testRedirect).Get("code")
	keep(code)
	_, tok := tn.redeem(a, code)
	keep(tok.AccessToken, tok.RefreshToken)
	tn.do(tok.AccessToken, "GET", "/v3/certifications", nil)
	_, tok2 := tn.refresh(a, tok.RefreshToken)
	keep(tok2.AccessToken, tok2.RefreshToken)

	// Failures: a reused code, a reused refresh token, a wrong verifier, an
	// expired code, a wrong secret, a bad token on the API.
	tn.redeem(a, code)
	tn.refresh(a, tok.RefreshToken)
	a2 := newAuthz(sandbox.CertopsClientID)
	code2 := tn.browser().signIn(a2, p)
	keep(code2, a2.verifier)
	wrong, _ := newPKCE()
	keep(wrong)
	tn.tokenCall(a2.client(url.Values{"grant_type": {"authorization_code"}, "code": {code2}, "redirect_uri": {a2.redirectURI}, "code_verifier": {wrong}}))
	a3 := newAuthz(sandbox.PublicClientID)
	code3 := tn.browser().signIn(a3, p)
	keep(code3, a3.verifier)
	clk.Advance(2 * time.Minute)
	tn.redeem(a3, code3)
	tn.tokenCall(url.Values{"grant_type": {"client_credentials"}, "client_id": {sandbox.AdminClientID}, "client_secret": {"not-the-secret-" + p.Password}})
	keep("not-the-secret-")
	tn.do(tok.AccessToken, "GET", "/v3/certifications", nil)
	bad := newAuthz(sandbox.CertopsClientID)
	bad.redirectURI = "https://evil.example/cb?" + code
	tn.browser().get("/oauth/authorize", bad.query())

	out := logs.String()
	require.NotEmpty(t, out)
	for _, want := range []string{"signed in", "sign-in failed", "authorization code redeemed", "refresh token rotated", "grant revoked", "token request refused"} {
		assert.Contains(t, out, want, "the log tells what happened")
	}
	for _, s := range secrets {
		require.NotEmpty(t, s)
		assert.NotContains(t, out, s)
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	require.NoError(t, err)
	return u
}

// GET /oauth/info: ISC's OAuth details, both endpoints on the sandbox.
func TestOAuthInfo(t *testing.T) {
	tn := start(t, sandbox.Config{})
	res, err := http.Get(tn.url + "/oauth/info")
	require.NoError(t, err)
	defer res.Body.Close()
	var info struct {
		TenantName, AuthorizeEndpoint, TokenEndpoint string
	}
	(&response{Body: readAll(t, res)}).decode(t, &info)
	assert.Equal(t, "sandbox", info.TenantName)
	assert.Equal(t, tn.url+"/oauth/authorize", info.AuthorizeEndpoint)
	assert.Equal(t, tn.url+"/oauth/token", info.TokenEndpoint)

	clients := tn.sb.OAuthClients()
	require.Len(t, clients, 2)
	assert.Equal(t, sandbox.CertopsClientID, clients[0].ID)
	assert.Equal(t, sandbox.ClientConfidential, clients[0].Type)
	assert.Equal(t, sandbox.DefaultRedirectURIs, clients[0].RedirectURIs)
	assert.Equal(t, sandbox.ClientPublic, clients[1].Type)
	assert.Empty(t, clients[1].Secret)
	people := tn.sb.People()
	require.Len(t, people, 4)
	res, err = http.Get(tn.url + "/_sandbox/people")
	require.NoError(t, err)
	defer res.Body.Close()
	var listed []sandbox.Person
	(&response{Body: readAll(t, res)}).decode(t, &listed)
	assert.Equal(t, people, listed)
	assert.Equal(t, sandbox.RoleAdmin, people[0].Role)
	for _, p := range people[1:] {
		assert.Equal(t, sandbox.RoleReviewer, p.Role)
		assert.Equal(t, p.Username+"-password", p.Password)
	}
}

// The same refresh token presented twice at once: one refresh wins, the
// other is a reuse, and the grant is revoked, as if they came one after
// the other.
func TestRefreshTokenRace(t *testing.T) {
	tn := start(t, sandbox.Config{Now: newClock().Now})
	a, tok := tn.userTokens(sandbox.PublicClientID, tn.person(tn.cred("sandbox-reviewer-1").IdentityID))
	form := a.client(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}})
	statuses := make(chan int, 2)
	for range 2 {
		go func() {
			res, err := http.PostForm(tn.url+"/oauth/token", form)
			if err != nil {
				statuses <- 0
				return
			}
			res.Body.Close()
			statuses <- res.StatusCode
		}()
	}
	got := []int{<-statuses, <-statuses}
	assert.ElementsMatch(t, []int{http.StatusOK, http.StatusBadRequest}, got)
	assert.Equal(t, 1, tn.sb.Stats().GrantsRevoked)
}

package sandbox_test

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/sandbox"
)

// The authorization-code flow as a browser and a client application go
// through it: a cookie-jar client that stops at every redirect (the
// redirect URI is the application's, which no test serves), PKCE computed
// here, and the token endpoint.

// testRedirect is a registered redirect URI (the first default).
const testRedirect = "http://127.0.0.1:8080/oauth/callback"

// browser is a person's browser: it keeps cookies and does not follow
// redirects.
type browser struct {
	t  testing.TB
	tn *tenant
	c  *http.Client
}

func (tn *tenant) browser() *browser {
	jar, err := cookiejar.New(nil)
	require.NoError(tn.t, err)
	return &browser{t: tn.t, tn: tn, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

func (b *browser) read(res *http.Response, err error) *response {
	b.t.Helper()
	require.NoError(b.t, err)
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	require.NoError(b.t, err)
	return &response{Status: res.StatusCode, Header: res.Header, Body: data}
}

func (b *browser) get(path string, query url.Values) *response {
	b.t.Helper()
	return b.read(b.c.Get(b.tn.url + path + "?" + query.Encode()))
}

func (b *browser) post(path string, form url.Values) *response {
	b.t.Helper()
	return b.read(b.c.PostForm(b.tn.url+path, form))
}

// authz is one authorization request of a client application.
type authz struct {
	clientID, secret    string
	redirectURI, state  string
	verifier, challenge string
	scope               string
}

func newPKCE() (verifier, challenge string) {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	verifier = base64.RawURLEncoding.EncodeToString(b)
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

// newAuthz starts a request of sandbox-certops (confidential) or
// sandbox-public; its state has characters that must come back unchanged.
func newAuthz(clientID string) authz {
	v, c := newPKCE()
	a := authz{clientID: clientID, redirectURI: testRedirect, state: "s t/ä?x=1&y=" + v[:8], verifier: v, challenge: c}
	if clientID == sandbox.CertopsClientID {
		a.secret = sandbox.CertopsClientSecret
	}
	return a
}

func (a authz) query() url.Values {
	q := url.Values{
		"response_type": {"code"}, "client_id": {a.clientID}, "redirect_uri": {a.redirectURI},
		"state": {a.state}, "code_challenge": {a.challenge}, "code_challenge_method": {"S256"},
	}
	if a.scope != "" {
		q.Set("scope", a.scope)
	}
	return q
}

var loginIDField = regexp.MustCompile(`name="login" value="([^"]+)"`)

// loginID is the login page's hidden login id.
func loginID(t testing.TB, page *response) string {
	t.Helper()
	m := loginIDField.FindSubmatch(page.Body)
	require.NotNil(t, m, "a login form: %s", page.Body)
	return string(m[1])
}

// openLogin asks for the login page.
func (b *browser) openLogin(a authz) *response {
	b.t.Helper()
	page := b.get("/oauth/authorize", a.query())
	require.Equal(b.t, http.StatusOK, page.Status, "body: %s", page.Body)
	return page
}

// submit sends the login page's form.
func (b *browser) submit(page *response, username, password, action string) *response {
	b.t.Helper()
	return b.post("/oauth/login", url.Values{"login": {loginID(b.t, page)}, "username": {username}, "password": {password}, "action": {action}})
}

// redirected returns the query a response sent the browser to at the
// application's redirect URI.
func redirected(t testing.TB, res *response, redirectURI string) url.Values {
	t.Helper()
	require.Contains(t, []int{http.StatusFound, http.StatusSeeOther}, res.Status, "body: %s", res.Body)
	loc := res.Header.Get("Location")
	u, err := url.Parse(loc)
	require.NoError(t, err)
	require.Equal(t, redirectURI, u.Scheme+"://"+u.Host+u.Path, "redirected to %s", loc)
	return u.Query()
}

// signIn runs the browser part: login page, sign in, back to the
// application with a code, which it returns.
func (b *browser) signIn(a authz, p sandbox.Person) string {
	b.t.Helper()
	res := b.submit(b.openLogin(a), p.Username, p.Password, "sign-in")
	q := redirected(b.t, res, a.redirectURI)
	require.Equal(b.t, a.state, q.Get("state"), "state comes back unchanged")
	require.Empty(b.t, q.Get("error"), "error_description: %s", q.Get("error_description"))
	require.NotEmpty(b.t, q.Get("code"))
	return q.Get("code")
}

// tokenCall posts a token request as the application.
func (tn *tenant) tokenCall(form url.Values) (int, tokenBody, http.Header) {
	tn.t.Helper()
	res, err := http.PostForm(tn.url+"/oauth/token", form)
	require.NoError(tn.t, err)
	defer res.Body.Close()
	var body tokenBody
	require.NoError(tn.t, json.NewDecoder(res.Body).Decode(&body))
	return res.StatusCode, body, res.Header
}

func (a authz) client(form url.Values) url.Values {
	form.Set("client_id", a.clientID)
	if a.secret != "" {
		form.Set("client_secret", a.secret)
	}
	return form
}

// redeem exchanges a code as the application.
func (tn *tenant) redeem(a authz, code string) (int, tokenBody) {
	tn.t.Helper()
	status, body, _ := tn.tokenCall(a.client(url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {a.redirectURI}, "code_verifier": {a.verifier}}))
	return status, body
}

func (tn *tenant) refresh(a authz, refreshToken string) (int, tokenBody) {
	tn.t.Helper()
	status, body, _ := tn.tokenCall(a.client(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshToken}}))
	return status, body
}

// userTokens signs a person in through a client and returns the tokens.
func (tn *tenant) userTokens(clientID string, p sandbox.Person) (authz, tokenBody) {
	tn.t.Helper()
	a := newAuthz(clientID)
	code := tn.browser().signIn(a, p)
	status, body := tn.redeem(a, code)
	require.Equal(tn.t, http.StatusOK, status, "%+v", body)
	return a, body
}

// person returns the sandbox person with a role's or reviewer client's
// identity.
func (tn *tenant) person(identityID string) sandbox.Person {
	tn.t.Helper()
	for _, p := range tn.sb.People() {
		if p.IdentityID == identityID {
			return p
		}
	}
	tn.t.Fatalf("no person %s", identityID)
	return sandbox.Person{}
}

func (tn *tenant) certsAs(tok, query string) []certDto {
	tn.t.Helper()
	res := tn.do(tok, "GET", "/v3/certifications?"+query, nil)
	require.Equal(tn.t, http.StatusOK, res.Status, "body: %s", res.Body)
	var out []certDto
	res.decode(tn.t, &out)
	return out
}

func readAll(t testing.TB, res *http.Response) []byte {
	t.Helper()
	data, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return data
}

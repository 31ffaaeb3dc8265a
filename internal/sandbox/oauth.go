package sandbox

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// ISC's authorization-code flow, as SailPoint's authentication guide
// (developer.sailpoint.com/docs/api/authentication) and the specs' userAuth
// scheme describe it, so people act in the tenant as themselves:
//
//   - GET /oauth/authorize?response_type=code&client_id=…&redirect_uri=…
//     &state=…&code_challenge=…&code_challenge_method=S256[&scope=…] shows
//     the login page. ISC serves it on the tenant's login host
//     (https://{tenant}.login.sailpoint.com/oauth/authorize, formerly
//     https://{tenant}.identitynow.com/oauth/authorize) and the token
//     endpoint on the API host (https://{tenant}.api.identitynow.com/oauth/token);
//     the sandbox serves both on its one host, as GET /oauth/info (ISC's
//     authorizeEndpoint and tokenEndpoint) says.
//   - POST /oauth/login is the page's form: a person of the tenant signs in
//     (username: their alias or email; password: see Person) or cancels.
//     The browser then goes to the redirect URI with ?code=…&state=… or
//     ?error=access_denied&state=….
//   - POST /oauth/token with grant_type=authorization_code (code,
//     redirect_uri, code_verifier) or refresh_token (refresh_token), the
//     client's id and, for a confidential client, its secret, as form
//     fields, query parameters or HTTP Basic, as for client credentials.
//     The answer is ISC's token response with a refresh_token and
//     accessType OFFLINE.
//
// A user token acts as its person: the API scopes what it sees and may
// change exactly as for that identity (the admin identity as an admin,
// anyone else as a reviewer of their own certifications), and the sandbox's
// records (DecisionRecord, ReassignmentRecord, Stats.Identities) name that
// identity. Rate limits apply per OAuth client and person.
//
// Where SailPoint's documents are silent, the sandbox follows OAuth 2.1 and
// the OAuth security BCP (RFC 9700):
//   - PKCE with S256 is required of every client. SailPoint does not
//     document PKCE for ISC; a client that sends it works with both.
//   - redirect_uri is required at /oauth/authorize and must equal one the
//     client registered, character for character; at /oauth/token it must
//     equal the authorize request's.
//   - A code may be presented once, within AuthCodeTTL; a failed attempt
//     uses it up, and a code presented again revokes the grant it made.
//   - Refresh tokens rotate: each refresh returns a new one and ends the
//     old one. Presenting an ended one revokes the whole grant (every access
//     and refresh token of that sign-in): the person signs in again.
//   - Errors: before the client and redirect URI are known good, an error
//     page (never a redirect); after, RFC 6749 §4.1.2.1 errors at the
//     redirect URI with the state; §5.2 errors at the token endpoint.
//   - A person whose identity becomes inactive loses their grants.
//   - Nothing secret reaches the log: tokens, codes, verifiers, passwords,
//     login ids, or what a person typed as a username.

// The sandbox's OAuth clients, as ISC's API clients with the
// AUTHORIZATION_CODE and REFRESH_TOKEN grant types.
const (
	// CertopsClientID is a confidential client, for certops.
	CertopsClientID     = "sandbox-certops"
	CertopsClientSecret = "sandbox-certops-secret"
	// PublicClientID is a public client (no secret, PKCE only), for tests
	// and native tools.
	PublicClientID = "sandbox-public"
)

// ISC's OAuth client types and grant types.
const (
	ClientConfidential = "CONFIDENTIAL"
	ClientPublic       = "PUBLIC"

	GrantAuthorizationCode = "AUTHORIZATION_CODE"
	GrantRefreshToken      = "REFRESH_TOKEN"
	GrantClientCredentials = "CLIENT_CREDENTIALS"
)

// DefaultRedirectURIs are the OAuth clients' redirect URIs unless
// Config.RedirectURIs says otherwise: certops's callback on the MCP
// server's usual port (8080) and the Slack bot's (3000), on 127.0.0.1 and
// localhost.
var DefaultRedirectURIs = []string{
	"http://127.0.0.1:8080/oauth/callback",
	"http://localhost:8080/oauth/callback",
	"http://127.0.0.1:3000/oauth/callback",
	"http://localhost:3000/oauth/callback",
}

// OAuthClient is an OAuth client registered in the tenant, in the shape of
// ISC's OAuth client (GET /beta/oauth-clients).
type OAuthClient struct {
	ID           string   `json:"id"`
	Secret       string   `json:"secret,omitempty"` // CONFIDENTIAL clients only
	Name         string   `json:"name"`
	Type         string   `json:"type"`
	GrantTypes   []string `json:"grantTypes"`
	RedirectURIs []string `json:"redirectUris"`
	AccessType   string   `json:"accessType"`
	// AccessTokenValiditySeconds and RefreshTokenValiditySeconds are
	// Config.TokenTTL and RefreshTokenTTL.
	AccessTokenValiditySeconds  int `json:"accessTokenValiditySeconds"`
	RefreshTokenValiditySeconds int `json:"refreshTokenValiditySeconds"`
}

// authenticates reports whether secret authenticates the client: its
// secret for a confidential client, none for a public one.
func (oc *OAuthClient) authenticates(secret string) bool {
	if oc.Type == ClientPublic {
		return secret == ""
	}
	return subtle.ConstantTimeCompare([]byte(secret), []byte(oc.Secret)) == 1
}

func (oc *OAuthClient) allows(grantType string) bool {
	return slices.Contains(oc.GrantTypes, grantType)
}

// Person is someone who can sign in on the login page. Every active person
// of the tenant can (service accounts cannot): the username is their alias
// (or their email, in any case), the password their alias followed by
// "-password". These are the sandbox's fixed, public test credentials,
// printed at start-up like the API clients'.
type Person struct {
	Username   string `json:"username"`
	Password   string `json:"password"`
	Role       string `json:"role"` // RoleAdmin for the admin identity, else RoleReviewer
	IdentityID string `json:"identityId"`
	Name       string `json:"name"`
	Email      string `json:"email"`
}

func passwordOf(i *identity) string { return i.Alias + "-password" }

// canSignIn: people, not service accounts (no email, uncorrelated).
func canSignIn(i *identity) bool { return i.Correlated && i.Email != "" && i.Alias != "" }

func (s *Sandbox) personOf(i *identity) Person {
	role := RoleReviewer
	if i == s.st.admin {
		role = RoleAdmin
	}
	return Person{Username: i.Alias, Password: passwordOf(i), Role: role, IdentityID: i.ID, Name: i.Name, Email: i.Email}
}

// People returns the people to sign in as first: the admin identity, then
// the reviewers of the reviewer clients (sandbox-reviewer-1 …), in that
// order. Any other active person signs in the same way (see Person and
// PersonOf).
func (s *Sandbox) People() []Person {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Person
	for _, id := range s.order {
		if i := s.st.identityByID[s.clients[id].IdentityID]; i != nil {
			out = append(out, s.personOf(i))
		}
	}
	return out
}

// PersonOf returns the sign-in of an identity; false when it cannot sign in
// (unknown, a service account, or not active).
func (s *Sandbox) PersonOf(identityID string) (Person, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.st.identityByID[identityID]
	if i == nil || !canSignIn(i) || !i.active() {
		return Person{}, false
	}
	return s.personOf(i), true
}

// OAuthClients returns the OAuth clients: CertopsClientID, then
// PublicClientID.
func (s *Sandbox) OAuthClients() []OAuthClient {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]OAuthClient, 0, len(s.oauth.order))
	for _, id := range s.oauth.order {
		oc := *s.oauth.clients[id]
		oc.GrantTypes = slices.Clone(oc.GrantTypes)
		oc.RedirectURIs = slices.Clone(oc.RedirectURIs)
		oc.AccessTokenValiditySeconds = int(s.cfg.TokenTTL / time.Second)
		oc.RefreshTokenValiditySeconds = int(s.cfg.RefreshTokenTTL / time.Second)
		out = append(out, oc)
	}
	return out
}

// AddRedirectURIs registers more redirect URIs for an OAuth client, e.g.
// a test's callback on a port it learned after the sandbox started.
func (s *Sandbox) AddRedirectURIs(clientID string, uris ...string) error {
	for _, u := range uris {
		if err := ValidRedirectURI(u); err != nil {
			return err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	oc := s.oauth.clients[clientID]
	if oc == nil {
		return fmt.Errorf("no OAuth client %q", clientID)
	}
	for _, u := range uris {
		if !slices.Contains(oc.RedirectURIs, u) {
			oc.RedirectURIs = append(oc.RedirectURIs, u)
		}
	}
	return nil
}

// ValidRedirectURI reports whether u can be registered as a redirect URI:
// an absolute http or https URL with a host and no fragment (RFC 6749
// §3.1.2).
func ValidRedirectURI(u string) error {
	p, err := url.Parse(u)
	switch {
	case err != nil:
		return fmt.Errorf("redirect URI %q is not a URL", u)
	case p.Scheme != "http" && p.Scheme != "https":
		return fmt.Errorf("redirect URI %q must be an http or https URL", u)
	case p.Host == "":
		return fmt.Errorf("redirect URI %q has no host", u)
	case p.Fragment != "" || strings.Contains(u, "#"):
		return fmt.Errorf("redirect URI %q must not have a fragment", u)
	case p.User != nil:
		return fmt.Errorf("redirect URI %q must not carry user information", u)
	}
	return nil
}

// oauthState is the authorization server's state, guarded by Sandbox.mu.
type oauthState struct {
	clients map[string]*OAuthClient
	order   []string
	logins  map[secretKey]*login
	codes   map[secretKey]*authCode
	grants  map[string]*grant    // by id
	refresh map[secretKey]*grant // every refresh token a grant issued, by key
}

func newOAuthState(redirectURIs []string) oauthState {
	uris := slices.Clone(redirectURIs)
	st := oauthState{
		clients: map[string]*OAuthClient{},
		logins:  map[secretKey]*login{},
		codes:   map[secretKey]*authCode{},
		grants:  map[string]*grant{},
		refresh: map[secretKey]*grant{},
	}
	for _, oc := range []*OAuthClient{
		{ID: CertopsClientID, Secret: CertopsClientSecret, Name: "certops", Type: ClientConfidential},
		{ID: PublicClientID, Name: "Sandbox public client", Type: ClientPublic},
	} {
		oc.GrantTypes = []string{GrantAuthorizationCode, GrantRefreshToken}
		oc.RedirectURIs = slices.Clone(uris)
		oc.AccessType = "OFFLINE"
		st.clients[oc.ID] = oc
		st.order = append(st.order, oc.ID)
	}
	return st
}

// login is an authorization request waiting for its person to sign in.
type login struct {
	client      *OAuthClient
	redirectURI string
	state       string
	challenge   string
	scope       string
	// browser is the key of the cookie the login page set: the form is
	// taken only from the browser that asked.
	browser  secretKey
	expires  time.Time
	attempts int
}

// authCode is an authorization code.
type authCode struct {
	client      *OAuthClient
	redirectURI string
	challenge   string
	scope       string
	person      *identity
	expires     time.Time
	used        bool
	grant       *grant // what redeeming it granted
}

// grant is one sign-in of a person to a client: the refresh tokens it
// rotates through and the access tokens they bring.
type grant struct {
	id      string // random; for logs, never a credential
	client  *OAuthClient
	person  *identity
	scope   string
	code    secretKey   // the code that made it
	refresh secretKey   // the current refresh token
	issued  []secretKey // every refresh token it issued
	expires time.Time   // the current refresh token's end
	revoked bool
}

const (
	// loginTTL is how long a login page may be submitted.
	loginTTL = 10 * time.Minute
	// maxSignInAttempts is how many wrong passwords a login page takes
	// before it answers the client access_denied.
	maxSignInAttempts = 5
	// loginCookie binds a login page to its browser.
	loginCookie = "sandbox_login"
)

// The scopes ISC's specs list. The sandbox accepts them and scopes
// nothing by them: a user token acts as its identity.
var knownScopes = []string{"sp:scopes:default", "sp:scopes:all"}

const defaultScope = "sp:scopes:all"

// parseScope validates a space-separated scope ("" for the default).
func parseScope(scope string) (string, bool) {
	fields := strings.Fields(scope)
	if len(fields) == 0 {
		return defaultScope, true
	}
	for _, f := range fields {
		if !slices.Contains(knownScopes, f) {
			return "", false
		}
	}
	return strings.Join(fields, " "), true
}

// validVerifier: RFC 7636 §4.1, 43 to 128 unreserved characters.
func validVerifier(v string) bool {
	if len(v) < 43 || len(v) > 128 {
		return false
	}
	for _, c := range []byte(v) {
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '.', c == '_', c == '~':
		default:
			return false
		}
	}
	return true
}

// validChallenge: an S256 challenge is a base64url SHA-256, 43 characters.
func validChallenge(c string) bool {
	b, err := base64.RawURLEncoding.DecodeString(c)
	return err == nil && len(b) == sha256.Size
}

// pkceMatches: BASE64URL(SHA256(verifier)) == challenge (RFC 7636 §4.6).
func pkceMatches(verifier, challenge string) bool {
	sum := sha256.Sum256([]byte(verifier))
	return subtle.ConstantTimeCompare([]byte(base64.RawURLEncoding.EncodeToString(sum[:])), []byte(challenge)) == 1
}

// redirect sends the browser to the redirect URI with params added to its
// query (which it keeps, RFC 6749 §3.1.2), without a body.
func redirect(w http.ResponseWriter, redirectURI string, params url.Values, status int) {
	u, err := url.Parse(redirectURI)
	if err != nil { // registered URIs are valid; never happens
		http.Error(w, "bad redirect URI", http.StatusInternalServerError)
		return
	}
	q := u.Query()
	for k, v := range params {
		q[k] = v
	}
	u.RawQuery = q.Encode()
	w.Header().Set("Location", u.String())
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
}

// redirectError sends an RFC 6749 §4.1.2.1 error to the redirect URI.
func redirectError(w http.ResponseWriter, redirectURI, state, code, description string, status int) {
	p := url.Values{"error": {code}, "error_description": {description}}
	if state != "" {
		p.Set("state", state)
	}
	redirect(w, redirectURI, p, status)
}

// handleAuthorize serves GET /oauth/authorize: the login page.
func (s *Sandbox) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	clientID, redirectURI := q.Get("client_id"), q.Get("redirect_uri")
	s.mu.Lock()
	oc := s.oauth.clients[clientID]
	registered := oc != nil && slices.Contains(oc.RedirectURIs, redirectURI)
	s.mu.Unlock()
	// Until the client and its redirect URI are known good, nothing goes
	// to the redirect URI (RFC 6749 §4.1.2.1): the person is told here.
	switch {
	case clientID == "" || oc == nil || len(q["client_id"]) > 1:
		s.log.Info("authorization request refused", "reason", "unknown client")
		s.errorPage(w, http.StatusBadRequest, "Unknown application", "The application that sent you here is not registered in this tenant (client_id). Nothing was shared with it.")
		return
	case redirectURI == "" || !registered || len(q["redirect_uri"]) > 1:
		s.log.Info("authorization request refused", "client", oc.ID, "reason", "redirect_uri not registered")
		s.errorPage(w, http.StatusBadRequest, "Unregistered redirect URI", "The application asked to send you back to an address it has not registered for this tenant (redirect_uri must match a registered one exactly). Nothing was shared with it.")
		return
	}
	state := q.Get("state")
	fail := func(code, description string) {
		s.log.Info("authorization request refused", "client", oc.ID, "error", code)
		redirectError(w, redirectURI, state, code, description, http.StatusFound)
	}
	for name, v := range q {
		if len(v) > 1 {
			fail("invalid_request", "A parameter is given more than once: "+url.QueryEscape(name))
			return
		}
	}
	scope, scopeOK := parseScope(q.Get("scope"))
	switch rt := q.Get("response_type"); {
	case !oc.allows(GrantAuthorizationCode):
		fail("unauthorized_client", "This client may not use the authorization code grant.")
		return
	case rt == "":
		fail("invalid_request", "response_type is required.")
		return
	case rt != "code":
		fail("unsupported_response_type", "Only response_type=code is supported.")
		return
	case q.Get("code_challenge") == "":
		fail("invalid_request", "PKCE is required: code_challenge and code_challenge_method=S256.")
		return
	case q.Get("code_challenge_method") != "S256":
		fail("invalid_request", "code_challenge_method must be S256.")
		return
	case !validChallenge(q.Get("code_challenge")):
		fail("invalid_request", "code_challenge must be the base64url SHA-256 of the code verifier (43 characters).")
		return
	case !scopeOK:
		fail("invalid_scope", "The scopes known are "+strings.Join(knownScopes, " ")+".")
		return
	}

	// The login page, bound to this browser by a cookie (kept when the
	// browser has one, so two tabs can sign in at once).
	browser := ""
	if c, err := r.Cookie(loginCookie); err == nil && len(c.Value) == 43 {
		browser = c.Value
	} else {
		browser = randomToken(32)
	}
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Value: browser, HttpOnly: true, Secure: r.TLS != nil,
		SameSite: http.SameSiteLaxMode, MaxAge: int(loginTTL / time.Second)})
	id := randomToken(32)
	now := s.cfg.Now()
	s.mu.Lock()
	s.pruneOAuth(now)
	s.oauth.logins[keyOf(id)] = &login{client: oc, redirectURI: redirectURI, state: state,
		challenge: q.Get("code_challenge"), scope: scope, browser: keyOf(browser), expires: now.Add(loginTTL)}
	s.mu.Unlock()
	s.log.Info("login page shown", "client", oc.ID)
	s.loginPage(w, http.StatusOK, loginView{LoginID: id, Client: oc.Name}, redirectURI)
}

// handleLogin serves POST /oauth/login: the login page's form.
func (s *Sandbox) handleLogin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 1<<16)
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, http.StatusBadRequest, "Sign-in failed", "The form could not be read. Start again from the application.")
		return
	}
	id := r.PostForm.Get("login")
	cookie, _ := r.Cookie(loginCookie)
	now := s.cfg.Now()

	s.mu.Lock()
	l := s.oauth.logins[keyOf(id)]
	switch {
	case id == "" || l == nil || now.After(l.expires):
		if l != nil {
			delete(s.oauth.logins, keyOf(id))
		}
		s.mu.Unlock()
		s.log.Info("sign-in refused", "reason", "login page unknown or expired")
		s.errorPage(w, http.StatusBadRequest, "This sign-in page has expired", "Sign-in pages last 10 minutes and work once. Start again from the application.")
		return
	case cookie == nil || keyOf(cookie.Value) != l.browser:
		s.mu.Unlock()
		s.log.Info("sign-in refused", "client", l.client.ID, "reason", "form not from the browser the page was shown to")
		s.errorPage(w, http.StatusBadRequest, "Sign-in refused", "This form was sent from another browser than the one the sign-in page was shown to. Start again from the application.")
		return
	}
	if r.PostForm.Get("action") == "cancel" {
		delete(s.oauth.logins, keyOf(id))
		s.mu.Unlock()
		s.log.Info("sign-in cancelled", "client", l.client.ID)
		redirectError(w, l.redirectURI, l.state, "access_denied", "The person declined to sign in.", http.StatusSeeOther)
		return
	}
	username := strings.TrimSpace(r.PostForm.Get("username"))
	person := s.personByUsername(username)
	passwordOK := person != nil && subtle.ConstantTimeCompare([]byte(r.PostForm.Get("password")), []byte(passwordOf(person))) == 1
	if !passwordOK || !person.active() {
		l.attempts++
		s.stats.signInFailures++
		attempts := l.attempts
		if attempts >= maxSignInAttempts {
			delete(s.oauth.logins, keyOf(id))
		}
		s.mu.Unlock()
		// Not what was typed: a person may type a password as a username.
		known := "unknown"
		if person != nil {
			known = person.ID
		}
		s.log.Info("sign-in failed", "client", l.client.ID, "identity", known, "attempt", attempts)
		if attempts >= maxSignInAttempts {
			redirectError(w, l.redirectURI, l.state, "access_denied", "Too many failed sign-in attempts.", http.StatusSeeOther)
			return
		}
		msg := "The username or password is wrong."
		if passwordOK {
			msg = "This account is not active."
		}
		s.loginPage(w, http.StatusOK, loginView{LoginID: id, Client: l.client.Name, Username: username, Error: msg}, l.redirectURI)
		return
	}
	delete(s.oauth.logins, keyOf(id))
	code := randomToken(48)
	s.oauth.codes[keyOf(code)] = &authCode{client: l.client, redirectURI: l.redirectURI, challenge: l.challenge,
		scope: l.scope, person: person, expires: now.Add(s.cfg.AuthCodeTTL)}
	s.stats.signIns++
	s.mu.Unlock()
	s.log.Info("signed in; authorization code issued", "client", l.client.ID, "identity", person.ID)
	p := url.Values{"code": {code}}
	if l.state != "" {
		p.Set("state", l.state)
	}
	redirect(w, l.redirectURI, p, http.StatusSeeOther)
}

// personByUsername finds who signs in as username: an alias or an email,
// case-insensitively. Call with s.mu held.
func (s *Sandbox) personByUsername(username string) *identity {
	if username == "" {
		return nil
	}
	u := strings.ToLower(username)
	for _, k := range []string{"alias:" + u, "email:" + u} {
		if ids := s.st.identitiesByKey[k]; len(ids) == 1 && canSignIn(ids[0]) {
			return ids[0]
		}
	}
	return nil
}

// oauthClientFor authenticates a token request's client and checks that
// it may use grantType. Call without s.mu.
func (s *Sandbox) oauthClientFor(a clientAuth, grantType string) (*OAuthClient, *oauthError) {
	if cred, ok := s.clients[a.id]; ok {
		if subtle.ConstantTimeCompare([]byte(a.secret), []byte(cred.ClientSecret)) != 1 {
			return nil, invalidClient("Bad credentials")
		}
		return nil, oauthError400("unauthorized_client", "API clients and personal access tokens use the client credentials grant only.")
	}
	s.mu.Lock()
	oc := s.oauth.clients[a.id]
	s.mu.Unlock()
	switch {
	case oc == nil || !oc.authenticates(a.secret):
		return nil, invalidClient("Bad credentials")
	case !oc.allows(grantType):
		return nil, oauthError400("unauthorized_client", "This client may not use this grant type.")
	}
	return oc, nil
}

// single returns the one value of each named parameter, or
// invalid_request when one is missing or repeated (RFC 6749 §3.2).
func single(form url.Values, names ...string) ([]string, *oauthError) {
	out := make([]string, len(names))
	for i, n := range names {
		switch v := form[n]; {
		case len(v) == 0 || v[0] == "":
			return nil, oauthError400("invalid_request", n+" is required.")
		case len(v) > 1:
			return nil, oauthError400("invalid_request", n+" is given more than once.")
		default:
			out[i] = v[0]
		}
	}
	return out, nil
}

func (s *Sandbox) authorizationCodeGrant(a clientAuth, form url.Values) (*tokenResponse, *oauthError) {
	oc, e := s.oauthClientFor(a, GrantAuthorizationCode)
	if e != nil {
		return nil, e
	}
	v, e := single(form, "code", "redirect_uri", "code_verifier")
	if e != nil {
		return nil, e
	}
	code, redirectURI, verifier := v[0], v[1], v[2]
	now := s.cfg.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.pruneOAuth(now)
	ac := s.oauth.codes[keyOf(code)]
	if ac == nil {
		return nil, invalidGrant("The authorization code is not valid.")
	}
	if ac.used {
		if ac.grant != nil && !ac.grant.revoked {
			s.revokeGrant(ac.grant, "authorization code presented again")
		}
		return nil, invalidGrant("The authorization code was already used; what it granted is revoked.")
	}
	ac.used = true // one attempt, whatever its outcome
	switch {
	case ac.client != oc:
		e = invalidGrant("The authorization code was issued to another client.")
	case now.After(ac.expires):
		e = invalidGrant("The authorization code has expired.")
	case redirectURI != ac.redirectURI:
		e = invalidGrant("redirect_uri does not match the authorization request's.")
	case !validVerifier(verifier) || !pkceMatches(verifier, ac.challenge):
		e = invalidGrant("code_verifier does not match the code_challenge.")
	case !ac.person.active():
		e = invalidGrant("The identity is not active.")
	}
	if e != nil {
		return nil, e
	}
	g := &grant{id: randomHex(8), client: oc, person: ac.person, scope: ac.scope, code: keyOf(code)}
	s.oauth.grants[g.id] = g
	ac.grant = g
	s.log.Info("authorization code redeemed", "client", oc.ID, "identity", g.person.ID, "grant", g.id)
	return s.issue(g, now), nil
}

func (s *Sandbox) refreshTokenGrant(a clientAuth, form url.Values) (*tokenResponse, *oauthError) {
	oc, e := s.oauthClientFor(a, GrantRefreshToken)
	if e != nil {
		return nil, e
	}
	v, e := single(form, "refresh_token")
	if e != nil {
		return nil, e
	}
	k := keyOf(v[0])
	now := s.cfg.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.pruneOAuth(now)
	g := s.oauth.refresh[k]
	switch {
	case g == nil:
		return nil, invalidGrant("The refresh token is not valid.")
	case g.client != oc:
		return nil, invalidGrant("The refresh token was issued to another client.")
	case g.revoked:
		return nil, invalidGrant("The grant was revoked: sign in again.")
	case g.refresh != k:
		s.revokeGrant(g, "refresh token presented again")
		return nil, invalidGrant("The refresh token was already used; the grant is revoked: sign in again.")
	case now.After(g.expires):
		return nil, invalidGrant("The refresh token has expired: sign in again.")
	case !g.person.active():
		s.revokeGrant(g, "identity inactive")
		return nil, invalidGrant("The identity is not active.")
	}
	if scope := form.Get("scope"); scope != "" {
		requested, ok := parseScope(scope)
		if !ok || !subset(strings.Fields(requested), strings.Fields(g.scope)) {
			return nil, oauthError400("invalid_scope", "A refresh may not add scopes.")
		}
	}
	s.log.Info("refresh token rotated", "client", oc.ID, "identity", g.person.ID, "grant", g.id)
	return s.issue(g, now), nil
}

func subset(a, b []string) bool {
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}

// issue gives a grant a new access token and a new refresh token, which
// replaces the one before. Call with s.mu held.
func (s *Sandbox) issue(g *grant, now time.Time) *tokenResponse {
	cred := s.userCredential(g)
	jti := randomHex(16)
	access := fakeJWT(cred, g.person.Alias, jti, now, now.Add(s.cfg.TokenTTL))
	refresh := fakeJWT(cred, g.person.Alias, randomHex(16), now, now.Add(s.cfg.RefreshTokenTTL))
	s.pruneTokens(now)
	s.tokens[keyOf(access)] = token{client: cred, expires: now.Add(s.cfg.TokenTTL), grant: g}
	rk := keyOf(refresh)
	g.refresh, g.expires = rk, now.Add(s.cfg.RefreshTokenTTL)
	g.issued = append(g.issued, rk)
	s.oauth.refresh[rk] = g
	s.stats.tokensIssued++
	return &tokenResponse{
		AccessToken: access, TokenType: "bearer", RefreshToken: refresh,
		ExpiresIn: int(s.cfg.TokenTTL / time.Second), Scope: g.scope, AccessType: "OFFLINE",
		TenantID: tenantID, Pod: "sandbox", Org: tenantName, IdentityID: g.person.ID,
		UserName: g.person.Alias, ClientID: g.client.ID, JTI: jti,
	}
}

// userCredential is who a user token acts as: the person, with their role,
// through the OAuth client.
func (s *Sandbox) userCredential(g *grant) Credential {
	p := s.personOf(g.person)
	return Credential{ClientID: g.client.ID, Role: p.Role, IdentityID: p.IdentityID, Name: p.Name, Email: p.Email}
}

// revokeGrant ends a grant: its access tokens stop working and its refresh
// tokens are refused. Call with s.mu held.
func (s *Sandbox) revokeGrant(g *grant, reason string) {
	g.revoked = true
	s.stats.grantsRevoked++
	s.log.Warn("grant revoked", "client", g.client.ID, "identity", g.person.ID, "grant", g.id, "reason", reason)
}

// pruneOAuth drops expired logins and codes, and grants past their last
// refresh token's end (kept until then, revoked or not, so a reused
// token is told apart). Call with s.mu held.
func (s *Sandbox) pruneOAuth(now time.Time) {
	for k, l := range s.oauth.logins {
		if now.After(l.expires) {
			delete(s.oauth.logins, k)
		}
	}
	for k, c := range s.oauth.codes {
		if now.After(c.expires) && c.grant == nil {
			delete(s.oauth.codes, k)
		}
	}
	for id, g := range s.oauth.grants {
		if now.After(g.expires) {
			for _, k := range g.issued {
				delete(s.oauth.refresh, k)
			}
			delete(s.oauth.codes, g.code)
			delete(s.oauth.grants, id)
		}
	}
}

// handleInfo serves GET /oauth/info: ISC's OAuth details of the tenant.
// ISC's authorizeEndpoint is on the login host and its tokenEndpoint on the
// API host; the sandbox's are both on the host the request came to.
func (s *Sandbox) handleInfo(w http.ResponseWriter, r *http.Request) {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	base := scheme + "://" + r.Host
	writeJSON(w, http.StatusOK, map[string]string{
		"tenantId": tenantID, "tenantName": tenantName, "pod": "sandbox",
		"authorizeEndpoint": base + authorizePath, "tokenEndpoint": base + tokenPath, "cloudDomainUrl": base,
	})
}

func (s *Sandbox) handlePeople(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.People())
}

func (s *Sandbox) handleOAuthClients(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.OAuthClients())
}

// Package mcpauth makes certops the OAuth 2.1 authorization server of its
// MCP clients over HTTP (CERTOPS_IDENTITY=oauth), delegating the login to
// ISC: the MCP authorization spec's third-party authorization flow.
//
//	MCP client → POST /mcp without a token → 401, WWW-Authenticate: Bearer resource_metadata="…"
//	GET /.well-known/oauth-protected-resource[/mcp]      RFC 9728 (the resource, certops as its AS)
//	GET /.well-known/oauth-authorization-server          RFC 8414
//	POST /oauth/register                                  RFC 7591 (public clients), or a Client ID
//	                                                      Metadata Document URL as client_id
//	GET /oauth/authorize (PKCE S256 required, resource = the MCP URL)
//	  → the browser goes to ISC (signin.Service.Start, bound to this
//	    authorization session and to a cookie of this browser)
//	GET {CERTOPS_OAUTH_REDIRECT_URL} ← ISC: signin.Service.Complete stores the
//	  person's ISC grant → certops's own code to the client's redirect_uri
//	POST /oauth/token (authorization_code, refresh_token)  certops's tokens
//	POST /oauth/revoke                                    RFC 7009
//
// certops's access tokens are opaque, short-lived (AccessTTL), for one
// resource (the MCP URL: the audience, RFC 8707), and name the person whose
// ISC grant certops holds; a tool call with one runs with that person's ISC
// client (signin.Service.Bind), and fails 401 once their ISC grant is gone.
// Refresh tokens rotate; presenting a spent one revokes the whole family
// (every access and refresh token of that authorization). No token passes
// through: ISC's tokens stay in internal/signin, and certops's tokens are
// never sent to ISC. Codes, tokens, states and verifiers are kept as
// SHA-256 hashes or in memory and never logged.
//
// Why not a library for this part: ory/fosite is not on the module proxy
// this project uses, and zitadel/oidc's op is an OpenID provider that needs
// signing keys and a 25-method Storage yet has neither dynamic client
// registration, Client ID Metadata Documents, resource indicators nor
// protected resource metadata, which are most of what MCP needs. The wire
// types come from the official MCP Go SDK (oauthex) and the PKCE challenge
// from golang.org/x/oauth2; the rest is here, small, and tested against the
// SDK's own OAuth client.
//
// Limits: the state (clients registered, sessions, codes, tokens) lives in
// this process, so with several replicas a client must keep reaching the
// same one (session affinity), and a restart asks people to authorize again
// (their ISC grant, in the store, survives).
package mcpauth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/modelcontextprotocol/go-sdk/oauthex"
	"golang.org/x/oauth2"

	"github.com/certops/certops/internal/certs"
	"github.com/certops/certops/internal/signin"
)

// SignIn is what the server needs of internal/signin's Service.
type SignIn interface {
	Start(ctx context.Context, binding string) (string, error)
	Complete(ctx context.Context, binding, state, code string) (*signin.Result, error)
	SignedIn(ctx context.Context, identityID string) (bool, error)
	Bind(ctx context.Context, identityID string) (context.Context, error)
}

// Defaults.
const (
	DefaultAccessTTL  = 10 * time.Minute
	DefaultRefreshTTL = 30 * 24 * time.Hour
	DefaultCodeTTL    = time.Minute
	DefaultSessionTTL = 10 * time.Minute
	// Scope is the one scope certops's tokens carry.
	Scope = "certops"
)

// Paths served.
const (
	PathResourceMetadata = "/.well-known/oauth-protected-resource"
	PathServerMetadata   = "/.well-known/oauth-authorization-server"
	PathAuthorize        = "/oauth/authorize"
	PathToken            = "/oauth/token"
	PathRegister         = "/oauth/register"
	PathRevoke           = "/oauth/revoke"
	cookieName           = "certops_mcp_authz"
)

// Config configures a Server.
type Config struct {
	// Issuer is certops's public base URL as MCP clients reach it
	// (https://certops.acme.com; http only on loopback). Required.
	Issuer string
	// Resource is the MCP endpoint's URL (Issuer + /mcp): the audience of
	// every access token. Required.
	Resource string
	// CallbackPath is where ISC sends the browser back
	// (CERTOPS_OAUTH_REDIRECT_URL's path). Required.
	CallbackPath string
	SignIn       SignIn
	// AllowedOrigins get CORS answers on the metadata, token, register and
	// revoke endpoints (browser-based MCP clients).
	AllowedOrigins []string
	// MetadataClient fetches Client ID Metadata Documents (nil: a client
	// that refuses loopback, private and link-local addresses).
	MetadataClient *http.Client
	AccessTTL      time.Duration
	RefreshTTL     time.Duration
	CodeTTL        time.Duration
	SessionTTL     time.Duration
	Logger         *slog.Logger
	Now            func() time.Time
}

// Server is the authorization server and the verifier of its tokens. Safe
// for concurrent use.
type Server struct {
	cfg Config
	log *slog.Logger
	now func() time.Time

	mu       sync.Mutex
	clients  map[string]*client   // by client_id (DCR, and CIMD once fetched)
	sessions map[string]*session  // by session id
	codes    map[string]*code     // by hash
	access   map[string]*access   // by hash
	refresh  map[string]*refresh  // by hash
	families map[string]*family   // by id
	revoked  map[string]time.Time // family ids revoked, until pruned
}

type client struct {
	id           string
	name         string
	redirectURIs []string
	metadataDoc  bool
	fetched      time.Time
}

type session struct {
	clientID, redirectURI, challenge, state, resource, scope string
	browser                                                  string // hash of the cookie
	expires                                                  time.Time
}

type code struct {
	clientID, redirectURI, challenge, resource, scope, identity string
	expires                                                     time.Time
	used                                                        bool
	family                                                      string // set once exchanged
}

type family struct {
	id, clientID, identity, resource, scope string
	expires                                 time.Time // of the refresh chain
}

type access struct {
	family  string
	expires time.Time
}

type refresh struct {
	family  string
	expires time.Time
	used    bool
}

// New returns a Server.
func New(cfg Config) (*Server, error) {
	if cfg.Issuer == "" || cfg.Resource == "" || cfg.CallbackPath == "" || cfg.SignIn == nil {
		return nil, errors.New("mcpauth.New: Issuer, Resource, CallbackPath and SignIn are required")
	}
	for _, u := range []string{cfg.Issuer, cfg.Resource} {
		if err := httpsOrLoopback(u); err != nil {
			return nil, fmt.Errorf("mcpauth: %s: %w", u, err)
		}
	}
	cfg.Issuer = strings.TrimRight(cfg.Issuer, "/")
	if cfg.AccessTTL <= 0 {
		cfg.AccessTTL = DefaultAccessTTL
	}
	if cfg.RefreshTTL <= 0 {
		cfg.RefreshTTL = DefaultRefreshTTL
	}
	if cfg.CodeTTL <= 0 {
		cfg.CodeTTL = DefaultCodeTTL
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = DefaultSessionTTL
	}
	if cfg.MetadataClient == nil {
		cfg.MetadataClient = publicOnlyClient()
	}
	s := &Server{cfg: cfg, log: cfg.Logger, now: cfg.Now,
		clients: map[string]*client{}, sessions: map[string]*session{}, codes: map[string]*code{},
		access: map[string]*access{}, refresh: map[string]*refresh{}, families: map[string]*family{}, revoked: map[string]time.Time{}}
	if s.log == nil {
		s.log = slog.Default()
	}
	s.log = s.log.With(slog.String("component", "mcpauth"))
	if s.now == nil {
		s.now = time.Now
	}
	return s, nil
}

// ResourceMetadataURL is the protected resource metadata's URL, for the
// WWW-Authenticate challenge.
func (s *Server) ResourceMetadataURL() string {
	u, _ := url.Parse(s.cfg.Resource)
	return s.cfg.Issuer + PathResourceMetadata + strings.TrimRight(u.Path, "/")
}

// Challenge is the WWW-Authenticate value of a 401 (errCode "" when no
// token was sent).
func (s *Server) Challenge(errCode string) string {
	c := fmt.Sprintf(`Bearer realm="certops", resource_metadata=%q, scope=%q`, s.ResourceMetadataURL(), Scope)
	if errCode != "" {
		c += fmt.Sprintf(`, error=%q, error_description="the token is not valid, has expired or was revoked"`, errCode)
	}
	return c
}

// Routes registers the endpoints on mux, each through wrap (the caller's
// instrumentation and Host check).
func (s *Server) Routes(mux *http.ServeMux, wrap func(name string, h http.Handler) http.Handler) {
	u, _ := url.Parse(s.cfg.Resource)
	prm := s.cors(http.HandlerFunc(s.handleResourceMetadata))
	mux.Handle(PathResourceMetadata, wrap("oauth-metadata", prm))
	if p := strings.TrimRight(u.Path, "/"); p != "" {
		mux.Handle(PathResourceMetadata+p, wrap("oauth-metadata", prm))
	}
	mux.Handle(PathServerMetadata, wrap("oauth-metadata", s.cors(http.HandlerFunc(s.handleServerMetadata))))
	mux.Handle(PathAuthorize, wrap("oauth-authorize", http.HandlerFunc(s.handleAuthorize)))
	mux.Handle(s.cfg.CallbackPath, wrap("oauth-callback", http.HandlerFunc(s.handleCallback)))
	mux.Handle(PathToken, wrap("oauth-token", s.cors(http.HandlerFunc(s.handleToken))))
	mux.Handle(PathRegister, wrap("oauth-register", s.cors(http.HandlerFunc(s.handleRegister))))
	mux.Handle(PathRevoke, wrap("oauth-revoke", s.cors(http.HandlerFunc(s.handleRevoke))))
}

// Verify checks a certops access token for the MCP resource and returns
// the person it acts for and ctx with their ISC client bound. ok is false
// for a token that is unknown, expired, revoked, for another resource, or
// whose person's ISC grant is gone; err is for the store failing.
func (s *Server) Verify(ctx context.Context, token string) (bound context.Context, identityID string, ok bool, err error) {
	s.mu.Lock()
	a := s.access[hash(token)]
	var f *family
	if a != nil {
		f = s.families[a.family]
	}
	now := s.now()
	if a == nil || f == nil || !now.Before(a.expires) || f.resource != s.cfg.Resource {
		s.mu.Unlock()
		return ctx, "", false, nil
	}
	id, fid := f.identity, f.id
	s.mu.Unlock()
	bound, err = s.cfg.SignIn.Bind(ctx, id)
	if err != nil {
		if certs.ErrorCode(err) == certs.EFORBIDDEN {
			// Their ISC grant is gone (signed out, refused by ISC):
			// certops's tokens for it go too.
			s.revokeFamily(ctx, fid, "the person's SailPoint sign-in is gone")
			return ctx, "", false, nil
		}
		return ctx, "", false, err
	}
	return bound, id, true, nil
}

func (s *Server) handleResourceMetadata(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		methodNotAllowed(w, "GET")
		return
	}
	writeJSON(w, http.StatusOK, &oauthex.ProtectedResourceMetadata{
		Resource:               s.cfg.Resource,
		AuthorizationServers:   []string{s.cfg.Issuer},
		ScopesSupported:        []string{Scope},
		BearerMethodsSupported: []string{"header"},
		ResourceName:           "certops (SailPoint certifications)",
	})
}

func (s *Server) handleServerMetadata(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		methodNotAllowed(w, "GET")
		return
	}
	writeJSON(w, http.StatusOK, &oauthex.AuthServerMeta{
		Issuer:                                     s.cfg.Issuer,
		AuthorizationEndpoint:                      s.cfg.Issuer + PathAuthorize,
		TokenEndpoint:                              s.cfg.Issuer + PathToken,
		RegistrationEndpoint:                       s.cfg.Issuer + PathRegister,
		RevocationEndpoint:                         s.cfg.Issuer + PathRevoke,
		ScopesSupported:                            []string{Scope},
		ResponseTypesSupported:                     []string{"code"},
		GrantTypesSupported:                        []string{"authorization_code", "refresh_token"},
		TokenEndpointAuthMethodsSupported:          []string{"none"},
		RevocationEndpointAuthMethodsSupported:     []string{"none"},
		CodeChallengeMethodsSupported:              []string{"S256"},
		ClientIDMetadataDocumentSupported:          true,
		AuthorizationResponseIssParameterSupported: true,
	})
}

// handleRegister is RFC 7591 for public clients: certops's token endpoint
// authenticates no client (PKCE binds the code to whoever started the
// flow), so no secret is issued.
func (s *Server) handleRegister(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		methodNotAllowed(w, "POST")
		return
	}
	var m oauthex.ClientRegistrationMetadata
	if err := json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&m); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_client_metadata", "the body is not a JSON client registration")
		return
	}
	if err := checkRedirectURIs(m.RedirectURIs); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_redirect_uri", err.Error())
		return
	}
	if m.TokenEndpointAuthMethod != "" && m.TokenEndpointAuthMethod != "none" {
		// A confidential client is registered as a public one: RFC 7591
		// lets the server say what it registered.
		m.TokenEndpointAuthMethod = "none"
	}
	for _, g := range m.GrantTypes {
		if g != "authorization_code" && g != "refresh_token" {
			oauthError(w, http.StatusBadRequest, "invalid_client_metadata", "grant types: authorization_code and refresh_token only")
			return
		}
	}
	id := "mcp-" + random(16)
	c := &client{id: id, name: m.ClientName, redirectURIs: slices.Clone(m.RedirectURIs)}
	s.mu.Lock()
	s.clients[id] = c
	s.mu.Unlock()
	s.log.LogAttrs(r.Context(), slog.LevelInfo, "MCP client registered", slog.String("client_id", id), slog.String("client_name", m.ClientName))
	writeJSON(w, http.StatusCreated, map[string]any{
		"client_id":                  id,
		"client_id_issued_at":        s.now().Unix(),
		"client_name":                m.ClientName,
		"redirect_uris":              c.redirectURIs,
		"token_endpoint_auth_method": "none",
		"grant_types":                []string{"authorization_code", "refresh_token"},
		"response_types":             []string{"code"},
	})
}

// lookupClient returns a registered client, or fetches the Client ID
// Metadata Document a URL client_id names.
func (s *Server) lookupClient(ctx context.Context, id string) (*client, error) {
	s.mu.Lock()
	c := s.clients[id]
	s.mu.Unlock()
	if c != nil && (!c.metadataDoc || s.now().Sub(c.fetched) < time.Hour) {
		return c, nil
	}
	if !strings.HasPrefix(id, "https://") {
		return nil, errors.New("unknown client_id: register first, or use a Client ID Metadata Document URL")
	}
	c, err := s.fetchMetadataDocument(ctx, id)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.clients[id] = c
	s.mu.Unlock()
	return c, nil
}

func (s *Server) fetchMetadataDocument(ctx context.Context, id string) (*client, error) {
	u, err := url.Parse(id)
	if err != nil || u.Scheme != "https" || u.Path == "" || u.Path == "/" || u.Fragment != "" || u.User != nil {
		return nil, errors.New("a client_id URL must be https with a path")
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, id, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	res, err := s.cfg.MetadataClient.Do(req)
	if err != nil {
		return nil, errors.New("the client's metadata document could not be fetched")
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("the client's metadata document answered %d", res.StatusCode)
	}
	var doc struct {
		oauthex.ClientRegistrationMetadata
		ClientID string `json:"client_id"`
	}
	if err := json.NewDecoder(io.LimitReader(res.Body, 5<<10)).Decode(&doc); err != nil {
		return nil, errors.New("the client's metadata document is not JSON (at most 5 KiB)")
	}
	if doc.ClientID != id {
		return nil, errors.New("the client's metadata document names another client_id")
	}
	if doc.TokenEndpointAuthMethod != "" && doc.TokenEndpointAuthMethod != "none" {
		return nil, errors.New("only public clients (token_endpoint_auth_method none) are accepted")
	}
	if err := checkRedirectURIs(doc.RedirectURIs); err != nil {
		return nil, err
	}
	return &client{id: id, name: doc.ClientName, redirectURIs: doc.RedirectURIs, metadataDoc: true, fetched: s.now()}, nil
}

// handleAuthorize checks the request, opens an authorization session bound
// to this browser (a cookie) and sends the browser to ISC.
func (s *Server) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		methodNotAllowed(w, "GET, POST")
		return
	}
	_ = r.ParseForm()
	q := r.Form
	ctx := r.Context()
	c, err := s.lookupClient(ctx, q.Get("client_id"))
	if err != nil {
		s.log.LogAttrs(ctx, slog.LevelWarn, "authorization refused: client", slog.String("error", err.Error()))
		page(w, http.StatusBadRequest, "This application is not known to certops", err.Error())
		return
	}
	redirect := q.Get("redirect_uri")
	if !slices.Contains(c.redirectURIs, redirect) {
		// Matched exactly; never redirect to an unregistered URI.
		s.log.LogAttrs(ctx, slog.LevelWarn, "authorization refused: redirect_uri not registered", slog.String("client_id", c.id))
		page(w, http.StatusBadRequest, "Redirect URI not registered", "The application asked to be answered at an address it did not register.")
		return
	}
	fail := func(errCode, desc string) {
		s.log.LogAttrs(ctx, slog.LevelWarn, "authorization refused", slog.String("client_id", c.id), slog.String("error", errCode), slog.String("why", desc))
		s.redirectError(w, r, redirect, q.Get("state"), errCode, desc)
	}
	switch {
	case q.Get("response_type") != "code":
		fail("unsupported_response_type", "response_type must be code")
		return
	case q.Get("code_challenge") == "" || q.Get("code_challenge_method") != "S256":
		fail("invalid_request", "PKCE is required: code_challenge with code_challenge_method S256")
		return
	case len(q.Get("code_challenge")) < 43 || len(q.Get("code_challenge")) > 128:
		fail("invalid_request", "code_challenge is not an S256 challenge")
		return
	case len(q["resource"]) > 1 || (q.Get("resource") != "" && !sameResource(q.Get("resource"), s.cfg.Resource)):
		fail("invalid_target", "resource must be "+s.cfg.Resource)
		return
	}
	scope := Scope
	for _, sc := range strings.Fields(q.Get("scope")) {
		if sc != Scope && sc != "offline_access" {
			fail("invalid_scope", "the only scope is "+Scope)
			return
		}
	}
	sid := random(24)
	browser := random(24)
	sess := &session{clientID: c.id, redirectURI: redirect, challenge: q.Get("code_challenge"), state: q.Get("state"),
		resource: s.cfg.Resource, scope: scope, browser: hash(browser), expires: s.now().Add(s.cfg.SessionTTL)}
	authURL, err := s.cfg.SignIn.Start(ctx, binding(sid))
	if err != nil {
		s.log.LogAttrs(ctx, slog.LevelError, "authorization: sign-in with SailPoint could not start", slog.String("error", err.Error()))
		s.redirectError(w, r, redirect, q.Get("state"), "server_error", "sign-in with SailPoint could not start")
		return
	}
	s.mu.Lock()
	s.pruneLocked()
	s.sessions[sid] = sess
	s.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: sid + "." + browser, Path: s.cfg.CallbackPath,
		MaxAge: int(s.cfg.SessionTTL / time.Second), HttpOnly: true, Secure: strings.HasPrefix(s.cfg.Issuer, "https://"), SameSite: http.SameSiteLaxMode})
	s.log.LogAttrs(ctx, slog.LevelInfo, "authorization started: sending the browser to SailPoint", slog.String("client_id", c.id))
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, authURL, http.StatusFound)
}

func binding(sid string) string { return "mcp-authz:" + hash(sid) }

// handleCallback is where ISC sends the browser back: the sign-in is
// completed (state single use, bound to this session), then certops's own
// code goes to the MCP client's redirect URI.
func (s *Server) handleCallback(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	ck, err := r.Cookie(cookieName)
	var sid, browser string
	if err == nil {
		sid, browser, _ = strings.Cut(ck.Value, ".")
	}
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: "", Path: s.cfg.CallbackPath, MaxAge: -1, HttpOnly: true})
	s.mu.Lock()
	sess := s.sessions[sid]
	delete(s.sessions, sid) // single use, whatever happens next
	s.mu.Unlock()
	switch {
	case sess == nil || subtle.ConstantTimeCompare([]byte(hash(browser)), []byte(sess.browser)) != 1:
		s.log.LogAttrs(ctx, slog.LevelWarn, "sign-in callback refused: no authorization session in this browser")
		page(w, http.StatusBadRequest, "This sign-in link is not for this browser, or was already used", "Start again from your AI assistant.")
		return
	case !s.now().Before(sess.expires):
		s.log.LogAttrs(ctx, slog.LevelWarn, "sign-in callback refused: authorization session expired")
		page(w, http.StatusBadRequest, "This sign-in has expired", "Start again from your AI assistant.")
		return
	}
	q := r.URL.Query()
	if e := q.Get("error"); e != "" {
		s.log.LogAttrs(ctx, slog.LevelWarn, "sign-in with SailPoint not granted", slog.String("error", oauthCode(e)))
		s.redirectError(w, r, sess.redirectURI, sess.state, "access_denied", "the sign-in with SailPoint was not completed")
		return
	}
	res, err := s.cfg.SignIn.Complete(ctx, binding(sid), q.Get("state"), q.Get("code"))
	if err != nil {
		code := "access_denied"
		if certs.ErrorCode(err) != certs.EFORBIDDEN {
			code = "temporarily_unavailable"
		}
		s.redirectError(w, r, sess.redirectURI, sess.state, code, certs.ErrorMessage(err))
		return
	}
	c := random(32)
	s.mu.Lock()
	s.codes[hash(c)] = &code{clientID: sess.clientID, redirectURI: sess.redirectURI, challenge: sess.challenge,
		resource: sess.resource, scope: sess.scope, identity: res.IdentityID, expires: s.now().Add(s.cfg.CodeTTL)}
	s.mu.Unlock()
	s.log.LogAttrs(ctx, slog.LevelInfo, "authorization granted", slog.String("client_id", sess.clientID), slog.String("identity", res.IdentityID))
	v := url.Values{"code": {c}, "iss": {s.cfg.Issuer}}
	if sess.state != "" {
		v.Set("state", sess.state)
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, withQuery(sess.redirectURI, v), http.StatusFound)
}

func (s *Server) redirectError(w http.ResponseWriter, r *http.Request, redirect, state, errCode, desc string) {
	v := url.Values{"error": {errCode}, "error_description": {desc}, "iss": {s.cfg.Issuer}}
	if state != "" {
		v.Set("state", state)
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, withQuery(redirect, v), http.StatusFound)
}

func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		methodNotAllowed(w, "POST")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "the body is not a form")
		return
	}
	f := r.PostForm
	clientID := f.Get("client_id")
	if u, _, ok := r.BasicAuth(); ok && clientID == "" {
		clientID, _ = url.QueryUnescape(u)
	}
	if len(f["resource"]) > 1 || (f.Get("resource") != "" && !sameResource(f.Get("resource"), s.cfg.Resource)) {
		oauthError(w, http.StatusBadRequest, "invalid_target", "resource must be "+s.cfg.Resource)
		return
	}
	switch f.Get("grant_type") {
	case "authorization_code":
		s.exchangeCode(w, r, clientID, f)
	case "refresh_token":
		s.exchangeRefresh(w, r, clientID, f.Get("refresh_token"))
	default:
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "authorization_code or refresh_token")
	}
}

func (s *Server) exchangeCode(w http.ResponseWriter, r *http.Request, clientID string, f url.Values) {
	ctx := r.Context()
	s.mu.Lock()
	c := s.codes[hash(f.Get("code"))]
	if c == nil {
		s.mu.Unlock()
		s.log.LogAttrs(ctx, slog.LevelWarn, "token refused: unknown code")
		oauthError(w, http.StatusBadRequest, "invalid_grant", "the code is unknown or expired")
		return
	}
	if c.used {
		fid := c.family
		s.mu.Unlock()
		// A code presented twice: what the first exchange issued goes too.
		s.revokeFamily(ctx, fid, "authorization code reused")
		oauthError(w, http.StatusBadRequest, "invalid_grant", "the code was already used")
		return
	}
	c.used = true
	var why string
	switch {
	case !s.now().Before(c.expires):
		why = "the code has expired"
	case c.clientID != clientID:
		why = "the code was issued to another client"
	case c.redirectURI != f.Get("redirect_uri"):
		why = "redirect_uri differs from the authorization request's"
	case !pkceMatches(c.challenge, f.Get("code_verifier")):
		why = "code_verifier does not match the code_challenge"
	}
	if why != "" {
		s.mu.Unlock()
		s.log.LogAttrs(ctx, slog.LevelWarn, "token refused", slog.String("client_id", clientID), slog.String("why", why))
		oauthError(w, http.StatusBadRequest, "invalid_grant", why)
		return
	}
	fam := &family{id: random(16), clientID: c.clientID, identity: c.identity, resource: c.resource, scope: c.scope, expires: s.now().Add(s.cfg.RefreshTTL)}
	s.families[fam.id] = fam
	c.family = fam.id
	at, rt := s.issueLocked(fam)
	s.mu.Unlock()
	s.log.LogAttrs(ctx, slog.LevelInfo, "tokens issued", slog.String("client_id", clientID), slog.String("identity", fam.identity))
	s.writeTokens(w, at, rt, fam)
}

func (s *Server) exchangeRefresh(w http.ResponseWriter, r *http.Request, clientID, token string) {
	ctx := r.Context()
	s.mu.Lock()
	rt := s.refresh[hash(token)]
	var fam *family
	if rt != nil {
		fam = s.families[rt.family]
	}
	switch {
	case rt == nil || fam == nil:
		s.mu.Unlock()
		s.log.LogAttrs(ctx, slog.LevelWarn, "refresh refused: unknown or revoked refresh token")
		oauthError(w, http.StatusBadRequest, "invalid_grant", "the refresh token is unknown, expired or revoked")
		return
	case rt.used:
		s.mu.Unlock()
		// Reuse: someone holds a copy. Revoke everything of this grant.
		s.revokeFamily(ctx, fam.id, "refresh token reused")
		oauthError(w, http.StatusBadRequest, "invalid_grant", "the refresh token was already used: this authorization is revoked")
		return
	case fam.clientID != clientID:
		s.mu.Unlock()
		s.log.LogAttrs(ctx, slog.LevelWarn, "refresh refused: another client's refresh token", slog.String("client_id", clientID))
		oauthError(w, http.StatusBadRequest, "invalid_grant", "the refresh token was issued to another client")
		return
	case !s.now().Before(rt.expires):
		s.mu.Unlock()
		oauthError(w, http.StatusBadRequest, "invalid_grant", "the refresh token has expired")
		return
	}
	rt.used = true
	id := fam.identity
	s.mu.Unlock()
	// Bound to the person's ISC grant: no grant, no new token.
	if ok, err := s.cfg.SignIn.SignedIn(ctx, id); err != nil {
		oauthError(w, http.StatusServiceUnavailable, "temporarily_unavailable", "the store could not be read")
		return
	} else if !ok {
		s.revokeFamily(ctx, fam.id, "the person's SailPoint sign-in is gone")
		oauthError(w, http.StatusBadRequest, "invalid_grant", signin.ErrSignInAgain)
		return
	}
	s.mu.Lock()
	if s.families[fam.id] == nil {
		s.mu.Unlock()
		oauthError(w, http.StatusBadRequest, "invalid_grant", "this authorization was revoked")
		return
	}
	at, nrt := s.issueLocked(fam)
	s.mu.Unlock()
	s.log.LogAttrs(ctx, slog.LevelInfo, "tokens refreshed", slog.String("client_id", clientID), slog.String("identity", id))
	s.writeTokens(w, at, nrt, fam)
}

// issueLocked makes an access token and a refresh token of fam. s.mu held.
func (s *Server) issueLocked(fam *family) (at, rt string) {
	now := s.now()
	at, rt = "cat_"+random(32), "crt_"+random(32)
	s.access[hash(at)] = &access{family: fam.id, expires: now.Add(s.cfg.AccessTTL)}
	s.refresh[hash(rt)] = &refresh{family: fam.id, expires: fam.expires}
	return at, rt
}

func (s *Server) writeTokens(w http.ResponseWriter, at, rt string, fam *family) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token":  at,
		"token_type":    "Bearer",
		"expires_in":    int(s.cfg.AccessTTL / time.Second),
		"refresh_token": rt,
		"scope":         fam.scope,
	})
}

// handleRevoke is RFC 7009: revoking either token revokes its family.
func (s *Server) handleRevoke(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		methodNotAllowed(w, "POST")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "the body is not a form")
		return
	}
	h := hash(r.PostForm.Get("token"))
	s.mu.Lock()
	var fid string
	if a := s.access[h]; a != nil {
		fid = a.family
	} else if rt := s.refresh[h]; rt != nil {
		fid = rt.family
	}
	s.mu.Unlock()
	if fid != "" {
		s.revokeFamily(r.Context(), fid, "revoked by the client")
	}
	w.WriteHeader(http.StatusOK) // also for an unknown token (RFC 7009 §2.2)
}

// RevokeIdentity revokes every certops token of a person (they signed out).
func (s *Server) RevokeIdentity(ctx context.Context, identityID string) {
	s.mu.Lock()
	var ids []string
	for id, f := range s.families {
		if f.identity == identityID {
			ids = append(ids, id)
		}
	}
	s.mu.Unlock()
	for _, id := range ids {
		s.revokeFamily(ctx, id, "the person signed out")
	}
}

func (s *Server) revokeFamily(ctx context.Context, fid, why string) {
	if fid == "" {
		return
	}
	s.mu.Lock()
	f := s.families[fid]
	delete(s.families, fid)
	for k, a := range s.access {
		if a.family == fid {
			delete(s.access, k)
		}
	}
	for k, rt := range s.refresh {
		if rt.family == fid {
			delete(s.refresh, k)
		}
	}
	s.mu.Unlock()
	if f != nil {
		s.log.LogAttrs(ctx, slog.LevelWarn, "authorization revoked", slog.String("client_id", f.clientID), slog.String("identity", f.identity), slog.String("why", why))
	}
}

// pruneLocked drops what has expired. s.mu held.
func (s *Server) pruneLocked() {
	now := s.now()
	for k, v := range s.sessions {
		if !now.Before(v.expires) {
			delete(s.sessions, k)
		}
	}
	for k, v := range s.codes {
		// A used code is kept until it expires, to detect its reuse.
		if !now.Before(v.expires) {
			delete(s.codes, k)
		}
	}
	for k, v := range s.access {
		if !now.Before(v.expires) {
			delete(s.access, k)
		}
	}
	for k, v := range s.refresh {
		if !now.Before(v.expires) {
			delete(s.refresh, k)
		}
	}
}

// cors answers preflights and sets Access-Control-Allow-Origin for the
// allowed origins.
func (s *Server) cors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if SetCORS(w, r, s.cfg.AllowedOrigins) && r.Method == http.MethodOptions {
			w.Header().Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
			w.Header().Set("Access-Control-Allow-Headers", "Authorization, Content-Type, Mcp-Protocol-Version")
			w.Header().Set("Access-Control-Max-Age", "600")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// SetCORS sets the CORS answer headers when r's Origin is one of allowed,
// and reports whether it did.
func SetCORS(w http.ResponseWriter, r *http.Request, allowed []string) bool {
	origin := r.Header.Get("Origin")
	w.Header().Add("Vary", "Origin")
	if origin == "" {
		return false
	}
	for _, a := range allowed {
		if strings.EqualFold(strings.TrimRight(a, "/"), origin) {
			w.Header().Set("Access-Control-Allow-Origin", origin)
			w.Header().Set("Access-Control-Expose-Headers", "WWW-Authenticate, Mcp-Session-Id")
			return true
		}
	}
	return false
}

func pkceMatches(challenge, verifier string) bool {
	if len(verifier) < 43 || len(verifier) > 128 {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(oauth2.S256ChallengeFromVerifier(verifier)), []byte(challenge)) == 1
}

func sameResource(a, b string) bool { return strings.TrimRight(a, "/") == strings.TrimRight(b, "/") }

// checkRedirectURIs accepts https URIs, http on loopback, and private-use
// schemes of native apps; never a fragment.
func checkRedirectURIs(uris []string) error {
	if len(uris) == 0 {
		return errors.New("redirect_uris is required")
	}
	for _, raw := range uris {
		u, err := url.Parse(raw)
		if err != nil || u.Scheme == "" || u.Fragment != "" {
			return errors.New("a redirect URI must be absolute, without a fragment")
		}
		switch strings.ToLower(u.Scheme) {
		case "https":
		case "http":
			if !loopback(u.Hostname()) {
				return errors.New("a redirect URI must use https (http only on loopback)")
			}
		case "javascript", "data", "file", "vbscript", "blob":
			return errors.New("a redirect URI must be https, loopback http or an app's own scheme")
		}
	}
	return nil
}

func httpsOrLoopback(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return errors.New("must be an absolute URL")
	}
	if u.Scheme == "https" || (u.Scheme == "http" && loopback(u.Hostname())) {
		return nil
	}
	return errors.New("must use https (http only on loopback)")
}

func loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// publicOnlyClient fetches metadata documents from public addresses only
// (no SSRF into the cluster).
func publicOnlyClient() *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second, Control: func(_, address string, _ syscall.RawConn) error {
		host, _, err := net.SplitHostPort(address)
		if err != nil {
			return err
		}
		ip := net.ParseIP(host)
		if ip == nil || ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsUnspecified() || ip.IsMulticast() {
			return errors.New("refused: not a public address")
		}
		return nil
	}}
	return &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DialContext: d.DialContext, TLSHandshakeTimeout: 5 * time.Second},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func withQuery(base string, v url.Values) string {
	u, err := url.Parse(base)
	if err != nil {
		return base
	}
	q := u.Query()
	for k, vs := range v {
		q[k] = vs
	}
	u.RawQuery = q.Encode()
	return u.String()
}

func random(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func hash(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// oauthCode keeps only a plausible OAuth error code (never echo input).
func oauthCode(s string) string {
	for _, r := range s {
		if (r < 'a' || r > 'z') && r != '_' {
			return "other"
		}
	}
	if len(s) > 40 {
		return "other"
	}
	return s
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func oauthError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
}

func methodNotAllowed(w http.ResponseWriter, allow string) {
	w.Header().Set("Allow", allow)
	http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
}

// page is a small server-rendered answer for the person's browser.
func page(w http.ResponseWriter, status int, title, body string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>certops: %s</title></head><body style=\"font-family:sans-serif;max-width:36em;margin:4em auto\"><h1>certops</h1><h2>%s</h2><p>%s</p></body></html>",
		html.EscapeString(title), html.EscapeString(title), html.EscapeString(body))
}

package sandbox

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// ISC's POST /oauth/token. Client credentials as SailPoint documents them:
// credentials as form fields (urlencoded or multipart), query parameters or
// HTTP Basic; grant_type compared case-insensitively (the docs' table says
// CLIENT_CREDENTIALS, the examples client_credentials). The authorization
// code and refresh token grants are in oauth.go. Tokens look like JWTs
// (SDKs decode them) but are random and checked by lookup; the sandbox
// keeps only their SHA-256 (secretKey), never the tokens themselves.

const tenantName = "sandbox"

// token is an access token the sandbox issued.
type token struct {
	// client is who the token acts as: an API client, or for a user token
	// (grant set) the person, with the OAuth client's id.
	client  Credential
	expires time.Time
	// grant is the person's sign-in a user token comes from; nil for client
	// credentials.
	grant *grant
}

// secretKey is the SHA-256 of a token, code or login id: what the maps are
// keyed by, so the secrets themselves are not kept.
type secretKey [sha256.Size]byte

func keyOf(secret string) secretKey { return sha256.Sum256([]byte(secret)) }

// tokenResponse is ISC's token response.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	RefreshToken string `json:"refresh_token,omitempty"`
	ExpiresIn    int    `json:"expires_in"`
	Scope        string `json:"scope"`
	AccessType   string `json:"accessType,omitempty"`
	TenantID     string `json:"tenant_id"`
	Pod          string `json:"pod"`
	Org          string `json:"org"`
	StrongAuth   bool   `json:"strong_auth"`
	Internal     bool   `json:"internal"`
	IdentityID   string `json:"identity_id"`
	UserName     string `json:"user_name"`
	ClientID     string `json:"client_id"`
	JTI          string `json:"jti"`
}

// oauthError is an RFC 6749 §5.2 error answer of the token endpoint.
type oauthError struct {
	status      int
	code        string
	description string
}

func tokenError(status int, code, description string) *oauthError {
	return &oauthError{status: status, code: code, description: description}
}

func oauthError400(code, description string) *oauthError {
	return tokenError(http.StatusBadRequest, code, description)
}

func invalidClient(description string) *oauthError {
	return tokenError(http.StatusUnauthorized, "invalid_client", description)
}

func invalidGrant(description string) *oauthError {
	return oauthError400("invalid_grant", description)
}

// writeTokenError answers e; a client that authenticated with HTTP Basic
// gets the challenge RFC 6749 §5.2 asks for with invalid_client.
func writeTokenError(w http.ResponseWriter, e *oauthError, basic bool) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	if e.status == http.StatusUnauthorized && basic {
		w.Header().Set("WWW-Authenticate", `Basic realm="`+tenantName+`"`)
	}
	writeJSON(w, e.status, map[string]string{"error": e.code, "error_description": e.description})
}

// clientAuth is how a token request names its client.
type clientAuth struct {
	id, secret string
	basic      bool // sent as HTTP Basic
}

// handleToken serves POST /oauth/token.
func (s *Sandbox) handleToken(w http.ResponseWriter, r *http.Request) {
	ct := r.Header.Get("Content-Type")
	r.Body = http.MaxBytesReader(w, r.Body, 1<<16)
	var err error
	if strings.HasPrefix(ct, "multipart/form-data") {
		err = r.ParseMultipartForm(1 << 16)
	} else {
		err = r.ParseForm()
	}
	if err != nil {
		writeTokenError(w, oauthError400("invalid_request", "The request body could not be parsed."), false)
		return
	}
	// r.Form holds both the body's fields and the query parameters.
	form := r.Form
	grant := form.Get("grant_type")
	auth := clientAuth{id: form.Get("client_id"), secret: form.Get("client_secret")}
	if bid, bsecret, ok := r.BasicAuth(); ok && auth.id == "" {
		// RFC 6749 §2.3.1: Basic carries form-urlencoded id and secret.
		if u, err := url.QueryUnescape(bid); err == nil {
			bid = u
		}
		if u, err := url.QueryUnescape(bsecret); err == nil {
			bsecret = u
		}
		auth = clientAuth{id: bid, secret: bsecret, basic: true}
	}
	var res *tokenResponse
	var e *oauthError
	switch {
	case grant == "":
		e = oauthError400("invalid_request", "Missing grant type")
	case strings.EqualFold(grant, "client_credentials"):
		res, e = s.clientCredentials(auth)
	case strings.EqualFold(grant, "authorization_code"):
		res, e = s.authorizationCodeGrant(auth, form)
	case strings.EqualFold(grant, "refresh_token"):
		res, e = s.refreshTokenGrant(auth, form)
	default:
		e = oauthError400("unsupported_grant_type", "Unsupported grant type: "+grant)
	}
	if e != nil {
		// The descriptions are the sandbox's own words, but for
		// unsupported_grant_type's, which names what was sent.
		attrs := []any{"client", loggableClient(s, auth.id), "error", e.code}
		if e.code != "unsupported_grant_type" {
			attrs = append(attrs, "reason", e.description)
		}
		s.log.Info("token request refused", attrs...)
		writeTokenError(w, e, auth.basic)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	writeJSON(w, http.StatusOK, res)
}

// loggableClient is a client id fit for the log: a registered one, or
// "unknown" (a person may paste a secret into the id).
func loggableClient(s *Sandbox, id string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.clients[id]; ok {
		return id
	}
	if _, ok := s.oauth.clients[id]; ok {
		return id
	}
	return "unknown"
}

func (s *Sandbox) clientCredentials(a clientAuth) (*tokenResponse, *oauthError) {
	cred, ok := s.clients[a.id]
	if !ok || subtle.ConstantTimeCompare([]byte(a.secret), []byte(cred.ClientSecret)) != 1 {
		s.mu.Lock()
		oc := s.oauth.clients[a.id]
		s.mu.Unlock()
		if oc != nil && oc.authenticates(a.secret) {
			return nil, oauthError400("unauthorized_client", "This client may not use the client credentials grant.")
		}
		return nil, invalidClient("Bad credentials")
	}
	now := s.cfg.Now()
	jti := randomHex(16)
	access := fakeJWT(cred, cred.Name, jti, now, now.Add(s.cfg.TokenTTL))
	s.mu.Lock()
	s.pruneTokens(now)
	s.tokens[keyOf(access)] = token{client: cred, expires: now.Add(s.cfg.TokenTTL)}
	s.stats.tokensIssued++
	s.mu.Unlock()
	return &tokenResponse{
		AccessToken: access, TokenType: "bearer", ExpiresIn: int(s.cfg.TokenTTL / time.Second),
		Scope: "sp:scopes:all", TenantID: tenantID, Pod: "sandbox", Org: tenantName,
		Internal: false, StrongAuth: false, IdentityID: cred.IdentityID, UserName: cred.Name,
		ClientID: cred.ClientID, JTI: jti,
	}, nil
}

// pruneTokens drops expired access tokens so the map stays small. Call with
// s.mu held.
func (s *Sandbox) pruneTokens(now time.Time) {
	for k, t := range s.tokens {
		if now.After(t.expires) {
			delete(s.tokens, k)
		}
	}
}

const tenantID = "5a3d0f3e-5a9c-4b6e-9d0a-5a4db0c5e001"

// fakeJWT returns a JWT-shaped token: a real header and claims, and a
// random signature. The sandbox never verifies it; it looks it up.
func fakeJWT(c Credential, userName, jti string, iat, exp time.Time) string {
	enc := base64.RawURLEncoding
	header, _ := json.Marshal(map[string]string{"alg": "HS256", "typ": "JWT", "kid": "sandbox"})
	claims, _ := json.Marshal(map[string]any{
		"tenant_id": tenantID, "pod": "sandbox", "org": tenantName, "identity_id": c.IdentityID,
		"user_name": userName, "client_id": c.ClientID, "scope": []string{"sp:scopes:all"},
		"authorities": []string{authority(c)}, "iat": iat.Unix(), "exp": exp.Unix(), "jti": jti,
	})
	var sig [32]byte
	_, _ = rand.Read(sig[:])
	return enc.EncodeToString(header) + "." + enc.EncodeToString(claims) + "." + enc.EncodeToString(sig[:])
}

func authority(c Credential) string {
	if c.Role == RoleAdmin {
		return "ORG_ADMIN"
	}
	return "USER"
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// randomToken returns n random bytes, base64url-encoded.
func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// authenticate returns the token of the request's bearer token, or a 401
// with ISC's {"error": …} body.
func (s *Sandbox) authenticate(r *http.Request, now time.Time) (token, *apiError) {
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(h, " ")
	if h == "" || !ok || !strings.EqualFold(scheme, "bearer") || tok == "" {
		return token{}, &apiError{status: http.StatusUnauthorized, text: "JWT validation failed: no JWT was provided"}
	}
	s.mu.Lock()
	t, found := s.tokens[keyOf(strings.TrimSpace(tok))]
	revoked := found && t.grant != nil && t.grant.revoked
	s.mu.Unlock()
	switch {
	case !found || revoked:
		return token{}, &apiError{status: http.StatusUnauthorized, text: "JWT validation failed: JWT is invalid"}
	case now.After(t.expires):
		return token{}, &apiError{status: http.StatusUnauthorized, text: "JWT validation failed: JWT is expired"}
	}
	return t, nil
}

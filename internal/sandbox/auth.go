package sandbox

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// OAuth2 client credentials, as ISC's POST /oauth/token: credentials as
// form fields (urlencoded or multipart) or query parameters; grant_type
// compared case-insensitively (the docs' table says CLIENT_CREDENTIALS, the
// examples client_credentials). Tokens look like JWTs (SDKs decode them)
// but are random and checked by lookup.

const tenantName = "sandbox"

type token struct {
	client  Credential
	expires time.Time
}

// tokenResponse is ISC's token response.
type tokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int    `json:"expires_in"`
	Scope       string `json:"scope"`
	TenantID    string `json:"tenant_id"`
	Pod         string `json:"pod"`
	Org         string `json:"org"`
	StrongAuth  bool   `json:"strong_auth"`
	Internal    bool   `json:"internal"`
	IdentityID  string `json:"identity_id"`
	UserName    string `json:"user_name"`
	ClientID    string `json:"client_id"`
	JTI         string `json:"jti"`
}

func oauthError(w http.ResponseWriter, status int, code, description string) {
	writeJSON(w, status, map[string]string{"error": code, "error_description": description})
}

// handleToken serves POST /oauth/token.
func (s *Sandbox) handleToken(w http.ResponseWriter, r *http.Request) {
	ct := r.Header.Get("Content-Type")
	var err error
	if strings.HasPrefix(ct, "multipart/form-data") {
		err = r.ParseMultipartForm(1 << 16)
	} else {
		err = r.ParseForm()
	}
	if err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "The request body could not be parsed.")
		return
	}
	// r.Form holds both the body's fields and the query parameters.
	grant := r.Form.Get("grant_type")
	id, secret := r.Form.Get("client_id"), r.Form.Get("client_secret")
	if bid, bsecret, ok := r.BasicAuth(); ok && id == "" {
		id, secret = bid, bsecret
	}
	switch {
	case grant == "":
		oauthError(w, http.StatusBadRequest, "invalid_request", "Missing grant type")
		return
	case !strings.EqualFold(grant, "client_credentials"):
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "Unsupported grant type: "+grant)
		return
	}
	cred, ok := s.clients[id]
	if !ok || secret != cred.ClientSecret {
		oauthError(w, http.StatusUnauthorized, "invalid_client", "Bad credentials")
		return
	}
	now := s.cfg.Now()
	jti := randomHex(16)
	access := fakeJWT(cred, jti, now, now.Add(s.cfg.TokenTTL))
	s.mu.Lock()
	for k, t := range s.tokens { // drop expired tokens so the map stays small
		if now.After(t.expires) {
			delete(s.tokens, k)
		}
	}
	s.tokens[access] = token{client: cred, expires: now.Add(s.cfg.TokenTTL)}
	s.stats.tokensIssued++
	s.mu.Unlock()
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, tokenResponse{
		AccessToken: access, TokenType: "bearer", ExpiresIn: int(s.cfg.TokenTTL / time.Second),
		Scope: "sp:scopes:all", TenantID: tenantID, Pod: "sandbox", Org: tenantName,
		Internal: false, StrongAuth: false, IdentityID: cred.IdentityID, UserName: cred.Name,
		ClientID: cred.ClientID, JTI: jti,
	})
}

const tenantID = "5a3d0f3e-5a9c-4b6e-9d0a-5a4db0c5e001"

// fakeJWT returns a JWT-shaped token: a real header and claims, and a
// random signature. The sandbox never verifies it; it looks it up.
func fakeJWT(c Credential, jti string, iat, exp time.Time) string {
	enc := base64.RawURLEncoding
	header, _ := json.Marshal(map[string]string{"alg": "HS256", "typ": "JWT", "kid": "sandbox"})
	claims, _ := json.Marshal(map[string]any{
		"tenant_id": tenantID, "pod": "sandbox", "org": tenantName, "identity_id": c.IdentityID,
		"user_name": c.Name, "client_id": c.ClientID, "scope": []string{"sp:scopes:all"},
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

// authenticate returns the client of the request's bearer token, or a 401
// with ISC's {"error": …} body.
func (s *Sandbox) authenticate(r *http.Request, now time.Time) (Credential, *apiError) {
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(h, " ")
	if h == "" || !ok || !strings.EqualFold(scheme, "bearer") || tok == "" {
		return Credential{}, &apiError{status: http.StatusUnauthorized, text: "JWT validation failed: no JWT was provided"}
	}
	s.mu.Lock()
	t, found := s.tokens[strings.TrimSpace(tok)]
	s.mu.Unlock()
	switch {
	case !found:
		return Credential{}, &apiError{status: http.StatusUnauthorized, text: "JWT validation failed: JWT is invalid"}
	case now.After(t.expires):
		return Credential{}, &apiError{status: http.StatusUnauthorized, text: "JWT validation failed: JWT is expired"}
	}
	return t.client, nil
}

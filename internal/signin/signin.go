// Package signin is certops as an OAuth client of ISC (CERTOPS_IDENTITY=oauth):
// a person signs in with SailPoint (authorization code with PKCE, through
// golang.org/x/oauth2), certops keeps their refresh token in the store,
// encrypted (certs.Grant, internal/grantkey), and calls ISC as them with a
// sailpoint client of their own (their token, their pacer).
//
// The flow:
//
//  1. Start(binding) makes a state (random, single use, expiring after
//     Config.StateTTL, bound to whoever started it: the front end's key for
//     the person or their browser session) and a PKCE verifier, both kept in
//     this process, and returns ISC's authorize URL with the S256
//     challenge. Only the URL leaves: the verifier never does.
//  2. ISC sends the browser back to the redirect URL with code and state.
//     Complete(binding, state, code) takes the state (gone after this
//     attempt, whatever its outcome), checks its binding and age, exchanges
//     the code with the verifier, and saves the grant (the refresh token
//     sealed) under the identity ISC's answer names.
//  3. Tenant(identity) is a certs.Tenant acting as that person
//     (sailpoint.NewPerson), one per person per process. Its access tokens
//     come from the refresh token, shortly before each expires (the
//     sailpoint client's token cache); ISC rotates the refresh token each
//     time and the new one is sealed (with the current key) and saved.
//     When ISC refuses the refresh token (invalid_grant: revoked, reused,
//     expired, the identity inactive), or no configured key opens it, the
//     grant is deleted and the call fails EFORBIDDEN with ErrSignInAgain's
//     words; the same when ISC answers one of the person's calls 401/403
//     saying the identity is inactive or gone (inactive.go). Bind puts it
//     in a call's context for certs.PersonRouter.
//  4. SignOut deletes the grant.
//
// Nothing secret is logged: tokens, codes, states and verifiers appear in
// no log record and no error message (TestNothingSecretLogged).
//
// Limits: started sign-ins live in the process that started them, so with
// several replicas the callback must reach the same one (or a later change
// keeps them in the store). Two replicas refreshing one person's token at
// the same moment would present it twice, which ISC treats as reuse and
// revokes; each process refreshes a person's token once at a time, and
// reads the latest refresh token from the store before each refresh.
package signin

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"golang.org/x/oauth2"

	"github.com/certops/certops/internal/certs"
	"github.com/certops/certops/internal/grantkey"
	"github.com/certops/certops/internal/sailpoint"
)

// ErrSignInAgain is the message of the EFORBIDDEN a person gets when their
// sign-in is gone: ISC refused it, they signed out, or it cannot be read.
const ErrSignInAgain = "your SailPoint sign-in is no longer valid: sign in with SailPoint again"

// ErrNotSignedIn is the message when a person never signed in.
const ErrNotSignedIn = "you have not signed in with SailPoint: sign in with SailPoint first"

// Options are the service's collaborators. Store and Keys are required.
type Options struct {
	Store certs.GrantStore
	Keys  *grantkey.Keyring
	// SailPoint is the service client's configuration; each person's client
	// uses it (base URL, API version, pacing, timeouts), with their token.
	SailPoint sailpoint.Config
	// Client are the options of each person's sailpoint client (HTTP
	// client, logger, metrics, ReadCache: its keys tell people apart).
	Client sailpoint.Options
	// HTTPClient makes the token requests (Client.HTTPClient, else
	// http.DefaultClient).
	HTTPClient *http.Client
	Logger     *slog.Logger     // nil: slog.Default()
	Now        func() time.Time // nil: time.Now
}

// Service signs people in and gives each their Tenant. Safe for
// concurrent use.
type Service struct {
	cfg  Config
	opts Options
	log  *slog.Logger
	now  func() time.Time
	http *http.Client

	mu      sync.Mutex
	pending map[string]*pending // by state
	people  map[string]*person  // by identity id
}

// pending is a started sign-in.
type pending struct {
	binding  string
	verifier string
	expires  time.Time
}

// person is one person's client and token source.
type person struct {
	tenant *sailpoint.Client
	src    *source
}

// New returns a Service.
func New(cfg Config, opts Options) (*Service, error) {
	if opts.Store == nil || opts.Keys == nil {
		return nil, errors.New("signin.New: Store and Keys are required")
	}
	if cfg.ClientID == "" || cfg.AuthURL == "" || cfg.TokenURL == "" || cfg.RedirectURL == "" {
		return nil, errors.New("signin.New: ClientID, AuthURL, TokenURL and RedirectURL are required")
	}
	if cfg.StateTTL <= 0 {
		cfg.StateTTL = DefaultStateTTL
	}
	if len(cfg.Scopes) == 0 {
		cfg.Scopes = DefaultScopes
	}
	s := &Service{cfg: cfg, opts: opts, log: opts.Logger, now: opts.Now, http: opts.HTTPClient,
		pending: map[string]*pending{}, people: map[string]*person{}}
	if s.log == nil {
		s.log = slog.Default()
	}
	s.log = s.log.With(slog.String("component", "signin"))
	if s.now == nil {
		s.now = time.Now
	}
	if s.http == nil {
		s.http = cmpClient(opts.Client.HTTPClient)
	}
	return s, nil
}

func cmpClient(c *http.Client) *http.Client {
	if c != nil {
		return c
	}
	return http.DefaultClient
}

// oauthConfig is x/oauth2's view of the client, with the current secret.
func (s *Service) oauthConfig() *oauth2.Config {
	c := &oauth2.Config{
		ClientID:    s.cfg.ClientID,
		Endpoint:    oauth2.Endpoint{AuthURL: s.cfg.AuthURL, TokenURL: s.cfg.TokenURL, AuthStyle: oauth2.AuthStyleInParams},
		RedirectURL: s.cfg.RedirectURL,
		Scopes:      s.cfg.Scopes,
	}
	if s.cfg.ClientSecret != nil {
		c.ClientSecret = s.cfg.ClientSecret.Value()
	}
	return c
}

func (s *Service) tokenContext(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx = context.WithValue(ctx, oauth2.HTTPClient, s.http)
	timeout := s.opts.SailPoint.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	return context.WithTimeout(ctx, timeout)
}

// Start begins a sign-in for binding (who starts it: a front end's key for
// the person, or their browser session; Complete must present the same)
// and returns the URL to send their browser to.
func (s *Service) Start(ctx context.Context, binding string) (string, error) {
	if binding == "" {
		return "", certs.Errorf(certs.EINVALID, "a sign-in must be bound to whoever starts it")
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("signin: state: %w", err)
	}
	state := base64.RawURLEncoding.EncodeToString(b)
	verifier := oauth2.GenerateVerifier()
	now := s.now()
	s.mu.Lock()
	for k, p := range s.pending {
		if !now.Before(p.expires) {
			delete(s.pending, k)
		}
	}
	s.pending[state] = &pending{binding: binding, verifier: verifier, expires: now.Add(s.cfg.StateTTL)}
	s.mu.Unlock()
	s.log.LogAttrs(ctx, slog.LevelInfo, "sign-in started")
	return s.oauthConfig().AuthCodeURL(state, oauth2.S256ChallengeOption(verifier)), nil
}

// Result is a completed sign-in.
type Result struct {
	IdentityID string
	// UserName is ISC's user name of the person, when its answer says.
	UserName string
}

// Complete finishes the sign-in that state names, for binding, with the
// code ISC sent back, and stores the person's grant (replacing any). The
// state is used up by this call whatever happens. EFORBIDDEN when the
// state is unknown, used, expired or bound to someone else, or when ISC
// refuses the code; EUNAVAILABLE when ISC cannot be reached.
func (s *Service) Complete(ctx context.Context, binding, state, code string) (*Result, error) {
	s.mu.Lock()
	p := s.pending[state]
	delete(s.pending, state)
	s.mu.Unlock()
	switch {
	case p == nil:
		s.log.LogAttrs(ctx, slog.LevelWarn, "sign-in refused: unknown or used state")
		return nil, certs.Errorf(certs.EFORBIDDEN, "this sign-in link was already used or is unknown: start again")
	case !s.now().Before(p.expires):
		s.log.LogAttrs(ctx, slog.LevelWarn, "sign-in refused: state expired")
		return nil, certs.Errorf(certs.EFORBIDDEN, "this sign-in link has expired: start again")
	case p.binding != binding:
		s.log.LogAttrs(ctx, slog.LevelWarn, "sign-in refused: state started by someone else")
		return nil, certs.Errorf(certs.EFORBIDDEN, "this sign-in was started by someone else: start again")
	case code == "":
		return nil, certs.Errorf(certs.EFORBIDDEN, "SailPoint sent no authorization code: start again")
	}
	tctx, cancel := s.tokenContext(ctx)
	defer cancel()
	tok, err := s.oauthConfig().Exchange(tctx, code, oauth2.VerifierOption(p.verifier))
	if err != nil {
		err = s.tokenError(err, "")
		s.log.LogAttrs(ctx, slog.LevelWarn, "sign-in: code exchange failed", slog.String("error", err.Error()))
		return nil, err
	}
	id, _ := tok.Extra("identity_id").(string)
	if id == "" || tok.RefreshToken == "" {
		s.log.LogAttrs(ctx, slog.LevelWarn, "sign-in: ISC's answer lacks the identity id or a refresh token")
		return nil, certs.Errorf(certs.EFORBIDDEN, "SailPoint's answer names no identity or gives no refresh token: check that certops's OAuth client has the REFRESH_TOKEN grant type")
	}
	if err := s.save(ctx, id, tok); err != nil {
		return nil, err
	}
	user, _ := tok.Extra("user_name").(string)
	s.mu.Lock()
	if old := s.people[id]; old != nil {
		old.src.drop()
	}
	pp, err := s.newPerson(id)
	if err == nil {
		pp.src.seed(tok)
		s.people[id] = pp
	}
	s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	s.log.LogAttrs(ctx, slog.LevelInfo, "signed in with SailPoint", slog.String("identity", id))
	return &Result{IdentityID: id, UserName: user}, nil
}

// save seals tok's refresh token for id and stores it.
func (s *Service) save(ctx context.Context, id string, tok *oauth2.Token) error {
	sealed, err := s.opts.Keys.Seal(id, tok.RefreshToken)
	if err != nil {
		return &certs.Error{Code: certs.EINTERNAL, Message: "the sign-in cannot be stored: the grant key is not usable", Err: err}
	}
	g := &certs.Grant{IdentityID: id, RefreshToken: sealed}
	if secs, ok := number(tok.Extra("refresh_token_expires_in")); ok && secs > 0 {
		g.Expiry = s.now().Add(time.Duration(secs) * time.Second)
	}
	return s.opts.Store.SaveGrant(ctx, g)
}

func number(v any) (int64, bool) {
	switch n := v.(type) {
	case float64:
		return int64(n), true
	case int64:
		return n, true
	}
	return 0, false
}

// Tenant returns a Tenant acting as the person identityID, EFORBIDDEN when
// they have no sign-in (ErrNotSignedIn). The grant is looked up in the
// store at each call, so a sign-out on another replica takes effect at
// once.
func (s *Service) Tenant(ctx context.Context, identityID string) (certs.Tenant, error) {
	if _, err := s.opts.Store.GetGrant(ctx, identityID); err != nil {
		if certs.ErrorCode(err) == certs.ENOTFOUND {
			s.forget(identityID)
			return nil, certs.Errorf(certs.EFORBIDDEN, "%s", ErrNotSignedIn)
		}
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if p := s.people[identityID]; p != nil {
		return p.tenant, nil
	}
	p, err := s.newPerson(identityID)
	if err != nil {
		return nil, err
	}
	s.people[identityID] = p
	return p.tenant, nil
}

// Bind returns ctx carrying the person's Tenant (certs.WithPersonTenant),
// for a certs.Service whose Tenant is a certs.PersonRouter.
func (s *Service) Bind(ctx context.Context, identityID string) (context.Context, error) {
	t, err := s.Tenant(ctx, identityID)
	if err != nil {
		return ctx, err
	}
	return certs.WithPersonTenant(ctx, t), nil
}

// SignOut deletes the person's grant and forgets their client. It reports
// whether they were signed in.
func (s *Service) SignOut(ctx context.Context, identityID string) (bool, error) {
	s.forget(identityID)
	err := s.opts.Store.DeleteGrant(ctx, identityID)
	if certs.ErrorCode(err) == certs.ENOTFOUND {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	s.log.LogAttrs(ctx, slog.LevelInfo, "signed out of SailPoint", slog.String("identity", identityID))
	return true, nil
}

// SignedIn reports whether the person has a sign-in.
func (s *Service) SignedIn(ctx context.Context, identityID string) (bool, error) {
	_, err := s.opts.Store.GetGrant(ctx, identityID)
	if certs.ErrorCode(err) == certs.ENOTFOUND {
		return false, nil
	}
	return err == nil, err
}

func (s *Service) forget(identityID string) {
	s.mu.Lock()
	if p := s.people[identityID]; p != nil {
		p.src.drop()
		p.tenant.CloseIdleConnections()
		delete(s.people, identityID)
	}
	s.mu.Unlock()
}

// forgetIf forgets the person's client if it is still p's.
func (s *Service) forgetIf(identityID string, src *source) {
	s.mu.Lock()
	if p := s.people[identityID]; p != nil && p.src == src {
		delete(s.people, identityID)
	}
	s.mu.Unlock()
}

// newPerson makes a person's client. s.mu is held.
func (s *Service) newPerson(identityID string) (*person, error) {
	src := &source{s: s, identityID: identityID}
	opts := s.opts.Client
	opts.HTTPClient = guardedClient(opts.HTTPClient, src)
	if opts.Logger == nil {
		opts.Logger = s.log
	}
	c, err := sailpoint.NewPerson(s.opts.SailPoint, "person:"+identityID, src, opts)
	if err != nil {
		return nil, fmt.Errorf("signin: client for %s: %w", identityID, err)
	}
	return &person{tenant: c, src: src}, nil
}

// tokenError turns a failed token request into what the person reads. It
// never includes what ISC's body said verbatim (oauth2's RetrieveError
// does), only the status and the OAuth error code.
func (s *Service) tokenError(err error, identityID string) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && re.Response != nil {
		status := re.Response.StatusCode
		up := &certs.Upstream{Operation: "oauthToken", Status: status, Messages: []string{re.ErrorCode}}
		cause := fmt.Errorf("token endpoint: %d %s", status, re.ErrorCode)
		switch {
		case status == http.StatusTooManyRequests || status >= 500:
			return &certs.Error{Code: certs.EUNAVAILABLE, Message: fmt.Sprintf("SailPoint's token endpoint could not answer (%d)", status), Upstream: up, Err: cause}
		case re.ErrorCode == "invalid_grant" && identityID != "":
			return &certs.Error{Code: certs.EFORBIDDEN, Message: ErrSignInAgain, Upstream: up, Err: cause}
		case re.ErrorCode == "invalid_grant":
			return &certs.Error{Code: certs.EFORBIDDEN, Message: "SailPoint refused the sign-in (the code expired or was already used): start again", Upstream: up, Err: cause}
		default:
			return &certs.Error{Code: certs.EFORBIDDEN, Message: fmt.Sprintf("SailPoint refused certops's OAuth client (%d %s); check CERTOPS_OAUTH_CLIENT_ID and CERTOPS_OAUTH_CLIENT_SECRET", status, re.ErrorCode), Upstream: up, Err: cause}
		}
	}
	var ce *certs.Error
	if errors.As(err, &ce) {
		return err
	}
	return &certs.Error{Code: certs.EUNAVAILABLE, Message: "could not reach SailPoint's token endpoint", Err: errors.New("token request failed")}
}

// source is a person's oauth2.TokenSource for their sailpoint client: each
// Token call exchanges the stored refresh token for a new access token
// (the client caches it and asks again shortly before it expires).
type source struct {
	s          *Service
	identityID string

	mu      sync.Mutex
	seeded  *oauth2.Token // the code exchange's access token, used once
	seedAt  time.Time     // when it was seeded, by the service's clock
	dropped bool
}

func (src *source) seed(tok *oauth2.Token) {
	src.mu.Lock()
	src.seeded, src.seedAt = tok, src.s.now()
	src.mu.Unlock()
}

func (src *source) drop() {
	src.mu.Lock()
	src.seeded, src.dropped = nil, true
	src.mu.Unlock()
}

// Token implements oauth2.TokenSource.
func (src *source) Token() (*oauth2.Token, error) {
	s := src.s
	src.mu.Lock()
	seeded, seedAt, dropped := src.seeded, src.seedAt, src.dropped
	src.seeded = nil
	src.mu.Unlock()
	if dropped {
		return nil, certs.Errorf(certs.EFORBIDDEN, "%s", ErrSignInAgain)
	}
	if seeded != nil && seeded.AccessToken != "" && seeded.ExpiresIn > 0 {
		// What is left of its life, by the service's clock.
		left := time.Duration(seeded.ExpiresIn)*time.Second - s.now().Sub(seedAt)
		if left > time.Minute {
			return &oauth2.Token{AccessToken: seeded.AccessToken, TokenType: seeded.TokenType, ExpiresIn: int64(left / time.Second)}, nil
		}
	}
	ctx, cancel := s.tokenContext(context.Background())
	defer cancel()
	g, err := s.opts.Store.GetGrant(ctx, src.identityID)
	if certs.ErrorCode(err) == certs.ENOTFOUND {
		s.forgetIf(src.identityID, src)
		return nil, certs.Errorf(certs.EFORBIDDEN, "%s", ErrSignInAgain)
	}
	if err != nil {
		return nil, err
	}
	refresh, err := s.opts.Keys.Open(src.identityID, g.RefreshToken)
	if err != nil {
		s.log.LogAttrs(ctx, slog.LevelWarn, "stored sign-in cannot be decrypted with the configured grant keys; deleting it",
			slog.String("identity", src.identityID), slog.String("key_id", grantkey.KeyID(g.RefreshToken)))
		src.discard(ctx)
		return nil, certs.Errorf(certs.EFORBIDDEN, "%s", ErrSignInAgain)
	}
	tok, err := s.oauthConfig().TokenSource(ctx, &oauth2.Token{RefreshToken: refresh}).Token()
	if err != nil {
		err = s.tokenError(err, src.identityID)
		s.log.LogAttrs(ctx, slog.LevelWarn, "sailpoint refresh failed", slog.String("identity", src.identityID), slog.String("error", err.Error()))
		if ce, ok := err.(*certs.Error); ok && ce.Message == ErrSignInAgain {
			src.discard(ctx) // invalid_grant: ISC will not take it again
		}
		return nil, err
	}
	if tok.RefreshToken != "" && tok.RefreshToken != refresh {
		if err := s.save(ctx, src.identityID, tok); err != nil {
			// The old refresh token is spent: without the new one stored,
			// the next refresh would be refused. Say so now.
			s.log.LogAttrs(ctx, slog.LevelError, "rotated refresh token could not be saved", slog.String("identity", src.identityID), slog.String("error", err.Error()))
			return nil, err
		}
		s.log.LogAttrs(ctx, slog.LevelDebug, "refresh token rotated and saved", slog.String("identity", src.identityID))
	}
	// ExpiresIn as ISC said it: the client times the next refresh from it
	// on its own clock.
	return &oauth2.Token{AccessToken: tok.AccessToken, TokenType: tok.TokenType, ExpiresIn: tok.ExpiresIn}, nil
}

// discard deletes the grant ISC refused and forgets the person's client.
func (src *source) discard(ctx context.Context) {
	s := src.s
	if err := s.opts.Store.DeleteGrant(ctx, src.identityID); err != nil && certs.ErrorCode(err) != certs.ENOTFOUND {
		s.log.LogAttrs(ctx, slog.LevelError, "refused sign-in could not be deleted", slog.String("identity", src.identityID), slog.String("error", err.Error()))
	}
	s.forgetIf(src.identityID, src)
	src.drop()
	s.log.LogAttrs(ctx, slog.LevelWarn, "sign-in with SailPoint discarded: the person must sign in again", slog.String("identity", src.identityID))
}

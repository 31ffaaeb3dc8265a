package sailpoint

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/certops/certops/internal/certs"
	"github.com/certops/certops/internal/secret"
)

// tokens holds one OAuth access token for the client and fetches a new one
// (client credentials grant) shortly before it expires, or when SailPoint
// answered 401 to it.
//
// oauth2.ReuseTokenSource does the first but cannot be told "this token was
// refused", so the cache is hand-written; fetching is still
// clientcredentials.Config.Token. Concurrent callers share one fetch.
type tokens struct {
	// secret is the client secret, read at each fetch so that a rotated
	// secret file is used from the next token on.
	secret secret.Source
	conf   *clientcredentials.Config // ClientSecret is set per fetch
	// source, when set, gives the tokens instead of conf: a person's
	// (NewPerson). Each Token call must fetch a new access token.
	source  oauth2.TokenSource
	http    *http.Client
	now     func() time.Time
	timeout time.Duration
	log     *slog.Logger
	met     Metrics

	mu        sync.Mutex
	tok       *oauth2.Token
	refreshAt time.Time // by now(); the token is replaced from then on
	inflight  *tokenFetch
	fetches   int
}

type tokenFetch struct {
	done  chan struct{}
	token string // the fetched access token, when err is nil
	err   error
}

// get returns a valid access token.
func (t *tokens) get(ctx context.Context) (string, error) {
	t.mu.Lock()
	if t.tok != nil && t.now().Before(t.refreshAt) {
		s := t.tok.AccessToken
		t.mu.Unlock()
		return s, nil
	}
	f := t.inflight
	if f == nil {
		f = &tokenFetch{done: make(chan struct{})}
		t.inflight = f
		// The fetch outlives the caller who started it, so one caller
		// giving up does not fail the others waiting on it.
		go t.fetch(context.WithoutCancel(ctx), f)
	}
	t.mu.Unlock()
	select {
	case <-f.done:
		// The fetch's own token, even if the clock says it is already due
		// for renewal: asking again could loop.
		return f.token, f.err
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// invalidate drops the token if it is still the one SailPoint refused, so
// the next get fetches a new one (and concurrent 401s cause one fetch).
func (t *tokens) invalidate(refused string) {
	t.mu.Lock()
	if t.tok != nil && t.tok.AccessToken == refused {
		t.tok = nil
	}
	t.mu.Unlock()
}

// count returns how many tokens were fetched (for tests and metrics).
func (t *tokens) count() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.fetches
}

func (t *tokens) fetch(ctx context.Context, f *tokenFetch) {
	ctx, cancel := context.WithTimeout(ctx, t.timeout)
	defer cancel()
	ctx = context.WithValue(ctx, oauth2.HTTPClient, t.http)
	start := time.Now()
	tok, err := t.request(ctx)
	if err != nil && credentialsRefused(err) {
		// The secret file may have been rotated since it was last looked
		// at: read it now and, if it changed, ask once more.
		if f, ok := t.secret.(reloader); ok && f.Reload() {
			t.log.LogAttrs(ctx, slog.LevelInfo, "sailpoint refused the client secret; trying the rotated one")
			start = time.Now()
			tok, err = t.request(ctx)
		}
	}
	took := time.Since(start)

	t.mu.Lock()
	defer func() {
		t.inflight = nil
		t.mu.Unlock()
		close(f.done)
	}()
	if err != nil {
		f.err = tokenError(err)
		t.log.LogAttrs(ctx, slog.LevelWarn, "sailpoint token request failed",
			slog.String("token_url", t.conf.TokenURL), slog.Duration("duration", took), slog.String("error", f.err.Error()))
		return
	}
	t.fetches++
	t.tok = tok
	f.token = tok.AccessToken
	lifetime := time.Duration(tok.ExpiresIn) * time.Second
	if lifetime <= 0 && !tok.Expiry.IsZero() {
		lifetime = time.Until(tok.Expiry)
	}
	if lifetime <= 0 {
		lifetime = 5 * time.Minute // no expiry given: refresh now and then anyway
	}
	// Replace the token a little before it expires so a request never
	// leaves with a token that dies on the way: a tenth of its life, at
	// most 30 s (SailPoint's tokens live 749 s).
	t.refreshAt = t.now().Add(lifetime - min(lifetime/10, 30*time.Second))
	t.log.LogAttrs(ctx, slog.LevelDebug, "sailpoint token fetched",
		slog.String("token_url", t.conf.TokenURL), slog.Duration("duration", took), slog.Duration("expires_in", lifetime))
}

// request asks the token endpoint for a token with the current secret, and
// counts the attempt as operation oauthToken.
func (t *tokens) request(ctx context.Context) (*oauth2.Token, error) {
	conf := *t.conf
	conf.ClientSecret = t.secret.Value()
	start := time.Now()
	var tok *oauth2.Token
	var err error
	if t.source != nil {
		tok, err = t.source.Token()
	} else {
		tok, err = conf.Token(ctx)
	}
	status := http.StatusOK
	if err != nil {
		status = 0 // no response
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && re.Response != nil {
			status = re.Response.StatusCode
		}
	}
	t.met.SailPointRequest(tokenOperation, status, time.Since(start))
	return tok, err
}

// tokenOperation names token requests in metrics, as SailPoint's docs do.
const tokenOperation = "oauthToken"

// reloader is a secret that can be re-read on demand (*secret.File).
type reloader interface{ Reload() bool }

// credentialsRefused reports whether the token endpoint refused the client
// credentials (401, or OAuth's invalid_client, which RFC 6749 allows as 400).
func credentialsRefused(err error) bool {
	var re *oauth2.RetrieveError
	return errors.As(err, &re) && re.Response != nil &&
		(re.Response.StatusCode == http.StatusUnauthorized || re.ErrorCode == "invalid_client")
}

// tokenError maps a failed token request. It never includes the response
// body verbatim (oauth2's RetrieveError does): only status and OAuth error
// code, which cannot echo a credential.
func tokenError(err error) error {
	var ce *certs.Error
	if errors.As(err, &ce) {
		return err // a person's token source says it in its own words
	}
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && re.Response != nil {
		status := re.Response.StatusCode
		detail := re.ErrorCode
		if re.ErrorDescription != "" {
			detail += ": " + re.ErrorDescription
		}
		if detail == "" {
			detail = http.StatusText(status)
		}
		apiErr := &APIError{Operation: "oauthToken", Method: http.MethodPost, Path: re.Response.Request.URL.Path, Status: status, Messages: []string{detail}}
		if status == http.StatusTooManyRequests || status >= 500 {
			return &certs.Error{Code: certs.EUNAVAILABLE, Message: fmt.Sprintf("SailPoint's token endpoint could not answer (%d)", status),
				Upstream: &certs.Upstream{Operation: "oauthToken", Status: status, Messages: apiErr.Messages}, Err: apiErr}
		}
		return &certs.Error{Code: certs.EFORBIDDEN, Message: fmt.Sprintf("SailPoint refused the client credentials (%d %s); check SAIL_CLIENT_ID and SAIL_CLIENT_SECRET", status, detail),
			Upstream: &certs.Upstream{Operation: "oauthToken", Status: status, Messages: apiErr.Messages}, Err: apiErr}
	}
	return &certs.Error{Code: certs.EUNAVAILABLE, Message: "could not reach SailPoint's token endpoint", Err: err}
}

// tokenRetryable reports whether a failed token fetch may succeed later.
func tokenRetryable(err error) bool {
	return certs.ErrorCode(err) == certs.EUNAVAILABLE
}

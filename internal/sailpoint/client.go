package sailpoint

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/certops/certops/internal/certs"
	"github.com/certops/certops/internal/secret"
)

// Options are the client's collaborators. All are optional.
type Options struct {
	// HTTPClient is the base client for API and token calls; its Transport
	// is used as is (no Authorization is added by it). Nil: a client with
	// a transport sized for Config.Concurrency.
	HTTPClient *http.Client
	Logger     *slog.Logger     // nil: slog.Default()
	Now        func() time.Time // nil: time.Now; stamps token expiry
	Metrics    Metrics          // nil: none; *metrics.Metrics fits
	// Reads is where the client sends identical reads once and keeps
	// identity lookups (see ReadCache); clients may share one, as its keys
	// hold the credential. Nil: every read is sent, nothing is kept.
	// internal/app gives the production client one.
	Reads *ReadCache
}

// Metrics receives the client's measurements (internal/metrics implements
// it; the interface lives here so that this package needs nothing more).
type Metrics interface {
	// SailPointRequest: one HTTP attempt, its status (0: no response) and
	// the time to the response headers.
	SailPointRequest(operation string, status int, took time.Duration)
	// SailPointRetry: a request is about to be sent again, and why
	// (rate_limited, server_error, network, token).
	SailPointRetry(operation, reason string)
	// RateLimiterWait: how long a request waited for the client's pacing
	// (0 when the window had room), and its lane: "interactive" or
	// "background" (certs.Background).
	RateLimiterWait(lane string, waited time.Duration)
}

// Retry reasons reported to Metrics.
const (
	retryRateLimited = "rate_limited"
	retryServerError = "server_error"
	retryNetwork     = "network"
	retryToken       = "token"
)

type noMetrics struct{}

func (noMetrics) SailPointRequest(string, int, time.Duration) {}
func (noMetrics) SailPointRetry(string, string)               {}
func (noMetrics) RateLimiterWait(string, time.Duration)       {}

// Client is an ISC tenant reached over its REST API. It is safe for
// concurrent use; make one per tenant and share it.
type Client struct {
	cfg    Config
	base   *url.URL
	http   *http.Client
	tokens *tokens
	pacer  *pacer
	log    *slog.Logger
	met    Metrics
	reads  *ReadCache // nil: none

	retryBase time.Duration // first backoff step
}

var _ certs.Tenant = (*Client)(nil)

// New returns a client for cfg. It validates cfg and does no I/O: the first
// call fetches the token.
func New(cfg Config, opts Options) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	base, err := url.Parse(cfg.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("SAIL_BASE_URL: %w", err)
	}
	tokenURL := cfg.TokenURL
	if tokenURL == "" {
		tokenURL = base.JoinPath("oauth", "token").String()
	}
	hc := opts.HTTPClient
	if hc == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		// The default keeps 2 idle connections per host: list-all's
		// concurrent pages would open and close a connection each time.
		t.MaxIdleConnsPerHost = 2 * maxConcurrencyLimit
		hc = &http.Client{Transport: t}
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	log = log.With(slog.String("component", "sailpoint"))
	if base.Scheme == "http" && !isLoopback(base.Hostname()) {
		log.Warn("SAIL_ALLOW_HTTP: SailPoint calls go over plain http, the client secret and tokens unencrypted; this is for the sandbox tenant only",
			slog.String("base_url", cfg.BaseURL))
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	met := opts.Metrics
	if met == nil {
		met = noMetrics{}
	}
	if cfg.MaxBackoff == 0 {
		cfg.MaxBackoff = defaultMaxBackoff // a Config built in code must not retry without pause
	}
	var clientSecret secret.Source = secret.Static(cfg.ClientSecret)
	if cfg.ClientSecretFile != "" {
		f, err := secret.OpenFile("SAIL_CLIENT_SECRET_FILE", cfg.ClientSecretFile, secret.Options{Logger: log, Now: opts.Now})
		if err != nil {
			return nil, err
		}
		clientSecret = f
	}
	c := &Client{
		cfg:  cfg,
		base: base,
		http: hc,
		tokens: &tokens{
			secret: clientSecret,
			conf: &clientcredentials.Config{
				ClientID: cfg.ClientID,
				TokenURL: tokenURL,
				// ISC reads client_id and client_secret as form fields
				// (docs/api/authentication.md); no auto-detection round trip.
				AuthStyle: oauth2.AuthStyleInParams,
			},
			http:    hc,
			now:     now,
			timeout: cfg.Timeout,
			log:     log,
			met:     met,
		},
		pacer:     newPacer(cfg, log),
		log:       log,
		met:       met,
		reads:     opts.Reads,
		retryBase: 250 * time.Millisecond,
	}
	return c, nil
}

// Config returns the client's configuration. The secret is blanked.
func (c *Client) Config() Config {
	cfg := c.cfg
	cfg.ClientSecret = ""
	return cfg
}

// CloseIdleConnections closes the connections the client keeps open for
// later calls, as http.Client's does. A server shutting down waits for a
// connection that was opened but never used (a call canceled while it was
// being dialed), so close them first.
func (c *Client) CloseIdleConnections() { c.http.CloseIdleConnections() }

// TokensFetched is how many access tokens the client has fetched so far.
func (c *Client) TokensFetched() int { return c.tokens.count() }

const defaultMaxBackoff = 10 * time.Second

// Response bodies of successful calls are read up to this size. A page of
// 250 certifications is about 250 KiB; the cap only stops a runaway body.
const maxSuccessBody = 64 << 20

// request is one API call to make.
type request struct {
	op       operation
	method   string
	url      *url.URL
	body     []byte // JSON, or nil
	mutation bool   // never resent once it may have reached SailPoint
	notFound string // the message for a 404
	// cached: a GET whose answer ReadCache keeps for its TTL (identity
	// lookups only; see ReadCache).
	cached bool
}

// outcomeUnknown is what send returns for a mutation that may have reached
// SailPoint without certops learning what it did (see the package doc's
// table). The mutation's method turns it into certs.EUNKNOWN; nothing is
// resent and nothing is read to settle it.
type outcomeUnknown struct {
	// why says, for people, what happened after the request was sent:
	// "SailPoint answered 503 Service Unavailable".
	why string
	// upstream is SailPoint's answer, when there was one.
	upstream *certs.Upstream
	// cause is for logs; it wraps the context's error when the caller
	// stopped waiting.
	cause error
}

func (e *outcomeUnknown) Error() string { return "outcome unknown: " + e.why + ": " + e.cause.Error() }
func (e *outcomeUnknown) Unwrap() error { return e.cause }

// exchange makes req, with pacing, token handling and the retry rules of
// the package doc, and decodes a 2xx JSON body into out (if not nil). It
// returns the response header of the successful attempt. Callers go
// through send (reads.go), which sends identical reads once.
func (c *Client) exchange(ctx context.Context, req *request, out any) (http.Header, error) {
	opID := c.opID(req.op)
	retries := 0
	refreshed := false
	var retryReason string
	for attempt := 1; ; attempt++ {
		if retryReason != "" {
			c.met.SailPointRetry(opID, retryReason)
			retryReason = ""
		}
		tok, err := c.tokens.get(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil, canceled(opID, ctx.Err())
			}
			if tokenRetryable(err) && retries < c.cfg.MaxRetries {
				retries++
				retryReason = retryToken
				if err := sleep(ctx, backoff(retries, c.retryBase, c.cfg.MaxBackoff)); err != nil {
					return nil, canceled(opID, err)
				}
				continue
			}
			return nil, err
		}
		slot, err := c.pacer.wait(ctx)
		if err != nil {
			return nil, canceled(opID, err)
		}
		c.met.RateLimiterWait(slot.lane.String(), slot.waited)

		res := c.attempt(ctx, req, opID, tok, attempt)
		slot.done(res.sent)
		var final error // what to return if this failure is not retried
		var wait time.Duration
		switch {
		case res.err != nil && ctx.Err() != nil:
			if req.mutation && res.sent {
				why := "certops stopped waiting for the answer (the operation was canceled)"
				if errors.Is(ctx.Err(), context.DeadlineExceeded) {
					why = "certops stopped waiting for the answer (the operation ran out of time)"
				}
				return nil, &outcomeUnknown{why: why, cause: fmt.Errorf("%s: %w", opID, ctx.Err())}
			}
			return nil, canceled(opID, ctx.Err())

		case res.err != nil:
			cause := fmt.Errorf("%s %s: %w", req.method, req.url.Path, res.err)
			msg := "could not reach SailPoint"
			switch {
			case res.sent && errors.Is(res.err, context.DeadlineExceeded):
				msg = fmt.Sprintf("SailPoint did not answer within %s", c.cfg.Timeout)
			case res.sent:
				msg = "the connection to SailPoint broke before its answer arrived"
			}
			if req.mutation && res.sent {
				return nil, &outcomeUnknown{why: msg, cause: cause}
			}
			final = &certs.Error{Code: certs.EUNAVAILABLE, Message: msg, Err: cause}
			wait = backoff(retries+1, c.retryBase, c.cfg.MaxBackoff)
			retryReason = retryNetwork

		case res.status >= 200 && res.status < 300:
			if out == nil || len(res.body) == 0 && res.bodyErr == nil {
				return res.header, nil
			}
			if res.bodyErr != nil {
				if req.mutation {
					// SailPoint accepted it (2xx); what it answered is lost.
					return nil, &outcomeUnknown{why: fmt.Sprintf("its answer (%d %s) was cut short", res.status, http.StatusText(res.status)),
						upstream: &certs.Upstream{Operation: opID, Status: res.status}, cause: res.bodyErr}
				}
				final = &certs.Error{Code: certs.EUNAVAILABLE, Message: "SailPoint's answer was cut short", Err: res.bodyErr}
				if errors.Is(res.bodyErr, errBodyTooLarge) {
					return nil, final
				}
				wait = backoff(retries+1, c.retryBase, c.cfg.MaxBackoff)
				retryReason = retryNetwork
				break
			}
			if err := json.Unmarshal(res.body, out); err != nil {
				up := &certs.Upstream{Operation: opID, Status: res.status, Messages: []string{bodySnippet(res.body)}}
				if req.mutation {
					return nil, &outcomeUnknown{why: fmt.Sprintf("its answer (%d %s) is not the expected JSON", res.status, http.StatusText(res.status)),
						upstream: up, cause: err}
				}
				return nil, &certs.Error{Code: certs.EUNAVAILABLE, Message: fmt.Sprintf("SailPoint's answer to %s is not the expected JSON", opID),
					Upstream: up, Err: err}
			}
			return res.header, nil

		default:
			apiErr := parseAPIError(opID, req.method, req.url.Path, res.status, res.header, res.body, time.Now())
			mapped := toCertsError(apiErr, req.notFound)
			final = mapped
			switch {
			case res.status == http.StatusUnauthorized && !refreshed:
				// The token expired or was revoked under us: SailPoint did
				// not apply the request. One fresh token, one more try.
				refreshed = true
				c.tokens.invalidate(tok)
				retryReason = retryToken
				continue
			case res.status == http.StatusTooManyRequests:
				// Certainly not applied, so mutations retry too. Everyone
				// waits: the limit is per client id.
				wait = apiErr.RetryAfter
				if wait <= 0 {
					wait = backoff(retries+1, time.Second, max(c.cfg.MaxBackoff, time.Second))
				}
				c.pacer.pause(wait)
				if dl, ok := ctx.Deadline(); ok && time.Now().Add(wait).After(dl) {
					return nil, mapped // waiting would outlast the caller
				}
				wait = 0 // pacer.wait does it, for every caller
				retryReason = retryRateLimited
			case res.status >= 500 && req.mutation:
				// A gateway's 5xx may come after the service applied it.
				why := fmt.Sprintf("SailPoint answered %d %s", res.status, http.StatusText(res.status))
				if len(apiErr.Messages) > 0 {
					why += " (" + strings.Join(apiErr.Messages, "; ") + ")"
				}
				return nil, &outcomeUnknown{why: why, upstream: mapped.Upstream, cause: apiErr}
			case retryableStatus(res.status):
				wait = backoff(retries+1, c.retryBase, c.cfg.MaxBackoff)
				retryReason = retryServerError
			default:
				return nil, mapped
			}
		}

		if retries >= c.cfg.MaxRetries {
			var e *certs.Error
			if errors.As(final, &e) && e.Code == certs.ERATELIMITED {
				// Its "try again in 1s" was tried, MaxRetries times.
				e.Message = fmt.Sprintf("SailPoint's rate limit was still reached after %d tries", retries+1)
			}
			return nil, final // not retried after all
		}
		retries++
		if wait > 0 {
			if err := sleep(ctx, wait); err != nil {
				return nil, canceled(opID, err)
			}
		}
	}
}

// attemptResult is what one HTTP exchange gave.
type attemptResult struct {
	status  int
	header  http.Header
	body    []byte
	bodyErr error // reading the body failed (after the status arrived)
	err     error // no response
	sent    bool  // the whole request was written to the connection
}

var errBodyTooLarge = errors.New("response body too large")

// attempt makes one HTTP exchange and logs it.
func (c *Client) attempt(ctx context.Context, req *request, opID, token string, attempt int) attemptResult {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()

	var sent atomic.Bool
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		WroteRequest: func(info httptrace.WroteRequestInfo) {
			if info.Err == nil {
				sent.Store(true)
			}
		},
	})
	var body io.Reader
	if req.body != nil {
		body = bytes.NewReader(req.body)
	}
	hreq, err := http.NewRequestWithContext(ctx, req.method, req.url.String(), body)
	if err != nil {
		return attemptResult{err: err}
	}
	hreq.Header.Set("Authorization", "Bearer "+token)
	hreq.Header.Set("Accept", "application/json")
	if req.body != nil {
		hreq.Header.Set("Content-Type", "application/json")
	}

	start := time.Now()
	resp, err := c.http.Do(hreq)
	res := attemptResult{sent: sent.Load()}
	if resp != nil {
		c.met.SailPointRequest(opID, resp.StatusCode, time.Since(start))
	} else {
		c.met.SailPointRequest(opID, 0, time.Since(start))
	}
	if err != nil {
		res.err = err
		if isDialError(err) {
			res.sent = false // never left this machine
		}
		c.logAttempt(ctx, req, opID, attempt, res, time.Since(start), "")
		return res
	}
	defer resp.Body.Close()
	res.sent = true // SailPoint answered, so it had the request
	res.status, res.header = resp.StatusCode, resp.Header
	limit := int64(maxSuccessBody)
	if resp.StatusCode >= 300 {
		limit = maxErrorBody
	}
	res.body, res.bodyErr = io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if res.bodyErr == nil && int64(len(res.body)) > limit {
		if resp.StatusCode < 300 {
			res.bodyErr = fmt.Errorf("%w: more than %d bytes", errBodyTooLarge, limit)
		}
		res.body = res.body[:limit]
	}
	tracking := ""
	if resp.StatusCode >= 300 {
		tracking = parseAPIError(opID, req.method, req.url.Path, resp.StatusCode, resp.Header, res.body, time.Now()).TrackingID
	}
	c.logAttempt(ctx, req, opID, attempt, res, time.Since(start), tracking)
	return res
}

// logAttempt writes one record per HTTP attempt. It has the path but never
// the query (filters may hold emails), and never a header.
func (c *Client) logAttempt(ctx context.Context, req *request, opID string, attempt int, res attemptResult, took time.Duration, tracking string) {
	level := slog.LevelDebug
	attrs := []slog.Attr{
		slog.String("operation", opID),
		slog.String("method", req.method),
		slog.String("path", req.url.EscapedPath()),
		slog.Int("status", res.status),
		slog.Duration("duration", took),
		slog.Int("attempt", attempt),
	}
	if tracking != "" {
		attrs = append(attrs, slog.String("tracking_id", tracking))
	}
	switch {
	case res.err != nil:
		level = slog.LevelWarn
		attrs = append(attrs, slog.String("error", res.err.Error()), slog.Bool("sent", res.sent))
	case res.status >= 400:
		level = slog.LevelWarn
	case res.bodyErr != nil:
		level = slog.LevelWarn
		attrs = append(attrs, slog.String("error", res.bodyErr.Error()))
	}
	c.log.LogAttrs(context.WithoutCancel(ctx), level, "sailpoint call", attrs...)
}

// isDialError reports whether err happened before a connection existed.
func isDialError(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// canceled wraps a context error (or the pacer's "no slot before the
// deadline") so that errors.Is(err, context.Canceled/DeadlineExceeded)
// holds and certs.ErrorCode is EUNAVAILABLE.
func canceled(opID string, err error) error {
	msg := "the call to SailPoint was canceled"
	if errors.Is(err, context.DeadlineExceeded) {
		msg = "the call to SailPoint ran out of time"
	}
	return &certs.Error{Code: certs.EUNAVAILABLE, Message: msg, Err: fmt.Errorf("%s: %w", opID, err)}
}

// jsonBody encodes a request body.
func jsonBody(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		// Only our own DTOs are encoded; they always marshal.
		panic(fmt.Sprintf("sailpoint: encoding request body: %v", err))
	}
	return b
}

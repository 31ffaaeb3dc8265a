package slackbot

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/certops/certops/internal/probe"
	"github.com/certops/certops/internal/secret"
)

// HTTPOptions is what the bot's HTTP port serves beside Slack's request
// URLs (HTTPHandler).
type HTTPOptions struct {
	// SigningSecret verifies Slack's requests. Nil in Socket Mode, where
	// Slack's requests arrive over the socket and no /slack/ path is served.
	SigningSecret secret.Source
	// Ready reports whether the bot can do its work (/readyz).
	Ready func(ctx context.Context) error
	// Logger receives why the bot is not ready (the bot's logger when nil).
	Logger *slog.Logger
	// Metrics, when set, counts requests per route; MetricsHandler, when
	// set, serves GET /metrics. *metrics.Metrics and metrics.Handler fit.
	Metrics        HTTPMetrics
	MetricsHandler http.Handler
}

// HTTPMetrics counts the requests a handler serves under a fixed route name.
type HTTPMetrics interface {
	InstrumentHandler(handler string, next http.Handler) http.Handler
}

// HTTPHandler returns everything the bot serves on its HTTP port, in both
// modes:
//
//	GET  /healthz             the process is up (internal/probe)
//	GET  /readyz              HTTPOptions.Ready succeeds (internal/probe)
//	GET  /metrics             Prometheus, when HTTPOptions.MetricsHandler is set
//	POST /slack/commands      slash commands              (HTTP mode: Handler)
//	POST /slack/interactions  buttons and modals          (HTTP mode: Handler)
//	POST /slack/events        Events API: app_home_opened (HTTP mode: Handler)
//	GET  /oauth/slack/start   a "Sign in with SailPoint" link (oauth mode: signin.go)
//	GET  /oauth/callback      ISC's redirect back (CERTOPS_OAUTH_REDIRECT_URL's path; oauth mode)
//
// With HTTPOptions.Metrics each route is counted in
// certops_http_requests_total under the handler name given here: a request
// to a Slack path with another method (405) under that path's name, one to
// any other /slack/ path (404) as slack_other.
func (b *Bot) HTTPHandler(o HTTPOptions) http.Handler {
	instrument := func(_ string, next http.Handler) http.Handler { return next }
	if o.Metrics != nil {
		instrument = o.Metrics.InstrumentHandler
	}
	logger := o.Logger
	if logger == nil {
		logger = b.log
	}
	mux := http.NewServeMux()
	mux.Handle("GET /healthz", instrument("healthz", probe.Healthz()))
	mux.Handle("GET /readyz", instrument("readyz", probe.Readyz(o.Ready, logger)))
	if o.MetricsHandler != nil {
		mux.Handle("GET /metrics", instrument("metrics", o.MetricsHandler))
	}
	b.signInRoutes(mux, instrument) // signin.go: oauth mode only
	if o.SigningSecret != nil {
		slack := b.HandlerFrom(o.SigningSecret)
		mux.Handle("/slack/commands", instrument("slack_commands", slack))
		mux.Handle("/slack/interactions", instrument("slack_interactions", slack))
		mux.Handle("/slack/events", instrument("slack_events", slack))
		mux.Handle("/slack/", instrument("slack_other", slack))
	}
	return mux
}

// Handler returns the HTTP transport alone: Slack's slash command and
// interactivity request URLs. Every request is verified with the signing
// secret before anything in it is parsed.
//
//	POST /slack/commands      slash commands
//	POST /slack/interactions  buttons and modals (deny, review comment)
func (b *Bot) Handler(signingSecret string) http.Handler {
	return b.HandlerFrom(secret.Static(signingSecret))
}

// HandlerFrom is Handler with the signing secret read from src at each
// request, so a rotated secret (a *secret.File) is used without a restart;
// for SigningOverlap after a rotation the previous secret is accepted too.
func (b *Bot) HandlerFrom(src secret.Source) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("POST /slack/commands", b.verified(src, http.HandlerFunc(b.serveCommand)))
	mux.Handle("POST /slack/interactions", b.verified(src, http.HandlerFunc(b.serveInteraction)))
	mux.Handle("POST /slack/events", b.verified(src, http.HandlerFunc(b.serveEvent))) // events.go
	return mux
}

package tools

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mark3labs/mcp-go/server"

	"github.com/certops/certops/internal/certs"
)

// DefaultMaxBodyBytes caps an MCP request body. The largest legitimate
// request, a plan of MaxPlanRefs item ids, is well under 1 MiB.
const DefaultMaxBodyBytes = 1 << 20

// HTTPOptions configures the HTTP handler.
type HTTPOptions struct {
	// Auth maps bearer tokens to actors. Required.
	Auth *Authenticator
	// AllowedHosts are the Host header values accepted (a host name, which
	// matches any port, or host:port). Required: DefaultAllowedHosts
	// gives the loopback names for a loopback listener.
	AllowedHosts []string
	// AllowedOrigins are the browser origins accepted
	// ("https://app.example.com"). Requests without an Origin header
	// (every non-browser client) are accepted; when the list is empty only
	// loopback origins are.
	AllowedOrigins []string
	// MaxBodyBytes caps request bodies (DefaultMaxBodyBytes when zero).
	MaxBodyBytes int64
	// Ready reports whether the server can do its work (/readyz).
	Ready  func(ctx context.Context) error
	Logger *slog.Logger
	// Metrics, when set, serves GET /metrics (outside the guard, like the
	// probes: Prometheus scrapes with neither a token nor a public Host
	// name, and the page holds counts, not data) and counts requests per
	// route. *metrics.Metrics and metrics.Handler fit.
	Metrics        HTTPMetrics
	MetricsHandler http.Handler
	// OAuth, when set (CERTOPS_IDENTITY=oauth), makes certops the OAuth
	// authorization server of its MCP clients (internal/mcpauth): its
	// endpoints are served, its access tokens are accepted beside Auth's
	// static ones, and a 401 points to its protected resource metadata.
	OAuth OAuthResource
}

// OAuthResource is the authorization server's side the MCP endpoint uses
// (*mcpauth.Server).
type OAuthResource interface {
	// Verify checks an access token; bound carries the person's ISC client.
	Verify(ctx context.Context, token string) (bound context.Context, identityID string, ok bool, err error)
	// Challenge is a 401's WWW-Authenticate ("" errCode: no token sent).
	Challenge(errCode string) string
	// Routes registers the authorization server's endpoints.
	Routes(mux *http.ServeMux, wrap func(name string, h http.Handler) http.Handler)
}

// OAuthActorPrefix starts the Actor.ID of a person authorized through
// OAuth (the rest is their ISC identity id).
const OAuthActorPrefix = "oauth:"

// HTTPMetrics counts the requests a handler serves under a fixed route name.
type HTTPMetrics interface {
	InstrumentHandler(handler string, next http.Handler) http.Handler
}

// DefaultAllowedHosts returns the Host values to accept for a listen
// address: the loopback names for a loopback address, none otherwise (the
// operator must say which names the server is reached by).
func DefaultAllowedHosts(listen string) []string {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		host = listen
	}
	if isLoopback(host) {
		return []string{"localhost", "127.0.0.1", "::1"}
	}
	return nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// NewHTTPHandler serves the MCP server over streamable HTTP at /mcp behind
// the Host and Origin checks, bearer authentication and a body cap, plus
// the probes and, with MetricsHandler, /metrics: every path is listed in
// routes.go.
func NewHTTPHandler(s *server.MCPServer, o HTTPOptions) (*HTTPHandler, error) {
	if o.Auth == nil {
		o.Auth = &Authenticator{}
	}
	if o.Auth.Len() == 0 && o.OAuth == nil {
		return nil, errors.New("HTTP needs at least one bearer token (CERTOPS_MCP_TOKENS_FILE)")
	}
	if len(o.AllowedHosts) == 0 {
		return nil, errors.New("HTTP needs the host names clients use (CERTOPS_MCP_ALLOWED_HOSTS) when not listening on loopback")
	}
	for _, origin := range o.AllowedOrigins {
		if _, err := parseOrigin(origin); err != nil {
			return nil, fmt.Errorf("allowed origin %q: %w", origin, err)
		}
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	opts := []server.StreamableHTTPOption{
		server.WithEndpointPath(MCPPath),
		server.WithStreamableHTTPLogger(o.Logger),
		// guard checks the Host of every request against an explicit
		// allow-list; mcp-go's own check (localhost names only, on
		// loopback connections) would refuse the names an operator
		// allows behind a reverse proxy on the same host.
		server.WithDisableLocalhostProtection(true),
	}
	if len(o.AllowedOrigins) > 0 {
		// Browser clients of the configured origins need CORS: preflights
		// are answered (guard lets them through without a token, as
		// browsers send none) and responses carry Allow-Origin.
		opts = append(opts, server.WithStreamableHTTPCORS(
			server.WithCORSAllowedOrigins(o.AllowedOrigins...),
			server.WithCORSAllowedHeaders("Authorization", "Content-Type", "Mcp-Session-Id", "Mcp-Protocol-Version", "Mcp-Method", "Mcp-Name", "Last-Event-ID"),
			server.WithCORSExposedHeaders("Mcp-Session-Id", "WWW-Authenticate"),
			server.WithCORSMaxAge(600),
		))
	}
	streamable := server.NewStreamableHTTPServer(s, opts...)
	h := &HTTPHandler{ServeMux: http.NewServeMux(), streamsEnd: make(chan struct{})}
	h.routes(o, streamable)
	return h, nil
}

// HTTPHandler is the MCP server's HTTP surface (NewHTTPHandler).
type HTTPHandler struct {
	*http.ServeMux
	streamsEnd chan struct{}
	endOnce    sync.Once
	calls      atomic.Int64 // MCP requests in flight other than streams
}

// EndStreams waits until no MCP request other than a GET stream is in
// flight, then ends the long-lived GET streams clients hold open for
// server-to-client messages (now and from now on). Register it with
// http.Server.RegisterOnShutdown, which runs it beside Shutdown: Shutdown
// waits for every active request, and a stream never ends by itself. Tool
// calls run to their end first because some clients fail every pending
// call of a session whose stream broke; they then reopen their stream on
// another replica.
func (h *HTTPHandler) EndStreams() {
	// Polled rather than signalled: it runs once per process, after the
	// listener closed, so the count only falls.
	for h.calls.Load() > 0 {
		time.Sleep(10 * time.Millisecond)
	}
	h.endOnce.Do(func() { close(h.streamsEnd) })
}

// endable counts the MCP requests in flight and gives GET requests (the
// streams) a context that EndStreams cancels.
func (h *HTTPHandler) endable(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			h.calls.Add(1)
			defer h.calls.Add(-1)
			next.ServeHTTP(w, r)
			return
		}
		ctx, cancel := context.WithCancel(r.Context())
		defer cancel()
		go func() {
			select {
			case <-h.streamsEnd:
				cancel()
			case <-ctx.Done():
			}
		}()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// guard checks, in order: Host (DNS rebinding), Origin (cross-site
// requests from browsers), the bearer token, and the body size; then puts
// the token's actor in the request context for the tool handlers.
func guard(o HTTPOptions, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !hostAllowed(r.Host, o.AllowedHosts) {
			o.Logger.Warn("refused request: Host not allowed", "host", r.Host, "remote", r.RemoteAddr)
			http.Error(w, "forbidden: Host not allowed", http.StatusForbidden)
			return
		}
		if origin := r.Header.Get("Origin"); origin != "" && !originAllowed(origin, o.AllowedOrigins) {
			o.Logger.Warn("refused request: Origin not allowed", "origin", origin, "remote", r.RemoteAddr)
			http.Error(w, "forbidden: Origin not allowed", http.StatusForbidden)
			return
		}
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" && len(o.AllowedOrigins) > 0 {
			// A CORS preflight from an allowed origin: it carries no
			// credentials and reaches no tool.
			next.ServeHTTP(w, r)
			return
		}
		token, ok := bearerToken(r)
		if !ok {
			// A browser-based client must be able to read the challenge:
			// the 401 carries CORS headers for an allowed origin.
			setCORS(w, r, o.AllowedOrigins)
			challenge := `Bearer realm="certops"`
			if o.OAuth != nil {
				challenge = o.OAuth.Challenge("")
			}
			w.Header().Set("WWW-Authenticate", challenge)
			http.Error(w, "unauthorized: send Authorization: Bearer <token>", http.StatusUnauthorized)
			return
		}
		ctx := r.Context()
		actor, ok := o.Auth.Authenticate(token)
		if !ok && o.OAuth != nil {
			bound, identityID, valid, err := o.OAuth.Verify(ctx, token)
			if err != nil {
				o.Logger.Error("refused request: the token could not be checked", "err", err)
				setCORS(w, r, o.AllowedOrigins)
				http.Error(w, "the token could not be checked; try again", http.StatusServiceUnavailable)
				return
			}
			if valid {
				ok, ctx = true, bound
				actor = certs.Actor{ID: OAuthActorPrefix + identityID, Name: identityID, Frontend: certs.FrontendMCP, Role: certs.RoleReviewer, IdentityID: identityID}
			}
		}
		if !ok {
			// Neither the token nor its hash is logged.
			o.Logger.Warn("refused request: unknown bearer token", "remote", r.RemoteAddr)
			setCORS(w, r, o.AllowedOrigins)
			challenge := `Bearer realm="certops", error="invalid_token", error_description="the token is not valid"`
			if o.OAuth != nil {
				challenge = o.OAuth.Challenge("invalid_token")
			}
			w.Header().Set("WWW-Authenticate", challenge)
			http.Error(w, "unauthorized: the token is not valid", http.StatusUnauthorized)
			return
		}
		if r.Body != nil && r.Method == http.MethodPost {
			if r.ContentLength > o.MaxBodyBytes {
				http.Error(w, fmt.Sprintf("request body larger than %d bytes", o.MaxBodyBytes), http.StatusRequestEntityTooLarge)
				return
			}
			// Read the body here, bounded, because the MCP transport reads
			// it whole and would answer an oversized one with a parse
			// error instead of 413.
			body, err := io.ReadAll(io.LimitReader(r.Body, o.MaxBodyBytes+1))
			if err != nil {
				http.Error(w, "could not read the request body", http.StatusBadRequest)
				return
			}
			if int64(len(body)) > o.MaxBodyBytes {
				http.Error(w, fmt.Sprintf("request body larger than %d bytes", o.MaxBodyBytes), http.StatusRequestEntityTooLarge)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		next.ServeHTTP(w, r.WithContext(WithActor(ctx, actor)))
	})
}

// setCORS lets an allowed browser origin read an answer the MCP transport
// does not write itself (the 401s): Allow-Origin and the headers exposed.
func setCORS(w http.ResponseWriter, r *http.Request, allowed []string) {
	origin := r.Header.Get("Origin")
	if origin == "" || len(allowed) == 0 || !originAllowed(origin, allowed) {
		return
	}
	w.Header().Set("Access-Control-Allow-Origin", origin)
	w.Header().Set("Access-Control-Expose-Headers", "WWW-Authenticate, Mcp-Session-Id")
	w.Header().Add("Vary", "Origin")
}

func bearerToken(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

func hostAllowed(hostport string, allowed []string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	for _, a := range allowed {
		if strings.EqualFold(a, hostport) {
			return true
		}
		if !strings.Contains(strings.Trim(a, "[]"), ":") || net.ParseIP(strings.Trim(a, "[]")) != nil {
			// A bare host name or IP: any port.
			if strings.EqualFold(strings.Trim(a, "[]"), host) {
				return true
			}
		}
	}
	return false
}

func parseOrigin(origin string) (*url.URL, error) {
	u, err := url.Parse(origin)
	if err != nil {
		return nil, err
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		return nil, errors.New("an origin is scheme://host[:port]")
	}
	return u, nil
}

func originAllowed(origin string, allowed []string) bool {
	u, err := parseOrigin(origin)
	if err != nil {
		return false // includes "null"
	}
	if len(allowed) == 0 {
		return isLoopback(u.Hostname())
	}
	for _, a := range allowed {
		au, err := parseOrigin(a)
		if err == nil && strings.EqualFold(au.Scheme, u.Scheme) && strings.EqualFold(au.Host, u.Host) {
			return true
		}
	}
	return false
}

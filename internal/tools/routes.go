package tools

import (
	"net/http"

	"github.com/certops/certops/internal/probe"
)

// MCPPath is where the MCP endpoint is served.
const MCPPath = "/mcp"

// routes lists every path the MCP server serves over HTTP (NewHTTPHandler):
//
//	/mcp          MCP streamable HTTP (POST calls, GET streams, DELETE sessions),
//	              behind guard: Host, Origin, bearer token, body cap
//	GET /healthz  the process is up (internal/probe)
//	GET /readyz   HTTPOptions.Ready succeeds (internal/probe)
//	GET /metrics  Prometheus, when HTTPOptions.MetricsHandler is set
//	with HTTPOptions.OAuth (CERTOPS_IDENTITY=oauth), internal/mcpauth's:
//	  GET /.well-known/oauth-protected-resource[/mcp], GET /.well-known/oauth-authorization-server,
//	  /oauth/authorize, the ISC callback (CERTOPS_OAUTH_REDIRECT_URL's path),
//	  POST /oauth/token, POST /oauth/register, POST /oauth/revoke;
//	  behind the Host check (hostOnly), each with CORS for allowed origins
//
// Only /mcp is behind the guard: Kubernetes probes and Prometheus scrapes
// come with neither a token nor a public Host name, and these pages hold
// no data. With HTTPOptions.Metrics each route is counted in
// certops_http_requests_total under the handler name given here.
func (h *HTTPHandler) routes(o HTTPOptions, mcp http.Handler) {
	instrument := func(_ string, next http.Handler) http.Handler { return next }
	if o.Metrics != nil {
		instrument = o.Metrics.InstrumentHandler
	}
	h.Handle(MCPPath, instrument("mcp", guard(o, h.endable(mcp))))
	h.Handle("GET /healthz", instrument("healthz", probe.Healthz()))
	h.Handle("GET /readyz", instrument("readyz", probe.Readyz(o.Ready, o.Logger)))
	if o.OAuth != nil {
		o.OAuth.Routes(h.ServeMux, func(name string, next http.Handler) http.Handler {
			return instrument(name, hostOnly(o, next))
		})
	}
	if o.MetricsHandler != nil {
		h.Handle("GET /metrics", instrument("metrics", o.MetricsHandler))
	}
}

// hostOnly checks the Host (DNS rebinding) of the authorization server's
// endpoints; they carry no bearer token and answer any Origin with CORS
// only for the allowed ones.
func hostOnly(o HTTPOptions, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !hostAllowed(r.Host, o.AllowedHosts) {
			o.Logger.Warn("refused request: Host not allowed", "host", r.Host, "remote", r.RemoteAddr)
			http.Error(w, "forbidden: Host not allowed", http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}

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
	if o.MetricsHandler != nil {
		h.Handle("GET /metrics", instrument("metrics", o.MetricsHandler))
	}
}

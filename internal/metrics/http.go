package metrics

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// NewRegistry returns a registry with the Go runtime's and the process's
// collectors (memory, goroutines, CPU, open files), for a binary to pass to
// New and Handler.
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return reg
}

// Handler serves the metrics gathered from g (a *prometheus.Registry) in the
// Prometheus exposition formats, negotiated from the Accept header.
func Handler(g prometheus.Gatherer) http.Handler {
	return promhttp.HandlerFor(g, promhttp.HandlerOpts{
		// A collector failing to collect should not blank the whole page.
		ErrorHandling: promhttp.ContinueOnError,
	})
}

// InstrumentHandler counts the requests next serves in
// certops_http_requests_total{handler,code}. handler names the route
// ("mcp", "slack_commands", "healthz"), as each HTTP surface's routes.go
// (internal/tools, internal/slackbot) does; never pass the request's URL
// path, which clients choose. A nil m returns next unchanged.
func (m *Metrics) InstrumentHandler(handler string, next http.Handler) http.Handler {
	if m == nil || m.httpRequests == nil {
		return next
	}
	return promhttp.InstrumentHandlerCounter(
		m.httpRequests.MustCurryWith(prometheus.Labels{"handler": handler}), next)
}

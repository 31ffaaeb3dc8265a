// Package metrics defines, once, the Prometheus metrics certops exposes at
// /metrics, and the small methods the other packages record them through.
//
// Nothing is registered globally: New registers on the registry it is given,
// so each binary (and each test) owns its registry. A nil *Metrics records
// nothing, so packages can take one as an optional dependency:
//
//	reg := metrics.NewRegistry()
//	m := metrics.New(reg)
//	mux.Handle("GET /metrics", metrics.Handler(reg))
//	client := sailpoint.New(cfg, sailpoint.Options{Metrics: m}) // or nil
//
// Label values must come from small, fixed sets (operation ids, tool names,
// certs error codes): a label fed from user input would grow without bound.
package metrics

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/certops/certops/internal/certs"
)

// Outcome values for tool calls, slash commands and approvals that
// succeeded; failures are labelled with their certs error code.
const OutcomeOK = "ok"

// Outcome is the outcome label for an operation that returned err: "ok", or
// err's certs error code ("invalid", "forbidden", "rate_limited", …;
// "internal" for an error that is not a *certs.Error).
func Outcome(err error) string {
	if err == nil {
		return OutcomeOK
	}
	return certs.ErrorCode(err)
}

// StatusNoResponse is the status label of a SailPoint request that got no
// HTTP response (connection refused, timeout, TLS failure).
const StatusNoResponse = "no_response"

// Metrics holds certops' collectors. Build it with New; the zero value and a
// nil pointer record nothing.
type Metrics struct {
	toolCalls            *prometheus.CounterVec
	slashCommands        *prometheus.CounterVec
	sailpointRequests    *prometheus.CounterVec
	sailpointDuration    *prometheus.HistogramVec
	sailpointRetries     *prometheus.CounterVec
	sailpointRateLimited prometheus.Counter
	rateLimiterWait      *prometheus.HistogramVec
	approvals            *prometheus.CounterVec
	requestAge           *prometheus.HistogramVec
	httpRequests         *prometheus.CounterVec
}

// Histogram buckets, in seconds, chosen for what each measures.
var (
	// SailPoint answers in tens of milliseconds to seconds; the client's
	// per-attempt timeout is 30s.
	sailpointBuckets = []float64{0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}
	// The client-side pacer admits up to 100 requests per 10s window at once:
	// waits are 0 while the window has room and up to the window (or a
	// 429's Retry-After) when it is full.
	waitBuckets = []float64{0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}
	// Requests wait minutes to days for a decision (certs.DefaultRequestTTL is
	// 72h) and seconds to minutes for SailPoint's tasks.
	ageBuckets = []float64{
		10, 60, 5 * 60, 15 * 60, 3600, 4 * 3600, 12 * 3600, 24 * 3600, 48 * 3600, 72 * 3600, 7 * 24 * 3600,
	}
)

// New creates certops' collectors and registers them on reg. It panics if
// they are already registered there (a wiring bug, as with MustRegister). A
// nil reg creates working collectors that nobody scrapes.
func New(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		toolCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "certops_tool_calls_total",
			Help: "MCP tool calls by tool and outcome (ok or a certs error code).",
		}, []string{"tool", "outcome"}),
		slashCommands: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "certops_slash_commands_total",
			Help: "Slack /certs commands by subcommand and outcome (ok or a certs error code).",
		}, []string{"subcommand", "outcome"}),
		sailpointRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "certops_sailpoint_requests_total",
			Help: "HTTP requests to SailPoint ISC by operation id and response status (no_response when none came), each attempt counted.",
		}, []string{"operation", "status"}),
		sailpointDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "certops_sailpoint_request_duration_seconds",
			Help:    "Time of one HTTP attempt to SailPoint ISC by operation id, from sending to the response headers.",
			Buckets: sailpointBuckets,
		}, []string{"operation"}),
		sailpointRetries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "certops_sailpoint_retries_total",
			Help: "Retried SailPoint requests by operation id and reason (rate_limited, server_error, network, token).",
		}, []string{"operation", "reason"}),
		sailpointRateLimited: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "certops_sailpoint_rate_limited_total",
			Help: "HTTP 429 responses from SailPoint ISC.",
		}),
		rateLimiterWait: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "certops_ratelimiter_wait_seconds",
			Help:    "Time requests waited in certops' own SailPoint rate limiter before being sent (0 while the window has room), by lane (interactive: a person waits; background: the worker, the Slack notifier).",
			Buckets: waitBuckets,
		}, []string{"lane"}),
		approvals: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "certops_approvals_total",
			Help: "Decisions on reassignment requests by outcome (approved, denied, cancelled, expired, or a certs error code for a refused decision).",
		}, []string{"outcome"}),
		requestAge: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "certops_request_age_seconds",
			Help:    "Age of reassignment requests (since creation) when they reached each state.",
			Buckets: ageBuckets,
		}, []string{"state"}),
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "certops_http_requests_total",
			Help: "HTTP requests served by certops by handler and status code.",
		}, []string{"handler", "code"}),
	}
	if reg != nil {
		reg.MustRegister(
			m.toolCalls, m.slashCommands,
			m.sailpointRequests, m.sailpointDuration, m.sailpointRetries, m.sailpointRateLimited,
			m.rateLimiterWait, m.approvals, m.requestAge, m.httpRequests,
		)
	}
	return m
}

// ToolCall records one MCP tool call; outcome is Outcome(err) of the call
// (a tool error result counts as its error code).
func (m *Metrics) ToolCall(tool, outcome string) {
	if m == nil || m.toolCalls == nil {
		return
	}
	m.toolCalls.WithLabelValues(tool, outcome).Inc()
}

// SlashCommand records one Slack /certs command. subcommand must be one the
// bot knows ("unknown" for anything else: it is typed by people).
func (m *Metrics) SlashCommand(subcommand, outcome string) {
	if m == nil || m.slashCommands == nil {
		return
	}
	m.slashCommands.WithLabelValues(subcommand, outcome).Inc()
}

// SailPointRequest records one HTTP attempt to SailPoint: its operation id,
// the response status (0 when no response came) and how long it took. A 429
// also counts in certops_sailpoint_rate_limited_total.
func (m *Metrics) SailPointRequest(operation string, status int, took time.Duration) {
	if m == nil || m.sailpointRequests == nil {
		return
	}
	label := StatusNoResponse
	if status > 0 {
		label = strconv.Itoa(status)
	}
	m.sailpointRequests.WithLabelValues(operation, label).Inc()
	m.sailpointDuration.WithLabelValues(operation).Observe(took.Seconds())
	if status == 429 {
		m.sailpointRateLimited.Inc()
	}
}

// SailPointRetry records that a SailPoint request is about to be retried,
// and why (rate_limited, server_error, network, token).
func (m *Metrics) SailPointRetry(operation, reason string) {
	if m == nil || m.sailpointRetries == nil {
		return
	}
	m.sailpointRetries.WithLabelValues(operation, reason).Inc()
}

// RateLimiterWait records how long a request of lane ("interactive" or
// "background") waited for the client-side rate limiter (record zero waits
// too: they make the distribution honest).
func (m *Metrics) RateLimiterWait(lane string, waited time.Duration) {
	if m == nil || m.rateLimiterWait == nil {
		return
	}
	m.rateLimiterWait.WithLabelValues(lane).Observe(waited.Seconds())
}

// Approval records a decision on a reassignment request: the state it moved
// to (approved, denied, cancelled, expired) or, when the decision was
// refused, Outcome(err) (forbidden, conflict for a lost race, …).
func (m *Metrics) Approval(outcome string) {
	if m == nil || m.approvals == nil {
		return
	}
	m.approvals.WithLabelValues(outcome).Inc()
}

// RequestState records a request reaching state, age after its creation.
func (m *Metrics) RequestState(state certs.RequestState, age time.Duration) {
	if m == nil || m.requestAge == nil {
		return
	}
	m.requestAge.WithLabelValues(string(state)).Observe(age.Seconds())
}

// Metrics records what the certs Service reports.
var _ certs.Metrics = (*Metrics)(nil)

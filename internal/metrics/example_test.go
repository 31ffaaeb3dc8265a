package metrics_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/certops/certops/internal/metrics"
)

// A binary makes one registry, one *Metrics for every package that records,
// and serves the registry at /metrics.
func Example() {
	reg := metrics.NewRegistry()
	m := metrics.New(reg)

	mux := http.NewServeMux()
	mux.Handle("GET /metrics", metrics.Handler(reg))

	// What a front end does after each call.
	var err error // the call's result
	m.ToolCall("list_certifications", metrics.Outcome(err))

	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	for line := range strings.SplitSeq(rec.Body.String(), "\n") {
		if strings.HasPrefix(line, "certops_tool_calls_total{") {
			fmt.Println(line)
		}
	}
	// Output: certops_tool_calls_total{outcome="ok",tool="list_certifications"} 1
}

// Packages take a *Metrics that may be nil, and record without checking.
func Example_optional() {
	var m *metrics.Metrics // not configured
	m.SailPointRequest("listIdentityCertifications", 200, 0)
	fmt.Println("recorded nothing, and did not panic")
	// Output: recorded nothing, and did not panic
}

package sandboxtest

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// BenchmarkContract measures what the check adds to one exchange (a list
// of 25 certifications), against the bare handler in the same run:
//
//	go test -run '^$' -bench Contract -benchmem ./internal/sandbox/sandboxtest
func BenchmarkContract(b *testing.B) {
	page := "[" + strings.TrimSuffix(strings.Repeat(validCert+",", 25), ",") + "]"
	h := respond(200, page, "X-Total-Count", "25")
	checked := Contract(b, h)
	req := httptest.NewRequest("GET", "/v3/certifications?limit=25&count=true", nil)
	var bare, withCheck time.Duration
	for b.Loop() {
		start := time.Now()
		h.ServeHTTP(httptest.NewRecorder(), req)
		mid := time.Now()
		checked.ServeHTTP(httptest.NewRecorder(), req)
		bare, withCheck = bare+mid.Sub(start), withCheck+time.Since(mid)
	}
	b.ReportMetric(float64(withCheck.Nanoseconds())/float64(b.N), "checked-ns/op")
	b.ReportMetric(float64(withCheck)/float64(bare), "checked/bare")
}

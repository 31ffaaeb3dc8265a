package sandbox_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/certops/certops/internal/sandbox"
)

// The sandbox must never be the bottleneck: at the large size (10,000
// certifications, 100,000 items) a 250-row page must take far less than
// real ISC's ~100 ms. These benchmarks call the handler directly (no
// network), with the state built once outside the timer:
//
//	go test -run '^$' -bench BenchmarkSandbox -benchmem ./internal/sandbox

type benchTenant struct {
	sb  *sandbox.Sandbox
	tok string
}

func newBenchTenant(b *testing.B) *benchTenant {
	b.Helper()
	sb := sandbox.New(sandbox.Config{Certifications: sandbox.LargeCertifications, ItemsPerCertification: sandbox.LargeItemsPerCert, RateLimit: -1})
	return &benchTenant{sb: sb, tok: directToken(b, sb)}
}

func (bt *benchTenant) call(b *testing.B, method, path, body string) *httptest.ResponseRecorder {
	var req *http.Request
	if body != "" {
		req = httptest.NewRequest(method, path, strings.NewReader(body))
	} else {
		req = httptest.NewRequest(method, path, nil)
	}
	req.Header.Set("Authorization", "Bearer "+bt.tok)
	rec := httptest.NewRecorder()
	bt.sb.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		b.Fatalf("%s %s: %d %s", method, path, rec.Code, rec.Body.String())
	}
	return rec
}

func (bt *benchTenant) certs(b *testing.B, query string) []certDto {
	var out []certDto
	if err := json.Unmarshal(bt.call(b, "GET", "/v3/certifications?"+query, "").Body.Bytes(), &out); err != nil {
		b.Fatal(err)
	}
	return out
}

func runPage(b *testing.B, bt *benchTenant, path string, wantRows int) {
	b.ReportAllocs()
	b.ResetTimer()
	var rec *httptest.ResponseRecorder
	for b.Loop() {
		rec = bt.call(b, "GET", path, "")
	}
	var rows []json.RawMessage
	if err := json.Unmarshal(rec.Body.Bytes(), &rows); err != nil {
		b.Fatal(err)
	}
	if len(rows) != wantRows {
		b.Fatalf("%s: %d rows, want %d", path, len(rows), wantRows)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(rows)), "ns/row")
}

// Building the large tenant is what `cmd/sandbox --size large` waits for
// at start-up.
func BenchmarkSandboxNewLarge(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		sandbox.New(sandbox.Config{Certifications: sandbox.LargeCertifications, ItemsPerCertification: sandbox.LargeItemsPerCert})
	}
}

func BenchmarkSandboxCertificationsPage(b *testing.B) {
	bt := newBenchTenant(b)
	runPage(b, bt, "/v3/certifications?limit=250&offset=5000&count=true", 250)
}

func BenchmarkSandboxCertificationsFiltered(b *testing.B) {
	bt := newBenchTenant(b)
	first := bt.certs(b, "limit=1")[0]
	want := len(bt.certs(b, "filters="+q(`campaign.id eq "`+first.Campaign.ID+`" and completed eq false`)))
	b.Run("campaign", func(b *testing.B) {
		runPage(b, bt, "/v3/certifications?count=true&filters="+q(`campaign.id eq "`+first.Campaign.ID+`" and completed eq false`), want)
	})
	// The worst case: a filter no index helps, over every certification,
	// counted and sorted on two keys.
	b.Run("scan-sort", func(b *testing.B) {
		runPage(b, bt, "/v3/certifications?limit=250&count=true&sorters=-due,name&filters="+q(`phase eq "ACTIVE" and completed eq false`), 250)
	})
}

// The items page needs a certification with at least 250 items: the setup
// moves other certifications' work of the same campaign into one, through
// the API (sync reassignments), as a reviewer consolidation would.
func BenchmarkSandboxItemsPage(b *testing.B) {
	bt := newBenchTenant(b)
	target := bt.certs(b, "limit=1")[0]
	campaign := bt.certs(b, "filters="+q(`campaign.id eq "`+target.Campaign.ID+`" and phase eq "ACTIVE"`))
	total := target.DecisionsTotal
	for _, c := range campaign {
		if c.ID == target.ID || total >= 260 {
			continue
		}
		var items []itemDto
		if err := json.Unmarshal(bt.call(b, "GET", "/v3/certifications/"+c.ID+"/access-review-items", "").Body.Bytes(), &items); err != nil {
			b.Fatal(err)
		}
		var refs []ref
		for _, it := range items {
			if it.IdentitySummary.IdentityID != target.Reviewer.ID {
				refs = append(refs, ref{ID: it.ID, Type: "ITEM"})
			}
		}
		body, _ := json.Marshal(reassignBody{Reassign: refs, ReassignTo: target.Reviewer.ID, Reason: "consolidate for the benchmark"})
		bt.call(b, "POST", "/v3/certifications/"+c.ID+"/reassign", string(body))
		total += len(refs)
	}
	runPage(b, bt, "/v3/certifications/"+target.ID+"/access-review-items?limit=250&count=true", 250)
}

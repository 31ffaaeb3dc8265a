package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/certs"
	"github.com/certops/certops/internal/sailpoint"
	"github.com/certops/certops/internal/sandbox"
	"github.com/certops/certops/internal/store"
	"github.com/certops/certops/internal/tools"
)

// benchStack is the real stack wired for benchmarks: the sandbox (no rate
// limit, a chosen latency) behind the ISC client, a SQLite store, the
// Service, and the MCP server over HTTP. app.Open is not used because it
// paces the ISC client at ISC's 100 requests / 10 s, which would measure
// the pacer instead of the server.
type benchStack struct {
	svc    *certs.Service
	actor  certs.Actor
	mcpURL string
	token  string
	certID string
}

func newBenchStack(b *testing.B, latency time.Duration) *benchStack {
	b.Helper()
	ctx := context.Background()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	sb := sandbox.New(sandbox.Config{RateLimit: -1, Latency: latency, Logger: quiet})
	sbSrv := httptest.NewServer(sb)
	b.Cleanup(sbSrv.Close)
	tenant, err := sailpoint.New(sailpoint.Config{
		BaseURL: sbSrv.URL, ClientID: sandbox.AdminClientID, ClientSecret: sandbox.AdminClientSecret,
		APIVersion: "v3", Timeout: 30 * time.Second, MaxRetries: 2, Concurrency: 8, MaxBackoff: time.Second,
	}, sailpoint.Options{Logger: quiet})
	require.NoError(b, err)
	st, err := store.OpenSQLite(ctx, filepath.Join(b.TempDir(), "certops.db"), store.Options{Logger: quiet})
	require.NoError(b, err)
	b.Cleanup(func() { _ = st.Close() })
	svc := certs.NewService(certs.Options{Tenant: tenant, Store: st, Logger: quiet})

	open := false
	page, err := tenant.ListCertifications(ctx, certs.CertificationFilter{Completed: &open, Page: certs.PageOptions{Limit: 1}})
	require.NoError(b, err)
	require.NotEmpty(b, page.Items)
	actor := certs.Actor{ID: "bench", Frontend: certs.FrontendMCP, Role: certs.RoleAdmin, IdentityID: page.Items[0].Reviewer.ID}

	srv, err := tools.New(tools.Options{Service: svc, Logger: quiet})
	require.NoError(b, err)
	token := "bench-token"
	auth, err := tools.NewAuthenticator([]tools.Token{{Name: actor.ID, SHA256: tools.HashToken(token), IdentityID: actor.IdentityID, Role: certs.RoleAdmin}})
	require.NoError(b, err)
	h, err := tools.NewHTTPHandler(srv, tools.HTTPOptions{Auth: auth, AllowedHosts: []string{"127.0.0.1"}, Logger: quiet})
	require.NoError(b, err)
	mcpSrv := httptest.NewServer(h)
	b.Cleanup(mcpSrv.Close)
	return &benchStack{svc: svc, actor: actor, mcpURL: mcpSrv.URL + tools.MCPPath, token: token, certID: page.Items[0].ID}
}

func (s *benchStack) connect(b *testing.B) *mcp.ClientSession {
	b.Helper()
	transport := &mcp.StreamableClientTransport{
		Endpoint:   s.mcpURL,
		HTTPClient: &http.Client{Transport: bearer{token: s.token, next: http.DefaultTransport}},
		MaxRetries: -1,
	}
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "bench", Version: "1"}, nil).Connect(context.Background(), transport, nil)
	require.NoError(b, err)
	b.Cleanup(func() { _ = cs.Close() })
	return cs
}

func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	i := int(p * float64(len(s)-1))
	return s[i]
}

func micros(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

// BenchmarkToolsCallOverhead measures what MCP over HTTP adds to a
// list_certifications: each iteration makes the same Service call directly
// and through tools/call, on the same sandbox, and the percentiles of both
// and their difference are reported.
//
//	go test -run '^$' -bench ToolsCallOverhead -benchtime 300x ./cmd/mcp-server
func BenchmarkToolsCallOverhead(b *testing.B) {
	s := newBenchStack(b, 0)
	cs := s.connect(b)
	ctx := context.Background()
	open := false
	query := certs.CertificationQuery{Reviewer: "me", Completed: &open, Page: certs.PageOptions{Limit: 25, Count: true}}
	args := map[string]any{"limit": 25}
	// Warm up: token, connections, schema caches.
	for range 5 {
		_, err := s.svc.ListCertifications(ctx, s.actor, query)
		require.NoError(b, err)
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "list_certifications", Arguments: args})
		require.NoError(b, err)
		require.False(b, res.IsError)
	}
	direct := make([]time.Duration, 0, b.N)
	viaMCP := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		if _, err := s.svc.ListCertifications(ctx, s.actor, query); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "list_certifications", Arguments: args})
		t2 := time.Now()
		if err != nil || res.IsError {
			b.Fatalf("tools/call: %v %v", err, res)
		}
		direct = append(direct, t1.Sub(t0))
		viaMCP = append(viaMCP, t2.Sub(t1))
	}
	b.StopTimer()
	dp50, dp99 := percentile(direct, 0.50), percentile(direct, 0.99)
	mp50, mp99 := percentile(viaMCP, 0.50), percentile(viaMCP, 0.99)
	b.ReportMetric(micros(dp50), "direct-p50-µs")
	b.ReportMetric(micros(dp99), "direct-p99-µs")
	b.ReportMetric(micros(mp50), "mcp-p50-µs")
	b.ReportMetric(micros(mp99), "mcp-p99-µs")
	b.ReportMetric(micros(mp50-dp50), "added-p50-µs")
	b.ReportMetric(float64(mp50)/float64(dp50), "p50-ratio")
}

// BenchmarkConcurrentSessions runs 50 MCP sessions over HTTP calling read
// tools (list_certifications, get_certification, list_review_items) and
// reports calls per second and the p99 latency, with the sandbox answering
// at once and after 50 ms.
//
//	go test -run '^$' -bench ConcurrentSessions -benchtime 1000x ./cmd/mcp-server
func BenchmarkConcurrentSessions(b *testing.B) {
	for _, latency := range []time.Duration{0, 50 * time.Millisecond} {
		b.Run(fmt.Sprintf("sandbox-latency=%s", latency), func(b *testing.B) {
			const sessions = 50
			s := newBenchStack(b, latency)
			clients := make([]*mcp.ClientSession, sessions)
			for i := range clients {
				clients[i] = s.connect(b)
			}
			calls := []mcp.CallToolParams{
				{Name: "list_certifications", Arguments: map[string]any{"limit": 10}},
				{Name: "get_certification", Arguments: map[string]any{"certification_id": s.certID}},
				{Name: "list_review_items", Arguments: map[string]any{"certification_id": s.certID, "limit": 10}},
			}
			var next atomic.Int64
			var mu sync.Mutex
			lat := make([]time.Duration, 0, b.N)
			var failed atomic.Int64
			b.ResetTimer()
			start := time.Now()
			var wg sync.WaitGroup
			for _, cs := range clients {
				wg.Add(1)
				go func(cs *mcp.ClientSession) {
					defer wg.Done()
					for {
						i := next.Add(1) - 1
						if i >= int64(b.N) {
							return
						}
						p := calls[i%int64(len(calls))]
						t0 := time.Now()
						res, err := cs.CallTool(context.Background(), &p)
						d := time.Since(t0)
						if err != nil || res.IsError {
							failed.Add(1)
						}
						mu.Lock()
						lat = append(lat, d)
						mu.Unlock()
					}
				}(cs)
			}
			wg.Wait()
			elapsed := time.Since(start)
			b.StopTimer()
			if n := failed.Load(); n > 0 {
				b.Fatalf("%d of %d calls failed", n, b.N)
			}
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "calls/s")
			b.ReportMetric(micros(percentile(lat, 0.50))/1000, "p50-ms")
			b.ReportMetric(micros(percentile(lat, 0.99))/1000, "p99-ms")
		})
	}
}

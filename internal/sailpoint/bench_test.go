package sailpoint_test

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sync/errgroup"

	"github.com/certops/certops/internal/certs"
	"github.com/certops/certops/internal/sailpoint"
	"github.com/certops/certops/internal/sandbox"
)

// Benchmarks of the client alone, each named for what it measures. None is
// a figure of the product: production reaches the client through
// certs.Service, one tool call or slash command at a time, paced at ISC's
// 100 requests per 10 s; those figures come from the benchmarks through the
// front ends (cmd/mcp-server/bench_test.go, internal/slackbot/bench_test.go)
// and are in cmd/mcp-server/README.md.
//
// The benchmarks talk HTTP to the sandbox without the contract check: its
// schema validation of every 250-item page costs more CPU than the client
// itself on a 2-core machine, and would be measured instead of the client.
// The tests run the same calls with the check on.
//
// Run them with:
//
//	go test -run '^$' -bench . -benchtime 1x ./internal/sailpoint/
func benchSandbox(b *testing.B, cfg sandbox.Config) (*sandbox.Sandbox, string) {
	b.Helper()
	sb := sandbox.New(cfg)
	srv := httptest.NewServer(sb)
	b.Cleanup(srv.Close)
	return sb, srv.URL
}

func benchClient(b *testing.B, base string, tweak func(*sailpoint.Config)) *sailpoint.Client {
	b.Helper()
	cfg := sailpoint.Config{
		BaseURL: base, ClientID: sandbox.AdminClientID, ClientSecret: sandbox.AdminClientSecret,
		APIVersion: sailpoint.APIv3, RateLimit: 0, RateBurst: 0, Timeout: 30 * time.Second, // RateBurst: the production default
		MaxRetries: 5, Concurrency: 8, MaxBackoff: 2 * time.Second,
	}
	if tweak != nil {
		tweak(&cfg)
	}
	c, err := sailpoint.New(cfg, sailpoint.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(b, err)
	return c
}

// BenchmarkListAllCertificationsNoRateLimit lists 10,000 certifications
// (40 pages of 250) with 50 ms of latency per call: the client's concurrent
// list-all against a sequential page loop, the way SailPoint's SDK
// paginators work, with the rate limit off on both sides. Production reads
// every multi-page list through ListAll* (certs.Tenant), but never 40
// pages at once beside ISC's 100 requests per 10 s: this measures the
// concurrent page reading alone. Reports speedup = sequential / list-all.
func BenchmarkListAllCertificationsNoRateLimit(b *testing.B) {
	sb, base := benchSandbox(b, sandbox.Config{Certifications: sandbox.LargeCertifications, ItemsPerCertification: 1, RateLimit: -1})
	sb.SetLatency(50*time.Millisecond, 0)
	c := benchClient(b, base, nil)
	ctx := context.Background()
	// Warm up outside the timing: the token, and the connection pool a
	// long-running process keeps.
	_, err := c.ListAllCertifications(ctx, certs.CertificationFilter{})
	require.NoError(b, err)

	var seq, conc time.Duration
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		var n int
		for off := 0; ; off += certs.MaxPageLimit {
			page, err := c.ListCertifications(ctx, certs.CertificationFilter{Page: certs.PageOptions{Offset: off}})
			require.NoError(b, err)
			n += len(page.Items)
			if len(page.Items) < certs.MaxPageLimit {
				break
			}
		}
		seq += time.Since(start)
		require.Equal(b, sandbox.LargeCertifications, n)

		start = time.Now()
		all, err := c.ListAllCertifications(ctx, certs.CertificationFilter{})
		conc += time.Since(start)
		require.NoError(b, err)
		require.Len(b, all, sandbox.LargeCertifications)
	}
	b.ReportMetric(seq.Seconds()/float64(b.N), "seq-s/op")
	b.ReportMetric(conc.Seconds()/float64(b.N), "listall-s/op")
	b.ReportMetric(float64(seq)/float64(conc), "speedup")
}

// BenchmarkPacerFanOutScaledLimit lists the reviewers of 2,000
// certifications, 16 at a time, under a limit scaled to 100 requests per
// second (sandbox and client alike; the client's default pacing otherwise).
// Production makes no such fan-out: this measures the pacer's throughput at
// the limit. Reports the time against the floor the limit sets (requests ÷
// rate) and the 429s the sandbox answered.
func BenchmarkPacerFanOutScaledLimit(b *testing.B) {
	const certCount, rate = 2000, 100
	sb, base := benchSandbox(b, sandbox.Config{Certifications: certCount, ItemsPerCertification: 1, RateLimit: rate, RateWindow: time.Second})
	c := benchClient(b, base, func(cfg *sailpoint.Config) {
		cfg.RateLimit, cfg.RateWindow = rate, time.Second
	})
	ctx := context.Background()

	var elapsed time.Duration
	requests, limited := 0, 0
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		// Start each round with an empty window at the sandbox.
		time.Sleep(1100 * time.Millisecond)
		sb.ResetStats()
		b.StartTimer()

		start := time.Now()
		all, err := c.ListAllCertifications(ctx, certs.CertificationFilter{})
		require.NoError(b, err)
		require.Len(b, all, certCount)
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(16) // enough in flight to keep up with the pace
		for _, cert := range all {
			g.Go(func() error {
				page, err := c.ListReviewers(gctx, cert.ID, certs.ReviewerFilter{})
				if err == nil && len(page.Items) == 0 {
					b.Errorf("no reviewers for %s", cert.ID)
				}
				return err
			})
		}
		require.NoError(b, g.Wait())
		elapsed += time.Since(start)

		st := sb.Stats()
		requests += st.Clients[sandbox.AdminClientID].Calls - st.Clients[sandbox.AdminClientID].RateLimited
		limited += st.Clients[sandbox.AdminClientID].RateLimited
	}
	floor := time.Duration(float64(requests) / rate * float64(time.Second))
	b.ReportMetric(elapsed.Seconds()/float64(b.N), "s/op")
	b.ReportMetric(float64(elapsed)/float64(floor), "x-floor")
	b.ReportMetric(float64(limited)/float64(b.N), "429s/op")
	b.ReportMetric(float64(requests)/float64(b.N), "requests/op")
}

// BenchmarkClientReassignAsyncConcurrent moves 2,000 review items out of
// three certifications (700, 700 and 600 items) in async calls of at most
// 500 references (six calls), submitted concurrently through the client's
// ReassignAsync, then polls every task with GetTask. It measures the
// client's methods, not certops's submission: certs.Service sends a
// request's calls one at a time, each recorded before the next (submit.go),
// and follows tasks from the worker. The floor is the tenant's own task time (queued + running) plus
// the minimum requests (one submission and one final poll per call) at the
// rate limit of 100 per second.
func BenchmarkClientReassignAsyncConcurrent(b *testing.B) {
	const (
		rate     = 100
		queued   = 200 * time.Millisecond
		running  = 300 * time.Millisecond
		poll     = 100 * time.Millisecond
		toMove   = 2000
		perCerts = 700
	)
	ctx := context.Background()
	var elapsed, floorSum time.Duration
	calls := 0
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		sb, base := benchSandbox(b, sandbox.Config{Certifications: 3, ItemsPerCertification: perCerts, RateLimit: rate, RateWindow: time.Second,
			TaskQueuedFor: queued, TaskRunningFor: running})
		c := benchClient(b, base, func(cfg *sailpoint.Config) { cfg.RateLimit, cfg.RateWindow = rate, time.Second })
		plan := planMoves(b, c, sb, toMove)
		time.Sleep(1100 * time.Millisecond) // an empty rate window
		sb.ResetStats()
		b.StartTimer()

		start := time.Now()
		tasks := make([]*certs.Task, len(plan))
		g, gctx := errgroup.WithContext(ctx)
		for i, r := range plan {
			g.Go(func() error {
				t, err := c.ReassignAsync(gctx, r)
				tasks[i] = t
				return err
			})
		}
		require.NoError(b, g.Wait())
		g, gctx = errgroup.WithContext(ctx)
		for _, t := range tasks {
			g.Go(func() error {
				done, err := pollTask(gctx, c, t.ID, poll)
				if err == nil && done.Status != certs.TaskSuccess {
					b.Errorf("task %s ended %s: %v", done.ID, done.Status, done.Errors)
				}
				return err
			})
		}
		require.NoError(b, g.Wait())
		elapsed += time.Since(start)

		b.StopTimer()
		st := sb.Stats()
		require.Equal(b, toMove, st.ItemsMoved)
		require.Equal(b, len(plan), st.ReassignmentsApplied)
		calls += len(plan)
		floorSum += queued + running + time.Duration(float64(2*len(plan))/rate*float64(time.Second))
		b.StartTimer()
	}
	b.ReportMetric(elapsed.Seconds()/float64(b.N), "s/op")
	b.ReportMetric(float64(elapsed)/float64(floorSum), "x-floor")
	b.ReportMetric(float64(calls)/float64(b.N), "async-calls/op")
}

// planMoves picks toMove items across the sandbox's certifications, to the
// admin's identity (who reviews nothing and is nobody's subject), in
// chunks of at most MaxAsyncReassign.
func planMoves(b *testing.B, c *sailpoint.Client, sb *sandbox.Sandbox, toMove int) []certs.Reassignment {
	b.Helper()
	ctx := context.Background()
	to := sb.Clients()[0].IdentityID
	all, err := c.ListAllCertifications(ctx, certs.CertificationFilter{})
	require.NoError(b, err)
	var plan []certs.Reassignment
	left := toMove
	for _, cert := range all {
		if left == 0 {
			break
		}
		if cert.Phase != certs.PhaseActive || cert.Reviewer.ID == to {
			continue
		}
		items, err := c.ListAllReviewItems(ctx, cert.ID, certs.ReviewItemFilter{})
		require.NoError(b, err)
		var refs []certs.Ref
		for _, it := range items {
			if it.IdentitySummary.IdentityID != to && len(refs) < left {
				refs = append(refs, certs.Ref{ID: it.ID, Type: certs.RefItem})
			}
		}
		left -= len(refs)
		for len(refs) > 0 {
			n := min(len(refs), certs.MaxAsyncReassign)
			plan = append(plan, certs.Reassignment{CertificationID: cert.ID, Refs: refs[:n], To: to, Reason: "benchmark"})
			refs = refs[n:]
		}
	}
	require.Zero(b, left, "not enough items to move")
	return plan
}

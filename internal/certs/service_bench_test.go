package certs_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/certs"
	"github.com/certops/certops/internal/sandbox"
	"github.com/certops/certops/internal/store/storetest"
)

// Benchmarks of the approval path on real parts. Run with, e.g.:
//
//	go test ./internal/certs -run '^$' -bench 'Approval|CompareAndSet' -benchtime 400x

// benchApprovers is how many approvers approve at once.
const benchApprovers = 8

// pendingRequests stores n pending requests of plan p directly (setup, not
// measured), each approvable by Alice.
func pendingRequests(b *testing.B, st certs.Store, p *certs.Plan, n int) []string {
	b.Helper()
	ctx := context.Background()
	now := time.Now()
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("bench-%s-%06d", now.Format("150405.000000"), i)
		r := &certs.Request{ID: ids[i], Plan: *p, Requester: mcpAdmin, Approvers: []string{"slack:U_ALICE"},
			State: certs.StatePending, Created: now, Updated: now, ExpiresAt: now.Add(time.Hour)}
		require.NoError(b, st.CreateRequest(ctx, r))
	}
	return ids
}

// BenchmarkApprovalThroughputPostgresNoRateLimit: 8 approvers approve
// distinct requests at once; each approval is the compare-and-set pending →
// submitting, one ReassignAsync over HTTP to the sandbox, recording its
// task, and submitting → submitted. The sandbox has no latency and no rate
// limit and the client no pacing: it measures the store and the service's
// approval path alone. In production every approval makes an ISC call, so
// approvals are bounded by ISC's 100 calls per 10 s long before this.
func BenchmarkApprovalThroughputPostgresNoRateLimit(b *testing.B) {
	ctx := context.Background()
	// Tasks never run: the same item can be queued again by every request.
	sb, tn := startTenant(b, sandbox.Config{TaskQueuedFor: 24 * time.Hour})
	st := openPostgres(b, storetest.SchemaURL(b), time.Now)
	svc := newService(tn, st, time.Now, "bench")
	w := findWork(b, tn, 1)
	p, err := svc.PlanReassignment(ctx, mcpAdmin, certs.PlanInput{CertificationID: w.cert.ID, ItemIDs: w.items[:1], Target: w.target.ID, Reason: "benchmark"})
	require.NoError(b, err)
	ids := pendingRequests(b, st, p, b.N)
	before := asyncSubmissions(sb)
	work := make(chan string, len(ids))
	for _, id := range ids {
		work <- id
	}
	close(work)

	b.ResetTimer()
	var wg sync.WaitGroup
	for range benchApprovers {
		wg.Go(func() {
			for id := range work {
				if _, err := svc.Approve(ctx, slackAlice, id); err != nil {
					b.Error(err)
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "requests/s")
	require.Equal(b, b.N, asyncSubmissions(sb)-before, "one submission per request")
}

// BenchmarkCompareAndSet measures Store.UpdateRequest (the compare-and-set
// every transition goes through) with 8 writers: all on one request
// (contended) and each on its own (uncontended), in the same run, and
// reports the contended/uncontended cost ratio.
func BenchmarkCompareAndSet(b *testing.B) {
	for _, st := range stores {
		b.Run(st.name, func(b *testing.B) {
			ctx := context.Background()
			s := st.open(b, time.Now)
			p := &certs.Plan{ID: "bench-plan", CertificationID: "cert-bench", Refs: []certs.Ref{{ID: "i1", Type: certs.RefItem}}}
			ids := pendingRequests(b, s, p, benchApprovers)
			touch := func(id string, n int) {
				_, err := s.UpdateRequest(ctx, id, []certs.RequestState{certs.StatePending}, func(r *certs.Request) error {
					r.FrontendRefs = map[string]string{"n": fmt.Sprint(n)}
					return nil
				})
				if err != nil {
					b.Error(err)
				}
			}
			run := func(pick func(w int) string) time.Duration {
				start := time.Now()
				var wg sync.WaitGroup
				for w := range benchApprovers {
					wg.Go(func() {
						for i := w; i < b.N; i += benchApprovers {
							touch(pick(w), i)
						}
					})
				}
				wg.Wait()
				return time.Since(start)
			}
			b.ResetTimer()
			contended := run(func(int) string { return ids[0] })
			uncontended := run(func(w int) string { return ids[w] })
			b.StopTimer()
			b.ReportMetric(float64(contended.Nanoseconds())/float64(b.N), "contended-ns/cas")
			b.ReportMetric(float64(uncontended.Nanoseconds())/float64(b.N), "uncontended-ns/cas")
			b.ReportMetric(float64(contended)/float64(uncontended), "contended/uncontended")
			r, err := s.GetRequest(ctx, ids[0])
			require.NoError(b, err)
			// Created at version 1, then b.N contended writes and worker 0's
			// share of the uncontended ones: no write was lost.
			require.Equal(b, int64(1+b.N+countFor(b.N, 0)), r.Version, "no lost update")
		})
	}
}

// countFor is how many of n iterations worker w of benchApprovers runs.
func countFor(n, w int) int {
	c := 0
	for i := w; i < n; i += benchApprovers {
		c++
	}
	return c
}

package main

import (
	"cmp"
	"context"
	"flag"
	"net/http"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/certops/certops/internal/certs"
)

// sessionsDuration is how long BenchmarkSessions's sessions call tools in
// each phase: -sessions.duration, else CERTOPS_BENCH_DURATION, else 20 s
// (CI can run it short).
var sessionsDuration = flag.Duration("sessions.duration", 0, "how long BenchmarkSessions calls tools in each phase (default CERTOPS_BENCH_DURATION or 20s)")

func benchDuration(b *testing.B) time.Duration {
	if *sessionsDuration > 0 {
		return *sessionsDuration
	}
	if v := os.Getenv("CERTOPS_BENCH_DURATION"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			b.Fatalf("CERTOPS_BENCH_DURATION=%q: want a positive duration", v)
		}
		return d
	}
	return 20 * time.Second
}

// tenantLimit is the sandbox's limit per 10 s in BenchmarkSessions:
// CERTOPS_BENCH_TENANT_LIMIT, else ISC's 100. Set lower (e.g. 20), it is a
// tenant allowing less than the client's default pacing assumes: the 429s
// then come from the tenant, and the client lowers its pace.
func tenantLimit(b *testing.B) int {
	v := os.Getenv("CERTOPS_BENCH_TENANT_LIMIT")
	if v == "" {
		return benchLimit
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		b.Fatalf("CERTOPS_BENCH_TENANT_LIMIT=%q: want a positive number", v)
	}
	return n
}

const (
	benchSessions = 50
	// sessionsLatency is the sandbox's latency in BenchmarkSessions.
	sessionsLatency = 50 * time.Millisecond
)

// phase is what one phase of BenchmarkSessions measured.
type phase struct {
	elapsed              time.Duration // from the start to the last interactive answer
	calls, errors        int           // interactive tool calls answered, of which error results
	isc, limited         int           // the admin client's ISC calls and 429s, all of them
	iscByDeadline        int           // ISC calls answered other than 429 that reached the sandbox before the deadline
	p50, p99             time.Duration // interactive latency
	plans                int           // bulk plans answered
	planP50, planMax     time.Duration
	toolCalls, iscPerSec float64
}

// runPhase runs benchSessions MCP sessions (one token each, the same
// identity) calling the read tools in turn for d; with bulk, one more
// session plans moving all of one identity's items of a 5,000-item
// certification, again and again, meanwhile. Calls still running at d are
// waited for and counted.
func runPhase(b *testing.B, d time.Duration, bulk bool) phase {
	sc := bulkConfig(sessionsLatency)
	sc.RateLimit = tenantLimit(b)
	s := startStack(b, sc, benchSessions)
	tw := twin(b, sc)
	mine := openCertsOf(b, tw, s.identity)
	var loads []workload
	for _, c := range mine {
		if c.Phase == certs.PhaseActive && len(loads) < 4 {
			loads = append(loads, findWorkload(b, tw, c))
		}
	}
	var bw bulkWorkload
	if bulk {
		bw = findBulk(b, tw, s.identity)
	}
	rt := &http.Transport{MaxIdleConnsPerHost: 2 * benchSessions, MaxConnsPerHost: 4 * benchSessions}
	sessions := make([]*mcp.ClientSession, benchSessions)
	for i := range sessions {
		sessions[i] = s.connect(b, s.tokens[i], rt)
	}
	var bulkSession *mcp.ClientSession
	if bulk {
		bulkSession = s.connect(b, s.token, rt)
	}
	// The token and the connections, as a running server has them.
	callTool(b, sessions[0], "list_pending_tasks", map[string]any{"certification_id": loads[0].certID})

	reads := func(w workload) []mcp.CallToolParams {
		return []mcp.CallToolParams{
			{Name: "list_certifications", Arguments: map[string]any{"limit": 10}},
			{Name: "get_certification", Arguments: map[string]any{"certification_id": w.certID}},
			{Name: "list_reviewers", Arguments: map[string]any{"certification_id": w.certID}},
			{Name: "list_review_items", Arguments: map[string]any{"certification_id": w.certID, "limit": 10}},
			{Name: "get_item_permissions", Arguments: map[string]any{"certification_id": w.certID, "item_id": w.permItem}},
			{Name: "list_pending_tasks", Arguments: map[string]any{"certification_id": w.certID}},
		}
	}

	isc0, lim0 := s.calls(), s.limited()
	start := time.Now()
	deadline := start.Add(d)
	atDeadline := make(chan int, 1)
	time.AfterFunc(d, func() { atDeadline <- s.calls() - isc0 - (s.limited() - lim0) })
	var mu sync.Mutex
	var lat, planLat []time.Duration
	var errs atomic.Int64
	var lastAnswer atomic.Int64
	var wg sync.WaitGroup
	for i, cs := range sessions {
		wg.Go(func() {
			calls := reads(loads[i%len(loads)])
			for n := i; time.Now().Before(deadline); n++ {
				p := calls[n%len(calls)]
				t0 := time.Now()
				res, err := cs.CallTool(context.Background(), &p)
				took := time.Since(t0)
				if err != nil {
					b.Errorf("session %d: tools/call %s: %v", i, p.Name, err)
					return
				}
				if res.IsError {
					errs.Add(1)
				}
				lastAnswer.Store(int64(time.Since(start)))
				mu.Lock()
				lat = append(lat, took)
				mu.Unlock()
			}
		})
	}
	bulkDone := make(chan struct{})
	if bulk {
		go func() {
			defer close(bulkDone)
			args := map[string]any{"certification_id": bw.certID, "identity_ids": []string{bw.identity}, "target": bw.target, "reason": "benchmark: reviewer on leave"}
			for time.Now().Before(deadline) {
				t0 := time.Now()
				res, err := bulkSession.CallTool(context.Background(), &mcp.CallToolParams{Name: "plan_reassignment", Arguments: args})
				if err != nil || res.IsError {
					b.Errorf("bulk plan: %v %v", err, res)
					return
				}
				mu.Lock()
				planLat = append(planLat, time.Since(t0))
				mu.Unlock()
			}
		}()
	} else {
		close(bulkDone)
	}
	wg.Wait()
	<-bulkDone

	ph := phase{
		elapsed: time.Duration(lastAnswer.Load()),
		calls:   len(lat),
		errors:  int(errs.Load()),
		isc:     s.calls() - isc0,
		limited: s.limited() - lim0,
		p50:     percentile(lat, 0.50),
		p99:     percentile(lat, 0.99),
		plans:   len(planLat),
		planP50: percentile(planLat, 0.50),
		planMax: percentile(planLat, 1),
	}
	ph.iscByDeadline = <-atDeadline
	ph.toolCalls = float64(ph.calls) / ph.elapsed.Seconds()
	ph.iscPerSec = float64(ph.iscByDeadline) / d.Seconds()
	return ph
}

// BenchmarkSessions: 50 MCP sessions over HTTP (one bearer token each)
// calling the read tools for CERTOPS_BENCH_DURATION (20 s), sandbox
// latency 50 ms and ISC's limit of 100 requests per 10 s at both ends:
// tool calls/s (answered, over the time until the last answer, calls
// running at the deadline included), ISC calls/s until the deadline, and
// budget-use: those ISC calls against what the window admits in that time
// from an idle start (100 for every window begun: 200 in 20 s), the
// sandbox's 429s (and their share of ISC calls), p50/p99. Then the same on a
// fresh stack while another session plans moving all of one identity's
// items of a 5,000-item certification, again and again: interactive p50/p99
// with the bulk plans and p99-ratio = with ÷ without. Each phase starts on
// an idle window.
//
// The sessions read 4 certifications with 6 tools: 24 distinct reads, so
// many are identical and in flight at once, and those are sent once
// (sailpoint.ReadCache, as production wires it): tool calls/s can pass ISC
// calls/s by far. The budget figures are about ISC calls.
//
// CERTOPS_BENCH_TENANT_LIMIT=20 makes the sandbox allow 20 per 10 s while
// the client keeps its default of 100: a tenant allowing less.
//
//	CERTOPS_BENCH_DURATION=20s go test -run '^$' -bench Sessions -benchtime 1x ./cmd/mcp-server
func BenchmarkSessions(b *testing.B) {
	skipShort(b)
	d := benchDuration(b)
	var alone, withBulk phase
	for b.Loop() {
		alone = runPhase(b, d, false)
		withBulk = runPhase(b, d, true)
	}
	// What a sliding window of the tenant's limit per benchWindow admits in
	// d from an idle start: the limit in each window begun.
	budget := float64(tenantLimit(b) * int((d+benchWindow-1)/benchWindow))
	share := func(p phase) float64 { return float64(p.limited) / float64(max(p.isc, 1)) }
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(alone.toolCalls, "calls/s")
	b.ReportMetric(alone.iscPerSec, "isc-calls/s")
	b.ReportMetric(float64(alone.iscByDeadline)/budget, "budget-use")
	b.ReportMetric(float64(alone.limited), "429s")
	b.ReportMetric(share(alone), "429-share")
	b.ReportMetric(float64(alone.errors), "error-results")
	b.ReportMetric(ms(alone.p50), "p50-ms")
	b.ReportMetric(ms(alone.p99), "p99-ms")
	b.ReportMetric(withBulk.toolCalls, "bulk:calls/s")
	b.ReportMetric(float64(withBulk.iscByDeadline)/budget, "bulk:budget-use")
	b.ReportMetric(float64(withBulk.limited), "bulk:429s")
	b.ReportMetric(share(withBulk), "bulk:429-share")
	b.ReportMetric(float64(withBulk.errors), "bulk:error-results")
	b.ReportMetric(ms(withBulk.p50), "bulk:p50-ms")
	b.ReportMetric(ms(withBulk.p99), "bulk:p99-ms")
	b.ReportMetric(float64(withBulk.plans), "bulk:plans")
	b.ReportMetric(withBulk.planP50.Seconds(), "bulk:plan-p50-s")
	b.ReportMetric(float64(withBulk.p99)/float64(cmp.Or(alone.p99, 1)), "p99-ratio")
	b.Logf("duration %s per phase; alone: %d calls answered in %s, %d ISC calls (%d by the deadline), %d error results; with bulk: %d calls in %s, %d ISC calls (%d by the deadline), %d error results, %d plans (p50 %s, max %s)",
		d, alone.calls, alone.elapsed.Round(time.Millisecond), alone.isc, alone.iscByDeadline, alone.errors,
		withBulk.calls, withBulk.elapsed.Round(time.Millisecond), withBulk.isc, withBulk.iscByDeadline, withBulk.errors, withBulk.plans,
		withBulk.planP50.Round(time.Millisecond), withBulk.planMax.Round(time.Millisecond))
}

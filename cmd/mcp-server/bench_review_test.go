package main

import (
	"context"
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/certs"
	"github.com/certops/certops/internal/sandbox"
)

// Benchmarks of the review (issue 13), through the front end with the
// production defaults, like bench_test.go's (its harness: startStack, twin,
// room):
//
//	go test -run '^$' -bench Evidence5000 -benchtime 1x -timeout 2h ./cmd/mcp-server
//	go test -run '^$' -bench Decide1000 -benchtime 1x ./cmd/mcp-server
//
// CERTOPS_BENCH_EVIDENCE_IDENTITIES bounds how many identities the
// get_review_item walk covers (default 40; "all": every identity of the
// certification, about an hour at 100 calls per 10 s).
//
// Figures: README.md, "Performance".

// benchRate is the calls per second ISC's limit allows in the long run.
const benchRate = float64(benchLimit) / float64(benchWindow/time.Second)

// evidencePage is the largest page get_review_item gives.
const evidencePage = 25

// opCalls is the admin client's ISC calls so far, per operation.
func (s *stack) opCalls() map[string]int {
	out := map[string]int{}
	for op, st := range s.a.Sandbox.Stats().Operations {
		if n := st.ByClient[sandbox.AdminClientID].Calls; n > 0 {
			out[op] = n
		}
	}
	return out
}

// opsSince is the calls per operation made since before.
func (s *stack) opsSince(before map[string]int) map[string]int {
	out := map[string]int{}
	for op, n := range s.opCalls() {
		if d := n - before[op]; d > 0 {
			out[op] = d
		}
	}
	return out
}

func opsText(ops map[string]int) string {
	var parts []string
	for _, op := range slices.Sorted(maps.Keys(ops)) {
		parts = append(parts, fmt.Sprintf("%s %d", op, ops[op]))
	}
	return strings.Join(parts, ", ")
}

func sumOps(ops map[string]int) int {
	n := 0
	for _, v := range ops {
		n += v
	}
	return n
}

// idle waits for an idle window before a measured part.
func (s *stack) idle() {
	s.room(benchRoom + 1)
}

// evidenceIdentities is how many identities the get_review_item walk
// covers (0: all).
func evidenceIdentities(b *testing.B) int {
	v := os.Getenv("CERTOPS_BENCH_EVIDENCE_IDENTITIES")
	switch v {
	case "":
		return 40
	case "all":
		return 0
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		b.Fatalf("CERTOPS_BENCH_EVIDENCE_IDENTITIES=%q: a number of identities, or all", v)
	}
	return n
}

// summaries is a certification's identity summaries, in the items' order,
// with how many items each has.
type summaries struct {
	ids   []string
	items map[string]int
}

func summariesOf(items []certs.ReviewItem) summaries {
	s := summaries{items: map[string]int{}}
	for _, it := range items {
		id := it.IdentitySummary.ID
		if s.items[id] == 0 {
			s.ids = append(s.ids, id)
		}
		s.items[id]++
	}
	return s
}

// pagesFor is how many get_review_item calls read n items.
func pagesFor(n int) int { return max(1, (n+evidencePage-1)/evidencePage) }

// BenchmarkEvidence5000Items reads the evidence for every item of one
// 5,000-item certification at 50 ms of latency, three ways, each starting
// on an idle window:
//
//   - get_review_item, the tool that shows evidence: it pages one
//     identity's items (at most 25 per call), so every item is one walk of
//     every identity summary. The walk covers
//     CERTOPS_BENCH_EVIDENCE_IDENTITIES identities and projects the rest
//     (proj-*: the calls per tool call times the tool calls the whole
//     certification needs, and the time those ISC calls take at 100 per
//     10 s);
//   - certs.Service.ListEvidence with no ids, what a full certification's
//     evidence costs in one read (no MCP tool exposes it whole);
//   - export_review_evidence, every page at its largest (500 records).
//
// Each reports its ISC calls (counted by the sandbox) and its time; the
// test log has the calls per operation.
func BenchmarkEvidence5000Items(b *testing.B) {
	skipShort(b)
	const latency = 50 * time.Millisecond
	sc := bulkConfig(latency)
	s := startStack(b, sc, 0)
	tw := twin(b, sc)
	w := findBulk(b, tw, s.identity)
	all := allItemsOf(b, tw, w.certID)
	sums := summariesOf(all)
	cs := s.connect(b, s.token, nil)
	callTool(b, cs, "list_pending_tasks", map[string]any{"certification_id": w.certID}) // token, connections
	s.last = time.Now()
	b.Logf("certification %s: %d items, %d identity summaries", w.certID, len(all), len(sums.ids))

	b.Run("get_review_item", func(b *testing.B) {
		walk := sums.ids
		if n := evidenceIdentities(b); n > 0 && n < len(walk) {
			walk = walk[:n]
		}
		var elapsed time.Duration
		toolCalls, items, calls, limited := 0, 0, 0, s.limited()
		ops := map[string]int{}
		for b.Loop() {
			s.idle()
			before, beforeOps := s.calls(), s.opCalls()
			t0 := time.Now()
			for _, sum := range walk {
				cursor := ""
				for {
					args := map[string]any{"certification_id": w.certID, "identity_summary_id": sum, "status": "all", "limit": evidencePage}
					if cursor != "" {
						args["cursor"] = cursor
					}
					out := callTool(b, cs, "get_review_item", args)
					toolCalls++
					got, _ := out["items"].([]any)
					items += len(got)
					cursor, _ = out["nextCursor"].(string)
					if cursor == "" {
						break
					}
				}
			}
			elapsed += time.Since(t0)
			s.last = time.Now()
			calls += s.calls() - before
			for op, n := range s.opsSince(beforeOps) {
				ops[op] += n
			}
		}
		n := float64(b.N)
		want := 0
		for _, sum := range walk {
			want += sums.items[sum]
		}
		require.Equal(b, want*b.N, items, "the walk read every item of its identities")
		whole := 0
		for _, sum := range sums.ids {
			whole += pagesFor(sums.items[sum])
		}
		perTool := float64(calls) / float64(toolCalls)
		b.Logf("get_review_item over %d identities (%d items): %d tool calls, %d ISC calls: %s", len(walk), want, toolCalls/b.N, calls/b.N, opsText(ops))
		b.ReportMetric(0, "ns/op")
		b.ReportMetric(float64(len(walk)), "identities")
		b.ReportMetric(float64(items)/n, "items")
		b.ReportMetric(float64(toolCalls)/n, "tool-calls")
		b.ReportMetric(float64(calls)/n, "isc-calls")
		b.ReportMetric(perTool, "isc-calls/tool-call")
		b.ReportMetric(elapsed.Seconds()/n, "s")
		b.ReportMetric(float64(whole), "proj-tool-calls")
		b.ReportMetric(perTool*float64(whole), "proj-isc-calls")
		b.ReportMetric(perTool*float64(whole)/benchRate, "proj-s")
		b.ReportMetric(float64(s.limited()-limited), "429s")
	})

	b.Run("ListEvidence", func(b *testing.B) {
		actor := certs.Actor{ID: "bench", Name: "bench", Frontend: certs.FrontendMCP, Role: certs.RoleAdmin, IdentityID: s.identity}
		var elapsed time.Duration
		calls, items, limited := 0, 0, s.limited()
		ops := map[string]int{}
		for b.Loop() {
			s.idle()
			before, beforeOps := s.calls(), s.opCalls()
			t0 := time.Now()
			evs, err := s.a.Service.ListEvidence(context.Background(), actor, w.certID, nil)
			elapsed += time.Since(t0)
			s.last = time.Now()
			require.NoError(b, err)
			items += len(evs)
			calls += s.calls() - before
			for op, n := range s.opsSince(beforeOps) {
				ops[op] += n
			}
		}
		n := float64(b.N)
		require.Equal(b, len(all)*b.N, items)
		b.Logf("ListEvidence: %d ISC calls: %s", calls/b.N, opsText(ops))
		b.ReportMetric(0, "ns/op")
		b.ReportMetric(float64(items)/n, "items")
		b.ReportMetric(float64(calls)/n, "isc-calls")
		b.ReportMetric(float64(ops["getPublicIdentities"])/n, "identity-reads")
		b.ReportMetric(elapsed.Seconds()/n, "s")
		b.ReportMetric(float64(s.limited()-limited), "429s")
	})

	b.Run("export_review_evidence", func(b *testing.B) {
		var elapsed time.Duration
		pages, records, calls, limited := 0, 0, 0, s.limited()
		ops := map[string]int{}
		for b.Loop() {
			s.idle()
			before, beforeOps := s.calls(), s.opCalls()
			t0 := time.Now()
			cursor := ""
			for {
				args := map[string]any{"certification_id": w.certID, "format": "jsonl", "limit": 500}
				if cursor != "" {
					args["cursor"] = cursor
				}
				out := callTool(b, cs, "export_review_evidence", args)
				pages++
				if cursor == "" {
					n, _ := out["records"].(float64)
					records += int(n)
				}
				cursor, _ = out["nextCursor"].(string)
				if cursor == "" {
					break
				}
			}
			elapsed += time.Since(t0)
			s.last = time.Now()
			calls += s.calls() - before
			for op, n := range s.opsSince(beforeOps) {
				ops[op] += n
			}
		}
		n := float64(b.N)
		b.Logf("export_review_evidence: %d pages, %d records, %d ISC calls: %s", pages/b.N, records/b.N, calls/b.N, opsText(ops))
		b.ReportMetric(0, "ns/op")
		b.ReportMetric(float64(records)/n, "records")
		b.ReportMetric(float64(pages)/n, "tool-calls")
		b.ReportMetric(float64(calls)/n, "isc-calls")
		b.ReportMetric(elapsed.Seconds()/n, "s")
		b.ReportMetric(float64(s.limited()-limited), "429s")
	})
}

// decideItems is how many items BenchmarkDecide1000Items approves.
const decideItems = 1000

// BenchmarkDecide1000Items approves 1,000 open items of a 5,000-item
// certification at 50 ms of latency through plan_decisions (explicit
// decisions) and decide, confirmed by the plan's digest (the go-sdk client
// is given no elicitation handler, so it declares no elicitation
// capability and decide takes confirm), starting on an idle window. ISC
// takes at most 250 decisions per call, so the floor is 4
// makeIdentityDecision calls; it reports those, every ISC call of the plan
// and of decide against that floor (x-floor), and the time of each.
func BenchmarkDecide1000Items(b *testing.B) {
	skipShort(b)
	const latency = 50 * time.Millisecond
	floor := (decideItems + certs.MaxDecisionsPerCall - 1) / certs.MaxDecisionsPerCall
	sc := bulkConfig(latency)
	s := startStack(b, sc, 0)
	tw := twin(b, sc)
	// The open items of the sandbox reviewer's first active 5,000-item
	// certification with enough of them.
	var certID string
	var open []string
	for _, c := range openCertsOf(b, tw, s.identity) {
		if c.Phase != certs.PhaseActive {
			continue
		}
		items := allItemsOf(b, tw, c.ID)
		open = open[:0]
		for _, it := range items {
			if !it.Completed && it.Decision == "" {
				open = append(open, it.ID)
			}
		}
		if len(items) == 5000 && len(open) >= decideItems {
			certID = c.ID
			break
		}
	}
	require.NotEmpty(b, certID, "no active 5,000-item certification with %d open items", decideItems)
	cs := s.connect(b, s.token, nil)
	callTool(b, cs, "list_pending_tasks", map[string]any{"certification_id": certID}) // token, connections
	s.last = time.Now()

	var planT, decideT time.Duration
	planCalls, decideCalls, decisions, recorded, limited := 0, 0, 0, 0, s.limited()
	planOps, decideOps := map[string]int{}, map[string]int{}
	i := 0
	for b.Loop() {
		require.LessOrEqual(b, (i+1)*decideItems, len(open), "no more open items for iteration %d", i+1)
		batch := open[i*decideItems : (i+1)*decideItems]
		i++
		ds := make([]map[string]any, len(batch))
		for j, id := range batch {
			ds[j] = map[string]any{"item_id": id, "decision": "APPROVE"}
		}
		s.idle()

		before := s.opCalls()
		t0 := time.Now()
		plan := callTool(b, cs, "plan_decisions", map[string]any{"certification_id": certID, "decisions": ds, "comments": "benchmark: reviewed"})
		planT += time.Since(t0)
		for op, n := range s.opsSince(before) {
			planOps[op] += n
		}
		require.EqualValues(b, decideItems, plan["approve"], "the plan approves every item")
		require.EqualValues(b, floor, plan["calls"], "the plan's ISC calls")

		before = s.opCalls()
		t0 = time.Now()
		out := callTool(b, cs, "decide", map[string]any{"plan_id": plan["planId"], "confirm": plan["digest"]})
		req, _ := out["request"].(map[string]any)
		// A request not settled when decide answers is followed as a
		// client would, until it is final.
		for req != nil && req["final"] != true {
			time.Sleep(200 * time.Millisecond)
			out = callTool(b, cs, "get_reassignment_status", map[string]any{"request_id": req["id"]})
			req = out
			if r, ok := out["request"].(map[string]any); ok {
				req = r
			}
		}
		decideT += time.Since(t0)
		s.last = time.Now()
		for op, n := range s.opsSince(before) {
			decideOps[op] += n
		}
		require.NotNil(b, req, "decide: %v", out)
		require.Equal(b, "completed", req["state"], "decide: %v", out)
		n, ok := req["recorded"].(float64) // decide's answer
		if !ok {
			n, _ = req["itemCount"].(float64) // get_reassignment_status's, completed: every item recorded
		}
		recorded += int(n)
		decisions += decideItems
	}
	planCalls, decideCalls = sumOps(planOps), sumOps(decideOps)
	n := float64(b.N)
	made := float64(planOps["makeIdentityDecision"]+decideOps["makeIdentityDecision"]) / n
	b.Logf("plan_decisions: %d ISC calls: %s", planCalls/b.N, opsText(planOps))
	b.Logf("decide: %d ISC calls: %s", decideCalls/b.N, opsText(decideOps))
	require.Equal(b, decisions, recorded, "ISC recorded every decision")
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(float64(decisions)/n, "approved")
	b.ReportMetric(made, "decide-calls")
	b.ReportMetric(float64(floor), "floor")
	b.ReportMetric(float64(planCalls)/n, "plan-isc-calls")
	b.ReportMetric(float64(decideCalls)/n, "decide-isc-calls")
	b.ReportMetric(float64(planCalls+decideCalls)/n, "isc-calls")
	b.ReportMetric(float64(planCalls+decideCalls)/n/float64(floor), "x-floor")
	b.ReportMetric(planT.Seconds()/n, "plan-s")
	b.ReportMetric(decideT.Seconds()/n, "decide-s")
	b.ReportMetric((planT+decideT).Seconds()/n, "s")
	b.ReportMetric(float64(s.limited()-limited), "429s")
}

package certs_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/certs"
	"github.com/certops/certops/internal/sandbox"
	"github.com/certops/certops/internal/sandbox/sandboxtest"
)

// The three ways an earlier version told people something ISC contradicts
// (issue 11), each on both stores, with the submission on one replica and
// the settlement on another. The sandbox runs on the test's clock, so its
// tasks advance when the test moves time.

// settleWorld is a sandbox whose certifications hold many items, two
// services sharing one store, and a clock for all of them.
type settleWorld struct {
	sb       *sandbox.Sandbox
	base     string
	clk      *offsetClock
	one, two *certs.Service
	w        work
}

func newSettleWorld(t *testing.T, open func(testing.TB, func() time.Time) certs.Store, itemsPerCert int, taskTime time.Duration, wrap func(certs.Tenant) certs.Tenant) *settleWorld {
	t.Helper()
	clk := &offsetClock{}
	sb, base := sandboxtest.Start(t, sandbox.Config{
		RateLimit: -1, ItemsPerCertification: itemsPerCert, Now: clk.Now,
		TaskQueuedFor: taskTime, TaskRunningFor: time.Millisecond,
	})
	st := open(t, clk.Now)
	var first certs.Tenant = newClient(t, base)
	if wrap != nil {
		first = wrap(first)
	}
	one := newService(first, st, clk.Now, "replica-1")
	two := newService(newClient(t, base), st, clk.Now, "replica-2")
	return &settleWorld{sb: sb, base: base, clk: clk, one: one, two: two, w: findBigWork(t, newClient(t, base), itemsPerCert/2)}
}

// findBigWork is findWork for a certification with at least n open items,
// read page by page.
func findBigWork(t *testing.T, tn certs.Tenant, n int) work {
	t.Helper()
	w := findWork(t, tn, 1)
	ctx := context.Background()
	open := false
	var ids []string
	for off := 0; ; off += 250 {
		page, err := tn.ListReviewItems(ctx, w.cert.ID, certs.ReviewItemFilter{Completed: &open, Page: certs.PageOptions{Limit: 250, Offset: off}})
		require.NoError(t, err)
		for _, it := range page.Items {
			if it.Decision == "" && it.IdentitySummary.IdentityID != w.target.ID {
				ids = append(ids, it.ID)
			}
		}
		if len(page.Items) < 250 {
			break
		}
	}
	require.GreaterOrEqual(t, len(ids), n, "open items of certification %s", w.cert.ID)
	w.items = ids
	return w
}

// approve files and approves a plan moving items to target on replica one.
func (sw *settleWorld) approve(t *testing.T, items []string, target string) (*certs.Request, error) {
	t.Helper()
	ctx := context.Background()
	p, err := sw.one.PlanReassignment(ctx, mcpAdmin, certs.PlanInput{CertificationID: sw.w.cert.ID, ItemIDs: items, Target: target, Reason: "reviewer on leave"})
	require.NoError(t, err)
	r, err := sw.one.RequestApproval(ctx, mcpAdmin, p.ID, p.Digest, nil, nil)
	require.NoError(t, err)
	return sw.one.Approve(ctx, slackAlice, r.ID)
}

// settle moves time by d and runs replica two's worker.
func (sw *settleWorld) settle(t *testing.T, d time.Duration) {
	t.Helper()
	sw.clk.Advance(d)
	require.NoError(t, sw.two.Tick(context.Background()))
}

func (sw *settleWorld) request(t *testing.T, id string) *certs.Request {
	t.Helper()
	r, err := sw.two.GetRequest(context.Background(), mcpAdmin, id)
	require.NoError(t, err)
	return r
}

// otherTarget is an active identity with an email, neither w's target nor
// its reviewer nor the subject of its items.
func otherTarget(t *testing.T, tn certs.Tenant, w work) certs.Identity {
	t.Helper()
	ctx := context.Background()
	page, err := tn.ListCertifications(ctx, certs.CertificationFilter{Page: certs.PageOptions{Limit: 250}})
	require.NoError(t, err)
	items, err := tn.ListReviewItems(ctx, w.cert.ID, certs.ReviewItemFilter{Page: certs.PageOptions{Limit: 250}})
	require.NoError(t, err)
	subjects := map[string]bool{}
	for _, it := range items.Items {
		subjects[it.IdentitySummary.IdentityID] = true
	}
	for _, c := range page.Items {
		r := c.Reviewer
		if r.ID == w.target.ID || r.ID == w.cert.Reviewer.ID || subjects[r.ID] || r.Type == certs.ReviewerGovernanceGroup {
			continue
		}
		id, err := tn.GetIdentity(ctx, r.ID)
		require.NoError(t, err)
		if id.Active() && id.Email != "" {
			return *id
		}
	}
	t.Fatal("no second target in the sandbox")
	return certs.Identity{}
}

// Case 1: B's lost answer must not be settled with A's task.
func TestSettle_anotherRequestsTaskIsNeverTaken(t *testing.T) {
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			sw := newSettleWorld(t, st.open, 220, 90*time.Second, nil)
			a, err := sw.approve(t, sw.w.items[:51], sw.w.target.ID)
			require.NoError(t, err)
			require.Equal(t, certs.StateSubmitted, a.State)
			require.Equal(t, certs.TaskQueued, a.Tasks[0].Status, "A's task is still queued")

			sw.sb.InjectFault(sandbox.Fault{Operation: "submitReassignCertsAsync", Kind: sandbox.Fault503})
			b, err := sw.approve(t, sw.w.items[51:102], sw.w.target.ID)
			requireCode(t, certs.EUNKNOWN, err)
			assert.Contains(t, certs.ErrorMessage(err), "outcome unknown")
			assert.Equal(t, certs.StateSubmitting, b.State)

			// Settled on the other replica: A's task is A's, so B stays
			// unknown, then is unconfirmed, never "completed".
			sw.settle(t, time.Second)
			got := sw.request(t, b.ID)
			assert.Equal(t, certs.StateSubmitting, got.State)
			assert.Equal(t, certs.CallUnknown, got.Tasks[0].State)
			assert.Empty(t, got.Tasks[0].TaskID, "A's task is not taken for B")

			sw.settle(t, 6*time.Minute) // past SubmitLease; A's task has run
			sw.settle(t, time.Second)
			got = sw.request(t, b.ID)
			assert.Equal(t, certs.StateFailed, got.State)
			assert.Contains(t, got.Error, "outcome unknown, nothing resubmitted — check certification")
			assert.Zero(t, got.Progress().ItemsMoved)
			assert.Equal(t, 1, got.Progress().Unknown)

			gotA := sw.request(t, a.ID)
			assert.Equal(t, certs.StateCompleted, gotA.State, gotA.Error)
			assert.Equal(t, 51, gotA.Progress().ItemsMoved)
			assert.Equal(t, 1, sw.sb.Stats().ReassignmentsApplied, "only A was applied")
			assert.Equal(t, 2, asyncSubmissions(sw.sb), "B was never sent again")
		})
	}
}

// Case 2: items gone from the certification are not proof that B moved
// them: they must be with B's target.
func TestSettle_itemsGoneElsewhereAreNotProof(t *testing.T) {
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			sw := newSettleWorld(t, st.open, 8, time.Millisecond, nil)
			ctx := context.Background()
			item := sw.w.items[:1]
			second := otherTarget(t, newClient(t, sw.base), sw.w)
			// Both planned while the item is still there.
			pa, err := sw.one.PlanReassignment(ctx, mcpAdmin, certs.PlanInput{CertificationID: sw.w.cert.ID, ItemIDs: item, Target: sw.w.target.ID, Reason: "to the first"})
			require.NoError(t, err)
			pb, err := sw.one.PlanReassignment(ctx, mcpAdmin, certs.PlanInput{CertificationID: sw.w.cert.ID, ItemIDs: item, Target: second.ID, Reason: "to the second"})
			require.NoError(t, err)
			ra, err := sw.one.RequestApproval(ctx, mcpAdmin, pa.ID, pa.Digest, nil, nil)
			require.NoError(t, err)
			a, err := sw.one.Approve(ctx, slackAlice, ra.ID)
			require.NoError(t, err)
			require.Equal(t, certs.StateCompleted, a.State)

			sw.sb.InjectFault(sandbox.Fault{Operation: "reassignIdentityCertifications", Kind: sandbox.Fault503})
			rb, err := sw.one.RequestApproval(ctx, mcpAdmin, pb.ID, pb.Digest, nil, nil)
			require.NoError(t, err)
			b, err := sw.one.Approve(ctx, slackAlice, rb.ID)
			requireCode(t, certs.EUNKNOWN, err)
			assert.Equal(t, certs.StateSubmitting, b.State)

			sw.settle(t, 6*time.Minute)
			got := sw.request(t, b.ID)
			assert.Equal(t, certs.StateFailed, got.State)
			assert.Contains(t, got.Error, "outcome unknown, nothing resubmitted")
			assert.True(t, strings.HasPrefix(got.Error, "Nothing was moved. "), got.Error)
			assert.Zero(t, got.Progress().ItemsMoved)

			evs, err := sw.two.ListAudit(ctx, mcpAdmin, certs.EventFilter{RequestID: b.ID})
			require.NoError(t, err)
			last := evs[len(evs)-1]
			assert.Equal(t, certs.ActionFailed, last.Action)
			var reconciled string
			for _, ev := range evs {
				if ev.Action == certs.ActionReconciled {
					reconciled = ev.Detail
				}
			}
			assert.Contains(t, reconciled, "0 of its 1 review items are with "+second.Name, "says what was found")
			assert.Equal(t, 1, sw.sb.Stats().ReassignmentsApplied)
		})
	}
}

// faultBeforeCall injects a sandbox fault just before the nth ReassignAsync.
type faultBeforeCall struct {
	certs.Tenant
	sb    *sandbox.Sandbox
	n     int
	calls atomic.Int32
	fault sandbox.Fault
}

func (f *faultBeforeCall) ReassignAsync(ctx context.Context, r certs.Reassignment) (*certs.Task, error) {
	if int(f.calls.Add(1)) == f.n {
		f.sb.InjectFault(f.fault)
	}
	return f.Tenant.ReassignAsync(ctx, r)
}

// Case 3: a partly applied request says what landed and counts its items.
func TestSettle_partialFailureShowsWhatLanded(t *testing.T) {
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			var wrapper *faultBeforeCall
			sw := newSettleWorld(t, st.open, 1700, time.Second, func(tn certs.Tenant) certs.Tenant {
				wrapper = &faultBeforeCall{Tenant: tn, n: 2, fault: sandbox.Fault{Operation: "submitReassignCertsAsync", Kind: sandbox.Fault503}}
				return wrapper
			})
			wrapper.sb = sw.sb
			require.GreaterOrEqual(t, len(sw.w.items), 801)
			r, err := sw.approve(t, sw.w.items[:801], sw.w.target.ID)
			requireCode(t, certs.EUNKNOWN, err)
			assert.Contains(t, certs.ErrorMessage(err), "call 2 of 2 (301 review items): outcome unknown")
			require.Len(t, r.Tasks, 2)
			assert.Equal(t, certs.CallAccepted, r.Tasks[0].State)

			// Call 1's task runs; the request says so while call 2 is
			// being settled.
			sw.settle(t, 2*time.Second)
			sw.settle(t, 2*time.Second)
			got := sw.request(t, r.ID)
			assert.Equal(t, certs.StateSubmitting, got.State)
			assert.Equal(t, certs.TaskSuccess, got.Tasks[0].Status, "call 1 is followed meanwhile")
			assert.Equal(t, 500, got.Progress().ItemsMoved)

			sw.settle(t, 6*time.Minute)
			sw.settle(t, time.Second)
			got = sw.request(t, r.ID)
			assert.Equal(t, certs.StateFailed, got.State)
			p := got.Progress()
			assert.Equal(t, certs.Progress{Calls: 2, Done: 1, Unknown: 1, ItemsMoved: 500}, p)
			assert.Contains(t, got.Error, "500 of 801 review items moved to")
			assert.Contains(t, got.Error, "call 1 of 2 (500 review items): applied (ISC task "+got.Tasks[0].TaskID+")")
			assert.Contains(t, got.Error, "call 2 of 2 (301 review items): outcome unknown, nothing resubmitted")
			assert.Equal(t, 2, asyncSubmissions(sw.sb))
			assert.Equal(t, 1, sw.sb.Stats().ReassignmentsApplied)
		})
	}
}

// A 1-item reassignment is one synchronous ISC call and no task polling.
func TestSettle_oneItemIsOneSynchronousCall(t *testing.T) {
	sw := newSettleWorld(t, openSQLite, 8, time.Hour, nil)
	r, err := sw.approve(t, sw.w.items[:1], sw.w.target.ID)
	require.NoError(t, err)
	assert.Equal(t, certs.StateCompleted, r.State)
	stats := sw.sb.Stats()
	assert.Equal(t, 1, stats.Operations["reassignIdentityCertifications"].Calls)
	assert.Zero(t, stats.Operations["submitReassignCertsAsync"].Calls)
	assert.Zero(t, stats.Operations["getCertificationTask"].Calls, "no task to poll")
}

package certs_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/certs"
	"github.com/certops/certops/internal/sandbox"
	"github.com/certops/certops/internal/sandbox/sandboxtest"
)

// Review decisions and sign-off against the sandbox over HTTP, on both
// stores: the reviewer's job, end to end through the service.

type reviewWorld struct {
	sb   *sandbox.Sandbox
	svc  *certs.Service
	two  *certs.Service // a second replica on the same store
	cert certs.Certification
	rev  certs.Actor // the certification's reviewer
	open []certs.ReviewItem
	clk  *offsetClock
}

// newReviewWorld finds an ACTIVE certification whose campaign has the
// comment rule (any when "") and at least n open items not of the reviewer.
func newReviewWorld(t *testing.T, open func(testing.TB, func() time.Time) certs.Store, rule string, n, itemsPerCert int) *reviewWorld {
	t.Helper()
	clk := &offsetClock{}
	sb, base := sandboxtest.Start(t, sandbox.Config{RateLimit: -1, ItemsPerCertification: itemsPerCert, Now: clk.Now, TaskQueuedFor: time.Millisecond, TaskRunningFor: time.Millisecond})
	st := open(t, clk.Now)
	svc := newService(newClient(t, base), st, clk.Now, "replica-1")
	two := newService(newClient(t, base), st, clk.Now, "replica-2")
	ctx := context.Background()
	page, err := newClient(t, base).ListCertifications(ctx, certs.CertificationFilter{Page: certs.PageOptions{Limit: 250}})
	require.NoError(t, err)
	for _, c := range page.Items {
		if c.Phase != certs.PhaseActive || c.Reviewer.Type == certs.ReviewerGovernanceGroup || (rule != "" && c.Campaign.MandatoryCommentRequirement != rule) {
			continue
		}
		rev := certs.Actor{ID: "tok-" + c.Reviewer.ID, Name: c.Reviewer.Name, Frontend: certs.FrontendMCP, Role: certs.RoleReviewer, IdentityID: c.Reviewer.ID}
		evs, err := svc.ListEvidence(ctx, rev, c.ID, nil)
		require.NoError(t, err)
		var open []certs.ReviewItem
		for _, ev := range evs {
			if it := ev.Item; it.Decision == "" && it.IdentitySummary.IdentityID != c.Reviewer.ID {
				open = append(open, it)
			}
		}
		if len(open) >= n {
			return &reviewWorld{sb: sb, svc: svc, two: two, cert: c, rev: rev, open: open, clk: clk}
		}
	}
	t.Fatalf("no ACTIVE certification with rule %q and %d open items", rule, n)
	return nil
}

func (w *reviewWorld) decide(t *testing.T, a certs.Actor, in certs.DecisionInput) (*certs.Request, error) {
	t.Helper()
	ctx := context.Background()
	in.CertificationID = w.cert.ID
	p, err := w.svc.PlanDecisions(ctx, a, in)
	if err != nil {
		return nil, err
	}
	return w.svc.SubmitPlan(ctx, a, p.ID, p.Digest)
}

func (w *reviewWorld) item(t *testing.T, id string) certs.ReviewItem {
	t.Helper()
	page, err := w.svc.ListReviewItems(context.Background(), w.rev, w.cert.ID, certs.ReviewItemFilter{IDs: []string{id}})
	require.NoError(t, err)
	require.Len(t, page.Items, 1)
	return page.Items[0]
}

func decideCalls(sb *sandbox.Sandbox) int {
	return sb.Stats().Operations["makeIdentityDecision"].Calls
}

func TestReviewDecisions_approveRevokeChangeAndSignOff(t *testing.T) {
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			ctx := context.Background()
			w := newReviewWorld(t, st.open, certs.CommentsOnRevoke, 3, 0)
			a, b := w.open[0].ID, w.open[1].ID

			// A revoke without its required comment is refused before
			// anything is sent, naming the rule and the item.
			_, err := w.decide(t, w.rev, certs.DecisionInput{Decisions: []certs.ItemDecision{{ItemID: b, Decision: certs.DecisionRevoke}}})
			requireCode(t, certs.EINVALID, err)
			assert.Contains(t, certs.ErrorMessage(err), "REVOKE_ONLY_DECISIONS")
			assert.Contains(t, certs.ErrorMessage(err), b)
			assert.Zero(t, decideCalls(w.sb))

			r, err := w.decide(t, w.rev, certs.DecisionInput{Decisions: []certs.ItemDecision{
				{ItemID: a, Decision: certs.DecisionApprove},
				{ItemID: b, Decision: certs.DecisionRevoke, Comments: "left the team"},
			}})
			require.NoError(t, err)
			assert.Equal(t, certs.StateCompleted, r.State, r.Error)
			assert.Equal(t, 1, decideCalls(w.sb), "one call for both")
			assert.Equal(t, certs.DecisionApprove, w.item(t, a).Decision)
			got := w.item(t, b)
			assert.Equal(t, certs.DecisionRevoke, got.Decision)
			assert.Equal(t, "left the team", got.Comments)

			// Changed before sign-off: a new plan.
			r, err = w.decide(t, w.rev, certs.DecisionInput{Decisions: []certs.ItemDecision{{ItemID: b, Decision: certs.DecisionApprove}}})
			require.NoError(t, err)
			assert.Equal(t, certs.StateCompleted, r.State)
			assert.Equal(t, certs.DecisionApprove, w.item(t, b).Decision)

			// Sign-off is refused while items remain, then accepted.
			_, err = w.svc.PlanSignOff(ctx, w.rev, w.cert.ID, "")
			requireCode(t, certs.EINVALID, err)
			assert.Contains(t, certs.ErrorMessage(err), "still to decide")
			if ready, _, err := w.svc.SignOffReady(ctx, w.rev, w.cert.ID); assert.NoError(t, err) && !ready {
				r, err = w.decide(t, w.rev, certs.DecisionInput{Select: &certs.ItemSelection{}, SelectDecision: certs.DecisionApprove, Comments: "still needed"})
				require.NoError(t, err, "approve the rest")
				assert.Equal(t, certs.StateCompleted, r.State, r.Error)
			}
			stale, err := w.svc.PlanSignOff(ctx, w.rev, w.cert.ID, "")
			require.NoError(t, err)
			// A decision changed after the sign-off was shown: that sign-off
			// would make something else final, so it is refused.
			_, err = w.decide(t, w.rev, certs.DecisionInput{Decisions: []certs.ItemDecision{{ItemID: a, Decision: certs.DecisionRevoke, Comments: "changed my mind"}}})
			require.NoError(t, err)
			_, err = w.svc.SubmitPlan(ctx, w.rev, stale.ID, stale.Digest)
			requireCode(t, certs.EINVALID, err)
			assert.Contains(t, certs.ErrorMessage(err), "changed since sign-off plan")
			assert.Zero(t, w.sb.Stats().Operations["signOffIdentityCertification"].Calls)

			p, err := w.svc.PlanSignOff(ctx, w.rev, w.cert.ID, "")
			require.NoError(t, err)
			r, err = w.svc.SubmitPlan(ctx, w.rev, p.ID, p.Digest)
			require.NoError(t, err)
			assert.Equal(t, certs.StateCompleted, r.State, r.Error)
			c, err := w.svc.GetCertification(ctx, w.rev, w.cert.ID)
			require.NoError(t, err)
			assert.Equal(t, certs.PhaseSigned, c.Phase)
			_, err = w.decide(t, w.rev, certs.DecisionInput{Decisions: []certs.ItemDecision{{ItemID: a, Decision: certs.DecisionRevoke, Comments: "too late"}}})
			requireCode(t, certs.EINVALID, err)
			assert.Contains(t, certs.ErrorMessage(err), "signed off")
		})
	}
}

func TestReviewDecisions_whoMayDecide(t *testing.T) {
	ctx := context.Background()
	w := newReviewWorld(t, openSQLite, "", 1, 0)
	item := w.open[0]
	other := certs.Actor{ID: "U_OTHER", Name: "Other", Frontend: certs.FrontendSlack, Role: certs.RoleReviewer, IdentityID: item.IdentitySummary.IdentityID}
	_, err := w.decide(t, other, certs.DecisionInput{Decisions: []certs.ItemDecision{{ItemID: item.ID, Decision: certs.DecisionApprove, Comments: "ok"}}})
	requireCode(t, certs.EFORBIDDEN, err)

	_, err = w.decide(t, slackAlice, certs.DecisionInput{Decisions: []certs.ItemDecision{{ItemID: item.ID, Decision: certs.DecisionApprove, Comments: "ok"}}})
	requireCode(t, certs.EFORBIDDEN, err)
	assert.Contains(t, certs.ErrorMessage(err), "must give a reason")

	// Nobody decides on their own access, not even an admin on the
	// reviewer's behalf.
	self := certs.Actor{ID: "tok-self", Name: item.IdentitySummary.Name, Frontend: certs.FrontendMCP, Role: certs.RoleAdmin, IdentityID: item.IdentitySummary.IdentityID}
	_, err = w.decide(t, self, certs.DecisionInput{OnBehalf: "reviewer on leave", Decisions: []certs.ItemDecision{{ItemID: item.ID, Decision: certs.DecisionApprove, Comments: "mine"}}})
	requireCode(t, certs.EFORBIDDEN, err)
	assert.Contains(t, certs.ErrorMessage(err), "nobody decides on their own access")

	// An admin with a reason may; the reason is kept in the plan.
	r, err := w.decide(t, slackAlice, certs.DecisionInput{OnBehalf: "reviewer on leave", Decisions: []certs.ItemDecision{{ItemID: item.ID, Decision: certs.DecisionApprove, Comments: "ok"}}})
	require.NoError(t, err)
	assert.Equal(t, certs.StateCompleted, r.State)
	assert.Contains(t, r.Plan.Summary, "on the reviewer's behalf: reviewer on leave")
	assert.Equal(t, 1, decideCalls(w.sb))
	_ = ctx
}

func TestReviewDecisions_moreThan250AreSeveralCalls(t *testing.T) {
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			w := newReviewWorld(t, st.open, "", 260, 400)
			var ds []certs.ItemDecision
			for i, it := range w.open[:260] {
				d := certs.ItemDecision{ItemID: it.ID, Decision: certs.DecisionApprove, Comments: "still needed"}
				if i%10 == 0 {
					d = certs.ItemDecision{ItemID: it.ID, Decision: certs.DecisionRevoke, Comments: "not needed"}
				}
				ds = append(ds, d)
			}
			r, err := w.decide(t, w.rev, certs.DecisionInput{Decisions: ds})
			require.NoError(t, err)
			assert.Equal(t, certs.StateCompleted, r.State, r.Error)
			assert.Equal(t, 2, r.Plan.CallCount())
			assert.Equal(t, 2, decideCalls(w.sb))
			assert.Equal(t, 260, r.Progress().ItemsMoved)
			assert.Equal(t, certs.DecisionRevoke, w.item(t, w.open[10].ID).Decision)
		})
	}
}

func TestReviewDecisions_concurrentClicksDecideOnce(t *testing.T) {
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			ctx := context.Background()
			w := newReviewWorld(t, st.open, certs.CommentsNever, 1, 0)
			p, err := w.svc.PlanDecisions(ctx, w.rev, certs.DecisionInput{CertificationID: w.cert.ID, Decisions: []certs.ItemDecision{{ItemID: w.open[0].ID, Decision: certs.DecisionApprove}}})
			require.NoError(t, err)
			var wg sync.WaitGroup
			var mu sync.Mutex
			completed := 0
			for i := range 20 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					svc := w.svc
					if i%2 == 1 {
						svc = w.two
					}
					r, err := svc.SubmitPlan(ctx, w.rev, p.ID, p.Digest)
					if err == nil && r.State == certs.StateCompleted {
						mu.Lock()
						completed++
						mu.Unlock()
					} else if err != nil {
						assert.Equal(t, certs.ECONFLICT, certs.ErrorCode(err), certs.ErrorMessage(err))
					}
				}()
			}
			wg.Wait()
			assert.Equal(t, 1, completed)
			assert.Equal(t, 1, decideCalls(w.sb), "20 clicks on two replicas, one ISC call")
		})
	}
}

func TestReviewDecisions_lostAnswerIsReadBackNotResent(t *testing.T) {
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			w := newReviewWorld(t, st.open, certs.CommentsNever, 1, 0)
			w.sb.InjectFault(sandbox.Fault{Operation: "makeIdentityDecision", Kind: sandbox.FaultCloseAfterApply})
			r, err := w.decide(t, w.rev, certs.DecisionInput{Decisions: []certs.ItemDecision{{ItemID: w.open[0].ID, Decision: certs.DecisionApprove}}})
			requireCode(t, certs.EUNKNOWN, err)
			assert.Equal(t, certs.StateSubmitting, r.State)

			require.NoError(t, w.two.Tick(context.Background()))
			got, err := w.two.GetRequest(context.Background(), w.rev, r.ID)
			require.NoError(t, err)
			assert.Equal(t, certs.StateCompleted, got.State, got.Error)
			assert.True(t, got.Tasks[0].Found, "settled by reading the item back")
			assert.Equal(t, 1, decideCalls(w.sb), "never sent again")
		})
	}
}

func TestEvidence_factsAndRemarks(t *testing.T) {
	ctx := context.Background()
	w := newReviewWorld(t, openSQLite, "", 1, 0)
	all, err := w.svc.ListEvidence(ctx, w.rev, w.cert.ID, nil)
	require.NoError(t, err)
	require.NotEmpty(t, all)
	holders := map[string]map[string]bool{}
	for _, ev := range all {
		if holders[ev.Item.Access.ID] == nil {
			holders[ev.Item.Access.ID] = map[string]bool{}
		}
		holders[ev.Item.Access.ID][ev.Item.IdentitySummary.IdentityID] = true
	}
	for _, ev := range all {
		assert.Equal(t, len(holders[ev.Item.Access.ID])-1, ev.Peers, "peers of %s", ev.Item.ID)
		assert.NotEmpty(t, ev.Identity.Name)
		for _, r := range ev.Remarks {
			assert.NotEmpty(t, r.Facts, "remark %q says which facts it comes from", r.Text)
			assert.NotContains(t, r.Text, "should", "a remark never recommends")
		}
		if ev.Item.Access.Privileged && ev.Item.NewAccess {
			assert.Equal(t, "privileged and new since the last review", ev.Remarks[0].Text)
		}
	}
	one, err := w.svc.GetItemEvidence(ctx, w.rev, w.cert.ID, all[0].Item.ID)
	require.NoError(t, err)
	assert.Equal(t, all[0], *one)
	_, err = w.svc.GetItemEvidence(ctx, w.rev, w.cert.ID, "nope")
	requireCode(t, certs.ENOTFOUND, err)
}

// Twenty clicks on the same item's button, on two replicas at once, each
// planning and confirming in one go: one plan, one ISC call.
func TestReviewDecisions_sameClickOnTwoReplicasDecidesOnce(t *testing.T) {
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			ctx := context.Background()
			w := newReviewWorld(t, st.open, certs.CommentsNever, 1, 0)
			in := certs.DecisionInput{CertificationID: w.cert.ID, SameIntentSamePlan: true,
				Decisions: []certs.ItemDecision{{ItemID: w.open[0].ID, Decision: certs.DecisionApprove}}}
			var wg sync.WaitGroup
			plans := make([]string, 20)
			for i := range 20 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					svc := w.svc
					if i%2 == 1 {
						svc = w.two
					}
					p, err := svc.PlanDecisions(ctx, w.rev, in)
					if !assert.NoError(t, err) {
						return
					}
					plans[i] = p.ID
					_, err = svc.SubmitPlan(ctx, w.rev, p.ID, p.Digest)
					if err != nil {
						assert.Equal(t, certs.ECONFLICT, certs.ErrorCode(err), certs.ErrorMessage(err))
					}
				}()
			}
			wg.Wait()
			for _, id := range plans {
				assert.Equal(t, plans[0], id, "every click found the same plan")
			}
			assert.Equal(t, 1, decideCalls(w.sb), "20 clicks on two replicas, one ISC call")

			// The same click after the decision landed is another intent:
			// a revoke, then the approve again, each sent.
			r, err := w.decide(t, w.rev, certs.DecisionInput{SameIntentSamePlan: true, Decisions: []certs.ItemDecision{{ItemID: w.open[0].ID, Decision: certs.DecisionRevoke, Comments: "no"}}})
			require.NoError(t, err)
			assert.Equal(t, certs.StateCompleted, r.State)
			r, err = w.decide(t, w.rev, in)
			require.NoError(t, err)
			assert.Equal(t, certs.StateCompleted, r.State, "approving again after the revoke is a new plan")
			assert.Equal(t, 3, decideCalls(w.sb))
		})
	}
}

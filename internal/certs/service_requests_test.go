package certs_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/certs"
)

func TestRequestApproval_filesAPendingRequest(t *testing.T) {
	f := setup(t, approvalPolicy)
	ctx := context.Background()
	p := f.plan(t, bob)
	r, err := f.svc.RequestApproval(ctx, bob, p.ID, p.Digest, []string{"identity:id-carol", "slack:U_ALICE"}, map[string]string{"slack.channel": "C1"})
	require.NoError(t, err)
	assert.Equal(t, certs.StatePending, r.State)
	assert.Equal(t, p.ID, r.ID, "a request's id is its plan's")
	assert.Equal(t, []string{"identity:id-carol", "slack:U_ALBERT", "slack:U_ALICE"}, r.Approvers, "policy ∪ given, de-duplicated")
	assert.Equal(t, t0.Add(certs.DefaultRequestTTL), r.ExpiresAt)
	assert.Equal(t, bob, r.Requester)
	assert.Equal(t, "C1", r.FrontendRefs["slack.channel"])
	assert.Equal(t, []certs.Action{certs.ActionRequestCreated}, f.actions(r.ID))
	assert.Zero(t, f.reassignCalls())

	t.Run("the same plan cannot be filed twice", func(t *testing.T) {
		again, err := f.svc.RequestApproval(ctx, bob, p.ID, p.Digest, nil, nil)
		requireCode(t, certs.ECONFLICT, err)
		assert.Contains(t, certs.ErrorMessage(err), "already filed as request "+r.ID+", which is pending")
		require.NotNil(t, again)
		assert.Equal(t, r.ID, again.ID)
	})
}

func TestRequestApproval_refusals(t *testing.T) {
	tests := []struct {
		name      string
		policy    certs.Policy
		actor     certs.Actor
		digest    func(*certs.Plan) string
		approvers []string
		code, msg string
	}{
		{"no approver at all", certs.Policy{}, bob, nil, nil, certs.EINVALID, "no approver"},
		{"only the requester approves", certs.Policy{}, bob, nil, []string{"identity:id-bob"}, certs.EINVALID, "the only approver named is you"},
		{"malformed approver", certs.Policy{}, bob, nil, []string{"alice"}, certs.EINVALID, `approver "alice" is not a key`},
		{"wrong digest", approvalPolicy, bob, func(*certs.Plan) string { return "deadbeefdeadbeef" }, nil, certs.EINVALID, "is mistyped or another plan's digest"},
		{"no digest", approvalPolicy, bob, func(*certs.Plan) string { return "" }, nil, certs.EINVALID, "digest is required"},
		{"reviewer of another certification", approvalPolicy, eve, nil, nil, certs.EFORBIDDEN, "which you do not review"},
		// An MCP token without an identity shares no key with its owner's
		// Slack user, who could then approve their own request.
		{"requester without an ISC identity", approvalPolicy, certs.Actor{ID: "tok-x", Frontend: certs.FrontendMCP, Role: certs.RoleAdmin}, nil, nil, certs.EINVALID, "needs your ISC identity"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := setup(t, tt.policy)
			p := f.plan(t, admin)
			digest := p.Digest
			if tt.digest != nil {
				digest = tt.digest(p)
			}
			r, err := f.svc.RequestApproval(context.Background(), tt.actor, p.ID, digest, tt.approvers, nil)
			assert.Nil(t, r)
			requireCode(t, tt.code, err)
			assert.Contains(t, certs.ErrorMessage(err), tt.msg)
			_, gerr := f.store.GetRequest(context.Background(), p.ID)
			requireCode(t, certs.ENOTFOUND, gerr)
		})
	}
}

func TestSubmitPlan_requiresApprovalUnderPolicy(t *testing.T) {
	f := setup(t, approvalPolicy)
	p := f.plan(t, bob)
	r, err := f.svc.SubmitPlan(context.Background(), bob, p.ID, p.Digest)
	require.NoError(t, err)
	assert.Equal(t, certs.StatePending, r.State)
	assert.ElementsMatch(t, approvalPolicy.Approvers, r.Approvers)
	assert.Zero(t, f.reassignCalls())
}

func TestSubmitPlan_withoutApprovalSubmitsOnce(t *testing.T) {
	f := setup(t, certs.Policy{})
	ctx := context.Background()
	p := f.plan(t, admin)
	r, err := f.svc.SubmitPlan(ctx, admin, p.ID, p.Digest)
	require.NoError(t, err)
	assert.Equal(t, certs.StateCompleted, r.State, "3 items: one synchronous call, done when ISC answers")
	require.NotNil(t, r.DecidedBy)
	assert.Equal(t, admin.ID, r.DecidedBy.ID)
	require.Len(t, r.Tasks, 1)
	assert.Equal(t, certs.CallAccepted, r.Tasks[0].State)
	assert.Equal(t, certs.TaskSuccess, r.Tasks[0].Status)
	assert.Empty(t, r.Tasks[0].TaskID, "no task to follow")
	assert.Equal(t, []certs.Action{certs.ActionRequestCreated, certs.ActionRequestApproved, certs.ActionSubmitting, certs.ActionTaskSubmitted, certs.ActionCompleted}, f.actions(r.ID))

	// A double click: the second submission is refused and nothing is sent again.
	again, err := f.svc.SubmitPlan(ctx, admin, p.ID, p.Digest)
	requireCode(t, certs.ECONFLICT, err)
	assert.Contains(t, certs.ErrorMessage(err), "already filed as request "+r.ID+", which is completed")
	assert.Equal(t, certs.StateCompleted, again.State)
	assert.Equal(t, 1, f.tenant.Calls("Reassign"))
	assert.Zero(t, f.tenant.Calls("ReassignAsync"))
}

// stateCase prepares a request in a given state.
func (f *fixture) requestIn(t *testing.T, state certs.RequestState) *certs.Request {
	t.Helper()
	r := f.pending(t)
	if state == certs.StatePending {
		return r
	}
	r, err := f.store.UpdateRequest(context.Background(), r.ID, []certs.RequestState{certs.StatePending}, func(r *certs.Request) error {
		r.State = state
		a := alice
		r.DecidedBy = &a
		r.DecisionReason = "not now"
		return nil
	}, certs.Event{Time: t0.Add(3 * time.Minute), Actor: alice, Action: decisionAction(state)})
	require.NoError(t, err)
	return r
}

func decisionAction(s certs.RequestState) certs.Action {
	switch s {
	case certs.StateDenied:
		return certs.ActionRequestDenied
	case certs.StateCancelled:
		return certs.ActionRequestCancelled
	case certs.StateExpired:
		return certs.ActionRequestExpired
	}
	return certs.ActionRequestApproved
}

func TestDecisions_stateMachine(t *testing.T) {
	type op func(f *fixture, id string) (*certs.Request, error)
	approve := func(f *fixture, id string) (*certs.Request, error) {
		return f.svc.Approve(context.Background(), albert, id)
	}
	deny := func(f *fixture, id string) (*certs.Request, error) {
		return f.svc.Deny(context.Background(), albert, id, "too broad")
	}
	cancel := func(f *fixture, id string) (*certs.Request, error) {
		return f.svc.Cancel(context.Background(), bob, id)
	}
	ops := map[string]op{"approve": approve, "deny": deny, "cancel": cancel}
	want := map[string]certs.RequestState{"approve": certs.StateCompleted, "deny": certs.StateDenied, "cancel": certs.StateCancelled}

	conflicts := map[certs.RequestState]string{
		certs.StateApproved:   "was already approved by Alice at 14:03 UTC (now approved)",
		certs.StateSubmitting: "was already approved by Alice at 14:03 UTC (now submitting)",
		certs.StateSubmitted:  "was already approved by Alice at 14:03 UTC (now submitted)",
		certs.StateCompleted:  "was already approved by Alice at 14:03 UTC (now completed)",
		certs.StateFailed:     "was already approved by Alice at 14:03 UTC (now failed)",
		certs.StateDenied:     "was already denied by Alice at 14:03 UTC: not now",
		certs.StateCancelled:  "was cancelled by Alice at 14:03 UTC",
		certs.StateExpired:    "expired at 2026-11-26 14:00 UTC without a decision",
	}
	for name, do := range ops {
		t.Run(name+" from pending", func(t *testing.T) {
			f := setup(t, approvalPolicy)
			r := f.requestIn(t, certs.StatePending)
			got, err := do(f, r.ID)
			require.NoError(t, err)
			assert.Equal(t, want[name], got.State)
			assert.Equal(t, want[name], f.get(t, r.ID).State)
		})
		for state, msg := range conflicts {
			t.Run(fmt.Sprintf("%s from %s", name, state), func(t *testing.T) {
				f := setup(t, approvalPolicy)
				r := f.requestIn(t, state)
				before := f.get(t, r.ID)
				got, err := do(f, r.ID)
				requireCode(t, certs.ECONFLICT, err)
				assert.Contains(t, certs.ErrorMessage(err), msg)
				require.NotNil(t, got, "the current request comes with the conflict")
				assert.Equal(t, state, got.State)
				assert.Equal(t, before.Version, f.get(t, r.ID).Version, "nothing changed")
				assert.Zero(t, f.reassignCalls())
			})
		}
	}
}

func TestDecisions_whoMayDecide(t *testing.T) {
	ctx := context.Background()
	aliceByIdentity := certs.Actor{ID: "tok-alice", Frontend: certs.FrontendMCP, Role: certs.RoleReviewer, IdentityID: "id-alice"}
	bobOnMCP := certs.Actor{ID: "tok-bob", Frontend: certs.FrontendMCP, Role: certs.RoleAdmin, IdentityID: "id-bob"}
	tests := []struct {
		name      string
		approvers []string
		actor     certs.Actor
		code, msg string
	}{
		{"the requester cannot approve", []string{"slack:U_BOB"}, bob, certs.EFORBIDDEN, "you filed request"},
		{"the requester cannot approve through another front end", []string{"identity:id-bob"}, bobOnMCP, certs.EFORBIDDEN, "you filed request"},
		{"a non-approver cannot approve, admin or not", nil, admin, certs.EFORBIDDEN, "you are not an approver"},
		{"a non-approver reviewer cannot approve", nil, eve, certs.EFORBIDDEN, "you are not an approver"},
		{"the requester cannot approve with their identity id in another case", []string{"identity:ID-BOB"}, certs.Actor{ID: "tok-bob", Frontend: certs.FrontendMCP, Role: certs.RoleAdmin, IdentityID: "ID-BOB"}, certs.EFORBIDDEN, "you filed request"},
		{"an approver without an ISC identity cannot decide", []string{"mcp:tok-anon"}, certs.Actor{ID: "tok-anon", Frontend: certs.FrontendMCP, Role: certs.RoleAdmin}, certs.EFORBIDDEN, "needs your ISC identity"},
		{"the new reviewer cannot approve moving the work to themselves", []string{"identity:id-carol"}, certs.Actor{ID: "U_CAROL", Frontend: certs.FrontendSlack, Role: certs.RoleAdmin, IdentityID: "id-carol"}, certs.EFORBIDDEN, "would make you the reviewer"},
		{"an approver named by identity may approve from any front end", []string{"identity:id-alice"}, aliceByIdentity, "", ""},
		{"an approver named by front-end user may approve", nil, albert, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := setup(t, approvalPolicy)
			p := f.plan(t, bob)
			r, err := f.svc.RequestApproval(ctx, bob, p.ID, p.Digest, tt.approvers, nil)
			require.NoError(t, err)
			for _, decide := range []func() (*certs.Request, error){
				func() (*certs.Request, error) { return f.svc.Deny(ctx, tt.actor, r.ID, "") },
				func() (*certs.Request, error) { return f.svc.Approve(ctx, tt.actor, r.ID) },
			} {
				got, err := decide()
				if tt.code == "" {
					require.NoError(t, err)
					assert.Equal(t, tt.actor.ID, got.DecidedBy.ID)
					return
				}
				requireCode(t, tt.code, err)
				assert.Contains(t, certs.ErrorMessage(err), tt.msg)
				assert.Equal(t, certs.StatePending, f.get(t, r.ID).State)
			}
		})
	}
}

func TestApprove_concurrentApproversSubmitOnce(t *testing.T) {
	for _, tt := range []struct {
		name   string
		items  int
		method string // the tenant's reassignment method
		calls  int
		state  certs.RequestState
	}{
		{"one synchronous call", 3, "Reassign", 1, certs.StateCompleted},
		{"asynchronous calls", 600, "ReassignAsync", 2, certs.StateSubmitted},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := setup(t, certs.Policy{RequireApproval: true})
			ctx := context.Background()
			p := f.planOf(t, "id-many", "Many Items", tt.items, "id-carol")
			approvers := make([]certs.Actor, 20)
			keys := make([]string, 20)
			for i := range approvers {
				approvers[i] = certs.Actor{ID: fmt.Sprintf("U%02d", i), Name: fmt.Sprintf("Approver %02d", i), Frontend: certs.FrontendSlack, Role: certs.RoleAdmin, IdentityID: fmt.Sprintf("id-approver-%02d", i)}
				keys[i] = "slack:" + approvers[i].ID
			}
			r, err := f.svc.RequestApproval(ctx, bob, p.ID, p.Digest, keys, nil)
			require.NoError(t, err)

			var wg sync.WaitGroup
			errs := make([]error, len(approvers))
			for i, a := range approvers {
				wg.Go(func() { _, errs[i] = f.svc.Approve(ctx, a, r.ID) })
			}
			wg.Wait()

			var won int
			for _, err := range errs {
				if err == nil {
					won++
					continue
				}
				assert.Equal(t, certs.ECONFLICT, certs.ErrorCode(err), "%v", err)
				assert.Contains(t, certs.ErrorMessage(err), "was already approved by Approver")
			}
			assert.Equal(t, 1, won)
			assert.Equal(t, tt.calls, f.tenant.Calls(tt.method), "each call sent once")
			assert.Equal(t, tt.calls, f.reassignCalls())
			final := f.get(t, r.ID)
			assert.Equal(t, tt.state, final.State)
			assert.Len(t, final.Tasks, tt.calls)
			count := map[certs.Action]int{}
			for _, a := range f.actions(r.ID) {
				count[a]++
			}
			assert.Equal(t, 1, count[certs.ActionRequestApproved])
			assert.Equal(t, 1, count[certs.ActionSubmitting])
			assert.Equal(t, tt.calls, count[certs.ActionTaskSubmitted])
		})
	}
}

func TestExpiry(t *testing.T) {
	ctx := context.Background()
	t.Run("approving after the TTL expires the request", func(t *testing.T) {
		f := setup(t, approvalPolicy)
		r := f.pending(t)
		f.clock.Advance(certs.DefaultRequestTTL + time.Second)
		got, err := f.svc.Approve(ctx, alice, r.ID)
		requireCode(t, certs.ECONFLICT, err)
		assert.Contains(t, certs.ErrorMessage(err), "expired at 14:00 UTC without a decision")
		assert.Equal(t, certs.StateExpired, got.State)
		assert.Equal(t, certs.StateExpired, f.get(t, r.ID).State)
		assert.Equal(t, []certs.Action{certs.ActionRequestCreated, certs.ActionRequestExpired}, f.actions(r.ID))
		assert.Zero(t, f.reassignCalls())
	})
	t.Run("the worker expires requests past their TTL, once", func(t *testing.T) {
		f := setup(t, approvalPolicy, func(o *certs.Options) { o.Policy.RequestTTL = time.Hour })
		r := f.pending(t)
		require.NoError(t, f.svc.Tick(ctx))
		assert.Equal(t, certs.StatePending, f.get(t, r.ID).State, "not yet")
		f.clock.Advance(time.Hour + time.Second)
		require.NoError(t, f.svc.Tick(ctx))
		require.NoError(t, f.svc.Tick(ctx))
		assert.Equal(t, certs.StateExpired, f.get(t, r.ID).State)
		assert.Equal(t, []certs.Action{certs.ActionRequestCreated, certs.ActionRequestExpired}, f.actions(r.ID))
		evs := f.store.Events()
		assert.Equal(t, certs.SystemActor, evs[len(evs)-1].Actor)
	})
}

func TestDeny_recordsReason(t *testing.T) {
	f := setup(t, approvalPolicy)
	r := f.pending(t)
	got, err := f.svc.Deny(context.Background(), alice, r.ID, "  Carol is on leave too ")
	require.NoError(t, err)
	assert.Equal(t, certs.StateDenied, got.State)
	assert.Equal(t, "Carol is on leave too", got.DecisionReason)
	evs := f.store.Events()
	last := evs[len(evs)-1]
	assert.Equal(t, certs.ActionRequestDenied, last.Action)
	assert.Equal(t, "Carol is on leave too", last.Detail)
	assert.Equal(t, alice, last.Actor)

	_, err = f.svc.Deny(context.Background(), albert, r.ID, strings.Repeat("x", certs.MaxReasonLength+1))
	requireCode(t, certs.EINVALID, err)
}

func TestCancel(t *testing.T) {
	ctx := context.Background()
	f := setup(t, approvalPolicy)
	r := f.pending(t)
	_, err := f.svc.Cancel(ctx, eve, r.ID)
	requireCode(t, certs.EFORBIDDEN, err)
	_, err = f.svc.Cancel(ctx, albert, r.ID) // an approver, but not the requester
	requireCode(t, certs.EFORBIDDEN, err)
	assert.Contains(t, certs.ErrorMessage(err), "only the requester (Bob Smith) or an admin")
	got, err := f.svc.Cancel(ctx, bob, r.ID)
	require.NoError(t, err)
	assert.Equal(t, certs.StateCancelled, got.State)
	assert.Equal(t, certs.ActionRequestCancelled, f.actions(r.ID)[1])

	f2 := setup(t, approvalPolicy)
	r2 := f2.pending(t)
	got, err = f2.svc.Cancel(ctx, admin, r2.ID)
	require.NoError(t, err, "an admin may cancel")
	assert.Equal(t, certs.StateCancelled, got.State)
}

func TestGetRequest_visibility(t *testing.T) {
	f := setup(t, approvalPolicy)
	r := f.pending(t)
	carol := certs.Actor{ID: "U_CAROL", Frontend: certs.FrontendSlack, Role: certs.RoleReviewer, IdentityID: "id-carol"}
	for _, a := range []certs.Actor{bob, alice, albert, admin, carol} {
		_, err := f.svc.GetRequest(context.Background(), a, r.ID)
		assert.NoError(t, err, a.ID)
	}
	_, err := f.svc.GetRequest(context.Background(), eve, r.ID)
	requireCode(t, certs.EFORBIDDEN, err)
}

func TestSetFrontendRefs(t *testing.T) {
	f := setup(t, approvalPolicy)
	r := f.pending(t)
	got, err := f.svc.SetFrontendRefs(context.Background(), bob, r.ID, map[string]string{"slack.channel": "C9", "slack.ts": ""})
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"slack.channel": "C9"}, got.FrontendRefs)
	assert.Equal(t, certs.StatePending, got.State)
	_, err = f.svc.SetFrontendRefs(context.Background(), eve, r.ID, map[string]string{"x": "y"})
	requireCode(t, certs.EFORBIDDEN, err)
}

func TestTick_expires(t *testing.T) {
	f := setup(t, approvalPolicy)
	r := f.pending(t)
	f.clock.Advance(certs.DefaultRequestTTL + time.Second)
	require.NoError(t, f.svc.Tick(context.Background()))
	assert.Equal(t, certs.StateExpired, f.get(t, r.ID).State)
}

package certs_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/certs"
)

// approvedRequest plans n items of one identity (in calls of 500), files
// the plan and has Alice approve it; the tenant's hooks are set before the
// approval.
func (f *fixture) bigPlan(t *testing.T, n int, sync bool) *certs.Plan {
	t.Helper()
	addItems(f.tenant, certID, "id-many", "Many Items", n)
	p, err := f.svc.PlanReassignment(context.Background(), bob, certs.PlanInput{
		CertificationID: certID, IdentityIDs: []string{"id-many"}, Target: "id-carol", Reason: "leave",
	})
	require.NoError(t, err)
	return p
}

func (f *fixture) file(t *testing.T, p *certs.Plan) *certs.Request {
	t.Helper()
	r, err := f.svc.RequestApproval(context.Background(), bob, p.ID, p.Digest, nil, nil)
	require.NoError(t, err)
	return r
}

func upstreamErr(code string, status int, tracking string) error {
	return &certs.Error{Code: code, Message: "SailPoint said no", Upstream: &certs.Upstream{Operation: "submitReassignCertsAsync", Status: status, DetailCode: "400.1 Bad Request Content", TrackingID: tracking}}
}

func TestSubmission_recordsEachTaskBeforeTheNextCall(t *testing.T) {
	f := setup(t, approvalPolicy)
	p := f.bigPlan(t, 1200, false)
	r := f.file(t, p)
	f.tenant.BeforeReassign = func(n int, _ certs.Reassignment) error {
		cur := f.get(t, r.ID)
		if assert.Equal(t, certs.StateSubmitting, cur.State) {
			assert.Len(t, cur.Tasks, n, "call %d starts with the %d task(s) before it recorded", n+1, n)
		}
		return nil
	}
	got, err := f.svc.Approve(context.Background(), alice, r.ID)
	require.NoError(t, err)
	assert.Equal(t, certs.StateSubmitted, got.State)
	require.Len(t, got.Tasks, 3)
	for i, task := range got.Tasks {
		assert.Equal(t, i, task.Call)
		assert.Equal(t, certs.TaskQueued, task.Status)
		assert.NotEmpty(t, task.TaskID)
	}
	assert.Len(t, f.tenant.Reassignments(), 3)
	assert.Equal(t, []certs.Action{
		certs.ActionRequestCreated, certs.ActionRequestApproved, certs.ActionSubmitting,
		certs.ActionTaskSubmitted, certs.ActionTaskSubmitted, certs.ActionTaskSubmitted, certs.ActionSubmitted,
	}, f.actions(r.ID))
	for _, ev := range f.store.Events() {
		if ev.Action == certs.ActionTaskSubmitted {
			assert.Len(t, ev.TaskIDs, 1)
			assert.Equal(t, alice, ev.Actor)
		}
	}
}

func TestSubmission_callRejectedMidway(t *testing.T) {
	f := setup(t, approvalPolicy)
	r := f.file(t, f.bigPlan(t, 1200, false))
	f.tenant.BeforeReassign = func(n int, _ certs.Reassignment) error {
		if n == 1 {
			return upstreamErr(certs.EINVALID, 400, "trk-123")
		}
		return nil
	}
	got, err := f.svc.Approve(context.Background(), alice, r.ID)
	requireCode(t, certs.EINVALID, err)
	assert.Equal(t, "trk-123", certs.UpstreamOf(err).TrackingID)
	assert.Contains(t, certs.ErrorMessage(err), "SailPoint rejected call 2 of 3 (500 review items): SailPoint said no")
	assert.Contains(t, certs.ErrorMessage(err), "The 1 call before it were submitted (tasks task-1) and are not undone; 1 call after it were not made")
	require.NotNil(t, got)
	assert.Equal(t, certs.StateFailed, got.State)
	require.Len(t, got.Tasks, 2)
	assert.Equal(t, certs.RequestTask{Call: 1, Status: certs.TaskError, Errors: []string{"SailPoint said no (SailPoint 400.1 Bad Request Content, tracking id trk-123)"}, TrackingID: "trk-123"}, got.Tasks[1])
	assert.Equal(t, 2, f.tenant.Calls("ReassignAsync"), "call 1 applied, call 2 rejected, call 3 never made")
	assert.Len(t, f.tenant.Reassignments(), 1)
	evs := f.store.Events()
	last := evs[len(evs)-1]
	assert.Equal(t, certs.ActionFailed, last.Action)
	assert.Equal(t, []string{"trk-123"}, last.TrackingIDs)
	assert.Equal(t, []string{"task-1"}, last.TaskIDs)
}

func TestSubmission_unknownOutcomeIsReconciledNeverResubmitted(t *testing.T) {
	ctx := context.Background()
	lost := &certs.Error{Code: certs.EUNKNOWN, Message: "connection reset after the request was sent"}
	tests := []struct {
		name string
		// hooks
		before, after func(n int, _ certs.Reassignment) error
		// finish tasks before reconciling
		finishFirst bool
		state       certs.RequestState
		msg         string
	}{
		{
			name:  "call 2 lost but applied (task pending), call 3 never made",
			after: func(n int, _ certs.Reassignment) error { return errIf(n == 1, lost) },
			state: certs.StateFailed,
			msg:   `submission stopped at call 2, whose answer from ISC was lost: call 2 found as pending ISC task task-2; call 3 (200 review items) was never sent to ISC. Nothing was resubmitted — plan those review items again to finish (certification "Q3 Manager Review – Bob", cert-1)`,
		},
		{
			name:        "call 2 lost but applied and finished (items gone), call 3 never made",
			after:       func(n int, _ certs.Reassignment) error { return errIf(n == 1, lost) },
			finishFirst: true,
			state:       certs.StateFailed,
			msg:         `submission stopped at call 2, whose answer from ISC was lost: call 2 applied: its 500 review items are no longer in the certification; call 3 (200 review items) was never sent to ISC. Nothing was resubmitted — plan those review items again to finish (certification "Q3 Manager Review – Bob", cert-1)`,
		},
		{
			name:   "call 2 lost and not applied",
			before: func(n int, _ certs.Reassignment) error { return errIf(n == 1, lost) },
			state:  certs.StateFailed,
			msg:    `outcome unknown; nothing resubmitted — check certification "Q3 Manager Review – Bob" (cert-1): call 2 (500 of 500 items still in the certification) could not be confirmed; call 3 (200 review items) was never sent to ISC`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := setup(t, approvalPolicy)
			r := f.file(t, f.bigPlan(t, 1200, false))
			f.tenant.BeforeReassign, f.tenant.AfterReassign = tt.before, tt.after
			got, err := f.svc.Approve(ctx, alice, r.ID)
			requireCode(t, certs.EUNKNOWN, err)
			assert.Contains(t, certs.ErrorMessage(err), "call 2 of 3: outcome unknown")
			assert.Equal(t, certs.StateSubmitting, got.State)
			assert.Equal(t, certs.ActionOutcomeUnknown, f.actions(r.ID)[len(f.actions(r.ID))-1])
			applied := len(f.tenant.Reassignments())
			f.tenant.BeforeReassign, f.tenant.AfterReassign = nil, nil

			// The submitter's lease has not run out: the worker leaves it.
			require.NoError(t, f.svc.Tick(ctx))
			assert.Equal(t, certs.StateSubmitting, f.get(t, r.ID).State)

			if tt.finishFirst {
				for _, task := range f.tenant.Tasks() {
					f.tenant.SetTaskStatus(task.ID, certs.TaskSuccess)
				}
			}
			f.clock.Advance(5*time.Minute + time.Second)
			require.NoError(t, f.svc.Tick(ctx))
			cur := f.get(t, r.ID)
			assert.Equal(t, tt.state, cur.State, cur.Error)
			assert.Equal(t, tt.msg, cur.Error)
			assert.Len(t, f.tenant.Reassignments(), applied, "nothing resubmitted")
			assert.Contains(t, f.actions(r.ID), certs.ActionReconciled)
		})
	}
}

func errIf(cond bool, err error) error {
	if cond {
		return err
	}
	return nil
}

func TestSubmission_lostCallWithNoLaterCallsReachesCompleted(t *testing.T) {
	ctx := context.Background()
	f := setup(t, approvalPolicy)
	r := f.file(t, f.bigPlan(t, 600, false)) // 2 calls
	// Applied, but the answer was lost: the Tenant says EUNKNOWN (an
	// EUNAVAILABLE would claim it was not sent).
	f.tenant.AfterReassign = func(n int, _ certs.Reassignment) error {
		return errIf(n == 1, &certs.Error{Code: certs.EUNKNOWN, Message: "timeout after sending"})
	}
	_, err := f.svc.Approve(ctx, alice, r.ID)
	requireCode(t, certs.EUNKNOWN, err)
	f.clock.Advance(6 * time.Minute)
	require.NoError(t, f.svc.Tick(ctx))
	cur := f.get(t, r.ID)
	require.Equal(t, certs.StateSubmitted, cur.State)
	require.Len(t, cur.Tasks, 2)
	assert.Equal(t, "task-2", cur.Tasks[1].TaskID, "the pending task was found")

	for _, task := range f.tenant.Tasks() {
		f.tenant.SetTaskStatus(task.ID, certs.TaskSuccess)
	}
	f.clock.Advance(time.Second) // past the poll backoff
	require.NoError(t, f.svc.Tick(ctx))
	assert.Equal(t, certs.StateCompleted, f.get(t, r.ID).State)
	assert.Len(t, f.tenant.Reassignments(), 2)
}

// The Tenant answers EUNAVAILABLE for a reassignment only when it did not
// send it (certs.Tenant), so such a call is retried within its time budget,
// and when it still cannot be sent the request says exactly what was and
// was not sent: never "outcome unknown", and the worker leaves it be.
func TestSubmission_callNotSent(t *testing.T) {
	ctx := context.Background()
	unreachable := &certs.Error{Code: certs.EUNAVAILABLE, Message: "could not reach SailPoint's token endpoint"}
	tests := []struct {
		name    string
		items   int
		sync    bool
		before  func(n int, _ certs.Reassignment) error
		code    string // of Approve's error, "" for none
		state   certs.RequestState
		msg     string
		applied int
	}{
		{
			name:    "call 1 not sent once, then sent on the retry",
			items:   1200,
			before:  func(n int, _ certs.Reassignment) error { return errIf(n == 0, unreachable) },
			state:   certs.StateSubmitted,
			applied: 3,
		},
		{
			name:   "call 1 never sent: nothing was submitted",
			items:  1200,
			before: func(int, certs.Reassignment) error { return unreachable },
			code:   certs.EUNAVAILABLE,
			state:  certs.StateFailed,
			msg:    "SailPoint could not be reached; nothing was submitted — none of the 1200 review items (3 calls) was sent to ISC. Plan the reassignment again to retry (could not reach SailPoint's token endpoint)",
		},
		{
			name:   "sync call never sent",
			items:  10,
			sync:   true,
			before: func(int, certs.Reassignment) error { return unreachable },
			code:   certs.EUNAVAILABLE,
			state:  certs.StateFailed,
			msg:    "SailPoint could not be reached; nothing was submitted — none of the 10 review items (1 call) was sent to ISC. Plan the reassignment again to retry (could not reach SailPoint's token endpoint)",
		},
		{
			name:    "call 2 never sent after call 1 was",
			items:   1200,
			before:  func(n int, _ certs.Reassignment) error { return errIf(n >= 1, unreachable) },
			code:    certs.EUNAVAILABLE,
			state:   certs.StateFailed,
			msg:     "SailPoint could not be reached for call 2 of 3; call 1 was submitted as ISC task task-1 and not undone; calls 2–3 (700 review items) were not sent to ISC. Plan those review items again to finish (could not reach SailPoint's token endpoint)",
			applied: 1,
		},
		{
			name:    "call 3 never sent after calls 1 and 2 were",
			items:   1200,
			before:  func(n int, _ certs.Reassignment) error { return errIf(n >= 2, unreachable) },
			code:    certs.EUNAVAILABLE,
			state:   certs.StateFailed,
			msg:     "SailPoint could not be reached for call 3 of 3; calls 1–2 were submitted as ISC tasks task-1, task-2 and not undone; call 3 (200 review items) was not sent to ISC. Plan those review items again to finish (could not reach SailPoint's token endpoint)",
			applied: 2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Each call may take SubmitLease/2: 20ms of retries here.
			f := setup(t, approvalPolicy, func(o *certs.Options) { o.SubmitLease = 40 * time.Millisecond })
			r := f.file(t, f.bigPlan(t, tt.items, tt.sync))
			f.tenant.BeforeReassign = tt.before
			got, err := f.svc.Approve(ctx, alice, r.ID)
			if tt.code == "" {
				require.NoError(t, err)
			} else {
				requireCode(t, tt.code, err)
				assert.Equal(t, fmt.Sprintf("request %s failed: %s", r.ID, tt.msg), certs.ErrorMessage(err))
			}
			require.NotNil(t, got)
			assert.Equal(t, tt.state, got.State)
			assert.Equal(t, tt.msg, got.Error)
			assert.Len(t, f.tenant.Reassignments(), tt.applied)
			assert.Greater(t, f.tenant.Calls("Reassign")+f.tenant.Calls("ReassignAsync"), tt.applied, "the unsent call was tried again")
			assert.NotContains(t, f.actions(r.ID), certs.ActionOutcomeUnknown)
			if tt.state == certs.StateFailed {
				last := f.store.Events()[len(f.store.Events())-1]
				assert.Equal(t, certs.ActionFailed, last.Action)
				assert.Equal(t, tt.msg, last.Detail)
				for _, task := range got.Tasks[tt.applied:] {
					assert.Equal(t, certs.RequestTask{Call: task.Call, Status: certs.TaskError, Errors: []string{"not sent: SailPoint could not be reached"}}, task)
				}
				assert.Equal(t, len(got.Plan.Calls)-tt.applied, got.Progress().Failed, "the unsent calls count as failed, not queued")
			}

			// SailPoint is back; the worker, past every lease, changes
			// nothing and sends nothing more.
			f.tenant.BeforeReassign = nil
			f.clock.Advance(6 * time.Minute)
			require.NoError(t, f.svc.Tick(ctx))
			cur := f.get(t, r.ID)
			assert.NotContains(t, cur.Error, "outcome unknown")
			assert.Len(t, f.tenant.Reassignments(), tt.applied, "nothing resubmitted")
			if tt.state == certs.StateFailed {
				assert.Equal(t, certs.StateFailed, cur.State)
				assert.Equal(t, tt.msg, cur.Error)
				return
			}
			for _, task := range f.tenant.Tasks() {
				f.tenant.SetTaskStatus(task.ID, certs.TaskSuccess)
			}
			f.clock.Advance(time.Second) // past the poll backoff
			require.NoError(t, f.svc.Tick(ctx))
			assert.Equal(t, certs.StateCompleted, f.get(t, r.ID).State)
		})
	}
}

// The worker submitting a stale approved request meets the same rule, and
// a request it failed that way is not an error of its pass.
func TestSubmission_workerSubmissionNotSent(t *testing.T) {
	ctx := context.Background()
	f := setup(t, certs.Policy{}, func(o *certs.Options) { o.SubmitLease = 40 * time.Millisecond })
	p := f.plan(t, admin)
	f.store.FailUpdate = func(r *certs.Request) error {
		return errIf(r.State == certs.StateSubmitting, errors.New("killed"))
	}
	_, err := f.svc.SubmitPlan(ctx, admin, p.ID, p.Digest)
	require.Error(t, err)
	f.store.FailUpdate = nil
	f.tenant.BeforeReassign = func(int, certs.Reassignment) error {
		return &certs.Error{Code: certs.EUNAVAILABLE, Message: "could not reach SailPoint"}
	}
	f.clock.Advance(time.Minute)
	require.NoError(t, f.svc.Tick(ctx))
	cur := f.get(t, p.ID)
	assert.Equal(t, certs.StateFailed, cur.State)
	assert.Contains(t, cur.Error, "SailPoint could not be reached; nothing was submitted")
	assert.Empty(t, f.tenant.Reassignments())
}

// When even the failure of an unsent call cannot be recorded, the request
// stays in submitting; the worker then cannot tell a refused call from a
// lost one, so it judges call 1 by the certification and names the calls
// after it as never sent. It sends nothing.
func TestSubmission_unsentCallNotRecordedIsReconciled(t *testing.T) {
	ctx := context.Background()
	f := setup(t, approvalPolicy, func(o *certs.Options) { o.SubmitLease = 40 * time.Millisecond })
	r := f.file(t, f.bigPlan(t, 1200, false))
	f.tenant.BeforeReassign = func(int, certs.Reassignment) error {
		return &certs.Error{Code: certs.EUNAVAILABLE, Message: "could not reach SailPoint"}
	}
	f.store.FailUpdate = func(r *certs.Request) error {
		return errIf(r.State == certs.StateFailed, errors.New("database went away"))
	}
	got, err := f.svc.Approve(ctx, alice, r.ID)
	requireCode(t, certs.EUNAVAILABLE, err)
	assert.Contains(t, certs.ErrorMessage(err), "nothing was submitted")
	assert.Contains(t, certs.ErrorMessage(err), "this could not be recorded, the worker will reconcile it")
	assert.Equal(t, certs.StateSubmitting, got.State)
	f.tenant.BeforeReassign, f.store.FailUpdate = nil, nil

	f.clock.Advance(time.Minute)
	require.NoError(t, f.svc.Tick(ctx))
	cur := f.get(t, r.ID)
	assert.Equal(t, certs.StateFailed, cur.State)
	assert.Equal(t, `outcome unknown; nothing resubmitted — check certification "Q3 Manager Review – Bob" (cert-1): call 1 (500 of 500 items still in the certification) could not be confirmed; calls 2–3 (700 review items) were never sent to ISC`, cur.Error)
	assert.Empty(t, f.tenant.Reassignments())
}

func TestSubmission_crashBeforeSubmittedIsReconciled(t *testing.T) {
	ctx := context.Background()
	f := setup(t, approvalPolicy)
	r := f.file(t, f.bigPlan(t, 600, false))
	f.store.FailUpdate = func(r *certs.Request) error {
		if r.State == certs.StateSubmitted {
			return errors.New("database went away")
		}
		return nil
	}
	got, err := f.svc.Approve(ctx, alice, r.ID)
	requireCode(t, certs.EUNKNOWN, err)
	assert.Contains(t, certs.ErrorMessage(err), "every call was submitted (tasks task-1, task-2) but the request could not be marked submitted")
	assert.Equal(t, certs.StateSubmitting, got.State)
	f.store.FailUpdate = nil

	f.clock.Advance(6 * time.Minute)
	require.NoError(t, f.svc.Tick(ctx))
	assert.Equal(t, certs.StateSubmitted, f.get(t, r.ID).State)
	assert.Len(t, f.tenant.Reassignments(), 2)
}

func TestSubmission_staleApprovedRequestIsSubmittedByTheWorker(t *testing.T) {
	ctx := context.Background()
	f := setup(t, certs.Policy{})
	p := f.plan(t, admin)
	// A process that created the approved request and died before
	// claiming it for submission.
	f.store.FailUpdate = func(r *certs.Request) error {
		return errIf(r.State == certs.StateSubmitting, errors.New("killed"))
	}
	_, err := f.svc.SubmitPlan(ctx, admin, p.ID, p.Digest)
	require.Error(t, err)
	f.store.FailUpdate = nil
	assert.Equal(t, certs.StateApproved, f.get(t, p.ID).State)

	require.NoError(t, f.svc.Tick(ctx))
	assert.Equal(t, certs.StateApproved, f.get(t, p.ID).State, "within the lease")
	f.clock.Advance(6 * time.Minute)
	require.NoError(t, f.svc.Tick(ctx))
	assert.Equal(t, certs.StateSubmitted, f.get(t, p.ID).State)
	assert.Equal(t, 1, f.tenant.Calls("ReassignAsync"))
}

func TestSubmission_sync(t *testing.T) {
	ctx := context.Background()
	t.Run("completes at once", func(t *testing.T) {
		f := setup(t, approvalPolicy)
		r := f.file(t, f.bigPlan(t, 50, true))
		got, err := f.svc.Approve(ctx, alice, r.ID)
		require.NoError(t, err)
		assert.Equal(t, certs.StateCompleted, got.State)
		assert.Equal(t, []certs.RequestTask{{Call: 0, Status: certs.TaskSuccess}}, got.Tasks)
		assert.Equal(t, 1, f.tenant.Calls("Reassign"))
		assert.Zero(t, f.tenant.Calls("ReassignAsync"))
		assert.Equal(t, 1, got.Progress().Done)
		assert.Equal(t, 50, got.Progress().ItemsMoved)
		assert.Equal(t, []certs.Action{certs.ActionRequestCreated, certs.ActionRequestApproved, certs.ActionSubmitting, certs.ActionCompleted}, f.actions(r.ID))
	})
	t.Run("rejected", func(t *testing.T) {
		f := setup(t, approvalPolicy)
		r := f.file(t, f.bigPlan(t, 10, true))
		f.tenant.BeforeReassign = func(int, certs.Reassignment) error { return upstreamErr(certs.EFORBIDDEN, 403, "trk-403") }
		got, err := f.svc.Approve(ctx, alice, r.ID)
		requireCode(t, certs.EFORBIDDEN, err)
		assert.Equal(t, certs.StateFailed, got.State)
		assert.Equal(t, "trk-403", got.Tasks[0].TrackingID)
	})
	t.Run("rate limited until retries run out", func(t *testing.T) {
		f := setup(t, approvalPolicy, func(o *certs.Options) { o.TaskPoll = time.Millisecond })
		r := f.file(t, f.bigPlan(t, 10, true))
		f.tenant.BeforeReassign = func(n int, _ certs.Reassignment) error {
			return errIf(n < 1, &certs.Error{Code: certs.ERATELIMITED, Message: "Rate Limit Exceeded"})
		}
		got, err := f.svc.Approve(ctx, alice, r.ID)
		require.NoError(t, err, "a 429 is retried: ISC did nothing")
		assert.Equal(t, certs.StateCompleted, got.State)
		assert.Equal(t, 2, f.tenant.Calls("Reassign"))
	})
}

func TestFollow_toCompletedOrFailed(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name   string
		finish func(f *fixture)
		state  certs.RequestState
		errMsg string
	}{
		{"all tasks succeed", func(f *fixture) {
			for _, task := range f.tenant.Tasks() {
				f.tenant.SetTaskStatus(task.ID, certs.TaskSuccess)
			}
		}, certs.StateCompleted, ""},
		{"one task fails", func(f *fixture) {
			f.tenant.SetTaskStatus("task-1", certs.TaskSuccess)
			f.tenant.SetTaskStatus("task-2", certs.TaskError, "reviewer is not allowed")
		}, certs.StateFailed, "ISC reported errors for 1 of 2 calls: call 2 (task task-2): reviewer is not allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name+" (worker)", func(t *testing.T) {
			f := setup(t, approvalPolicy)
			r := f.file(t, f.bigPlan(t, 600, false))
			_, err := f.svc.Approve(ctx, alice, r.ID)
			require.NoError(t, err)
			require.NoError(t, f.svc.Tick(ctx))
			assert.Equal(t, certs.StateSubmitted, f.get(t, r.ID).State, "tasks still queued: no change, no event")
			assert.NotContains(t, f.actions(r.ID), certs.ActionTaskProgress)

			f.tenant.SetTaskStatus("task-1", certs.TaskInProgress)
			f.clock.Advance(time.Second)
			require.NoError(t, f.svc.Tick(ctx))
			assert.Equal(t, certs.TaskInProgress, f.get(t, r.ID).Tasks[0].Status)

			tt.finish(f)
			f.clock.Advance(time.Second)
			require.NoError(t, f.svc.Tick(ctx))
			cur := f.get(t, r.ID)
			assert.Equal(t, tt.state, cur.State)
			assert.Equal(t, tt.errMsg, cur.Error)
			acts := f.actions(r.ID)
			assert.Equal(t, certs.ActionTaskProgress, acts[len(acts)-2])
			assert.Equal(t, map[certs.RequestState]certs.Action{certs.StateCompleted: certs.ActionCompleted, certs.StateFailed: certs.ActionFailed}[tt.state], acts[len(acts)-1])
		})
		t.Run(tt.name+" (FollowRequest)", func(t *testing.T) {
			f := setup(t, approvalPolicy)
			r := f.file(t, f.bigPlan(t, 600, false))
			_, err := f.svc.Approve(ctx, alice, r.ID)
			require.NoError(t, err)
			done := make(chan *certs.Request)
			go func() {
				got, err := f.svc.FollowRequest(ctx, bob, r.ID)
				assert.NoError(t, err)
				done <- got
			}()
			time.Sleep(5 * time.Millisecond) // let it poll a few times (not a timing assertion)
			tt.finish(f)
			got := <-done
			assert.Equal(t, tt.state, got.State)
		})
	}
}

func TestFollowRequest_endsWithTheContext(t *testing.T) {
	f := setup(t, approvalPolicy)
	r := f.pending(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	got, err := f.svc.FollowRequest(ctx, bob, r.ID)
	requireCode(t, certs.EUNAVAILABLE, err)
	assert.Contains(t, certs.ErrorMessage(err), "is still pending")
	assert.Equal(t, certs.StatePending, got.State)
	_, err = f.svc.FollowRequest(context.Background(), eve, r.ID)
	requireCode(t, certs.EFORBIDDEN, err)
}

func TestAudit_fullTrailOfOneReassignment(t *testing.T) {
	ctx := context.Background()
	f := setup(t, approvalPolicy)
	r := f.pending(t)
	_, err := f.svc.Approve(ctx, alice, r.ID)
	require.NoError(t, err)
	f.tenant.SetTaskStatus("task-1", certs.TaskSuccess)
	require.NoError(t, f.svc.Tick(ctx))

	evs, err := f.svc.ListAudit(ctx, admin, certs.EventFilter{CertificationID: certID})
	require.NoError(t, err)
	var got []string
	for _, ev := range evs {
		got = append(got, fmt.Sprintf("%s by %s/%s count=%d tasks=%v", ev.Action, ev.Actor.Frontend, ev.Actor.ID, ev.Count, ev.TaskIDs))
		assert.Equal(t, certID, ev.CertificationID)
		assert.False(t, ev.Time.IsZero())
	}
	assert.Equal(t, []string{
		"plan.created by slack/U_BOB count=3 tasks=[]",
		"request.created by slack/U_BOB count=3 tasks=[]",
		"request.approved by slack/U_ALICE count=3 tasks=[]",
		"request.submitting by slack/U_ALICE count=3 tasks=[]",
		"task.submitted by slack/U_ALICE count=3 tasks=[task-1]",
		"request.submitted by slack/U_ALICE count=3 tasks=[task-1]",
		"task.progress by system/certops count=3 tasks=[task-1]",
		"request.completed by system/certops count=3 tasks=[task-1]",
	}, got)

	t.Run("reviewers read only what concerns them", func(t *testing.T) {
		mine, err := f.svc.ListAudit(ctx, bob, certs.EventFilter{})
		require.NoError(t, err)
		require.Len(t, mine, 2)
		for _, ev := range mine {
			assert.Equal(t, "U_BOB", ev.Actor.ID)
		}
		_, err = f.svc.ListAudit(ctx, bob, certs.EventFilter{RequestID: r.ID})
		require.NoError(t, err)
		_, err = f.svc.ListAudit(ctx, eve, certs.EventFilter{RequestID: r.ID})
		requireCode(t, certs.EFORBIDDEN, err)
		_, err = f.svc.ListAudit(ctx, eve, certs.EventFilter{CertificationID: certID})
		requireCode(t, certs.EFORBIDDEN, err)
		_, err = f.svc.ListAudit(ctx, eve, certs.EventFilter{ActorKey: "slack:U_BOB"})
		requireCode(t, certs.EFORBIDDEN, err)
		_, err = f.svc.ListAudit(ctx, admin, certs.EventFilter{Limit: 5000})
		requireCode(t, certs.EINVALID, err)
	})
}

func TestFollow_taskUnknownToISCIsJudgedByItsItems(t *testing.T) {
	ctx := context.Background()
	f := setup(t, approvalPolicy)
	r := f.pending(t)
	_, err := f.svc.Approve(ctx, alice, r.ID)
	require.NoError(t, err)
	f.tenant.Fail["GetTask"] = &certs.Error{Code: certs.ENOTFOUND, Message: "task not found"}
	require.NoError(t, f.svc.Tick(ctx))
	cur := f.get(t, r.ID)
	assert.Equal(t, certs.StateCompleted, cur.State, "the fake tenant moved the items: the task did its work")
}

func TestFollow_concurrentFollowersRecordEachChangeOnce(t *testing.T) {
	ctx := context.Background()
	f := setup(t, approvalPolicy)
	r := f.file(t, f.bigPlan(t, 1200, false))
	_, err := f.svc.Approve(ctx, alice, r.ID)
	require.NoError(t, err)
	other := certs.NewService(f.opts) // a second replica on the same store and tenant

	for _, task := range f.tenant.Tasks() {
		f.tenant.SetTaskStatus(task.ID, certs.TaskSuccess)
	}
	var wg sync.WaitGroup
	for i := range 6 {
		svc := []*certs.Service{f.svc, other}[i%2]
		wg.Go(func() {
			got, err := svc.FollowRequest(ctx, admin, r.ID)
			assert.NoError(t, err)
			assert.Equal(t, certs.StateCompleted, got.State)
		})
	}
	wg.Go(func() { assert.NoError(t, other.Tick(ctx)) })
	wg.Wait()

	count := map[certs.Action]int{}
	for _, a := range f.actions(r.ID) {
		count[a]++
	}
	assert.Equal(t, 3, count[certs.ActionTaskProgress], "one progress event per task change")
	assert.Equal(t, 1, count[certs.ActionCompleted])
}

func TestReconcile_certificationGoneFailsTheRequest(t *testing.T) {
	ctx := context.Background()
	f := setup(t, approvalPolicy)
	r := f.pending(t)
	f.tenant.AfterReassign = func(int, certs.Reassignment) error { return &certs.Error{Code: certs.EUNKNOWN, Message: "lost"} }
	_, err := f.svc.Approve(ctx, alice, r.ID)
	requireCode(t, certs.EUNKNOWN, err)
	f.tenant.Fail["ListPendingTasks"] = &certs.Error{Code: certs.ENOTFOUND, Message: "certification not found"}
	f.clock.Advance(6 * time.Minute)
	require.NoError(t, f.svc.Tick(ctx))
	cur := f.get(t, r.ID)
	assert.Equal(t, certs.StateFailed, cur.State)
	assert.Contains(t, cur.Error, "no longer exists in ISC")
	assert.Equal(t, 1, f.tenant.Calls("ReassignAsync"))
}

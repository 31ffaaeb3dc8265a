package certs_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/certs"
)

// The life of a request between Approve and ISC (lifecycle.go): a plan of at
// most 50 items is one synchronous call, a larger one asynchronous calls of
// 500 whose tasks are followed; every call is recorded before it is sent,
// and a lost answer is settled by reading the tenant, never by sending
// again.

// bigPlan adds n open items of one identity ("Many Items") to cert-1 and has
// Bob plan moving them all to Carol: one synchronous call for n ≤ 50, else
// asynchronous calls of at most 500.
func (f *fixture) bigPlan(t *testing.T, n int) *certs.Plan {
	t.Helper()
	return f.planOf(t, "id-many", "Many Items", n, "id-carol")
}

// planOf adds n open items of identity id to cert-1 and has Bob plan moving
// them all to target.
func (f *fixture) planOf(t *testing.T, id, name string, n int, target string) *certs.Plan {
	t.Helper()
	addItems(f.tenant, certID, id, name, n)
	p, err := f.svc.PlanReassignment(context.Background(), bob, certs.PlanInput{
		CertificationID: certID, IdentityIDs: []string{id}, Target: target, Reason: "leave",
	})
	require.NoError(t, err)
	require.Equal(t, n <= certs.MaxSyncReassign, p.Sync)
	return p
}

// file has Bob file p for approval by Alice or Albert.
func (f *fixture) file(t *testing.T, p *certs.Plan) *certs.Request {
	t.Helper()
	r, err := f.svc.RequestApproval(context.Background(), bob, p.ID, p.Digest, nil, nil)
	require.NoError(t, err)
	return r
}

// legacyApproved files p and leaves it approved, as versions before the call
// log did when their submitter stopped before claiming it: no call log, no
// call records.
func (f *fixture) legacyApproved(t *testing.T, p *certs.Plan) *certs.Request {
	t.Helper()
	r := f.file(t, p)
	r, err := f.store.UpdateRequest(context.Background(), r.ID, []certs.RequestState{certs.StatePending}, func(cur *certs.Request) error {
		a := alice
		cur.State, cur.DecidedBy, cur.CallLog, cur.Updated = certs.StateApproved, &a, false, f.clock.Now()
		return nil
	}, certs.Event{Time: f.clock.Now(), Actor: alice, Action: certs.ActionRequestApproved, CertificationID: certID})
	require.NoError(t, err)
	return r
}

// finishTasks ends every pending ISC task in SUCCESS.
func (f *fixture) finishTasks() {
	for _, task := range f.tenant.Tasks() {
		if !task.Status.Done() {
			f.tenant.SetTaskStatus(task.ID, certs.TaskSuccess)
		}
	}
}

// reassignCalls is how many reassignment calls reached the tenant.
func (f *fixture) reassignCalls() int {
	return f.tenant.Calls("Reassign") + f.tenant.Calls("ReassignAsync")
}

// eventsOf returns the request's events with the given action.
func (f *fixture) eventsOf(requestID string, action certs.Action) []certs.Event {
	var out []certs.Event
	for _, ev := range f.store.Events() {
		if ev.RequestID == requestID && ev.Action == action {
			out = append(out, ev)
		}
	}
	return out
}

func upstreamErr(code string, status int, tracking string) error {
	return &certs.Error{Code: code, Message: "SailPoint said no", Upstream: &certs.Upstream{Operation: "submitReassignCertsAsync", Status: status, DetailCode: "400.1 Bad Request Content", TrackingID: tracking}}
}

func errIf(cond bool, err error) error {
	if cond {
		return err
	}
	return nil
}

// assertCall checks one call record.
func assertCall(t *testing.T, want certs.RequestTask, got certs.RequestTask, sentAt *time.Time) {
	t.Helper()
	if sentAt == nil {
		assert.Nil(t, got.SentAt, "call %d was never sent", want.Call+1)
	} else if assert.NotNil(t, got.SentAt, "call %d was recorded before it was sent", want.Call+1) {
		assert.True(t, sentAt.Equal(*got.SentAt), "call %d sent at %s, want %s", want.Call+1, got.SentAt, sentAt)
	}
	got.SentAt = nil
	assert.Equal(t, want, got)
}

func TestSubmission_recordsEachCallBeforeSendingIt(t *testing.T) {
	f := setup(t, approvalPolicy)
	r := f.file(t, f.bigPlan(t, 1200))
	f.tenant.BeforeReassign = func(n int, _ certs.Reassignment) error {
		cur := f.get(t, r.ID)
		if assert.Equal(t, certs.StateSubmitting, cur.State) && assert.Len(t, cur.Tasks, n+1, "call %d is recorded before it is sent, after the answers of the %d before it", n+1, n) {
			for _, task := range cur.Tasks[:n] {
				assert.Equal(t, certs.CallAccepted, task.State)
				assert.NotEmpty(t, task.TaskID)
			}
			assert.Equal(t, n, cur.Tasks[n].Call)
			assert.Equal(t, certs.CallSending, cur.Tasks[n].State)
			assert.NotNil(t, cur.Tasks[n].SentAt)
		}
		return nil
	}
	got, err := f.svc.Approve(context.Background(), alice, r.ID)
	require.NoError(t, err)
	assert.Equal(t, certs.StateSubmitted, got.State)
	require.Len(t, got.Tasks, 3)
	for i, task := range got.Tasks {
		assertCall(t, certs.RequestTask{Call: i, State: certs.CallAccepted, TaskID: fmt.Sprintf("task-%d", i+1), Status: certs.TaskQueued}, task, &t0)
	}
	assert.Equal(t, certs.Progress{Calls: 3, Queued: 3}, got.Progress())
	assert.Equal(t, 3, f.tenant.Calls("ReassignAsync"))
	assert.Zero(t, f.tenant.Calls("Reassign"))
	assert.Equal(t, []certs.Action{
		certs.ActionRequestCreated, certs.ActionRequestApproved, certs.ActionSubmitting,
		certs.ActionTaskSubmitted, certs.ActionTaskSubmitted, certs.ActionTaskSubmitted, certs.ActionSubmitted,
	}, f.actions(r.ID))
	for _, ev := range f.eventsOf(r.ID, certs.ActionTaskSubmitted) {
		assert.Len(t, ev.TaskIDs, 1)
		assert.Equal(t, alice, ev.Actor)
	}
	submitted := f.eventsOf(r.ID, certs.ActionSubmitted)
	require.Len(t, submitted, 1)
	assert.Equal(t, "1200 review items submitted to ISC in 3 calls", submitted[0].Detail)
}

// A call SailPoint refuses midway: the calls before it were applied and are
// followed to the end, the calls after it are never sent, and the request
// then fails saying exactly what became of each call.
func TestSubmission_callRefusedMidway(t *testing.T) {
	ctx := context.Background()
	f := setup(t, approvalPolicy)
	r := f.file(t, f.bigPlan(t, 1200))
	f.tenant.BeforeReassign = func(n int, _ certs.Reassignment) error {
		return errIf(n == 1, upstreamErr(certs.EINVALID, 400, "trk-123"))
	}
	got, err := f.svc.Approve(ctx, alice, r.ID)
	requireCode(t, certs.EINVALID, err)
	assert.Equal(t, "trk-123", certs.UpstreamOf(err).TrackingID)
	msg := certs.ErrorMessage(err)
	assert.Equal(t, "request "+r.ID+": SailPoint refused call 2 of 3: "+
		"call 1 of 3 (500 review items): QUEUED (ISC task task-1); "+
		"call 2 of 3 (500 review items): refused by SailPoint, nothing applied: SailPoint said no; "+
		"call 3 of 3 (200 review items): not sent to ISC (SailPoint 400.1 Bad Request Content, tracking id trk-123)", msg)
	assert.Equal(t, 1, strings.Count(msg, "trk-123"), "the tracking id once")
	require.NotNil(t, got)
	assert.Equal(t, certs.StateSubmitted, got.State, "call 1 was applied: it is followed to the end")
	require.Len(t, got.Tasks, 3)
	assertCall(t, certs.RequestTask{Call: 1, State: certs.CallRejected, Status: certs.TaskError, Errors: []string{"SailPoint said no"}, TrackingID: "trk-123"}, got.Tasks[1], &t0)
	assertCall(t, certs.RequestTask{Call: 2, State: certs.CallNotSent, Errors: []string{"not sent: call 2 did not go through"}}, got.Tasks[2], nil)
	assert.Equal(t, certs.Progress{Calls: 3, Queued: 1, Failed: 1, NotSent: 1}, got.Progress())
	assert.Equal(t, 2, f.tenant.Calls("ReassignAsync"), "call 1 applied, call 2 refused, call 3 never sent")
	assert.Len(t, f.tenant.Reassignments(), 1)
	submitted := f.eventsOf(r.ID, certs.ActionSubmitted)
	require.Len(t, submitted, 1)
	assert.True(t, strings.HasPrefix(submitted[0].Detail, "500 of 1200 review items submitted to ISC: "), "the audit trail does not claim more was submitted than was: %q", submitted[0].Detail)

	f.tenant.SetTaskStatus("task-1", certs.TaskSuccess)
	require.NoError(t, f.svc.Tick(ctx))
	cur := f.get(t, r.ID)
	assert.Equal(t, certs.StateFailed, cur.State)
	assert.Equal(t, "500 of 1200 review items moved to Carol Diaz. "+
		"call 1 of 3 (500 review items): applied (ISC task task-1); "+
		"call 2 of 3 (500 review items): refused by SailPoint, nothing applied: SailPoint said no (tracking id trk-123); "+
		"call 3 of 3 (200 review items): not sent to ISC", cur.Error)
	assert.Equal(t, 500, cur.Progress().ItemsMoved)
	assert.Equal(t, 2, f.tenant.Calls("ReassignAsync"), "nothing sent after the refusal")
	evs := f.store.Events()
	last := evs[len(evs)-1]
	assert.Equal(t, certs.ActionFailed, last.Action)
	assert.Equal(t, cur.Error, last.Detail)
	assert.Equal(t, []string{"task-1"}, last.TaskIDs)
	assert.Equal(t, []string{"trk-123"}, last.TrackingIDs)
}

// A lost answer (EUNKNOWN) is never sent again: the worker settles the call
// by reading the tenant as soon as its poll is due, and sends the calls
// after it only once it is settled.
func TestSubmission_unknownOutcomeIsSettledNeverResubmitted(t *testing.T) {
	ctx := context.Background()
	lost := &certs.Error{Code: certs.EUNKNOWN, Message: "connection reset after the request was sent"}
	// start approves a 3-call plan whose call 2's answer is lost (after
	// ISC accepted it, or before).
	start := func(t *testing.T, accepted bool) (*fixture, *certs.Request) {
		f := setup(t, approvalPolicy)
		r := f.file(t, f.bigPlan(t, 1200))
		hook := func(n int, _ certs.Reassignment) error { return errIf(n == 1, lost) }
		if accepted {
			f.tenant.AfterReassign = hook
		} else {
			f.tenant.BeforeReassign = func(n int, r certs.Reassignment) error {
				if n == 1 {
					f.tenant.SetTaskStatus("task-1", certs.TaskSuccess) // call 1 applied meanwhile
				}
				return hook(n, r)
			}
		}
		got, err := f.svc.Approve(ctx, alice, r.ID)
		requireCode(t, certs.EUNKNOWN, err)
		assert.Equal(t, "request "+r.ID+`: call 2 of 3 (500 review items): outcome unknown (connection reset after the request was sent); nothing will be resubmitted, certops is reading certification "Q3 Manager Review – Bob" to find out`, certs.ErrorMessage(err))
		require.NotNil(t, got)
		assert.Equal(t, certs.StateSubmitting, got.State)
		require.Len(t, got.Tasks, 2, "call 3 has no record: it was not sent")
		assertCall(t, certs.RequestTask{Call: 1, State: certs.CallUnknown, Errors: []string{"connection reset after the request was sent"}}, got.Tasks[1], &t0)
		assert.Equal(t, 1, got.Progress().Unknown)
		assert.Equal(t, 1, got.Progress().ToSend)
		assert.Equal(t, certs.ActionOutcomeUnknown, f.actions(r.ID)[len(f.actions(r.ID))-1])
		assert.Equal(t, 2, f.tenant.Calls("ReassignAsync"))
		f.tenant.BeforeReassign, f.tenant.AfterReassign = nil, nil
		return f, r
	}

	t.Run("accepted, its task pending: the task is found, call 3 is sent by the worker", func(t *testing.T) {
		f, r := start(t, true)
		require.NoError(t, f.svc.Tick(ctx)) // no SubmitLease to wait for
		cur := f.get(t, r.ID)
		assert.Equal(t, certs.StateSubmitted, cur.State)
		require.Len(t, cur.Tasks, 3)
		assertCall(t, certs.RequestTask{Call: 1, State: certs.CallAccepted, TaskID: "task-2", Status: certs.TaskQueued, Errors: nil, Found: true}, withoutErrors(cur.Tasks[1]), &t0)
		assertCall(t, certs.RequestTask{Call: 2, State: certs.CallAccepted, TaskID: "task-3", Status: certs.TaskQueued}, cur.Tasks[2], &t0)
		assert.Equal(t, 3, f.tenant.Calls("ReassignAsync"), "call 2 not sent again; call 3 sent once")
		rec := f.eventsOf(r.ID, certs.ActionReconciled)
		require.Len(t, rec, 1)
		assert.Equal(t, "call 2 of 3: its answer was lost; found as ISC task task-2 (QUEUED), which no other request recorded", rec[0].Detail)
		assert.Equal(t, certs.SystemActor, rec[0].Actor)

		f.finishTasks()
		f.clock.Advance(time.Second) // past the poll backoff
		require.NoError(t, f.svc.Tick(ctx))
		cur = f.get(t, r.ID)
		assert.Equal(t, certs.StateCompleted, cur.State, cur.Error)
		assert.Equal(t, 1200, cur.Progress().ItemsMoved)
		assert.Len(t, f.tenant.Reassignments(), 3)
	})

	t.Run("accepted, its task finished: its items are with Carol", func(t *testing.T) {
		f, r := start(t, true)
		f.finishTasks()
		require.NoError(t, f.svc.Tick(ctx))
		cur := f.get(t, r.ID)
		assert.Equal(t, certs.StateSubmitted, cur.State)
		require.Len(t, cur.Tasks, 3)
		assertCall(t, certs.RequestTask{Call: 1, State: certs.CallAccepted, Status: certs.TaskSuccess, Found: true}, cur.Tasks[1], &t0)
		assert.Equal(t, "task-3", cur.Tasks[2].TaskID, "call 3 sent by the worker")
		rec := f.eventsOf(r.ID, certs.ActionReconciled)
		require.Len(t, rec, 1)
		assert.Equal(t, "call 2 of 3: its answer was lost; applied: its 500 review items are with Carol Diaz", rec[0].Detail)

		f.finishTasks()
		f.clock.Advance(time.Second)
		require.NoError(t, f.svc.Tick(ctx))
		assert.Equal(t, certs.StateCompleted, f.get(t, r.ID).State)
		assert.Equal(t, 3, f.tenant.Calls("ReassignAsync"))
	})

	t.Run("never accepted: unknown until SubmitLease, then unconfirmed and call 3 never sent", func(t *testing.T) {
		f, r := start(t, false)
		require.NoError(t, f.svc.Tick(ctx))
		f.clock.Advance(time.Minute)
		require.NoError(t, f.svc.Tick(ctx))
		cur := f.get(t, r.ID)
		assert.Equal(t, certs.StateSubmitting, cur.State)
		require.Len(t, cur.Tasks, 2, "nothing sent while call 2 is unknown")
		assert.Equal(t, certs.CallUnknown, cur.Tasks[1].State)
		assert.Empty(t, f.eventsOf(r.ID, certs.ActionReconciled), "not settled, nothing to say yet")

		f.clock.Advance(4 * time.Minute) // SubmitLease after call 2 was sent
		require.NoError(t, f.svc.Tick(ctx))
		cur = f.get(t, r.ID)
		assert.Equal(t, certs.StateFailed, cur.State)
		assert.Equal(t, "500 of 1200 review items moved to Carol Diaz. "+
			"call 1 of 3 (500 review items): applied (ISC task task-1); "+
			`call 2 of 3 (500 review items): outcome unknown, nothing resubmitted — check certification "Q3 Manager Review – Bob" (cert-1); `+
			"call 3 of 3 (200 review items): not sent to ISC", cur.Error)
		require.Len(t, cur.Tasks, 3)
		assert.Equal(t, certs.CallUnconfirmed, cur.Tasks[1].State)
		assertCall(t, certs.RequestTask{Call: 2, State: certs.CallNotSent, Errors: []string{"not sent: the outcome of call 2 is unknown"}}, cur.Tasks[2], nil)
		assert.Equal(t, certs.Progress{Calls: 3, Done: 1, Unknown: 1, NotSent: 1, ItemsMoved: 500}, cur.Progress())
		rec := f.eventsOf(r.ID, certs.ActionReconciled)
		require.Len(t, rec, 1)
		assert.Contains(t, rec[0].Detail, "0 of its 500 review items are with Carol Diaz (Carol.Diaz@example.com), 500 still in the certification and 0 elsewhere")
		assert.Equal(t, 2, f.tenant.Calls("ReassignAsync"), "nothing resubmitted, nothing more sent")
	})
}

// withoutErrors drops what a settled call remembers of its lost answer.
func withoutErrors(t certs.RequestTask) certs.RequestTask {
	t.Errors = nil
	return t
}

func TestSubmission_lostLastCallReachesCompleted(t *testing.T) {
	ctx := context.Background()
	f := setup(t, approvalPolicy)
	r := f.file(t, f.bigPlan(t, 600)) // 2 calls
	// Accepted, but the answer was lost: the Tenant says EUNKNOWN (an
	// EUNAVAILABLE would say it was not sent).
	f.tenant.AfterReassign = func(n int, _ certs.Reassignment) error {
		return errIf(n == 1, &certs.Error{Code: certs.EUNKNOWN, Message: "timeout after sending"})
	}
	_, err := f.svc.Approve(ctx, alice, r.ID)
	requireCode(t, certs.EUNKNOWN, err)
	f.tenant.AfterReassign = nil
	require.NoError(t, f.svc.Tick(ctx))
	cur := f.get(t, r.ID)
	require.Equal(t, certs.StateSubmitted, cur.State)
	require.Len(t, cur.Tasks, 2)
	assert.Equal(t, "task-2", cur.Tasks[1].TaskID, "the pending task was found")
	assert.True(t, cur.Tasks[1].Found)

	f.finishTasks()
	f.clock.Advance(time.Second) // past the poll backoff
	require.NoError(t, f.svc.Tick(ctx))
	assert.Equal(t, certs.StateCompleted, f.get(t, r.ID).State)
	assert.Equal(t, 2, f.tenant.Calls("ReassignAsync"))
}

// A synchronous call whose answer was lost is judged by where its items are.
func TestSubmission_lostSyncAnswerIsJudgedByItsItems(t *testing.T) {
	ctx := context.Background()
	lost := &certs.Error{Code: certs.EUNKNOWN, Message: "connection closed after sending"}
	t.Run("applied: completed", func(t *testing.T) {
		f := setup(t, approvalPolicy)
		r := f.pending(t)
		f.tenant.AfterReassign = func(int, certs.Reassignment) error { return lost }
		got, err := f.svc.Approve(ctx, alice, r.ID)
		requireCode(t, certs.EUNKNOWN, err)
		assert.Equal(t, certs.StateSubmitting, got.State)
		f.tenant.AfterReassign = nil
		require.NoError(t, f.svc.Tick(ctx))
		cur := f.get(t, r.ID)
		assert.Equal(t, certs.StateCompleted, cur.State)
		require.Len(t, cur.Tasks, 1)
		assertCall(t, certs.RequestTask{Call: 0, State: certs.CallAccepted, Status: certs.TaskSuccess, Found: true}, cur.Tasks[0], &t0)
		assert.Equal(t, 3, cur.Progress().ItemsMoved)
		assert.Equal(t, 1, f.tenant.Calls("Reassign"))
		assert.Zero(t, f.tenant.Calls("GetTask")+f.tenant.Calls("ReassignAsync"), "no task to follow")
	})
	t.Run("not applied: unconfirmed after SubmitLease, never resent", func(t *testing.T) {
		f := setup(t, approvalPolicy)
		r := f.pending(t)
		f.tenant.BeforeReassign = func(int, certs.Reassignment) error { return lost }
		_, err := f.svc.Approve(ctx, alice, r.ID)
		requireCode(t, certs.EUNKNOWN, err)
		f.tenant.BeforeReassign = nil
		require.NoError(t, f.svc.Tick(ctx))
		assert.Equal(t, certs.CallUnknown, f.get(t, r.ID).Tasks[0].State)
		f.clock.Advance(5 * time.Minute)
		require.NoError(t, f.svc.Tick(ctx))
		cur := f.get(t, r.ID)
		assert.Equal(t, certs.StateFailed, cur.State)
		assert.Equal(t, `Nothing was moved. call 1 of 1 (3 review items): outcome unknown, nothing resubmitted — check certification "Q3 Manager Review – Bob" (cert-1)`, cur.Error)
		assert.Equal(t, 1, f.tenant.Calls("Reassign"))
	})
}

// The Tenant answers EUNAVAILABLE for a reassignment only when it did not
// send it (certs.Tenant), so such a call is retried within its time budget,
// and when it still cannot be sent it and the calls after it are recorded
// not sent: never "outcome unknown", and the worker never sends them.
func TestSubmission_callNotSent(t *testing.T) {
	ctx := context.Background()
	unreachable := &certs.Error{Code: certs.EUNAVAILABLE, Message: "could not reach SailPoint's token endpoint"}
	notSent := "not sent: SailPoint could not be reached (could not reach SailPoint's token endpoint)"
	tests := []struct {
		name    string
		items   int
		before  func(n int, _ certs.Reassignment) error
		code    string             // of Approve's error, "" for none
		msg     string             // Approve's error message, after "request <id>: "
		state   certs.RequestState // after Approve
		applied int                // calls ISC accepted
		final   certs.RequestState // once the accepted calls' tasks finished
		finMsg  string             // the request's error then
	}{
		{
			name:    "call 1 not sent once, then sent on the retry",
			items:   1200,
			before:  func(n int, _ certs.Reassignment) error { return errIf(n == 0, unreachable) },
			state:   certs.StateSubmitted,
			applied: 3,
			final:   certs.StateCompleted,
		},
		{
			name:   "call 1 never sent: nothing was submitted",
			items:  1200,
			before: func(int, certs.Reassignment) error { return unreachable },
			code:   certs.EUNAVAILABLE,
			msg: "SailPoint could not be reached for call 1 of 3: call 1 of 3 (500 review items): not sent to ISC; " +
				"call 2 of 3 (500 review items): not sent to ISC; call 3 of 3 (200 review items): not sent to ISC",
			state: certs.StateFailed,
			final: certs.StateFailed,
			finMsg: "Nothing was moved. call 1 of 3 (500 review items): not sent to ISC; " +
				"call 2 of 3 (500 review items): not sent to ISC; call 3 of 3 (200 review items): not sent to ISC",
		},
		{
			name:   "the synchronous call never sent",
			items:  10,
			before: func(int, certs.Reassignment) error { return unreachable },
			code:   certs.EUNAVAILABLE,
			msg:    "SailPoint could not be reached for the call (10 review items): could not reach SailPoint's token endpoint; nothing was applied",
			state:  certs.StateFailed,
			final:  certs.StateFailed,
			finMsg: "Nothing was moved. call 1 of 1 (10 review items): not sent to ISC",
		},
		{
			name:   "call 2 never sent after call 1 was",
			items:  1200,
			before: func(n int, _ certs.Reassignment) error { return errIf(n >= 1, unreachable) },
			code:   certs.EUNAVAILABLE,
			msg: "SailPoint could not be reached for call 2 of 3: call 1 of 3 (500 review items): QUEUED (ISC task task-1); " +
				"call 2 of 3 (500 review items): not sent to ISC; call 3 of 3 (200 review items): not sent to ISC",
			state:   certs.StateSubmitted,
			applied: 1,
			final:   certs.StateFailed,
			finMsg: "500 of 1200 review items moved to Carol Diaz. call 1 of 3 (500 review items): applied (ISC task task-1); " +
				"call 2 of 3 (500 review items): not sent to ISC; call 3 of 3 (200 review items): not sent to ISC",
		},
		{
			name:   "call 3 never sent after calls 1 and 2 were",
			items:  1200,
			before: func(n int, _ certs.Reassignment) error { return errIf(n >= 2, unreachable) },
			code:   certs.EUNAVAILABLE,
			msg: "SailPoint could not be reached for call 3 of 3: call 1 of 3 (500 review items): QUEUED (ISC task task-1); " +
				"call 2 of 3 (500 review items): QUEUED (ISC task task-2); call 3 of 3 (200 review items): not sent to ISC",
			state:   certs.StateSubmitted,
			applied: 2,
			final:   certs.StateFailed,
			finMsg: "1000 of 1200 review items moved to Carol Diaz. call 1 of 3 (500 review items): applied (ISC task task-1); " +
				"call 2 of 3 (500 review items): applied (ISC task task-2); call 3 of 3 (200 review items): not sent to ISC",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Each call may take SubmitLease/2: 20ms of retries here.
			f := setup(t, approvalPolicy, func(o *certs.Options) { o.SubmitLease = 40 * time.Millisecond })
			r := f.file(t, f.bigPlan(t, tt.items))
			f.tenant.BeforeReassign = tt.before
			got, err := f.svc.Approve(ctx, alice, r.ID)
			if tt.code == "" {
				require.NoError(t, err)
			} else {
				requireCode(t, tt.code, err)
				assert.Equal(t, "request "+r.ID+": "+tt.msg, certs.ErrorMessage(err))
			}
			require.NotNil(t, got)
			assert.Equal(t, tt.state, got.State)
			assert.Len(t, f.tenant.Reassignments(), tt.applied)
			assert.Greater(t, f.reassignCalls(), tt.applied, "the unsent call was tried again")
			assert.NotContains(t, f.actions(r.ID), certs.ActionOutcomeUnknown)
			assert.NotContains(t, got.Error, "outcome unknown")
			if tt.code != "" {
				require.Len(t, got.Tasks, len(got.Plan.Calls), "every call has a record, the unsent ones too")
				assertCall(t, certs.RequestTask{Call: tt.applied, State: certs.CallNotSent, Status: certs.TaskError, Errors: []string{notSent}}, got.Tasks[tt.applied], &t0)
				for _, task := range got.Tasks[tt.applied+1:] {
					assertCall(t, certs.RequestTask{Call: task.Call, State: certs.CallNotSent, Errors: []string{fmt.Sprintf("not sent: call %d did not go through", tt.applied+1)}}, task, nil)
				}
				assert.Equal(t, len(got.Plan.Calls)-tt.applied, got.Progress().NotSent, "the unsent calls count as not sent, not queued")
			}
			if tt.state == certs.StateFailed {
				assert.Equal(t, tt.finMsg, got.Error)
				last := f.store.Events()[len(f.store.Events())-1]
				assert.Equal(t, certs.ActionFailed, last.Action)
				assert.Equal(t, tt.finMsg, last.Detail)
			}

			// SailPoint is back; the worker, past every lease, follows
			// what was accepted and sends nothing more.
			f.tenant.BeforeReassign = nil
			calls := f.reassignCalls()
			f.clock.Advance(6 * time.Minute)
			require.NoError(t, f.svc.Tick(ctx))
			f.finishTasks()
			f.clock.Advance(time.Second) // past the poll backoff
			require.NoError(t, f.svc.Tick(ctx))
			cur := f.get(t, r.ID)
			assert.Equal(t, tt.final, cur.State)
			assert.Equal(t, tt.finMsg, cur.Error)
			assert.Equal(t, calls, f.reassignCalls(), "nothing sent by the worker")
			assert.NotContains(t, f.actions(r.ID), certs.ActionOutcomeUnknown)
		})
	}
}

// The worker submitting a legacy approved request meets the same rule, and
// a request it failed that way is not an error of its pass.
func TestSubmission_workerSubmissionNotSent(t *testing.T) {
	ctx := context.Background()
	f := setup(t, approvalPolicy, func(o *certs.Options) { o.SubmitLease = 40 * time.Millisecond })
	r := f.legacyApproved(t, f.plan(t, bob))
	f.tenant.BeforeReassign = func(int, certs.Reassignment) error {
		return &certs.Error{Code: certs.EUNAVAILABLE, Message: "could not reach SailPoint"}
	}
	f.clock.Advance(time.Minute)
	require.NoError(t, f.svc.Tick(ctx))
	cur := f.get(t, r.ID)
	assert.Equal(t, certs.StateFailed, cur.State)
	assert.Equal(t, "Nothing was moved. call 1 of 1 (3 review items): not sent to ISC", cur.Error)
	assert.Empty(t, f.tenant.Reassignments())
	assert.Positive(t, f.tenant.Calls("Reassign"))
}

// A submitter whose writes fail after it called ISC leaves the request in
// submitting; the worker carries it on from its call records, sending
// nothing twice.
func TestSubmission_unrecordedOutcomesAreCarriedOnByTheWorker(t *testing.T) {
	ctx := context.Background()
	unreachable := &certs.Error{Code: certs.EUNAVAILABLE, Message: "could not reach SailPoint"}
	dbDown := errors.New("database went away")

	// The not-sent record itself is lost: the worker cannot tell a call
	// that was not sent from one whose answer was lost, so it judges call
	// 1 by the certification and names the calls after it never sent.
	t.Run("the record of an unsent call", func(t *testing.T) {
		f := setup(t, approvalPolicy, func(o *certs.Options) { o.SubmitLease = 40 * time.Millisecond })
		r := f.file(t, f.bigPlan(t, 1200))
		f.tenant.BeforeReassign = func(int, certs.Reassignment) error { return unreachable }
		f.store.FailUpdate = func(r *certs.Request) error {
			for _, task := range r.Tasks {
				if task.State == certs.CallNotSent {
					return dbDown
				}
			}
			return nil
		}
		got, err := f.svc.Approve(ctx, alice, r.ID)
		requireCode(t, certs.EUNAVAILABLE, err)
		assert.Equal(t, "request "+r.ID+`: call 1 of 3 did not go through (could not reach SailPoint) and this could not be recorded; certops will check certification "Q3 Manager Review – Bob"`, certs.ErrorMessage(err))
		assert.Equal(t, certs.StateSubmitting, got.State)
		f.tenant.BeforeReassign, f.store.FailUpdate = nil, nil
		calls := f.reassignCalls()

		f.clock.Advance(time.Minute)
		require.NoError(t, f.svc.Tick(ctx))
		cur := f.get(t, r.ID)
		assert.Equal(t, certs.StateFailed, cur.State)
		assert.Equal(t, "Nothing was moved. "+
			`call 1 of 3 (500 review items): outcome unknown, nothing resubmitted — check certification "Q3 Manager Review – Bob" (cert-1); `+
			"call 2 of 3 (500 review items): not sent to ISC; call 3 of 3 (200 review items): not sent to ISC", cur.Error)
		assert.Equal(t, calls, f.reassignCalls(), "the worker sends nothing")
		assert.Empty(t, f.tenant.Reassignments())
		assert.Contains(t, f.actions(r.ID), certs.ActionOutcomeUnknown)
	})

	// Every call is recorded but the request's final state is not: the
	// worker concludes it from the records.
	for _, tt := range []struct {
		name        string
		items       int
		failOn      certs.RequestState
		thenBy      certs.RequestState // what the worker makes of it
		accepted    int
		finallyThen certs.RequestState
	}{
		{"the failure of an unsent request", 1200, certs.StateFailed, certs.StateFailed, 0, certs.StateFailed},
		{"submitted, after every call was accepted", 600, certs.StateSubmitted, certs.StateSubmitted, 2, certs.StateCompleted},
		{"completed, after the synchronous call", 10, certs.StateCompleted, certs.StateCompleted, 1, certs.StateCompleted},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := setup(t, approvalPolicy, func(o *certs.Options) { o.SubmitLease = 40 * time.Millisecond })
			r := f.file(t, f.bigPlan(t, tt.items))
			if tt.accepted == 0 {
				f.tenant.BeforeReassign = func(int, certs.Reassignment) error { return unreachable }
			}
			f.store.FailUpdate = func(r *certs.Request) error { return errIf(r.State == tt.failOn, dbDown) }
			got, err := f.svc.Approve(ctx, alice, r.ID)
			require.Error(t, err)
			require.NotNil(t, got)
			assert.Equal(t, certs.StateSubmitting, got.State)
			require.Len(t, got.Tasks, len(got.Plan.Calls), "every call's answer was recorded")
			f.tenant.BeforeReassign, f.store.FailUpdate = nil, nil
			calls := f.reassignCalls()

			require.NoError(t, f.svc.Tick(ctx))
			assert.Equal(t, certs.StateSubmitting, f.get(t, r.ID).State, "within SubmitLease the submitter may still be at it")
			f.clock.Advance(time.Minute)
			require.NoError(t, f.svc.Tick(ctx))
			assert.Equal(t, tt.thenBy, f.get(t, r.ID).State)
			f.finishTasks()
			f.clock.Advance(time.Second)
			require.NoError(t, f.svc.Tick(ctx))
			assert.Equal(t, tt.finallyThen, f.get(t, r.ID).State)
			assert.Equal(t, calls, f.reassignCalls(), "nothing sent twice")
			assert.Len(t, f.tenant.Reassignments(), tt.accepted)
		})
	}
}

// A submitter that went quiet after ISC accepted its call but before it
// recorded the answer: after SubmitLease the worker takes the call still
// marked sending as unknown, finds its task, and sends the calls never
// recorded.
func TestSubmission_quietSubmitterIsReplacedByTheWorker(t *testing.T) {
	ctx := context.Background()
	f := setup(t, approvalPolicy)
	r := f.file(t, f.bigPlan(t, 600))
	f.store.FailUpdate = func(r *certs.Request) error {
		return errIf(len(r.Tasks) > 0 && r.Tasks[0].State == certs.CallAccepted, errors.New("killed"))
	}
	got, err := f.svc.Approve(ctx, alice, r.ID)
	requireCode(t, certs.EUNKNOWN, err)
	assert.Equal(t, "request "+r.ID+`: call 1 of 2 was accepted by ISC as task task-1 but this could not be recorded; nothing will be resubmitted, certops will check certification "Q3 Manager Review – Bob"`, certs.ErrorMessage(err))
	require.Len(t, got.Tasks, 1)
	assert.Equal(t, certs.CallSending, got.Tasks[0].State)
	f.store.FailUpdate = nil

	require.NoError(t, f.svc.Tick(ctx))
	assert.Equal(t, certs.CallSending, f.get(t, r.ID).Tasks[0].State, "the submitter may still be at it")
	assert.Equal(t, 1, f.tenant.Calls("ReassignAsync"))

	f.clock.Advance(5 * time.Minute)
	require.NoError(t, f.svc.Tick(ctx))
	cur := f.get(t, r.ID)
	assert.Equal(t, certs.StateSubmitted, cur.State)
	require.Len(t, cur.Tasks, 2)
	assert.Equal(t, "task-1", cur.Tasks[0].TaskID)
	assert.True(t, cur.Tasks[0].Found)
	assert.Equal(t, "task-2", cur.Tasks[1].TaskID, "call 2, never recorded, sent by the worker")
	assert.Equal(t, 2, f.tenant.Calls("ReassignAsync"))
	assert.Subset(t, f.actions(r.ID), []certs.Action{certs.ActionOutcomeUnknown, certs.ActionReconciled})

	f.finishTasks()
	f.clock.Advance(time.Second)
	require.NoError(t, f.svc.Tick(ctx))
	assert.Equal(t, certs.StateCompleted, f.get(t, r.ID).State)
}

func TestSubmission_legacyApprovedRequestIsSubmittedByTheWorker(t *testing.T) {
	ctx := context.Background()
	f := setup(t, approvalPolicy)
	r := f.legacyApproved(t, f.plan(t, bob))

	require.NoError(t, f.svc.Tick(ctx))
	assert.Equal(t, certs.StateApproved, f.get(t, r.ID).State, "within the lease")
	assert.Zero(t, f.reassignCalls())
	f.clock.Advance(6 * time.Minute)
	require.NoError(t, f.svc.Tick(ctx))
	cur := f.get(t, r.ID)
	assert.Equal(t, certs.StateCompleted, cur.State)
	assert.True(t, cur.CallLog)
	assert.Equal(t, "U_ALICE", cur.DecidedBy.ID, "still Alice's decision")
	assert.Equal(t, 1, f.tenant.Calls("Reassign"))
	assert.Equal(t, []certs.Action{certs.ActionRequestCreated, certs.ActionRequestApproved, certs.ActionSubmitting, certs.ActionTaskSubmitted, certs.ActionCompleted}, f.actions(r.ID))
	assert.Equal(t, certs.SystemActor, f.eventsOf(r.ID, certs.ActionSubmitting)[0].Actor)
}

func TestSubmission_sync(t *testing.T) {
	ctx := context.Background()
	t.Run("completes at once", func(t *testing.T) {
		f := setup(t, approvalPolicy)
		r := f.file(t, f.bigPlan(t, 50))
		got, err := f.svc.Approve(ctx, alice, r.ID)
		require.NoError(t, err)
		assert.Equal(t, certs.StateCompleted, got.State)
		require.Len(t, got.Tasks, 1)
		assertCall(t, certs.RequestTask{Call: 0, State: certs.CallAccepted, Status: certs.TaskSuccess}, got.Tasks[0], &t0)
		assert.Equal(t, 1, f.tenant.Calls("Reassign"))
		assert.Zero(t, f.tenant.Calls("ReassignAsync"))
		assert.Equal(t, certs.Progress{Calls: 1, Done: 1, ItemsMoved: 50}, got.Progress())
		assert.Equal(t, []certs.Action{certs.ActionRequestCreated, certs.ActionRequestApproved, certs.ActionSubmitting, certs.ActionTaskSubmitted, certs.ActionCompleted}, f.actions(r.ID))
		assert.Equal(t, "call 1 of 1: 50 review items moved (synchronous call); digest "+got.Plan.Digest, f.eventsOf(r.ID, certs.ActionTaskSubmitted)[0].Detail)
		assert.Equal(t, "50 review items moved to Carol Diaz", f.eventsOf(r.ID, certs.ActionCompleted)[0].Detail)

		reads := f.tenant.Calls("ListPendingTasks")
		require.NoError(t, f.svc.Tick(ctx))
		assert.Zero(t, f.tenant.Calls("GetTask"), "no task to poll")
		assert.Equal(t, reads, f.tenant.Calls("ListPendingTasks"), "nothing to settle")
	})
	t.Run("refused", func(t *testing.T) {
		f := setup(t, approvalPolicy)
		r := f.file(t, f.bigPlan(t, 10))
		f.tenant.BeforeReassign = func(int, certs.Reassignment) error { return upstreamErr(certs.EFORBIDDEN, 403, "trk-403") }
		got, err := f.svc.Approve(ctx, alice, r.ID)
		requireCode(t, certs.EFORBIDDEN, err)
		assert.Equal(t, "request "+r.ID+": SailPoint refused the call (10 review items): SailPoint said no; nothing was applied (SailPoint 403 400.1 Bad Request Content, tracking id trk-403)", certs.ErrorMessage(err))
		assert.Equal(t, certs.StateFailed, got.State)
		require.Len(t, got.Tasks, 1)
		assertCall(t, certs.RequestTask{Call: 0, State: certs.CallRejected, Status: certs.TaskError, Errors: []string{"SailPoint said no"}, TrackingID: "trk-403"}, got.Tasks[0], &t0)
		assert.Equal(t, "Nothing was moved. call 1 of 1 (10 review items): refused by SailPoint, nothing applied: SailPoint said no (tracking id trk-403)", got.Error)
		assert.Equal(t, 1, f.tenant.Calls("Reassign"))
	})
	t.Run("rate limited once, then sent", func(t *testing.T) {
		f := setup(t, approvalPolicy)
		r := f.file(t, f.bigPlan(t, 10))
		f.tenant.BeforeReassign = func(n int, _ certs.Reassignment) error {
			return errIf(n < 1, &certs.Error{Code: certs.ERATELIMITED, Message: "Rate Limit Exceeded"})
		}
		got, err := f.svc.Approve(ctx, alice, r.ID)
		require.NoError(t, err, "a 429 is retried: ISC did nothing")
		assert.Equal(t, certs.StateCompleted, got.State)
		assert.Equal(t, 2, f.tenant.Calls("Reassign"))
		assert.Len(t, f.tenant.Reassignments(), 1)
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
		{"all tasks succeed", func(f *fixture) { f.finishTasks() }, certs.StateCompleted, ""},
		{"one task fails", func(f *fixture) {
			f.tenant.SetTaskStatus("task-1", certs.TaskSuccess)
			f.tenant.SetTaskStatus("task-2", certs.TaskError, "reviewer is not allowed")
		}, certs.StateFailed, "500 of 600 review items moved to Carol Diaz. " +
			"call 1 of 2 (500 review items): applied (ISC task task-1); call 2 of 2 (100 review items): ISC task task-2 failed: reviewer is not allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name+" (worker)", func(t *testing.T) {
			f := setup(t, approvalPolicy)
			r := f.file(t, f.bigPlan(t, 600))
			_, err := f.svc.Approve(ctx, alice, r.ID)
			require.NoError(t, err)
			require.NoError(t, f.svc.Tick(ctx))
			assert.Equal(t, certs.StateSubmitted, f.get(t, r.ID).State, "tasks still queued: no change, no event")
			assert.NotContains(t, f.actions(r.ID), certs.ActionTaskProgress)

			f.tenant.SetTaskStatus("task-1", certs.TaskInProgress)
			f.clock.Advance(time.Second)
			require.NoError(t, f.svc.Tick(ctx))
			assert.Equal(t, certs.TaskInProgress, f.get(t, r.ID).Tasks[0].Status)
			assert.Equal(t, 1, f.get(t, r.ID).Progress().Running)

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
			r := f.file(t, f.bigPlan(t, 600))
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
			assert.Equal(t, tt.errMsg, got.Error)
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
	tests := []struct {
		name  string
		plan  func(f *fixture, t *testing.T) *certs.Plan
		trail []string
	}{
		{"one synchronous call", func(f *fixture, t *testing.T) *certs.Plan { return f.plan(t, bob) }, []string{
			"plan.created by slack/U_BOB count=3 tasks=[]",
			"request.created by slack/U_BOB count=3 tasks=[]",
			"request.approved by slack/U_ALICE count=3 tasks=[]",
			"request.submitting by slack/U_ALICE count=3 tasks=[]",
			"task.submitted by slack/U_ALICE count=3 tasks=[]",
			"request.completed by slack/U_ALICE count=3 tasks=[]",
		}},
		{"asynchronous calls", func(f *fixture, t *testing.T) *certs.Plan { return f.bigPlan(t, 600) }, []string{
			"plan.created by slack/U_BOB count=600 tasks=[]",
			"request.created by slack/U_BOB count=600 tasks=[]",
			"request.approved by slack/U_ALICE count=600 tasks=[]",
			"request.submitting by slack/U_ALICE count=600 tasks=[]",
			"task.submitted by slack/U_ALICE count=500 tasks=[task-1]",
			"task.submitted by slack/U_ALICE count=100 tasks=[task-2]",
			"request.submitted by slack/U_ALICE count=600 tasks=[task-1 task-2]",
			"task.progress by system/certops count=500 tasks=[task-1]",
			"task.progress by system/certops count=100 tasks=[task-2]",
			"request.completed by system/certops count=600 tasks=[task-1 task-2]",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := setup(t, approvalPolicy)
			r := f.file(t, tt.plan(f, t))
			_, err := f.svc.Approve(ctx, alice, r.ID)
			require.NoError(t, err)
			f.finishTasks()
			require.NoError(t, f.svc.Tick(ctx))
			assert.True(t, f.get(t, r.ID).State.Final())

			evs, err := f.svc.ListAudit(ctx, admin, certs.EventFilter{CertificationID: certID})
			require.NoError(t, err)
			var got []string
			for _, ev := range evs {
				got = append(got, fmt.Sprintf("%s by %s/%s count=%d tasks=%v", ev.Action, ev.Actor.Frontend, ev.Actor.ID, ev.Count, ev.TaskIDs))
				assert.Equal(t, certID, ev.CertificationID)
				assert.False(t, ev.Time.IsZero())
			}
			assert.Equal(t, tt.trail, got)

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
		})
	}
}

// A task ISC no longer knows is judged by its items: applied only if they
// are with the target, not merely gone from the certification.
func TestFollow_taskUnknownToISCIsJudgedByItsItems(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name   string
		before func(f *fixture, t *testing.T)
		state  certs.RequestState
		errMsg string
	}{
		{"items with the target", func(f *fixture, t *testing.T) { f.finishTasks() }, certs.StateCompleted, ""},
		{"items still in the certification", func(f *fixture, t *testing.T) {}, certs.StateFailed,
			"Nothing was moved. call 1 of 1 (60 review items): ISC task task-1 failed: " +
				"ISC no longer knows task task-1, and 0 of its 60 review items are with Carol Diaz (Carol.Diaz@example.com), 60 still in the certification and 0 elsewhere"},
		{"items moved on to someone else", func(f *fixture, t *testing.T) {
			f.finishTasks()
			var carols string
			var refs []certs.Ref
			for _, c := range f.tenant.Certifications() {
				if c.Reviewer.ID == "id-carol" {
					carols = c.ID
					for _, it := range f.tenant.Items(c.ID) {
						refs = append(refs, certs.Ref{ID: it.ID, Type: certs.RefItem})
					}
				}
			}
			require.Len(t, refs, 60)
			_, err := f.tenant.Reassign(ctx, certs.Reassignment{CertificationID: carols, Refs: refs[:50], To: "id-dan", Reason: "moved on"})
			require.NoError(t, err)
		}, certs.StateFailed,
			"Nothing was moved. call 1 of 1 (60 review items): ISC task task-1 failed: " +
				"ISC no longer knows task task-1, and 10 of its 60 review items are with Carol Diaz (Carol.Diaz@example.com), 0 still in the certification and 50 elsewhere"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := setup(t, approvalPolicy)
			r := f.file(t, f.bigPlan(t, 60))
			_, err := f.svc.Approve(ctx, alice, r.ID)
			require.NoError(t, err)
			tt.before(f, t)
			f.tenant.Fail["GetTask"] = &certs.Error{Code: certs.ENOTFOUND, Message: "task not found"}
			require.NoError(t, f.svc.Tick(ctx))
			cur := f.get(t, r.ID)
			assert.Equal(t, tt.state, cur.State)
			assert.Equal(t, tt.errMsg, cur.Error)
		})
	}
}

func TestFollow_concurrentFollowersRecordEachChangeOnce(t *testing.T) {
	ctx := context.Background()
	f := setup(t, approvalPolicy)
	r := f.file(t, f.bigPlan(t, 1200))
	_, err := f.svc.Approve(ctx, alice, r.ID)
	require.NoError(t, err)
	other := certs.NewService(f.opts) // a second replica on the same store and tenant

	f.finishTasks()
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

// A call whose answer was lost, to a certification that is gone: nothing
// can be read, so it is unconfirmed and the request fails; nothing is sent
// again.
func TestSettle_certificationGoneFailsTheRequest(t *testing.T) {
	ctx := context.Background()
	for _, n := range []int{3, 60} {
		t.Run(fmt.Sprintf("%d items", n), func(t *testing.T) {
			f := setup(t, approvalPolicy)
			r := f.file(t, f.planOf(t, "id-few", "Few Items", n, "id-carol"))
			f.tenant.BeforeReassign = func(int, certs.Reassignment) error { return &certs.Error{Code: certs.EUNKNOWN, Message: "lost"} }
			_, err := f.svc.Approve(ctx, alice, r.ID)
			requireCode(t, certs.EUNKNOWN, err)
			f.tenant.BeforeReassign = nil
			f.tenant.Fail["GetCertification"] = &certs.Error{Code: certs.ENOTFOUND, Message: "certification not found"}
			require.NoError(t, f.svc.Tick(ctx))
			cur := f.get(t, r.ID)
			assert.Equal(t, certs.StateFailed, cur.State)
			assert.Contains(t, cur.Error, `outcome unknown, nothing resubmitted — check certification "Q3 Manager Review – Bob" (cert-1)`)
			require.Len(t, cur.Tasks, 1)
			assert.Equal(t, certs.CallUnconfirmed, cur.Tasks[0].State)
			assert.Equal(t, []string{"certification cert-1 no longer exists in ISC"}, cur.Tasks[0].Errors)
			rec := f.eventsOf(r.ID, certs.ActionReconciled)
			require.Len(t, rec, 1)
			assert.Contains(t, rec[0].Detail, "no longer exists in ISC")
			assert.Equal(t, 1, f.reassignCalls())
		})
	}
}

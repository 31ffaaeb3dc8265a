package certs_test

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/certs"
	"github.com/certops/certops/internal/certs/certstest"
)

// Settling a call whose answer was lost (settle.go) over the fakes: only
// evidence that belongs to that call and to no other request counts, and
// while it is unsettled no other request sends to the certification.

var lostAnswer = &certs.Error{Code: certs.EUNKNOWN, Message: "503 Service Unavailable after the request was sent"}

// A pending task of the same certification and target, created after the
// call, is still not the call's when another request recorded it: issue
// 11's first case, settled by a second replica that remembers nothing.
func TestSettle_refusesATaskAnotherRequestRecorded(t *testing.T) {
	ctx := context.Background()
	f := setup(t, approvalPolicy)
	a := f.file(t, f.planOf(t, "id-p1", "P One", 60, "id-carol"))
	b := f.file(t, f.planOf(t, "id-p2", "P Two", 60, "id-carol"))
	got, err := f.svc.Approve(ctx, alice, a.ID)
	require.NoError(t, err)
	require.Equal(t, "task-1", got.Tasks[0].TaskID)
	// B's call is never queued by ISC, and its answer is lost.
	f.tenant.BeforeReassign = func(n int, _ certs.Reassignment) error { return errIf(n == 1, lostAnswer) }
	_, err = f.svc.Approve(ctx, alice, b.ID)
	requireCode(t, certs.EUNKNOWN, err)
	f.tenant.BeforeReassign = nil
	pending, err := f.tenant.ListPendingTasks(ctx, certID)
	require.NoError(t, err)
	require.Len(t, pending, 1, "A's task is the only candidate by certification, target and time")

	replica := certs.NewService(f.opts)
	require.NoError(t, replica.Tick(ctx))
	cur := f.get(t, b.ID)
	assert.Equal(t, certs.StateSubmitting, cur.State)
	require.Len(t, cur.Tasks, 1)
	assert.Equal(t, certs.CallUnknown, cur.Tasks[0].State)
	assert.Empty(t, cur.Tasks[0].TaskID, "A's task is not taken for B's call")

	f.clock.Advance(5 * time.Minute)
	require.NoError(t, replica.Tick(ctx))
	cur = f.get(t, b.ID)
	assert.Equal(t, certs.StateFailed, cur.State)
	assert.Equal(t, `Nothing was moved. call 1 of 1 (60 review items): outcome unknown, nothing resubmitted — check certification "Q3 Manager Review – Bob" (cert-1)`, cur.Error)
	assert.Equal(t, certs.CallUnconfirmed, cur.Tasks[0].State)
	assert.Empty(t, cur.Tasks[0].TaskID)
	rec := f.eventsOf(b.ID, certs.ActionReconciled)
	require.Len(t, rec, 1)
	assert.Contains(t, rec[0].Detail, "no pending ISC task matches it and 0 of its 60 review items are with Carol Diaz")

	f.finishTasks()
	f.clock.Advance(time.Second)
	require.NoError(t, replica.Tick(ctx))
	done := f.get(t, a.ID)
	assert.Equal(t, certs.StateCompleted, done.State)
	assert.Equal(t, 60, done.Progress().ItemsMoved)
	assert.Zero(t, f.get(t, b.ID).Progress().ItemsMoved)
	assert.Equal(t, 2, f.tenant.Calls("ReassignAsync"), "B's call not sent again")
	assert.Len(t, f.tenant.Reassignments(), 1)
}

func TestSettle_refusesWhenTwoTasksCouldBeIt(t *testing.T) {
	ctx := context.Background()
	pendingTask := func(id string, typ certs.TaskType, cert, to string, created time.Time) certs.Task {
		return certs.Task{ID: id, Type: typ, TargetType: "CERTIFICATION", TargetID: cert, Status: certs.TaskQueued, Created: created,
			Trail: []certs.ReassignmentTrail{{PreviousOwner: "id-bob", NewOwner: to, ReassignmentType: "MANUAL_REASSIGNMENT"}}}
	}
	// start approves a 60-item plan whose answer is lost after ISC queued
	// it as task-1.
	start := func(t *testing.T) (*fixture, *certs.Request) {
		f := setup(t, approvalPolicy)
		r := f.file(t, f.bigPlan(t, 60))
		f.tenant.AfterReassign = func(int, certs.Reassignment) error { return lostAnswer }
		_, err := f.svc.Approve(ctx, alice, r.ID)
		requireCode(t, certs.EUNKNOWN, err)
		f.tenant.AfterReassign = nil
		return f, r
	}

	t.Run("one fits: it is taken", func(t *testing.T) {
		f, r := start(t)
		// Pending tasks that do not fit: made before the call (beyond a
		// minute's clock skew), moving work to someone else, of another
		// certification.
		f.tenant.AddTask(pendingTask("task-before", certs.TaskReassign, certID, "id-carol", t0.Add(-2*time.Minute)))
		f.tenant.AddTask(pendingTask("task-dan", certs.TaskReassign, certID, "id-dan", t0))
		f.tenant.AddTask(pendingTask("task-elsewhere", certs.TaskReassign, "cert-other", "id-carol", t0))
		require.NoError(t, f.svc.Tick(ctx))
		cur := f.get(t, r.ID)
		assert.Equal(t, certs.StateSubmitted, cur.State)
		assert.Equal(t, "task-1", cur.Tasks[0].TaskID)
		assert.True(t, cur.Tasks[0].Found)
	})

	t.Run("two fit: neither is taken", func(t *testing.T) {
		f, r := start(t)
		// Someone moved other work of the certification to Carol in ISC's
		// UI at the same moment.
		f.tenant.AddTask(pendingTask("task-ui", certs.TaskAdminReassign, certID, "id-carol", t0.Add(30*time.Second)))
		require.NoError(t, f.svc.Tick(ctx))
		cur := f.get(t, r.ID)
		assert.Equal(t, certs.StateSubmitting, cur.State)
		assert.Equal(t, certs.CallUnknown, cur.Tasks[0].State)
		assert.Empty(t, cur.Tasks[0].TaskID)

		f.clock.Advance(5 * time.Minute)
		require.NoError(t, f.svc.Tick(ctx))
		cur = f.get(t, r.ID)
		assert.Equal(t, certs.StateFailed, cur.State)
		assert.Equal(t, certs.CallUnconfirmed, cur.Tasks[0].State)
		assert.Empty(t, cur.Tasks[0].TaskID)
		assert.Contains(t, cur.Error, "outcome unknown, nothing resubmitted — check certification")
		rec := f.eventsOf(r.ID, certs.ActionReconciled)
		require.Len(t, rec, 1)
		assert.Contains(t, rec[0].Detail, "2 pending ISC tasks could be it (task-1, task-ui)")
		assert.Equal(t, 1, f.tenant.Calls("ReassignAsync"))
	})
}

// Items gone from the certification prove nothing unless they are with the
// target: issue 11's second case. A moves item-d1 to Carol; B, planned
// before A ran, moves it to Alice and loses its answer.
func TestSettle_itemsGoneButNotWithTheTargetStayUnknown(t *testing.T) {
	ctx := context.Background()
	f := setup(t, certs.Policy{})
	planTo := func(target string) *certs.Plan {
		p, err := f.svc.PlanReassignment(ctx, admin, certs.PlanInput{CertificationID: certID, ItemIDs: []string{"item-d1"}, Target: target, Reason: "leave"})
		require.NoError(t, err)
		return p
	}
	pa, pb := planTo("id-carol"), planTo("id-alice")
	a, err := f.svc.SubmitPlan(ctx, admin, pa.ID, pa.Digest)
	require.NoError(t, err)
	require.Equal(t, certs.StateCompleted, a.State)
	f.tenant.BeforeReassign = func(int, certs.Reassignment) error { return lostAnswer }
	b, err := f.svc.SubmitPlan(ctx, admin, pb.ID, pb.Digest)
	requireCode(t, certs.EUNKNOWN, err)
	f.tenant.BeforeReassign = nil
	for _, it := range f.tenant.Items(certID) {
		require.NotEqual(t, "item-d1", it.ID, "the item is gone from the certification")
	}

	for range 2 {
		require.NoError(t, f.svc.Tick(ctx))
		cur := f.get(t, b.ID)
		assert.Equal(t, certs.StateSubmitting, cur.State)
		assert.Equal(t, certs.CallUnknown, cur.Tasks[0].State, "gone is not proof")
		f.clock.Advance(2 * time.Minute)
	}
	f.clock.Advance(time.Minute) // SubmitLease after B's call
	require.NoError(t, f.svc.Tick(ctx))
	cur := f.get(t, b.ID)
	assert.Equal(t, certs.StateFailed, cur.State)
	assert.Equal(t, `Nothing was moved. call 1 of 1 (1 review item): outcome unknown, nothing resubmitted — check certification "Q3 Manager Review – Bob" (cert-1)`, cur.Error)
	assert.Equal(t, certs.CallUnconfirmed, cur.Tasks[0].State)
	assert.Zero(t, cur.Progress().ItemsMoved)
	rec := f.eventsOf(b.ID, certs.ActionReconciled)
	require.Len(t, rec, 1)
	assert.Contains(t, rec[0].Detail, "0 of its 1 review items are with Alice (alice@example.com), 0 still in the certification and 1 elsewhere")
	assert.Equal(t, 2, f.tenant.Calls("Reassign"))
	assert.Len(t, f.tenant.Reassignments(), 1)
}

// While another request's call to the certification has an unknown outcome,
// a request sends nothing (so that what a reading of the tenant finds can be
// told apart), and the worker sends it once that call is settled.
func TestSubmission_waitsWhileAnotherCallToTheCertificationIsUnknown(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		name    string
		applied bool               // whether A's lost call was applied
		a       certs.RequestState // what becomes of A
	}{
		{"until that call is found applied", true, certs.StateCompleted},
		{"until that call is unconfirmed", false, certs.StateFailed},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := setup(t, approvalPolicy)
			a := f.pending(t) // 3 items, one synchronous call
			hook := func(int, certs.Reassignment) error { return lostAnswer }
			if tt.applied {
				f.tenant.AfterReassign = hook
			} else {
				f.tenant.BeforeReassign = hook
			}
			_, err := f.svc.Approve(ctx, alice, a.ID)
			requireCode(t, certs.EUNKNOWN, err)
			f.tenant.BeforeReassign, f.tenant.AfterReassign = nil, nil

			f.clock.Advance(time.Second)
			b := f.file(t, f.bigPlan(t, 60))
			got, err := f.svc.Approve(ctx, alice, b.ID)
			require.NoError(t, err)
			assert.Equal(t, certs.StateSubmitting, got.State)
			assert.Empty(t, got.Tasks, "no call record: nothing was sent")
			assert.Equal(t, a.ID, got.WaitingFor)
			assert.Equal(t, certs.Progress{Calls: 1, ToSend: 1}, got.Progress())
			acts := f.actions(b.ID)
			assert.Equal(t, certs.ActionWaiting, acts[len(acts)-1])
			waiting := f.eventsOf(b.ID, certs.ActionWaiting)
			require.Len(t, waiting, 1)
			assert.Equal(t, fmt.Sprintf(`call 1 of 1 not sent yet: request %s is sending to certification "Q3 Manager Review – Bob" or settling a lost answer from it; it will be sent once that is settled`, a.ID), waiting[0].Detail)
			assert.Zero(t, f.tenant.Calls("ReassignAsync"))

			if !tt.applied {
				// A stays unknown for SubmitLease: B keeps waiting,
				// sending nothing and not repeating itself.
				for range 3 {
					f.clock.Advance(time.Second)
					require.NoError(t, f.svc.Tick(ctx))
				}
				cur := f.get(t, b.ID)
				assert.Equal(t, certs.StateSubmitting, cur.State)
				assert.Empty(t, cur.Tasks)
				assert.Equal(t, a.ID, cur.WaitingFor)
				assert.Len(t, f.eventsOf(b.ID, certs.ActionWaiting), 1, "one request.waiting, not one per worker pass")
				assert.Zero(t, f.tenant.Calls("ReassignAsync"))
				f.clock.Advance(5 * time.Minute)
			}
			require.NoError(t, f.svc.Tick(ctx))
			assert.Equal(t, tt.a, f.get(t, a.ID).State)
			cur := f.get(t, b.ID)
			assert.Equal(t, certs.StateSubmitted, cur.State, "sent by the worker")
			assert.Empty(t, cur.WaitingFor)
			require.Len(t, cur.Tasks, 1)
			assertCall(t, certs.RequestTask{Call: 0, State: certs.CallAccepted, TaskID: "task-1", Status: certs.TaskQueued}, cur.Tasks[0], ptr(f.clock.Now()))
			assert.Equal(t, 1, f.tenant.Calls("ReassignAsync"))
			assert.Equal(t, certs.SystemActor, f.eventsOf(b.ID, certs.ActionTaskSubmitted)[0].Actor)

			f.finishTasks()
			f.clock.Advance(time.Second)
			require.NoError(t, f.svc.Tick(ctx))
			assert.Equal(t, certs.StateCompleted, f.get(t, b.ID).State)
		})
	}
}

func ptr[T any](v T) *T { return &v }

// movesStore records every state change written through it: from, to and
// the audit actions written with it ("" from for a new request).
type movesStore struct {
	*certstest.Store
	mu    sync.Mutex
	moves []stateMove
}

type stateMove struct {
	from, to certs.RequestState
	actions  []certs.Action
}

func (s *movesStore) record(from, to certs.RequestState, events []certs.Event) {
	m := stateMove{from: from, to: to}
	for _, ev := range events {
		m.actions = append(m.actions, ev.Action)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.moves = append(s.moves, m)
}

func (s *movesStore) CreateRequest(ctx context.Context, r *certs.Request, events ...certs.Event) error {
	err := s.Store.CreateRequest(ctx, r, events...)
	if err == nil {
		s.record("", r.State, events)
	}
	return err
}

func (s *movesStore) UpdateRequest(ctx context.Context, id string, from []certs.RequestState, update func(*certs.Request) error, events ...certs.Event) (*certs.Request, error) {
	var was certs.RequestState
	r, err := s.Store.UpdateRequest(ctx, id, from, func(cur *certs.Request) error {
		was = cur.State
		return update(cur)
	}, events...)
	if err == nil {
		s.record(was, r.State, events)
	}
	return r, err
}

// Every state change the pipeline makes, walking requests through every
// life lifecycle.go describes, is a transition of its table, with events the
// table lets it write; and every transition of the table is made.
func TestLifecycle_everyStateChangeIsInTheTable(t *testing.T) {
	ctx := context.Background()
	var all []stateMove
	walk := func(name string, policy certs.Policy, life func(t *testing.T, f *fixture)) {
		t.Run(name, func(t *testing.T) {
			rec := &movesStore{}
			f := setup(t, policy, func(o *certs.Options) {
				rec.Store = o.Store.(*certstest.Store)
				o.Store = rec
			})
			life(t, f)
			for _, m := range rec.moves {
				tr, ok := certs.LifecycleMove(m.from, m.to, m.actions)
				assert.True(t, ok, "%q → %s writing %v is not in lifecycle.go's transitions", m.from, m.to, m.actions)
				t.Logf("%-10s → %-10s %-14s %v", m.from, m.to, tr, m.actions)
			}
			all = append(all, rec.moves...)
		})
	}
	tick := func(t *testing.T, f *fixture, d time.Duration) {
		f.clock.Advance(d)
		require.NoError(t, f.svc.Tick(ctx))
	}

	walk("a synchronous call", approvalPolicy, func(t *testing.T, f *fixture) {
		r := f.pending(t)
		got, err := f.svc.Approve(ctx, alice, r.ID)
		require.NoError(t, err)
		require.Equal(t, certs.StateCompleted, got.State)
	})
	walk("submitted by the requester, no approval needed", certs.Policy{}, func(t *testing.T, f *fixture) {
		p := f.plan(t, admin)
		got, err := f.svc.SubmitPlan(ctx, admin, p.ID, p.Digest)
		require.NoError(t, err)
		require.Equal(t, certs.StateCompleted, got.State)
	})
	walk("asynchronous calls followed to the end", approvalPolicy, func(t *testing.T, f *fixture) {
		r := f.file(t, f.bigPlan(t, 600))
		_, err := f.svc.Approve(ctx, alice, r.ID)
		require.NoError(t, err)
		f.tenant.SetTaskStatus("task-1", certs.TaskInProgress)
		tick(t, f, time.Second)
		f.finishTasks()
		tick(t, f, time.Second)
		require.Equal(t, certs.StateCompleted, f.get(t, r.ID).State)
	})
	walk("refused midway, then failed", approvalPolicy, func(t *testing.T, f *fixture) {
		r := f.file(t, f.bigPlan(t, 1200))
		f.tenant.BeforeReassign = func(n int, _ certs.Reassignment) error { return errIf(n == 1, upstreamErr(certs.EINVALID, 400, "trk")) }
		_, err := f.svc.Approve(ctx, alice, r.ID)
		requireCode(t, certs.EINVALID, err)
		f.finishTasks()
		tick(t, f, time.Second)
		require.Equal(t, certs.StateFailed, f.get(t, r.ID).State)
	})
	walk("refused at once", approvalPolicy, func(t *testing.T, f *fixture) {
		r := f.pending(t)
		f.tenant.BeforeReassign = func(int, certs.Reassignment) error { return upstreamErr(certs.EFORBIDDEN, 403, "trk") }
		got, err := f.svc.Approve(ctx, alice, r.ID)
		requireCode(t, certs.EFORBIDDEN, err)
		require.Equal(t, certs.StateFailed, got.State)
	})
	walk("denied, cancelled, expired", approvalPolicy, func(t *testing.T, f *fixture) {
		_, err := f.svc.Deny(ctx, alice, f.pending(t).ID, "no")
		require.NoError(t, err)
		_, err = f.svc.Cancel(ctx, bob, f.pending(t).ID)
		require.NoError(t, err)
		r := f.pending(t)
		tick(t, f, certs.DefaultRequestTTL+time.Second)
		require.Equal(t, certs.StateExpired, f.get(t, r.ID).State)
	})
	walk("a lost answer found, the rest sent by the worker", approvalPolicy, func(t *testing.T, f *fixture) {
		r := f.file(t, f.bigPlan(t, 1200))
		f.tenant.AfterReassign = func(n int, _ certs.Reassignment) error { return errIf(n == 1, lostAnswer) }
		_, err := f.svc.Approve(ctx, alice, r.ID)
		requireCode(t, certs.EUNKNOWN, err)
		f.tenant.AfterReassign = nil
		f.tenant.SetTaskStatus("task-1", certs.TaskInProgress) // followed while call 2 is settled
		tick(t, f, 0)
		f.finishTasks()
		tick(t, f, time.Second)
		require.Equal(t, certs.StateCompleted, f.get(t, r.ID).State)
	})
	walk("a lost answer unconfirmed while others wait", approvalPolicy, func(t *testing.T, f *fixture) {
		a := f.pending(t)
		f.tenant.BeforeReassign = func(int, certs.Reassignment) error { return lostAnswer }
		_, err := f.svc.Approve(ctx, alice, a.ID)
		requireCode(t, certs.EUNKNOWN, err)
		f.tenant.BeforeReassign = nil
		f.clock.Advance(time.Second)
		b := f.file(t, f.bigPlan(t, 60))
		_, err = f.svc.Approve(ctx, alice, b.ID)
		require.NoError(t, err)
		tick(t, f, time.Second)
		tick(t, f, 5*time.Minute)
		require.Equal(t, certs.StateFailed, f.get(t, a.ID).State)
		f.finishTasks()
		tick(t, f, time.Second)
		require.Equal(t, certs.StateCompleted, f.get(t, b.ID).State)
	})
	walk("a legacy approved request submitted by the worker", approvalPolicy, func(t *testing.T, f *fixture) {
		r := f.legacyApproved(t, f.plan(t, bob))
		tick(t, f, 6*time.Minute)
		require.Equal(t, certs.StateCompleted, f.get(t, r.ID).State)
	})

	seen := map[[2]certs.RequestState]bool{}
	for _, m := range all {
		seen[[2]certs.RequestState{m.from, m.to}] = true
	}
	var unseen []string
	for pair, name := range certs.LifecyclePairs() {
		if !seen[pair] {
			unseen = append(unseen, fmt.Sprintf("%s (%q → %s)", name, pair[0], pair[1]))
		}
	}
	sort.Strings(unseen)
	assert.Empty(t, unseen, "transitions of the table these lives never make")
}

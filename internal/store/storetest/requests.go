package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/certs"
)

func testPlans(t *testing.T, newDB NewDatabase) {
	e := setup(t, newDB)
	ctx := ctxT(t)

	p := newPlan("plan-1", "cert-1")
	require.NoError(t, e.s.SavePlan(ctx, p))

	got, err := e.s.GetPlan(ctx, "plan-1")
	require.NoError(t, err)
	assert.Equal(t, p.Calls, got.Calls)
	assert.Equal(t, p.CreatedBy, got.CreatedBy)
	assertSameTime(t, p.Created, got.Created, "created")
	got.Created, p.Created = time.Time{}, time.Time{}
	assert.Equal(t, p, got)

	t.Run("unknown id is not found", func(t *testing.T) {
		_, err := e.s.GetPlan(ctx, "plan-nope")
		requireCode(t, certs.ENOTFOUND, err)
	})
	t.Run("duplicate id is a conflict and keeps the first", func(t *testing.T) {
		dup := newPlan("plan-1", "cert-other")
		requireCode(t, certs.ECONFLICT, e.s.SavePlan(ctx, dup))
		got, err := e.s.GetPlan(ctx, "plan-1")
		require.NoError(t, err)
		assert.Equal(t, "cert-1", got.CertificationID)
	})
}

func testCreateGetRequest(t *testing.T, newDB NewDatabase) {
	e := setup(t, newDB)
	ctx := ctxT(t)

	r := create(t, e.s, newRequest("r-1", "cert-1", alice, e.clock.Now()))
	assert.Equal(t, int64(1), r.Version, "a new request is version 1")

	got, err := e.s.GetRequest(ctx, "r-1")
	require.NoError(t, err)
	assertRequest(t, r, got)
	assert.Equal(t, time.UTC, got.Created.Location())
	assert.True(t, got.Updated.Equal(got.Created), "updated starts at created")

	t.Run("its event is in the audit trail with the request's ids", func(t *testing.T) {
		evs, err := e.s.ListEvents(ctx, certs.EventFilter{RequestID: "r-1"})
		require.NoError(t, err)
		require.Len(t, evs, 1)
		assert.Equal(t, certs.ActionRequestCreated, evs[0].Action)
		assert.Equal(t, "cert-1", evs[0].CertificationID)
		assert.Equal(t, alice, evs[0].Actor)
		assert.Equal(t, 7, evs[0].Count)
		assertSameTime(t, start, evs[0].Time, "event time defaults to now")
	})
	t.Run("a request without expiry round-trips", func(t *testing.T) {
		r := newRequest("r-no-expiry", "cert-1", bob, e.clock.Now())
		r.ExpiresAt = time.Time{}
		create(t, e.s, r)
		got, err := e.s.GetRequest(ctx, "r-no-expiry")
		require.NoError(t, err)
		assert.True(t, got.ExpiresAt.IsZero())
	})
	t.Run("unknown id is not found", func(t *testing.T) {
		_, err := e.s.GetRequest(ctx, "r-nope")
		requireCode(t, certs.ENOTFOUND, err)
	})
	t.Run("decided request round-trips", func(t *testing.T) {
		d := newRequest("r-decided", "cert-1", bob, e.clock.Now())
		d.State = certs.StateSubmitted
		d.DecidedBy = &carol
		d.DecisionReason = "fine"
		d.Tasks = []certs.RequestTask{{Call: 0, TaskID: "task-1", Status: certs.TaskQueued, TrackingID: "trk-1"},
			{Call: 1, TaskID: "task-2", Status: certs.TaskError, Errors: []string{"identity is inactive"}}}
		d.Error = "one call failed"
		create(t, e.s, d)
		got, err := e.s.GetRequest(ctx, "r-decided")
		require.NoError(t, err)
		assertRequest(t, d, got)
	})
}

func testDuplicateRequest(t *testing.T, newDB NewDatabase) {
	e := setup(t, newDB)
	ctx := ctxT(t)
	create(t, e.s, newRequest("r-1", "cert-1", alice, e.clock.Now()))

	dup := newRequest("r-1", "cert-2", bob, e.clock.Now())
	err := e.s.CreateRequest(ctx, dup, certs.Event{Actor: bob, Action: certs.ActionRequestCreated})
	requireCode(t, certs.ECONFLICT, err)

	got, err := e.s.GetRequest(ctx, "r-1")
	require.NoError(t, err)
	assert.Equal(t, "cert-1", got.Plan.CertificationID, "the first request is kept")
	evs, err := e.s.ListEvents(ctx, certs.EventFilter{})
	require.NoError(t, err)
	assert.Len(t, evs, 1, "the duplicate's event is not appended")
}

func testListRequests(t *testing.T, newDB NewDatabase) {
	e := setup(t, newDB)
	ctx := ctxT(t)
	at := func(min int) time.Time { return start.Add(time.Duration(min) * time.Minute) }
	create(t, e.s, newRequest("r-1", "cert-1", alice, at(1)))
	create(t, e.s, newRequest("r-2", "cert-1", bob, at(2)))
	create(t, e.s, newRequest("r-3", "cert-2", alice, at(3)))
	r4 := newRequest("r-4", "cert-2", carol, at(4))
	r4.State = certs.StateApproved
	create(t, e.s, r4)

	for _, tc := range []struct {
		name string
		f    certs.RequestFilter
		want []string
	}{
		{"all, newest first", certs.RequestFilter{}, []string{"r-4", "r-3", "r-2", "r-1"}},
		{"by state", certs.RequestFilter{States: []certs.RequestState{certs.StateApproved}}, []string{"r-4"}},
		{"by several states", certs.RequestFilter{States: []certs.RequestState{certs.StatePending, certs.StateApproved}}, []string{"r-4", "r-3", "r-2", "r-1"}},
		{"by certification", certs.RequestFilter{CertificationID: "cert-1"}, []string{"r-2", "r-1"}},
		{"by requester's front-end key", certs.RequestFilter{RequesterKey: "slack:U0ALICE"}, []string{"r-3", "r-1"}},
		{"by requester's identity key", certs.RequestFilter{RequesterKey: "identity:" + bob.IdentityID}, []string{"r-2"}},
		{"by a key nobody has", certs.RequestFilter{RequesterKey: "identity:"}, []string{}},
		{"combined", certs.RequestFilter{CertificationID: "cert-2", RequesterKey: "slack:U0ALICE", States: []certs.RequestState{certs.StatePending}}, []string{"r-3"}},
		{"limited", certs.RequestFilter{Limit: 2}, []string{"r-4", "r-3"}},
		{"nothing matches", certs.RequestFilter{CertificationID: "cert-none"}, []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := e.s.ListRequests(ctx, tc.f)
			require.NoError(t, err)
			assert.Equal(t, tc.want, ids(got))
		})
	}
}

func testUpdateRequest(t *testing.T, newDB NewDatabase) {
	e := setup(t, newDB)
	ctx := ctxT(t)
	pending := []certs.RequestState{certs.StatePending}

	t.Run("the call log and what a request waits for are kept", func(t *testing.T) {
		r := newRequest("r-log", "cert-1", alice, e.clock.Now())
		r.CallLog = true
		create(t, e.s, r)
		stored, err := e.s.GetRequest(ctx, "r-log")
		require.NoError(t, err)
		assert.True(t, stored.CallLog)
		assert.Empty(t, stored.WaitingFor)
		got, err := e.s.UpdateRequest(ctx, "r-log", pending, func(r *certs.Request) error {
			r.WaitingFor = "r-other"
			r.CallLog = false
			return nil
		})
		require.NoError(t, err)
		stored, err = e.s.GetRequest(ctx, "r-log")
		require.NoError(t, err)
		assert.Equal(t, "r-other", stored.WaitingFor)
		assert.False(t, stored.CallLog)
		assertRequest(t, got, stored)
	})

	t.Run("success bumps version, sets updated and appends events", func(t *testing.T) {
		create(t, e.s, newRequest("r-ok", "cert-1", alice, e.clock.Now()))
		e.clock.Advance(time.Minute)
		got, err := e.s.UpdateRequest(ctx, "r-ok", pending, approve(bob),
			certs.Event{Actor: bob, Action: certs.ActionRequestApproved},
			certs.Event{Actor: bob, Action: certs.ActionSubmitting, RequestID: "r-explicit", CertificationID: "cert-explicit"})
		require.NoError(t, err)
		assert.Equal(t, certs.StateApproved, got.State)
		assert.Equal(t, int64(2), got.Version)
		assertSameTime(t, e.clock.Now(), got.Updated, "updated")
		assertSameTime(t, start, got.Created, "created is unchanged")

		stored, err := e.s.GetRequest(ctx, "r-ok")
		require.NoError(t, err)
		assertRequest(t, got, stored)

		evs, err := e.s.ListEvents(ctx, certs.EventFilter{ActorKey: "mcp:bob-token"})
		require.NoError(t, err)
		require.Len(t, evs, 2)
		assert.Equal(t, "r-ok", evs[0].RequestID, "the request's id is filled in")
		assert.Equal(t, "cert-1", evs[0].CertificationID, "the request's certification is filled in")
		assertSameTime(t, e.clock.Now(), evs[0].Time, "event time")
		assert.Equal(t, "r-explicit", evs[1].RequestID, "an id the event has is kept")
		assert.Equal(t, "cert-explicit", evs[1].CertificationID)
	})

	t.Run("wrong state is a conflict that says who decided", func(t *testing.T) {
		create(t, e.s, newRequest("r-123", "cert-1", alice, e.clock.Now()))
		_, err := e.s.UpdateRequest(ctx, "r-123", pending, approve(alice), certs.Event{Actor: alice, Action: certs.ActionRequestApproved})
		require.NoError(t, err)
		before, err := e.s.ListEvents(ctx, certs.EventFilter{RequestID: "r-123"})
		require.NoError(t, err)

		called := false
		cur, err := e.s.UpdateRequest(ctx, "r-123", pending, func(r *certs.Request) error {
			called = true
			return nil
		}, certs.Event{Actor: bob, Action: certs.ActionRequestDenied})
		requireCode(t, certs.ECONFLICT, err)
		assert.Equal(t, "request r-123 is already approved by Alice", certs.ErrorMessage(err))
		assert.False(t, called, "update is not called on a conflict")
		require.NotNil(t, cur, "the current request comes with the conflict")
		assert.Equal(t, certs.StateApproved, cur.State)
		assert.Equal(t, int64(2), cur.Version)
		require.NotNil(t, cur.DecidedBy)
		assert.Equal(t, alice, *cur.DecidedBy)

		after, err := e.s.ListEvents(ctx, certs.EventFilter{RequestID: "r-123"})
		require.NoError(t, err)
		assert.Equal(t, actions(before), actions(after), "no event is appended when the CAS fails")
	})

	t.Run("conflict past the decision names state and approver", func(t *testing.T) {
		r := newRequest("r-sub", "cert-1", alice, e.clock.Now())
		r.State, r.DecidedBy = certs.StateSubmitted, &bob
		create(t, e.s, r)
		_, err := e.s.UpdateRequest(ctx, "r-sub", pending, approve(carol))
		requireCode(t, certs.ECONFLICT, err)
		assert.Equal(t, "request r-sub is already submitted (approved by Bob)", certs.ErrorMessage(err))
	})

	t.Run("conflict on an undecided request names its state", func(t *testing.T) {
		r := newRequest("r-exp", "cert-1", alice, e.clock.Now())
		r.State = certs.StateExpired
		create(t, e.s, r)
		cur, err := e.s.UpdateRequest(ctx, "r-exp", pending, approve(bob))
		requireCode(t, certs.ECONFLICT, err)
		assert.Equal(t, "request r-exp is already expired", certs.ErrorMessage(err))
		assert.Equal(t, certs.StateExpired, cur.State)
	})

	t.Run("update error aborts and writes nothing", func(t *testing.T) {
		create(t, e.s, newRequest("r-abort", "cert-1", alice, e.clock.Now()))
		errNo := certs.Errorf(certs.EFORBIDDEN, "Alice cannot approve her own request")
		got, err := e.s.UpdateRequest(ctx, "r-abort", pending, func(r *certs.Request) error {
			r.State = certs.StateApproved
			r.FrontendRefs["x"] = "y"
			return errNo
		}, certs.Event{Actor: alice, Action: certs.ActionRequestApproved})
		assert.Nil(t, got)
		assert.True(t, errors.Is(err, errNo), "update's error comes back as it is: %v", err)

		stored, err := e.s.GetRequest(ctx, "r-abort")
		require.NoError(t, err)
		assert.Equal(t, certs.StatePending, stored.State)
		assert.Equal(t, int64(1), stored.Version)
		assert.NotContains(t, stored.FrontendRefs, "x")
		evs, err := e.s.ListEvents(ctx, certs.EventFilter{RequestID: "r-abort"})
		require.NoError(t, err)
		assert.Equal(t, []certs.Action{certs.ActionRequestCreated}, actions(evs))
	})

	t.Run("update cannot change id, version or created", func(t *testing.T) {
		r := create(t, e.s, newRequest("r-fixed", "cert-1", alice, e.clock.Now()))
		got, err := e.s.UpdateRequest(ctx, "r-fixed", pending, func(r *certs.Request) error {
			r.ID, r.Version, r.Created = "r-other", 99, time.Time{}
			r.FrontendRefs["slack.ts"] = "2"
			return nil
		})
		require.NoError(t, err)
		assert.Equal(t, "r-fixed", got.ID)
		assert.Equal(t, int64(2), got.Version)
		assertSameTime(t, r.Created, got.Created, "created")
		stored, err := e.s.GetRequest(ctx, "r-fixed")
		require.NoError(t, err)
		assert.Equal(t, "2", stored.FrontendRefs["slack.ts"])
		_, err = e.s.GetRequest(ctx, "r-other")
		requireCode(t, certs.ENOTFOUND, err)
	})

	t.Run("several from states", func(t *testing.T) {
		r := newRequest("r-multi", "cert-1", alice, e.clock.Now())
		r.State = certs.StateSubmitting
		create(t, e.s, r)
		got, err := e.s.UpdateRequest(ctx, "r-multi", []certs.RequestState{certs.StateSubmitting, certs.StateSubmitted},
			func(r *certs.Request) error { r.State = certs.StateCompleted; return nil })
		require.NoError(t, err)
		assert.Equal(t, certs.StateCompleted, got.State)
	})

	t.Run("unknown id is not found", func(t *testing.T) {
		got, err := e.s.UpdateRequest(ctx, "r-nope", pending, approve(bob))
		requireCode(t, certs.ENOTFOUND, err)
		assert.Nil(t, got)
	})

	t.Run("a lease does not block an update", func(t *testing.T) {
		create(t, e.s, newRequest("r-leased", "cert-1", alice, e.clock.Now()))
		claimed, err := e.s.ClaimRequests(ctx, "worker-a", pending, time.Minute, 10)
		require.NoError(t, err)
		require.Contains(t, ids(claimed), "r-leased")
		_, err = e.s.UpdateRequest(ctx, "r-leased", pending, approve(bob))
		require.NoError(t, err)
	})
}

// testUpdateRace is the exactly-once guarantee: twenty approvers click at
// once, through two store handles (two replicas), and exactly one approval
// happens.
func testUpdateRace(t *testing.T, newDB NewDatabase) {
	e := setup(t, newDB)
	ctx := ctxT(t)
	stores := []certs.Store{e.s, e.another(t)}
	create(t, e.s, newRequest("r-race", "cert-1", alice, e.clock.Now()))

	const n = 20
	type result struct {
		r   *certs.Request
		err error
	}
	results := make([]result, n)
	var wg sync.WaitGroup
	ready := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			approver := certs.Actor{ID: fmt.Sprintf("U%02d", i), Name: fmt.Sprintf("Approver %d", i), Frontend: certs.FrontendSlack, Role: certs.RoleReviewer}
			<-ready
			r, err := stores[i%len(stores)].UpdateRequest(ctx, "r-race", []certs.RequestState{certs.StatePending}, approve(approver),
				certs.Event{Actor: approver, Action: certs.ActionRequestApproved})
			results[i] = result{r, err}
		})
	}
	close(ready)
	wg.Wait()

	var winners []int
	for i, res := range results {
		if res.err == nil {
			winners = append(winners, i)
		}
	}
	require.Len(t, winners, 1, "exactly one approval wins")
	winner := results[winners[0]].r
	require.NotNil(t, winner.DecidedBy)
	for i, res := range results {
		if i == winners[0] {
			continue
		}
		requireCode(t, certs.ECONFLICT, res.err)
		assert.Equal(t, "request r-race is already approved by "+winner.DecidedBy.Name, certs.ErrorMessage(res.err))
		require.NotNil(t, res.r, "loser %d gets the current request", i)
		assert.Equal(t, winner.DecidedBy, res.r.DecidedBy)
	}

	stored, err := e.s.GetRequest(ctx, "r-race")
	require.NoError(t, err)
	assert.Equal(t, int64(2), stored.Version, "one write")
	assert.Equal(t, winner.DecidedBy, stored.DecidedBy)
	evs, err := e.s.ListEvents(ctx, certs.EventFilter{RequestID: "r-race"})
	require.NoError(t, err)
	assert.Equal(t, []certs.Action{certs.ActionRequestCreated, certs.ActionRequestApproved}, actions(evs), "one approval event")
	assert.Equal(t, *winner.DecidedBy, evs[1].Actor)
}

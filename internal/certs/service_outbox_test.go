package certs_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/certs"
	"github.com/certops/certops/internal/certs/certstest"
)

const lease = 30 * time.Second

// claim claims up to 100 notifications as consumer "slack".
func (f *fixture) claim(t *testing.T, owner string) []certs.Notification {
	t.Helper()
	ns, err := f.svc.ClaimNotifications(context.Background(), "slack", owner, lease, 100)
	require.NoError(t, err)
	return ns
}

func actionsOf(ns []certs.Notification) []certs.Action {
	var out []certs.Action
	for _, n := range ns {
		out = append(out, n.Action)
	}
	return out
}

func TestClaimNotifications_eventsInOrderWithTheirRequest(t *testing.T) {
	t.Parallel()
	f := setup(t, approvalPolicy)
	ctx := context.Background()
	r := f.pending(t)

	ns := f.claim(t, "replica-1")
	require.Equal(t, []certs.Action{certs.ActionPlanCreated, certs.ActionRequestCreated}, actionsOf(ns))
	assert.Less(t, ns[0].Seq, ns[1].Seq)
	assert.Nil(t, ns[0].Request, "planning is about no request")
	require.NotNil(t, ns[1].Request)
	assert.Equal(t, r.ID, ns[1].Request.ID)
	assert.Equal(t, certs.StatePending, ns[1].Request.State)
	assert.Equal(t, "1700000000.000100", ns[1].Request.FrontendRefs["slack.ts"])

	require.NoError(t, f.svc.AckNotifications(ctx, "slack", "replica-1", ns[1].Seq))
	assert.Empty(t, f.claim(t, "replica-1"), "everything told")
	assert.Empty(t, f.claim(t, "replica-2"), "by every replica: the cursor is the consumer's")

	// Another consumer has its own cursor.
	other, err := f.svc.ClaimNotifications(ctx, "teams", "replica-1", lease, 100)
	require.NoError(t, err)
	assert.Len(t, other, 2)
}

// The events of one request in a batch show the request once, as it is when
// claimed: a front end renders what is, not each step.
func TestClaimNotifications_requestAsItIsNow(t *testing.T) {
	t.Parallel()
	f := setup(t, approvalPolicy)
	ctx := context.Background()
	r := f.pending(t)
	_, err := f.svc.Approve(ctx, alice, r.ID)
	require.NoError(t, err)
	now := f.get(t, r.ID)
	require.NotEqual(t, certs.StatePending, now.State)

	var about []certs.Notification
	for _, n := range f.claim(t, "replica-1") {
		if n.RequestID == r.ID {
			about = append(about, n)
		}
	}
	require.GreaterOrEqual(t, len(about), 3, "created, approved, submitting, …: %v", actionsOf(about))
	assert.Equal(t, certs.ActionRequestCreated, about[0].Action)
	for _, n := range about {
		require.NotNil(t, n.Request, "%s", n.Action)
		assert.Same(t, about[0].Request, n.Request, "one reading per request")
		assert.Equal(t, now.State, n.Request.State, "%s shows the request as it is now", n.Action)
		assert.Equal(t, now.Version, n.Request.Version)
	}
}

func TestClaimNotifications_eventOfAMissingRequest(t *testing.T) {
	t.Parallel()
	f := setup(t, approvalPolicy)
	require.NoError(t, f.store.AppendEvents(context.Background(), certs.Event{Action: certs.ActionRequestExpired, RequestID: "gone"}))
	ns := f.claim(t, "replica-1")
	require.Len(t, ns, 1)
	assert.Equal(t, "gone", ns[0].RequestID)
	assert.Nil(t, ns[0].Request)
}

func TestClaimNotifications_leaseOwnership(t *testing.T) {
	t.Parallel()
	f := setup(t, approvalPolicy)
	ctx := context.Background()
	f.pending(t)

	first := f.claim(t, "replica-1")
	require.Len(t, first, 2)
	assert.Empty(t, f.claim(t, "replica-2"), "replica-1 holds the lease")

	f.clock.Advance(lease + time.Second)
	again := f.claim(t, "replica-2")
	assert.Equal(t, actionsOf(first), actionsOf(again), "an ended lease hands the unacknowledged events over")

	err := f.svc.AckNotifications(ctx, "slack", "replica-1", first[1].Seq)
	requireCode(t, certs.ECONFLICT, err)
	assert.Contains(t, certs.ErrorMessage(err), "replica-1")
	require.NoError(t, f.svc.AckNotifications(ctx, "slack", "replica-2", again[1].Seq))
	assert.Empty(t, f.claim(t, "replica-1"))
}

func TestClaimNotifications_invalidArguments(t *testing.T) {
	t.Parallel()
	f := setup(t, approvalPolicy)
	ctx := context.Background()
	for _, tc := range []struct {
		name            string
		consumer, owner string
		lease           time.Duration
		limit           int
		names           string // what the message names
	}{
		{"consumer missing", "", "replica-1", lease, 10, "consumer is required"},
		{"owner missing", "slack", "", lease, 10, "lease owner is required"},
		{"owner with a space", "slack", "replica 1", lease, 10, "lease owner"},
		{"lease zero", "slack", "replica-1", 0, 10, "lease is 0s"},
		{"lease negative", "slack", "replica-1", -time.Second, 10, "lease is -1s"},
		{"limit zero", "slack", "replica-1", lease, 0, "limit 0"},
		{"limit too large", "slack", "replica-1", lease, certs.MaxNotificationBatch + 1, "limit 1001 is outside 1..1000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ns, err := f.svc.ClaimNotifications(ctx, tc.consumer, tc.owner, tc.lease, tc.limit)
			requireCode(t, certs.EINVALID, err)
			assert.Contains(t, certs.ErrorMessage(err), tc.names)
			assert.Nil(t, ns)
		})
	}
	t.Run("ack: owner missing", func(t *testing.T) {
		err := f.svc.AckNotifications(ctx, "slack", "", 1)
		requireCode(t, certs.EINVALID, err)
		assert.Contains(t, certs.ErrorMessage(err), "lease owner is required")
	})
	t.Run("ack: negative seq", func(t *testing.T) {
		err := f.svc.AckNotifications(ctx, "slack", "replica-1", -1)
		requireCode(t, certs.EINVALID, err)
		assert.Contains(t, certs.ErrorMessage(err), "seq -1")
	})
}

// unreadableStore fails every GetRequest, as a database gone mid-claim.
type unreadableStore struct{ *certstest.Store }

func (unreadableStore) GetRequest(context.Context, string) (*certs.Request, error) {
	return nil, certs.Errorf(certs.EUNAVAILABLE, "database is down")
}

// A claim that cannot read its requests fails, keeps the cursor where it was
// and releases the lease, so the next claim, by any replica, need not wait
// for the lease to end.
func TestClaimNotifications_storeFailureReleasesTheLease(t *testing.T) {
	t.Parallel()
	f := setup(t, approvalPolicy)
	f.pending(t)
	broken := certs.NewService(func() certs.Options {
		o := f.opts
		o.Store = unreadableStore{f.store}
		return o
	}())

	ns, err := broken.ClaimNotifications(context.Background(), "slack", "replica-1", lease, 100)
	requireCode(t, certs.EUNAVAILABLE, err)
	assert.Contains(t, certs.ErrorMessage(err), "database is down")
	assert.Nil(t, ns)

	again := f.claim(t, "replica-2")
	assert.Equal(t, []certs.Action{certs.ActionPlanCreated, certs.ActionRequestCreated}, actionsOf(again), "nothing was acknowledged")
}

// Front ends post for approvers only requests approvers are asked about.
func TestNotification_selfSubmittedAndFiledBy(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("submitted by its requester under a policy that requires no approval", func(t *testing.T) {
		f := setup(t, certs.Policy{})
		p := f.plan(t, bob)
		r, err := f.svc.SubmitPlan(ctx, bob, p.ID, p.Digest)
		require.NoError(t, err)
		assert.True(t, r.SelfSubmitted())
		assert.True(t, r.FiledBy(bob))
		assert.True(t, r.FiledBy(certs.Actor{ID: "tok-bob", Frontend: certs.FrontendMCP, Role: certs.RoleReviewer, IdentityID: "ID-BOB"}), "the same identity from another front end")
		assert.False(t, r.FiledBy(alice))
		for _, n := range f.claim(t, "replica-1") {
			if n.Request != nil {
				assert.True(t, n.Request.SelfSubmitted(), "%s", n.Action)
			}
		}
	})

	t.Run("pending, then approved by an approver", func(t *testing.T) {
		f := setup(t, approvalPolicy)
		r := f.pending(t)
		assert.False(t, r.SelfSubmitted())
		_, err := f.svc.Approve(ctx, alice, r.ID)
		require.NoError(t, err)
		got := f.get(t, r.ID)
		assert.False(t, got.SelfSubmitted())
		assert.True(t, got.FiledBy(bob))
		assert.False(t, got.FiledBy(alice), "the approver did not file it")
	})

	t.Run("cancelled by its requester", func(t *testing.T) {
		f := setup(t, approvalPolicy)
		r := f.pending(t)
		_, err := f.svc.Cancel(ctx, bob, r.ID)
		require.NoError(t, err)
		assert.False(t, f.get(t, r.ID).SelfSubmitted(), "it was put to approvers")
	})
}

func TestApproverKey(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "slack:U0123ABC", certs.ApproverKey(certs.FrontendSlack, "U0123ABC"))
	assert.Equal(t, "mcp:ops-token", certs.ApproverKey(certs.FrontendMCP, "ops-token"))
	a := certs.Actor{ID: "U0123ABC", Frontend: certs.FrontendSlack, Role: certs.RoleReviewer, IdentityID: "id-1"}
	assert.True(t, a.Is(certs.ApproverKey(certs.FrontendSlack, "U0123ABC")))
	assert.False(t, a.Is(certs.ApproverKey(certs.FrontendMCP, "U0123ABC")))
	assert.Equal(t, certs.ApproverKey(a.Frontend, a.ID), a.Keys()[0])
}

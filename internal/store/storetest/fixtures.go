package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/certs"
)

var (
	alice = certs.Actor{ID: "U0ALICE", Name: "Alice", Frontend: certs.FrontendSlack, Role: certs.RoleReviewer,
		IdentityID: "2c9180835d191a86015d28455b4a2329", Email: "alice@example.com"}
	bob = certs.Actor{ID: "bob-token", Name: "Bob", Frontend: certs.FrontendMCP, Role: certs.RoleAdmin,
		IdentityID: "2c9180835d191a86015d28455b4a2330"}
	carol = certs.Actor{ID: "U0CAROL", Name: "Carol", Frontend: certs.FrontendSlack, Role: certs.RoleReviewer}
)

// newPlan returns a plan of certification certID with two calls.
func newPlan(id, certID string) *certs.Plan {
	refs := []certs.Ref{{ID: "item-1", Type: certs.RefItem}, {ID: "item-2", Type: certs.RefItem}, {ID: "sum-1", Type: certs.RefIdentitySummary}}
	return &certs.Plan{
		ID: id, Digest: "sha256:" + id, CertificationID: certID, CertificationName: "Q4 manager review",
		CampaignName: "Q4 2026",
		From:         certs.Reviewer{ID: "rev-1", Name: "Dana", Email: "dana@example.com"},
		To:           certs.Identity{ID: "2c9180835d191a86015d28455b4a9999", Name: "Erin", Email: "erin@example.com", State: "ACTIVE"},
		Reason:       "Dana is on leave",
		Refs:         refs, ItemCount: 7, IdentityNames: []string{"Frank", "Grace"},
		Calls: []certs.Reassignment{
			{CertificationID: certID, Refs: refs[:2], To: "2c9180835d191a86015d28455b4a9999", Reason: "Dana is on leave"},
			{CertificationID: certID, Refs: refs[2:], To: "2c9180835d191a86015d28455b4a9999", Reason: "Dana is on leave"},
		},
		Summary:   "Move 7 items of 2 identities from Dana to Erin in 2 calls",
		Warnings:  []string{"Erin already reviews 3 items of Frank"},
		CreatedBy: alice,
		Created:   start,
	}
}

// newRequest returns a pending request filed by requester at created.
func newRequest(id, certID string, requester certs.Actor, created time.Time) *certs.Request {
	return &certs.Request{
		ID:           id,
		Plan:         *newPlan("plan-"+id, certID),
		Requester:    requester,
		Approvers:    []string{"slack:U0CAROL", "identity:2c9180835d191a86015d28455b4a2330"},
		State:        certs.StatePending,
		FrontendRefs: map[string]string{"slack.channel": "C0APPROVALS", "slack.ts": "1732354200.000100"},
		Created:      created,
		ExpiresAt:    created.Add(certs.DefaultRequestTTL),
	}
}

// create stores r (with one request.created event) and returns it as
// stored.
func create(t *testing.T, s certs.Store, r *certs.Request) *certs.Request {
	t.Helper()
	require.NoError(t, s.CreateRequest(ctxT(t), r, certs.Event{Actor: r.Requester, Action: certs.ActionRequestCreated, Count: r.Plan.ItemCount}))
	return r
}

// approve is an update that approves as a.
func approve(a certs.Actor) func(*certs.Request) error {
	return func(r *certs.Request) error {
		r.State = certs.StateApproved
		r.DecidedBy = &a
		r.DecisionReason = "looks right"
		return nil
	}
}

// assertSameTime checks two times are the same instant to the microsecond
// (the precision both engines keep).
func assertSameTime(t *testing.T, want, got time.Time, what string) {
	t.Helper()
	assert.Truef(t, want.Truncate(time.Microsecond).Equal(got.Truncate(time.Microsecond)), "%s: want %s, got %s", what, want, got)
}

// assertRequest checks got is want as stored: every field equal, times to
// the microsecond.
func assertRequest(t *testing.T, want, got *certs.Request) {
	t.Helper()
	require.NotNil(t, got)
	assertSameTime(t, want.Created, got.Created, "created")
	assertSameTime(t, want.Updated, got.Updated, "updated")
	assertSameTime(t, want.ExpiresAt, got.ExpiresAt, "expiresAt")
	assertSameTime(t, want.Plan.Created, got.Plan.Created, "plan.created")
	w, g := *want, *got
	w.Created, w.Updated, w.ExpiresAt, w.Plan.Created = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	g.Created, g.Updated, g.ExpiresAt, g.Plan.Created = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	assert.Equal(t, w, g)
}

// ids returns the requests' ids in order.
func ids(rs []*certs.Request) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.ID
	}
	return out
}

// actions returns the events' actions in order.
func actions(es []certs.Event) []certs.Action {
	out := make([]certs.Action, len(es))
	for i, e := range es {
		out[i] = e.Action
	}
	return out
}

func requireCode(t *testing.T, code string, err error) {
	t.Helper()
	require.Error(t, err)
	require.Equalf(t, code, certs.ErrorCode(err), "error %v", err)
}

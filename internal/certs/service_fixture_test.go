package certs_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/certs"
	"github.com/certops/certops/internal/certs/certstest"
	"github.com/certops/certops/internal/testkit"
)

// Unit-test fixture: the Service over the in-memory fakes, with a clock the
// test moves.

var t0 = time.Date(2026, 11, 23, 14, 0, 0, 0, time.UTC)

// clock is the module's test clock.
type clock = testkit.Clock

var (
	admin    = certs.Actor{ID: "tok-admin", Name: "Ada Admin", Frontend: certs.FrontendMCP, Role: certs.RoleAdmin, IdentityID: "id-admin"}
	bob      = certs.Actor{ID: "U_BOB", Name: "Bob Smith", Frontend: certs.FrontendSlack, Role: certs.RoleReviewer, IdentityID: "id-bob"}
	alice    = certs.Actor{ID: "U_ALICE", Name: "Alice", Frontend: certs.FrontendSlack, Role: certs.RoleAdmin, IdentityID: "id-alice"}
	albert   = certs.Actor{ID: "U_ALBERT", Name: "Albert", Frontend: certs.FrontendSlack, Role: certs.RoleReviewer, IdentityID: "id-albert"}
	eve      = certs.Actor{ID: "U_EVE", Name: "Eve", Frontend: certs.FrontendSlack, Role: certs.RoleReviewer, IdentityID: "id-eve"}
	unlinked = certs.Actor{ID: "tok-x", Name: "X", Frontend: certs.FrontendMCP, Role: certs.RoleReviewer}
)

const (
	certID   = "cert-1"
	certName = "Q3 Manager Review – Bob"
)

type fixture struct {
	svc    *certs.Service
	tenant *certstest.Tenant
	store  *certstest.Store
	clock  *clock
	opts   certs.Options
}

// setup builds a tenant with Bob's certification cert-1 in campaign camp-1
// (due in 10 days) holding 2 open items of Ana Silva, 1 open item of Dan
// Ray, 1 decided item of Dan Ray and 1 open item of Carol Diaz; Carol
// reviews nothing yet.
func setup(t *testing.T, policy certs.Policy, tweak ...func(*certs.Options)) *fixture {
	t.Helper()
	clk := testkit.NewClock(t0)
	tenant := certstest.NewTenant()
	tenant.Now = clk.Now
	store := certstest.NewStore()
	store.Now = clk.Now
	for _, i := range [][3]string{
		{"id-bob", "Bob Smith", "bob@example.com"}, {"id-carol", "Carol Diaz", "Carol.Diaz@example.com"},
		{"id-ana", "Ana Silva", "ana@example.com"}, {"id-dan", "Dan Ray", "dan@example.com"},
		{"id-alice", "Alice", "alice@example.com"}, {"id-gone", "Gone Person", "gone@example.com"},
	} {
		tenant.AddIdentity(i[0], i[1], i[2])
	}
	tenant.SetIdentityState("id-gone", "INACTIVE_LONG_TERM")
	due := t0.Add(10 * 24 * time.Hour)
	tenant.AddCertification(certs.Certification{
		ID: certID, Name: certName, Phase: certs.PhaseActive, Due: &due,
		Campaign: certs.Campaign{ID: "camp-1", Name: "Q3 Manager Review", CampaignType: certs.CampaignManager},
		Reviewer: certs.Reviewer{ID: "id-bob", Name: "Bob Smith", Email: "bob@example.com", Type: certs.ReviewerIdentity},
	})
	tenant.AddItems(certID,
		item("item-a1", "id-ana", "Ana Silva", false),
		item("item-a2", "id-ana", "Ana Silva", false),
		item("item-d1", "id-dan", "Dan Ray", false),
		item("item-d2", "id-dan", "Dan Ray", true),
		item("item-c1", "id-carol", "Carol Diaz", false),
	)
	var ids atomic.Int64
	opts := certs.Options{
		Tenant: tenant, Store: store, Policy: policy,
		Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
		Now:      clk.Now,
		NewID:    func() string { return fmt.Sprintf("id%03d", ids.Add(1)) },
		TaskPoll: time.Millisecond, TaskPollMax: 4 * time.Millisecond,
		Owner: "test-1",
	}
	for _, f := range tweak {
		f(&opts)
	}
	return &fixture{svc: certs.NewService(opts), tenant: tenant, store: store, clock: clk, opts: opts}
}

// approvalPolicy requires approval by Alice or Albert.
var approvalPolicy = certs.Policy{RequireApproval: true, Approvers: []string{"slack:U_ALICE", "slack:U_ALBERT"}}

func item(id, identityID, name string, completed bool) certs.ReviewItem {
	it := certs.ReviewItem{
		ID:              id,
		Completed:       completed,
		Access:          certs.Access{Type: certs.AccessEntitlement, ID: "acc-" + id, Name: "Access " + id, SourceName: "AD"},
		IdentitySummary: certs.IdentitySummary{ID: "sum-" + identityID, Name: name, IdentityID: identityID},
	}
	if completed {
		it.Decision = certs.DecisionApprove
	}
	return it
}

// addItems adds n open items of one identity to a certification.
func addItems(tn *certstest.Tenant, cert, identityID, name string, n int) {
	items := make([]certs.ReviewItem, n)
	for i := range items {
		items[i] = item(fmt.Sprintf("%s-%05d", identityID, i), identityID, name, false)
	}
	tn.AddItems(cert, items...)
}

// plan plans moving Ana's and Dan's open items to Carol.
func (f *fixture) plan(t *testing.T, a certs.Actor) *certs.Plan {
	t.Helper()
	p, err := f.svc.PlanReassignment(context.Background(), a, certs.PlanInput{
		CertificationID: certID, ItemIDs: []string{"item-a1", "item-a2", "item-d1"}, Target: "carol.diaz@example.com", Reason: "Bob is on leave",
	})
	require.NoError(t, err)
	return p
}

// pending files a request for approval by Alice or Albert, made by Bob.
func (f *fixture) pending(t *testing.T) *certs.Request {
	t.Helper()
	p := f.plan(t, bob)
	r, err := f.svc.RequestApproval(context.Background(), bob, p.ID, p.Digest, nil, map[string]string{"slack.ts": "1700000000.000100"})
	require.NoError(t, err)
	require.Equal(t, certs.StatePending, r.State)
	return r
}

func (f *fixture) actions(requestID string) []certs.Action {
	var out []certs.Action
	for _, ev := range f.store.Events() {
		if requestID == "" || ev.RequestID == requestID {
			out = append(out, ev.Action)
		}
	}
	return out
}

func (f *fixture) get(t *testing.T, id string) *certs.Request {
	t.Helper()
	r, err := f.store.GetRequest(context.Background(), id)
	require.NoError(t, err)
	return r
}

func requireCode(t *testing.T, code string, err error) {
	t.Helper()
	require.Error(t, err)
	require.Equal(t, code, certs.ErrorCode(err), "error: %v", err)
}

package tools

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/server"

	"github.com/certops/certops/internal/certs"
	"github.com/certops/certops/internal/certs/certstest"
	"github.com/certops/certops/internal/store/storetest"
)

// The tools are tested against the real certs.Service over certstest's
// in-memory Tenant and Store, so that what a tool does is checked against
// the Service's own rules (roles, digests, approval, exactly-once
// submission) rather than a fake's idea of them. Faults are injected
// through certstest's hooks (Tenant.Fail, BeforeReassign, AfterReassign).

// testNow is when every test starts, on the module's test clock
// (storetest.Clock), which is the Service's, the Tenant's, the Store's and
// the tools' and moves only when a test moves it.
var testNow = time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)

// testBundle is what a test needs besides the MCP server.
type testBundle struct {
	svc    *certs.Service
	tenant *certstest.Tenant
	store  *certstest.Store
	clock  *storetest.Clock
}

// testConfig varies the fixture.
type testConfig struct {
	// Policy is the Service's policy.
	Policy certs.Policy
	// Options are the tool server's options (Service, Logger and Now are
	// filled in).
	Options Options
	// Tenant, when set, wraps the fixture's tenant (to make one method
	// misbehave in a way certstest's hooks cannot).
	Tenant func(*certstest.Tenant) certs.Tenant
	// Service, when set, adjusts the Service's options.
	Service func(*certs.Options)
}

// setup returns a tool server over a real Service whose tenant holds:
//
//   - Alice Admin (id-alice, the test actor's identity), Bob Brown (id-bob),
//     Carol Chen (id-carol), Dan Diaz (id-dan);
//   - Alice's open certifications: cert-1 (campaign camp-1, due
//     2026-12-01, so overdue at testNow; items item-1, an Oracle
//     entitlement granting SELECT and UPDATE on PAYROLL.SALARIES, and
//     item-2, a role, both about Bob), cert-2 (camp-1, due 2026-12-04; one
//     of its two items decided) and cert-3 (camp-2, due 2026-12-04), and
//     her signed-off cert-signed (camp-2);
//   - Carol's cert-carol (camp-1, due 2026-12-04; one item about Dan);
//   - on cert-1, a queued task task-queued and a finished task task-done.
func setup(t *testing.T, cfg testConfig) (*server.MCPServer, *testBundle) {
	t.Helper()
	clock := storetest.NewClock(testNow)
	tn := certstest.NewTenant()
	tn.Now = clock.Now
	tn.AddIdentity("id-alice", "Alice Admin", "alice@example.com")
	tn.AddIdentity("id-bob", "Bob Brown", "bob@example.com")
	tn.AddIdentity("id-carol", "Carol Chen", "carol@example.com")
	tn.AddIdentity("id-dan", "Dan Diaz", "dan@example.com")

	due := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	later := due.Add(72 * time.Hour)
	camp1 := certs.Campaign{ID: "camp-1", Name: "Q4 Manager Review", CampaignType: certs.CampaignManager}
	camp2 := certs.Campaign{ID: "camp-2", Name: "Finance Source Review", CampaignType: certs.CampaignSourceOwner}
	alice := certs.Reviewer{ID: "id-alice", Name: "Alice Admin", Email: "alice@example.com", Type: certs.ReviewerIdentity}
	carol := certs.Reviewer{ID: "id-carol", Name: "Carol Chen", Email: "carol@example.com", Type: certs.ReviewerIdentity}
	for _, c := range []certs.Certification{
		{ID: "cert-1", Name: "Q4 Manager Review: Alice", Campaign: camp1, Reviewer: alice, Due: &due},
		{ID: "cert-2", Name: "Q4 Manager Review: Alice (2)", Campaign: camp1, Reviewer: alice, Due: &later},
		{ID: "cert-3", Name: "Finance Source Review", Campaign: camp2, Reviewer: alice, Due: &later},
		{ID: "cert-carol", Name: "Q4 Manager Review: Carol", Campaign: camp1, Reviewer: carol, Due: &later},
		{ID: "cert-signed", Name: "Q3 Finance Source Review", Campaign: camp2, Reviewer: alice, Due: &due, Phase: certs.PhaseSigned, Completed: true},
	} {
		if c.Phase == "" {
			c.Phase = certs.PhaseActive
		}
		c.Created, c.Modified = due.Add(-30*24*time.Hour), due.Add(-24*time.Hour)
		tn.AddCertification(c)
	}
	bob := certs.IdentitySummary{ID: "sum-bob", Name: "Bob Brown", IdentityID: "id-bob"}
	dan := certs.IdentitySummary{ID: "sum-dan", Name: "Dan Diaz", IdentityID: "id-dan"}
	tn.AddItems("cert-1",
		certs.ReviewItem{ID: "item-1", IdentitySummary: bob,
			Access: certs.Access{Type: certs.AccessEntitlement, ID: "ent-1", Name: "db_admin", SourceName: "Oracle", Privileged: true, HasPermissions: true}},
		certs.ReviewItem{ID: "item-2", IdentitySummary: bob,
			Access: certs.Access{Type: certs.AccessRole, ID: "role-1", Name: "Finance Analyst"}},
	)
	tn.AddItems("cert-2",
		certs.ReviewItem{ID: "item-3", IdentitySummary: dan, Completed: true, Decision: certs.DecisionApprove,
			Access: certs.Access{Type: certs.AccessRole, ID: "role-2", Name: "Payroll Clerk"}},
		certs.ReviewItem{ID: "item-4", IdentitySummary: dan,
			Access: certs.Access{Type: certs.AccessAccessProfile, ID: "ap-1", Name: "Accounts Payable", SourceName: "SAP"}},
	)
	tn.AddItems("cert-carol",
		certs.ReviewItem{ID: "item-c1", IdentitySummary: dan,
			Access: certs.Access{Type: certs.AccessRole, ID: "role-1", Name: "Finance Analyst"}},
	)
	tn.SetPermissions("item-1", certs.Permission{Target: "PAYROLL.SALARIES", Rights: []string{"SELECT", "UPDATE"}})
	tn.AddTask(certs.Task{ID: "task-queued", Type: certs.TaskReassign, TargetType: "CERTIFICATION", TargetID: "cert-1", Status: certs.TaskQueued, Created: due})
	tn.AddTask(certs.Task{ID: "task-done", Type: certs.TaskReassign, TargetType: "CERTIFICATION", TargetID: "cert-1", Status: certs.TaskSuccess, Created: due,
		Trail: []certs.ReassignmentTrail{{PreviousOwner: "id-alice", NewOwner: "id-carol"}}})

	st := certstest.NewStore()
	st.Now = clock.Now
	var tenant certs.Tenant = tn
	if cfg.Tenant != nil {
		tenant = cfg.Tenant(tn)
	}
	so := certs.Options{
		Tenant: tenant, Store: st, Policy: cfg.Policy, Logger: quietLogger(), Now: clock.Now,
		// FollowRequest reads tasks this often: fast, so that reassign's
		// wait ends as soon as the tenant's task does.
		TaskPoll: time.Millisecond, TaskPollMax: 4 * time.Millisecond,
	}
	if cfg.Service != nil {
		cfg.Service(&so)
	}
	svc := certs.NewService(so)
	opts := cfg.Options
	opts.Now = clock.Now
	opts.RequireApproval = cfg.Policy.RequireApproval
	return newTestServer(t, svc, opts), &testBundle{svc: svc, tenant: tn, store: st, clock: clock}
}

// finishingTenant is a tenant whose ISC finishes a task (SUCCESS) when it is
// first read, so that following a request ends at once.
type finishingTenant struct{ *certstest.Tenant }

func finishTasks(tn *certstest.Tenant) certs.Tenant { return finishingTenant{tn} }

func (f finishingTenant) GetTask(ctx context.Context, id string) (*certs.Task, error) {
	for _, task := range f.Tasks() {
		if task.ID == id && !task.Status.Done() {
			f.SetTaskStatus(id, certs.TaskSuccess)
		}
	}
	return f.Tenant.GetTask(ctx, id)
}

// addItems adds n open review items about Bob to cert-1 and returns their
// ids: more than certs.MaxSyncReassign make a plan that ISC carries out as
// a task to follow.
func addItems(tn *certstest.Tenant, n int) []string {
	ids := make([]string, n)
	items := make([]certs.ReviewItem, n)
	for i := range items {
		ids[i] = fmt.Sprintf("bulk-%03d", i)
		items[i] = certs.ReviewItem{ID: ids[i], IdentitySummary: certs.IdentitySummary{ID: "sum-bob", Name: "Bob Brown", IdentityID: "id-bob"},
			Access: certs.Access{Type: certs.AccessEntitlement, ID: fmt.Sprintf("ent-bulk-%03d", i), Name: fmt.Sprintf("share_%03d", i), SourceName: "Files"}}
	}
	tn.AddItems("cert-1", items...)
	return ids
}

package tools

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/certops/certops/internal/certs"
)

// fakeService is an interface-level fake of certs.Service for unit tests of
// handler logic (argument handling, rendering, confirmation). The end-to-end
// tests in cmd/mcp-server run the real Service over the sandbox.
type fakeService struct {
	mu       sync.Mutex
	certs    []certs.Certification
	items    map[string][]certs.ReviewItem
	plans    map[string]*certs.Plan
	requests map[string]*certs.Request
	// submitted records SubmitPlan calls.
	submitted []string
	// lastQuery is the last ListCertifications query.
	lastQuery certs.CertificationQuery
	// failWith, when set, is returned by every call.
	failWith error
	// panicOn makes ListReviewers panic (to test recovery).
	panicOn bool
	// requireApproval makes SubmitPlan file a pending request.
	requireApproval bool
}

func newFakeService() *fakeService {
	due := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	later := due.Add(72 * time.Hour)
	f := &fakeService{
		items:    map[string][]certs.ReviewItem{},
		plans:    map[string]*certs.Plan{},
		requests: map[string]*certs.Request{},
	}
	for i, name := range []string{"Q4 Manager Review: Alice", "Q4 Manager Review: Alice (2)", "Finance Source Review"} {
		c := certs.Certification{
			ID: []string{"cert-1", "cert-2", "cert-3"}[i], Name: name,
			Campaign:      certs.Campaign{ID: "camp-1", Name: "Q4 Manager Review", CampaignType: certs.CampaignManager},
			Reviewer:      certs.Reviewer{ID: "id-alice", Name: "Alice Admin", Email: "alice@example.com", Type: certs.ReviewerIdentity},
			Phase:         certs.PhaseActive,
			DecisionsMade: 3 * i, DecisionsTotal: 10, IdentitiesTotal: 4,
			Created: due.Add(-30 * 24 * time.Hour), Modified: due.Add(-24 * time.Hour),
		}
		if i == 0 {
			c.Due = &due
		} else {
			c.Due = &later
		}
		f.certs = append(f.certs, c)
	}
	f.items["cert-1"] = []certs.ReviewItem{
		{ID: "item-1", Access: certs.Access{Type: certs.AccessEntitlement, ID: "ent-1", Name: "db_admin", SourceName: "Oracle", Privileged: true, HasPermissions: true},
			IdentitySummary: certs.IdentitySummary{ID: "sum-bob", Name: "Bob Brown", IdentityID: "id-bob"}},
		{ID: "item-2", Access: certs.Access{Type: certs.AccessRole, ID: "role-1", Name: "Finance Analyst"},
			IdentitySummary: certs.IdentitySummary{ID: "sum-bob", Name: "Bob Brown", IdentityID: "id-bob"}},
	}
	return f
}

func (f *fakeService) err() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.failWith
}

func (f *fakeService) ListCertifications(ctx context.Context, a certs.Actor, q certs.CertificationQuery) (certs.Page[certs.Certification], error) {
	if err := f.err(); err != nil {
		return certs.Page[certs.Certification]{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lastQuery = q
	all := f.certs
	end := min(q.Page.Offset+q.Page.Limit, len(all))
	start := min(q.Page.Offset, len(all))
	return certs.Page[certs.Certification]{Items: slices.Clone(all[start:end]), Total: len(all)}, nil
}

func (f *fakeService) GetCertification(ctx context.Context, a certs.Actor, id string) (*certs.CertificationDetail, error) {
	if err := f.err(); err != nil {
		return nil, err
	}
	for _, c := range f.certs {
		if c.ID == id {
			return &certs.CertificationDetail{Certification: c, DecidedFraction: c.Progress()}, nil
		}
	}
	return nil, certs.Errorf(certs.ENOTFOUND, "certification %s not found", id)
}

func (f *fakeService) ListReviewers(ctx context.Context, a certs.Actor, certID string, fl certs.ReviewerFilter) (certs.Page[certs.IdentityRef], error) {
	if f.panicOn {
		panic("boom")
	}
	if err := f.err(); err != nil {
		return certs.Page[certs.IdentityRef]{}, err
	}
	return certs.Page[certs.IdentityRef]{Items: []certs.IdentityRef{{ID: "id-alice", Name: "Alice Admin", Email: "alice@example.com"}}, Total: 1}, nil
}

func (f *fakeService) ListReviewItems(ctx context.Context, a certs.Actor, certID string, fl certs.ReviewItemFilter) (certs.Page[certs.ReviewItem], error) {
	if err := f.err(); err != nil {
		return certs.Page[certs.ReviewItem]{}, err
	}
	items := f.items[certID]
	return certs.Page[certs.ReviewItem]{Items: items, Total: len(items)}, nil
}

func (f *fakeService) ListItemPermissions(ctx context.Context, a certs.Actor, certID, itemID string, fl certs.PermissionFilter) (certs.Page[certs.Permission], error) {
	if err := f.err(); err != nil {
		return certs.Page[certs.Permission]{}, err
	}
	return certs.Page[certs.Permission]{Items: []certs.Permission{{Target: "PAYROLL.SALARIES", Rights: []string{"SELECT", "UPDATE"}}}, Total: 1}, nil
}

func (f *fakeService) ListPendingTasks(ctx context.Context, a certs.Actor, certID string) ([]certs.Task, error) {
	if err := f.err(); err != nil {
		return nil, err
	}
	return []certs.Task{{ID: "task-1", Type: certs.TaskReassign, TargetType: "CERTIFICATION", TargetID: certID, Status: certs.TaskQueued}}, nil
}

func (f *fakeService) GetTask(ctx context.Context, a certs.Actor, taskID string) (*certs.Task, error) {
	if err := f.err(); err != nil {
		return nil, err
	}
	return &certs.Task{ID: taskID, Type: certs.TaskReassign, TargetType: "CERTIFICATION", TargetID: "cert-1", Status: certs.TaskSuccess}, nil
}

func (f *fakeService) ResolveIdentity(ctx context.Context, a certs.Actor, idOrEmail string) (*certs.Identity, error) {
	if strings.EqualFold(idOrEmail, "carol@example.com") || idOrEmail == "id-carol" {
		return &certs.Identity{ID: "id-carol", Name: "Carol Chen", Email: "carol@example.com"}, nil
	}
	return nil, certs.Errorf(certs.ENOTFOUND, "no identity %s", idOrEmail)
}

func (f *fakeService) PlanReassignment(ctx context.Context, a certs.Actor, in certs.PlanInput) (*certs.Plan, error) {
	if err := f.err(); err != nil {
		return nil, err
	}
	to, err := f.ResolveIdentity(ctx, a, in.Target)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	id := "plan-" + string(rune('a'+len(f.plans)))
	var refs []certs.Ref
	for _, i := range in.ItemIDs {
		refs = append(refs, certs.Ref{ID: i, Type: certs.RefItem})
	}
	p := &certs.Plan{
		ID: id, Digest: "digest-" + id, CertificationID: in.CertificationID, CertificationName: "Q4 Manager Review: Alice",
		From: certs.Reviewer{ID: "id-alice", Name: "Alice Admin"}, To: *to, Reason: in.Reason,
		Refs: refs, ItemCount: len(refs), IdentityNames: []string{"Bob Brown"},
		Calls:     []certs.Reassignment{{CertificationID: in.CertificationID, Refs: refs, To: to.ID, Reason: in.Reason}},
		Summary:   "Move 2 items (Bob Brown) of Q4 Manager Review: Alice from Alice Admin to Carol Chen.",
		CreatedBy: a, Created: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC),
	}
	f.plans[id] = p
	return p, nil
}

func (f *fakeService) GetPlan(ctx context.Context, a certs.Actor, id string) (*certs.Plan, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p, ok := f.plans[id]
	if !ok {
		return nil, certs.Errorf(certs.ENOTFOUND, "plan %s not found", id)
	}
	return p, nil
}

func (f *fakeService) SubmitPlan(ctx context.Context, a certs.Actor, planID, digest string) (*certs.Request, error) {
	p, err := f.GetPlan(ctx, a, planID)
	if err != nil {
		return nil, err
	}
	if digest != p.Digest {
		return nil, certs.Errorf(certs.EINVALID, "confirm does not match plan %s: plan again and confirm what it shows", planID)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.submitted = append(f.submitted, planID)
	r := &certs.Request{ID: "req-" + planID, Plan: *p, Requester: a, State: certs.StateCompleted,
		Tasks: []certs.RequestTask{{Call: 0, TaskID: "task-1", Status: certs.TaskSuccess}}}
	if f.requireApproval {
		r.State = certs.StatePending
		r.Tasks = nil
		r.Approvers = []string{"slack:U123"}
		r.ExpiresAt = time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	}
	f.requests[r.ID] = r
	return r, nil
}

func (f *fakeService) GetRequest(ctx context.Context, a certs.Actor, id string) (*certs.Request, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.requests[id]
	if !ok {
		return nil, certs.Errorf(certs.ENOTFOUND, "request %s not found", id)
	}
	return r, nil
}

func (f *fakeService) FollowRequest(ctx context.Context, a certs.Actor, id string) (*certs.Request, error) {
	return f.GetRequest(ctx, a, id)
}

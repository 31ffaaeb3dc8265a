package certstest

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/certops/certops/internal/certs"
)

// Tenant is an in-memory certs.Tenant: certifications, their review items,
// identities and tasks. A reassignment moves the items at once into the
// target's certification of the same campaign (made when missing) and
// leaves a QUEUED task that tests finish with SetTaskStatus.
type Tenant struct {
	// Now is the clock for task creation times (time.Now when nil).
	Now func() time.Time
	// BeforeReassign, when set, runs before a (sync or async) reassignment
	// is applied; n counts reassignment calls from 0. A non-nil error is
	// returned and nothing is applied.
	BeforeReassign func(n int, r certs.Reassignment) error
	// AfterReassign, when set, runs after a reassignment was applied; a
	// non-nil error is returned in place of the result (a lost response).
	AfterReassign func(n int, r certs.Reassignment) error
	// Fail, when it has an entry for a method name ("GetTask", ...),
	// makes that method return the error.
	Fail map[string]error

	mu          sync.Mutex
	certs       map[string]*certs.Certification
	items       map[string][]certs.ReviewItem
	identities  map[string]*certs.Identity
	tasks       map[string]*certs.Task
	permissions map[string][]certs.Permission
	calls       map[string]int
	reassigns   []certs.Reassignment
	seq         int
}

var _ certs.Tenant = (*Tenant)(nil)

// NewTenant returns an empty Tenant.
func NewTenant() *Tenant {
	return &Tenant{
		Fail:  map[string]error{},
		certs: map[string]*certs.Certification{}, items: map[string][]certs.ReviewItem{},
		identities: map[string]*certs.Identity{}, tasks: map[string]*certs.Task{},
		permissions: map[string][]certs.Permission{}, calls: map[string]int{},
	}
}

func (t *Tenant) now() time.Time {
	if t.Now != nil {
		return t.Now()
	}
	return time.Now()
}

// AddIdentity adds an active identity.
func (t *Tenant) AddIdentity(id, name, email string) *certs.Identity {
	t.mu.Lock()
	defer t.mu.Unlock()
	i := &certs.Identity{ID: id, Name: name, Email: email, State: "ACTIVE"}
	t.identities[id] = i
	return i
}

// SetIdentityState changes an identity's identityState.
func (t *Tenant) SetIdentityState(id, state string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.identities[id].State = state
}

// AddCertification adds a certification (its counts are kept up to date).
func (t *Tenant) AddCertification(c certs.Certification) {
	t.mu.Lock()
	defer t.mu.Unlock()
	cc := c
	t.certs[c.ID] = &cc
	t.recountLocked(c.ID)
}

// AddItems adds review items to a certification.
func (t *Tenant) AddItems(certID string, items ...certs.ReviewItem) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.items[certID] = append(t.items[certID], items...)
	t.recountLocked(certID)
}

// AddTask adds a task (e.g. an unrelated pending one).
func (t *Tenant) AddTask(task certs.Task) {
	t.mu.Lock()
	defer t.mu.Unlock()
	tt := task
	t.tasks[task.ID] = &tt
}

// SetTaskStatus finishes (or moves on) a task.
func (t *Tenant) SetTaskStatus(id string, status certs.TaskStatus, errs ...string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.tasks[id].Status = status
	t.tasks[id].Errors = errs
}

// SetPermissions sets what an item grants.
func (t *Tenant) SetPermissions(itemID string, ps ...certs.Permission) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.permissions[itemID] = ps
}

// Calls returns how many times a method was called.
func (t *Tenant) Calls(method string) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.calls[method]
}

// Reassignments returns every applied reassignment, in order.
func (t *Tenant) Reassignments() []certs.Reassignment {
	t.mu.Lock()
	defer t.mu.Unlock()
	return slices.Clone(t.reassigns)
}

// Tasks returns every task, sorted by id.
func (t *Tenant) Tasks() []certs.Task {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []certs.Task
	for _, task := range t.tasks {
		out = append(out, *task)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Items returns a certification's items.
func (t *Tenant) Items(certID string) []certs.ReviewItem {
	t.mu.Lock()
	defer t.mu.Unlock()
	return slices.Clone(t.items[certID])
}

// Certifications returns every certification, sorted by id.
func (t *Tenant) Certifications() []certs.Certification {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []certs.Certification
	for _, c := range t.certs {
		out = append(out, *c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func (t *Tenant) enter(method string) error {
	t.calls[method]++
	return t.Fail[method]
}

func (t *Tenant) recountLocked(certID string) {
	c, ok := t.certs[certID]
	if !ok {
		return
	}
	c.DecisionsTotal, c.DecisionsMade = len(t.items[certID]), 0
	ids := map[string]bool{}
	for _, it := range t.items[certID] {
		if it.Completed {
			c.DecisionsMade++
		}
		ids[it.IdentitySummary.ID] = true
	}
	c.IdentitiesTotal = len(ids)
}

func notFound(what, id string) error {
	return &certs.Error{Code: certs.ENOTFOUND, Message: fmt.Sprintf("%s %s not found", what, id),
		Upstream: &certs.Upstream{Status: 404, DetailCode: "404 Not found", TrackingID: "fake-404"}}
}

func page[T any](all []T, p certs.PageOptions) certs.Page[T] {
	total := len(all)
	limit := p.Limit
	if limit == 0 {
		limit = certs.DefaultPageLimit
	}
	start := min(p.Offset, len(all))
	end := min(start+limit, len(all))
	out := certs.Page[T]{Items: slices.Clone(all[start:end]), Total: -1}
	if p.Count {
		out.Total = total
	}
	return out
}

func (t *Tenant) ListCertifications(ctx context.Context, f certs.CertificationFilter) (certs.Page[certs.Certification], error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.enter("ListCertifications"); err != nil {
		return certs.Page[certs.Certification]{}, err
	}
	var out []certs.Certification
	for _, c := range t.certs {
		switch {
		case f.ReviewerIdentity != "" && c.Reviewer.ID != f.ReviewerIdentity,
			len(f.IDs) > 0 && !slices.Contains(f.IDs, c.ID),
			len(f.CampaignIDs) > 0 && !slices.Contains(f.CampaignIDs, c.Campaign.ID),
			f.Phase != "" && c.Phase != f.Phase,
			f.Completed != nil && c.Completed != *f.Completed:
			continue
		}
		out = append(out, *c)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i].Due, out[j].Due
		if slices.Contains(f.Sorters, "due") && a != nil && b != nil && !a.Equal(*b) {
			return a.Before(*b)
		}
		if slices.Contains(f.Sorters, "due") && (a == nil) != (b == nil) {
			return a == nil // nulls first, to check the service moves them last
		}
		return out[i].ID < out[j].ID
	})
	return page(out, f.Page), nil
}

func (t *Tenant) GetCertification(ctx context.Context, id string) (*certs.Certification, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.enter("GetCertification"); err != nil {
		return nil, err
	}
	c, ok := t.certs[id]
	if !ok {
		return nil, notFound("certification", id)
	}
	cc := *c
	return &cc, nil
}

func (t *Tenant) ListReviewers(ctx context.Context, certID string, f certs.ReviewerFilter) (certs.Page[certs.IdentityRef], error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.enter("ListReviewers"); err != nil {
		return certs.Page[certs.IdentityRef]{}, err
	}
	c, ok := t.certs[certID]
	if !ok {
		return certs.Page[certs.IdentityRef]{}, notFound("certification", certID)
	}
	return page([]certs.IdentityRef{{ID: c.Reviewer.ID, Name: c.Reviewer.Name, Email: c.Reviewer.Email, Type: "IDENTITY"}}, f.Page), nil
}

func (t *Tenant) ListReviewItems(ctx context.Context, certID string, f certs.ReviewItemFilter) (certs.Page[certs.ReviewItem], error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.enter("ListReviewItems"); err != nil {
		return certs.Page[certs.ReviewItem]{}, err
	}
	if _, ok := t.certs[certID]; !ok {
		return certs.Page[certs.ReviewItem]{}, notFound("certification", certID)
	}
	var out []certs.ReviewItem
	for _, it := range t.items[certID] {
		switch {
		case len(f.IDs) > 0 && !slices.Contains(f.IDs, it.ID),
			len(f.IdentitySummaryIDs) > 0 && !slices.Contains(f.IdentitySummaryIDs, it.IdentitySummary.ID),
			f.AccessType != "" && it.Access.Type != f.AccessType,
			f.Completed != nil && it.Completed != *f.Completed,
			f.IdentityName != "" && !strings.HasPrefix(it.IdentitySummary.Name, f.IdentityName),
			f.AccessName != "" && !strings.HasPrefix(it.Access.Name, f.AccessName):
			continue
		}
		out = append(out, it)
	}
	return page(out, f.Page), nil
}

func (t *Tenant) ListItemPermissions(ctx context.Context, certID, itemID string, f certs.PermissionFilter) (certs.Page[certs.Permission], error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.enter("ListItemPermissions"); err != nil {
		return certs.Page[certs.Permission]{}, err
	}
	return page(t.permissions[itemID], f.Page), nil
}

func (t *Tenant) Reassign(ctx context.Context, r certs.Reassignment) (*certs.Certification, error) {
	if err := r.Validate(certs.MaxSyncReassign); err != nil {
		return nil, err
	}
	c, _, err := t.reassign("Reassign", r)
	return c, err
}

func (t *Tenant) ReassignAsync(ctx context.Context, r certs.Reassignment) (*certs.Task, error) {
	if err := r.Validate(certs.MaxAsyncReassign); err != nil {
		return nil, err
	}
	_, task, err := t.reassign("ReassignAsync", r)
	return task, err
}

func (t *Tenant) reassign(method string, r certs.Reassignment) (*certs.Certification, *certs.Task, error) {
	t.mu.Lock()
	if err := t.enter(method); err != nil {
		t.mu.Unlock()
		return nil, nil, err
	}
	n := t.calls["Reassign"] + t.calls["ReassignAsync"] - 1
	t.mu.Unlock()
	if t.BeforeReassign != nil {
		if err := t.BeforeReassign(n, r); err != nil {
			return nil, nil, err
		}
	}
	t.mu.Lock()
	c, task, err := t.applyLocked(r)
	t.mu.Unlock()
	if err != nil {
		return nil, nil, err
	}
	if t.AfterReassign != nil {
		if err := t.AfterReassign(n, r); err != nil {
			return nil, nil, err
		}
	}
	return c, task, nil
}

func (t *Tenant) applyLocked(r certs.Reassignment) (*certs.Certification, *certs.Task, error) {
	src, ok := t.certs[r.CertificationID]
	if !ok {
		return nil, nil, notFound("certification", r.CertificationID)
	}
	to, ok := t.identities[r.To]
	if !ok {
		return nil, nil, &certs.Error{Code: certs.EINVALID, Message: "unknown reassignTo " + r.To,
			Upstream: &certs.Upstream{Status: 400, DetailCode: "400.1 Bad Request Content", TrackingID: "fake-400"}}
	}
	move := map[string]bool{}
	for _, ref := range r.Refs {
		found := false
		for _, it := range t.items[src.ID] {
			if (ref.Type == certs.RefItem && it.ID == ref.ID) || (ref.Type == certs.RefIdentitySummary && it.IdentitySummary.ID == ref.ID) {
				move[it.ID] = true
				found = true
			}
		}
		if !found {
			return nil, nil, &certs.Error{Code: certs.EINVALID, Message: fmt.Sprintf("reference %s is not in certification %s", ref.ID, src.ID),
				Upstream: &certs.Upstream{Status: 400, DetailCode: "400.1 Bad Request Content", TrackingID: "fake-400"}}
		}
	}
	var dst *certs.Certification
	for _, c := range t.certs {
		if c.Campaign.ID == src.Campaign.ID && c.Reviewer.ID == to.ID && !c.Completed {
			dst = c
		}
	}
	t.seq++
	if dst == nil {
		dst = &certs.Certification{ID: fmt.Sprintf("cert-reassigned-%d", t.seq), Name: src.Campaign.Name + " – " + to.Name, Campaign: src.Campaign,
			Reviewer: certs.Reviewer{ID: to.ID, Name: to.Name, Email: to.Email, Type: certs.ReviewerIdentity}, Phase: certs.PhaseActive, Due: src.Due,
			Reassignment: &certs.ReassignedFrom{CertificationID: src.ID, CertificationName: src.Name, Reviewer: src.Reviewer, Comment: r.Reason}}
		t.certs[dst.ID] = dst
	}
	var keep []certs.ReviewItem
	for _, it := range t.items[src.ID] {
		if move[it.ID] {
			t.items[dst.ID] = append(t.items[dst.ID], it)
		} else {
			keep = append(keep, it)
		}
	}
	t.items[src.ID] = keep
	t.recountLocked(src.ID)
	t.recountLocked(dst.ID)
	t.reassigns = append(t.reassigns, r)
	task := &certs.Task{ID: fmt.Sprintf("task-%d", t.seq), Type: certs.TaskReassign, TargetType: "CERTIFICATION", TargetID: src.ID, Status: certs.TaskQueued,
		Trail: []certs.ReassignmentTrail{{PreviousOwner: src.Reviewer.ID, NewOwner: to.ID, ReassignmentType: "MANUAL_REASSIGNMENT"}}, Created: t.now()}
	t.tasks[task.ID] = task
	cc, tt := *src, *task
	return &cc, &tt, nil
}

func (t *Tenant) GetTask(ctx context.Context, taskID string) (*certs.Task, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.enter("GetTask"); err != nil {
		return nil, err
	}
	task, ok := t.tasks[taskID]
	if !ok {
		return nil, notFound("task", taskID)
	}
	tt := *task
	return &tt, nil
}

func (t *Tenant) ListPendingTasks(ctx context.Context, certID string) ([]certs.Task, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.enter("ListPendingTasks"); err != nil {
		return nil, err
	}
	if _, ok := t.certs[certID]; !ok {
		return nil, notFound("certification", certID)
	}
	var out []certs.Task
	for _, task := range t.tasks {
		if task.TargetID == certID && !task.Status.Done() {
			out = append(out, *task)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

func (t *Tenant) GetIdentity(ctx context.Context, id string) (*certs.Identity, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.enter("GetIdentity"); err != nil {
		return nil, err
	}
	i, ok := t.identities[id]
	if !ok {
		return nil, notFound("identity", id)
	}
	ii := *i
	return &ii, nil
}

func (t *Tenant) FindIdentityByEmail(ctx context.Context, email string) (*certs.Identity, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.enter("FindIdentityByEmail"); err != nil {
		return nil, err
	}
	var found []*certs.Identity
	for _, i := range t.identities {
		if strings.EqualFold(i.Email, email) {
			found = append(found, i)
		}
	}
	switch len(found) {
	case 0:
		return nil, certs.Errorf(certs.ENOTFOUND, "no identity with email %s", email)
	case 1:
		ii := *found[0]
		return &ii, nil
	}
	return nil, certs.Errorf(certs.ECONFLICT, "%d identities have the email %s", len(found), email)
}

func (t *Tenant) FindIdentityByAlias(ctx context.Context, alias string) (*certs.Identity, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.enter("FindIdentityByAlias"); err != nil {
		return nil, err
	}
	for _, i := range t.identities {
		if i.Alias == alias {
			ii := *i
			return &ii, nil
		}
	}
	return nil, certs.Errorf(certs.ENOTFOUND, "no identity with alias %s", alias)
}

package certstest

import (
	"cmp"
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
// identities and tasks. It behaves as the sandbox does over HTTP (the
// tenanttest suite runs on both), so a Service test over it sees what a real
// tenant would answer:
//
//   - arguments are checked as sailpoint.Client checks them (EINVALID naming
//     the argument), and filters compare case-insensitively, as ISC does;
//   - Reassign moves the items at once into the certification the new
//     reviewer reviews in the same campaign (an ACTIVE one, else a new one
//     whose Reassignment names the source), where they get that
//     certification's identity summaries, and leaves no task;
//   - ReassignAsync checks the call as SailPoint does (unknown items, an
//     inactive or unknown new reviewer, the certification's own reviewer,
//     someone's own access, a signed certification: EINVALID with a 400
//     Upstream) and leaves a QUEUED task; the items move when the test ends
//     the task with FinishTasks or SetTaskStatus(SUCCESS), and a task whose
//     items are gone by then ends in ERROR, as in ISC.
//
// Where ISC's behaviour is not documented the fake may differ from the
// sandbox on purpose: certifications without a due date sort first under
// "due" (the sandbox puts them last), so that tests catch a Service relying
// on either.
type Tenant struct {
	// Now is the clock for task and certification creation times
	// (time.Now when nil).
	Now func() time.Time
	// BeforeReassign, when set, runs before a (sync or async) reassignment
	// is accepted; n counts reassignment calls from 0. A non-nil error is
	// returned and nothing is applied or queued.
	BeforeReassign func(n int, r certs.Reassignment) error
	// AfterReassign, when set, runs after a reassignment was accepted (a
	// sync one applied, an async one's task queued); a non-nil error is
	// returned in place of the result (a lost response).
	AfterReassign func(n int, r certs.Reassignment) error
	// BeforeDecide and AfterDecide run around Decide and SignOff as
	// BeforeReassign and AfterReassign do around reassignments
	// (tenant_decide.go).
	BeforeDecide, AfterDecide DecideHook
	// Fail, when it has an entry for a method name ("GetTask", ...),
	// makes that method return the error.
	Fail map[string]error

	mu          sync.Mutex
	certs       map[string]*certs.Certification
	items       map[string][]certs.ReviewItem
	identities  map[string]*certs.Identity
	tasks       map[string]*certs.Task
	taskOrder   []string                      // task ids, oldest first
	queued      map[string]certs.Reassignment // what a pending task applies when it ends
	permissions map[string][]certs.Permission
	calls       map[string]int
	reassigns   []certs.Reassignment
	decisions   []certs.ItemDecision // applied by Decide, in order
	tasksMade   int                  // tasks are task-1, task-2, ... in the order ReassignAsync made them
	certsMade   int                  // certifications made by a move are cert-reassigned-1, ...
}

var _ certs.Tenant = (*Tenant)(nil)

// NewTenant returns an empty Tenant.
func NewTenant() *Tenant {
	return &Tenant{
		Fail:  map[string]error{},
		certs: map[string]*certs.Certification{}, items: map[string][]certs.ReviewItem{},
		identities: map[string]*certs.Identity{}, tasks: map[string]*certs.Task{}, queued: map[string]certs.Reassignment{},
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

// AddTask adds a task (e.g. an unrelated pending one). It applies nothing
// when it ends.
func (t *Tenant) AddTask(task certs.Task) {
	t.mu.Lock()
	defer t.mu.Unlock()
	tt := task
	if _, ok := t.tasks[task.ID]; !ok {
		t.taskOrder = append(t.taskOrder, task.ID)
	}
	t.tasks[task.ID] = &tt
}

// SetTaskStatus moves a task on. Ending a reassignment task in SUCCESS
// applies its reassignment then; if it can no longer be applied the task
// ends in ERROR instead, saying why. Ending it in ERROR applies nothing.
func (t *Tenant) SetTaskStatus(id string, status certs.TaskStatus, errs ...string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.setTaskStatusLocked(id, status, errs)
}

// FinishTasks ends every pending task, oldest first, as SailPoint would:
// SUCCESS (its reassignment applied) or ERROR when that is no longer
// possible.
func (t *Tenant) FinishTasks() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, id := range t.taskOrder {
		if !t.tasks[id].Status.Done() {
			t.setTaskStatusLocked(id, certs.TaskSuccess, nil)
		}
	}
}

func (t *Tenant) setTaskStatusLocked(id string, status certs.TaskStatus, errs []string) {
	task := t.tasks[id]
	if r, ok := t.queued[id]; ok && status.Done() {
		delete(t.queued, id)
		if status == certs.TaskSuccess {
			if e := t.applyLocked(r); e != nil {
				status, errs = certs.TaskError, []string{certs.ErrorMessage(e)}
			}
		}
	}
	task.Status = status
	task.Errors = errs
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

// Reassignments returns every reassignment the tenant accepted (sync calls
// applied, async calls queued), in order: the ISC calls that took.
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
	open := map[string]bool{}
	for _, it := range t.items[certID] {
		if it.Completed {
			c.DecisionsMade++
		}
		open[it.IdentitySummary.ID] = open[it.IdentitySummary.ID] || !it.Completed
	}
	c.IdentitiesTotal, c.IdentitiesCompleted = len(open), 0
	for _, o := range open {
		if !o {
			c.IdentitiesCompleted++
		}
	}
}

// What SailPoint answers; the client maps it as the fake does here.

func notFound(what, id string) error {
	return &certs.Error{Code: certs.ENOTFOUND, Message: fmt.Sprintf("%s %s not found", what, id),
		Upstream: &certs.Upstream{Status: 404, DetailCode: "404 Not found", TrackingID: "fake-404"}}
}

func badRequest(format string, args ...any) error {
	return &certs.Error{Code: certs.EINVALID, Message: "SailPoint rejected the request: " + fmt.Sprintf(format, args...),
		Upstream: &certs.Upstream{Status: 400, DetailCode: "400.1 Bad Request Content", TrackingID: "fake-400"}}
}

// The client's checks, made before anything is read.

// checkLiterals checks filter values that are set.
func checkLiterals(pairs ...string) error {
	for i := 0; i < len(pairs); i += 2 {
		if pairs[i+1] == "" {
			continue
		}
		if err := certs.ValidateText(pairs[i], pairs[i+1], certs.TextRule{}); err != nil {
			return err
		}
	}
	return nil
}

// sortBy sorts stably by ISC sorters; key compares two values of a field.
func sortBy[T any](all []T, sorters []string, key func(a, b T, field string) int) {
	slices.SortStableFunc(all, func(a, b T) int {
		for _, s := range sorters {
			field, desc := strings.CutPrefix(s, "-")
			r := key(a, b, field)
			if desc {
				r = -r
			}
			if r != 0 {
				return r
			}
		}
		return 0
	})
}

// compareFold compares case-insensitively, empty values last.
func compareFold(a, b string) int {
	switch {
	case a == "" && b == "":
		return 0
	case a == "":
		return 1
	case b == "":
		return -1
	}
	return cmp.Compare(strings.ToLower(a), strings.ToLower(b))
}

// compareTimes puts nil first (see Tenant).
func compareTimes(a, b *time.Time) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return -1
	case b == nil:
		return 1
	}
	return a.Compare(*b)
}

func hasPrefixFold(s, prefix string) bool {
	return strings.HasPrefix(strings.ToLower(s), strings.ToLower(prefix))
}

func containsFold(list []string, s string) bool {
	return slices.ContainsFunc(list, func(v string) bool { return strings.EqualFold(v, s) })
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
	if f.ReviewerIdentity != "" && f.ReviewerIdentity != "me" {
		if err := certs.ValidateID("reviewer identity id", f.ReviewerIdentity); err != nil {
			return certs.Page[certs.Certification]{}, err
		}
	}
	err := certs.ValidateIDs("certification id", f.IDs...)
	if err == nil {
		err = certs.ValidateIDs("campaign id", f.CampaignIDs...)
	}
	if err == nil && f.Phase != "" && !slices.Contains([]certs.Phase{certs.PhaseStaged, certs.PhaseActive, certs.PhaseSigned}, f.Phase) {
		err = certs.Errorf(certs.EINVALID, "phase %q is not one of STAGED, ACTIVE, SIGNED", f.Phase)
	}
	if err == nil {
		err = certs.ValidateSorters(f.Sorters, "name", "due", "signed")
	}
	if err == nil {
		err = f.Page.Validate()
	}
	if err != nil {
		return certs.Page[certs.Certification]{}, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.enter("ListCertifications"); err != nil {
		return certs.Page[certs.Certification]{}, err
	}
	var out []certs.Certification
	for _, c := range t.certs {
		switch {
		// "me" is the API client's identity: the fake's reviews nothing.
		case f.ReviewerIdentity != "" && c.Reviewer.ID != f.ReviewerIdentity,
			len(f.IDs) > 0 && !containsFold(f.IDs, c.ID),
			len(f.CampaignIDs) > 0 && !containsFold(f.CampaignIDs, c.Campaign.ID),
			f.Phase != "" && c.Phase != f.Phase,
			f.Completed != nil && c.Completed != *f.Completed:
			continue
		}
		out = append(out, *c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	sortBy(out, f.Sorters, func(a, b certs.Certification, field string) int {
		switch field {
		case "name":
			return compareFold(a.Name, b.Name)
		case "due":
			return compareTimes(a.Due, b.Due)
		case "signed":
			return compareTimes(a.Signed, b.Signed)
		}
		return 0
	})
	return page(out, f.Page), nil
}

// ListAllCertifications reads every page as sailpoint.Client does, the
// first with its count, through ListCertifications: its Calls and Fail
// count and fail each page.
func (t *Tenant) ListAllCertifications(ctx context.Context, f certs.CertificationFilter) ([]certs.Certification, error) {
	return listAll(t, "ListAllCertifications", f.Page, func(p certs.PageOptions) (certs.Page[certs.Certification], error) {
		f.Page = p
		return t.ListCertifications(ctx, f)
	})
}

// listAll reads the pages from start.Offset on: the first with its count,
// then up to that count.
func listAll[T any](t *Tenant, method string, start certs.PageOptions, fetch func(certs.PageOptions) (certs.Page[T], error)) ([]T, error) {
	if err := start.Validate(); err != nil {
		return nil, err
	}
	t.mu.Lock()
	err := t.enter(method)
	t.mu.Unlock()
	if err != nil {
		return nil, err
	}
	limit := start.Limit
	if limit == 0 {
		limit = certs.DefaultPageLimit
	}
	first, err := fetch(certs.PageOptions{Offset: start.Offset, Limit: limit, Count: true})
	if err != nil {
		return nil, err
	}
	out := first.Items
	if len(first.Items) < limit {
		return out, nil
	}
	for off := start.Offset + limit; off < first.Total; off += limit {
		page, err := fetch(certs.PageOptions{Offset: off, Limit: limit})
		if err != nil {
			return nil, err
		}
		out = append(out, page.Items...)
	}
	return out, nil
}

func (t *Tenant) GetCertification(ctx context.Context, id string) (*certs.Certification, error) {
	if err := certs.ValidateID("certification id", id); err != nil {
		return nil, err
	}
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

// reviewersLocked is a certification's reviewer, then those its work was
// reassigned to (certifications made for a move that still hold items).
func (t *Tenant) reviewersLocked(c *certs.Certification) []certs.IdentityRef {
	out := []certs.IdentityRef{{ID: c.Reviewer.ID, Name: c.Reviewer.Name, Email: c.Reviewer.Email, Type: "IDENTITY"}}
	seen := map[string]bool{c.Reviewer.ID: true}
	for _, other := range t.sortedCertsLocked() {
		if other.Campaign.ID == c.Campaign.ID && other.Reassignment != nil && other.Reassignment.CertificationID == c.ID &&
			len(t.items[other.ID]) > 0 && !seen[other.Reviewer.ID] {
			seen[other.Reviewer.ID] = true
			out = append(out, certs.IdentityRef{ID: other.Reviewer.ID, Name: other.Reviewer.Name, Email: other.Reviewer.Email, Type: "IDENTITY"})
		}
	}
	return out
}

func (t *Tenant) sortedCertsLocked() []*certs.Certification {
	out := make([]*certs.Certification, 0, len(t.certs))
	for _, c := range t.certs {
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b *certs.Certification) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

func (t *Tenant) ListReviewers(ctx context.Context, certID string, f certs.ReviewerFilter) (certs.Page[certs.IdentityRef], error) {
	err := certs.ValidateID("certification id", certID)
	if err == nil {
		err = certs.ValidateIDs("reviewer id", f.IDs...)
	}
	if err == nil {
		err = checkLiterals("reviewer name", f.Name, "reviewer name prefix", f.NameSW, "reviewer email", f.Email, "reviewer email prefix", f.EmailSW)
	}
	if err == nil {
		err = certs.ValidateSorters(f.Sorters, "name", "email")
	}
	if err == nil {
		err = f.Page.Validate()
	}
	if err != nil {
		return certs.Page[certs.IdentityRef]{}, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.enter("ListReviewers"); err != nil {
		return certs.Page[certs.IdentityRef]{}, err
	}
	c, ok := t.certs[certID]
	if !ok {
		return certs.Page[certs.IdentityRef]{}, notFound("certification", certID)
	}
	var out []certs.IdentityRef
	for _, r := range t.reviewersLocked(c) {
		switch {
		case len(f.IDs) > 0 && !containsFold(f.IDs, r.ID),
			f.Name != "" && !strings.EqualFold(r.Name, f.Name),
			f.NameSW != "" && !hasPrefixFold(r.Name, f.NameSW),
			f.Email != "" && !strings.EqualFold(r.Email, f.Email),
			f.EmailSW != "" && !hasPrefixFold(r.Email, f.EmailSW):
			continue
		}
		out = append(out, r)
	}
	sortBy(out, f.Sorters, func(a, b certs.IdentityRef, field string) int {
		if field == "email" {
			return compareFold(a.Email, b.Email)
		}
		return compareFold(a.Name, b.Name)
	})
	return page(out, f.Page), nil
}

func checkReviewItemFilter(certID string, f certs.ReviewItemFilter) error {
	if err := certs.ValidateReviewItemIDs(certID, f); err != nil {
		return err
	}
	if f.AccessType != "" && !slices.Contains(certs.AccessTypes, f.AccessType) {
		return certs.Errorf(certs.EINVALID, "access type %q is not one of ENTITLEMENT, ACCESS_PROFILE, ROLE", f.AccessType)
	}
	if err := checkLiterals("identity name", f.IdentityName, "access name", f.AccessName); err != nil {
		return err
	}
	if err := certs.ValidateSorters(f.Sorters, "identitySummary.name", "access.name", "access.type", "entitlement.sourceName", "accessProfile.sourceName"); err != nil {
		return err
	}
	set := 0
	for _, s := range [][]string{f.Entitlements, f.AccessProfiles, f.Roles} {
		if len(s) > 0 {
			set++
		}
	}
	if set > 1 {
		return certs.Errorf(certs.EINVALID, "select by entitlements, access profiles or roles, not several at once (ISC accepts one)")
	}
	return f.Page.Validate()
}

func (t *Tenant) ListReviewItems(ctx context.Context, certID string, f certs.ReviewItemFilter) (certs.Page[certs.ReviewItem], error) {
	if err := checkReviewItemFilter(certID, f); err != nil {
		return certs.Page[certs.ReviewItem]{}, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.enter("ListReviewItems"); err != nil {
		return certs.Page[certs.ReviewItem]{}, err
	}
	if _, ok := t.certs[certID]; !ok {
		return certs.Page[certs.ReviewItem]{}, notFound("certification", certID)
	}
	selected := func(it certs.ReviewItem) bool {
		for _, s := range []struct {
			typ certs.AccessType
			ids []string
		}{{certs.AccessEntitlement, f.Entitlements}, {certs.AccessAccessProfile, f.AccessProfiles}, {certs.AccessRole, f.Roles}} {
			if len(s.ids) > 0 {
				return it.Access.Type == s.typ && containsFold(s.ids, it.Access.ID)
			}
		}
		return true
	}
	open := map[string]bool{}
	for _, it := range t.items[certID] {
		open[it.IdentitySummary.ID] = open[it.IdentitySummary.ID] || !it.Completed
	}
	var out []certs.ReviewItem
	for _, it := range t.items[certID] {
		switch {
		case len(f.IDs) > 0 && !containsFold(f.IDs, it.ID),
			len(f.IdentitySummaryIDs) > 0 && !containsFold(f.IdentitySummaryIDs, it.IdentitySummary.ID),
			len(f.AccessIDs) > 0 && !containsFold(f.AccessIDs, it.Access.ID),
			f.AccessType != "" && it.Access.Type != f.AccessType,
			f.Completed != nil && it.Completed != *f.Completed,
			f.IdentityName != "" && !hasPrefixFold(it.IdentitySummary.Name, f.IdentityName),
			f.AccessName != "" && !hasPrefixFold(it.Access.Name, f.AccessName),
			!selected(it):
			continue
		}
		it.IdentitySummary.Completed = !open[it.IdentitySummary.ID]
		out = append(out, it)
	}
	sortBy(out, f.Sorters, func(a, b certs.ReviewItem, field string) int {
		switch field {
		case "identitySummary.name":
			return compareFold(a.IdentitySummary.Name, b.IdentitySummary.Name)
		case "access.name":
			return compareFold(a.Access.Name, b.Access.Name)
		case "access.type":
			return compareFold(string(a.Access.Type), string(b.Access.Type))
		}
		source := func(it certs.ReviewItem) string {
			if field == "entitlement.sourceName" && it.Access.Type == certs.AccessEntitlement ||
				field == "accessProfile.sourceName" && it.Access.Type == certs.AccessAccessProfile {
				return it.Access.SourceName
			}
			return ""
		}
		return compareFold(source(a), source(b))
	})
	return page(out, f.Page), nil
}

// ListAllReviewItems reads every page through ListReviewItems, as
// ListAllCertifications does.
func (t *Tenant) ListAllReviewItems(ctx context.Context, certID string, f certs.ReviewItemFilter) ([]certs.ReviewItem, error) {
	return listAll(t, "ListAllReviewItems", f.Page, func(p certs.PageOptions) (certs.Page[certs.ReviewItem], error) {
		f.Page = p
		return t.ListReviewItems(ctx, certID, f)
	})
}

func (t *Tenant) ListItemPermissions(ctx context.Context, certID, itemID string, f certs.PermissionFilter) (certs.Page[certs.Permission], error) {
	err := certs.ValidateID("certification id", certID)
	if err == nil {
		err = certs.ValidateID("review item id", itemID)
	}
	if err == nil {
		err = f.Page.Validate()
	}
	if err == nil && f.Target == "" && f.TargetPrefix {
		err = certs.Errorf(certs.EINVALID, "a target prefix match needs a target")
	}
	if err == nil {
		err = checkLiterals("permission target", f.Target)
	}
	for _, r := range f.Rights {
		if err == nil {
			err = certs.ValidateText("permission right", r, certs.TextRule{Required: true})
		}
	}
	if err != nil {
		return certs.Page[certs.Permission]{}, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.enter("ListItemPermissions"); err != nil {
		return certs.Page[certs.Permission]{}, err
	}
	if _, ok := t.certs[certID]; !ok {
		return certs.Page[certs.Permission]{}, notFound("certification", certID)
	}
	i := slices.IndexFunc(t.items[certID], func(it certs.ReviewItem) bool { return it.ID == itemID })
	if i < 0 {
		return certs.Page[certs.Permission]{}, notFound("review item", itemID+" of certification "+certID)
	}
	var out []certs.Permission
	if t.items[certID][i].Access.Type == certs.AccessEntitlement {
		for _, p := range t.permissions[itemID] {
			switch {
			case f.Target != "" && !f.TargetPrefix && !strings.EqualFold(p.Target, f.Target),
				f.TargetPrefix && !hasPrefixFold(p.Target, f.Target),
				slices.ContainsFunc(f.Rights, func(r string) bool { return !containsFold(p.Rights, r) }):
				continue
			}
			out = append(out, certs.Permission{Rights: slices.Clone(p.Rights), Target: p.Target})
		}
	}
	return page(out, f.Page), nil
}

func (t *Tenant) Reassign(ctx context.Context, r certs.Reassignment) (*certs.Certification, error) {
	if err := r.Validate(certs.MaxSyncReassign); err != nil {
		return nil, err
	}
	var out *certs.Certification
	err := t.reassign("Reassign", r, func() error {
		if err := t.applyLocked(r); err != nil {
			return err
		}
		c := *t.certs[r.CertificationID]
		out = &c
		return nil
	})
	return out, err
}

func (t *Tenant) ReassignAsync(ctx context.Context, r certs.Reassignment) (*certs.Task, error) {
	if err := r.Validate(certs.MaxAsyncReassign); err != nil {
		return nil, err
	}
	var out *certs.Task
	err := t.reassign("ReassignAsync", r, func() error {
		src, _, err := t.checkLocked(r)
		if err != nil {
			return err
		}
		t.tasksMade++
		task := &certs.Task{ID: fmt.Sprintf("task-%d", t.tasksMade), Type: certs.TaskReassign, TargetType: "CERTIFICATION", TargetID: src.ID, Status: certs.TaskQueued,
			Trail: []certs.ReassignmentTrail{{PreviousOwner: src.Reviewer.ID, NewOwner: r.To, ReassignmentType: "MANUAL_REASSIGNMENT"}}, Created: t.now()}
		t.tasks[task.ID] = task
		t.taskOrder = append(t.taskOrder, task.ID)
		t.queued[task.ID] = r
		tt := *task
		out = &tt
		return nil
	})
	return out, err
}

// reassign runs the hooks around accept, which applies or queues r with
// t.mu held.
func (t *Tenant) reassign(method string, r certs.Reassignment, accept func() error) error {
	t.mu.Lock()
	if err := t.enter(method); err != nil {
		t.mu.Unlock()
		return err
	}
	n := t.calls["Reassign"] + t.calls["ReassignAsync"] - 1
	t.mu.Unlock()
	if t.BeforeReassign != nil {
		if err := t.BeforeReassign(n, r); err != nil {
			return err
		}
	}
	t.mu.Lock()
	err := accept()
	if err == nil {
		t.reassigns = append(t.reassigns, r)
	}
	t.mu.Unlock()
	if err != nil {
		return err
	}
	if t.AfterReassign != nil {
		return t.AfterReassign(n, r)
	}
	return nil
}

// checkLocked checks r as SailPoint does and returns its certification and
// the ids of the items it moves.
func (t *Tenant) checkLocked(r certs.Reassignment) (*certs.Certification, map[string]bool, error) {
	src, ok := t.certs[r.CertificationID]
	if !ok {
		return nil, nil, notFound("certification", r.CertificationID)
	}
	if src.Phase == certs.PhaseSigned {
		return nil, nil, badRequest("certification %s is signed; its items can no longer be reassigned", src.ID)
	}
	move := map[string]bool{}
	for _, ref := range r.Refs {
		n := 0
		for _, it := range t.items[src.ID] {
			if ref.Type == certs.RefItem && it.ID == ref.ID ||
				ref.Type == certs.RefIdentitySummary && it.IdentitySummary.ID == ref.ID ||
				ref.Type == certs.RefTargetSummary && it.Access.ID == ref.ID {
				move[it.ID] = true
				n++
			}
		}
		if n == 0 {
			return nil, nil, badRequest("reference %s of type %s is not in certification %s", ref.ID, ref.Type, src.ID)
		}
	}
	to, ok := t.identities[r.To]
	switch {
	case !ok:
		return nil, nil, badRequest("reassignTo %s is not a known identity", r.To)
	case !to.Active():
		return nil, nil, badRequest("reassignTo %s (%s) is not active and cannot review", to.ID, to.Name)
	case to.ID == src.Reviewer.ID:
		return nil, nil, badRequest("%s already reviews certification %s", to.Name, src.ID)
	}
	for _, it := range t.items[src.ID] {
		if move[it.ID] && it.IdentitySummary.IdentityID == to.ID {
			return nil, nil, badRequest("%s cannot review their own access (item %s)", to.Name, it.ID)
		}
	}
	return src, move, nil
}

// applyLocked moves r's items now into the certification the new reviewer
// reviews in the same campaign, made when there is none.
func (t *Tenant) applyLocked(r certs.Reassignment) error {
	src, move, err := t.checkLocked(r)
	if err != nil {
		return err
	}
	to := t.identities[r.To]
	now := t.now()
	var dst *certs.Certification
	for _, c := range t.sortedCertsLocked() {
		if c.Campaign.ID == src.Campaign.ID && c.Reviewer.ID == to.ID && c.Phase == certs.PhaseActive && c != src {
			dst = c
			break
		}
	}
	if dst == nil {
		t.certsMade++
		dst = &certs.Certification{ID: fmt.Sprintf("cert-reassigned-%d", t.certsMade), Name: src.Campaign.Name + " – " + to.Name, Campaign: src.Campaign,
			Reviewer: certs.Reviewer{ID: to.ID, Name: to.Name, Email: to.Email, Type: certs.ReviewerIdentity}, Phase: certs.PhaseActive, Due: src.Due,
			Created: now, Reassignment: &certs.ReassignedFrom{CertificationID: src.ID, CertificationName: src.Name, Reviewer: src.Reviewer, Comment: r.Reason}}
		t.certs[dst.ID] = dst
	}
	// Identity summaries belong to a certification: a moved item joins
	// the target's summary of its identity, or a new one.
	summaries := map[string]certs.IdentitySummary{}
	for _, it := range t.items[dst.ID] {
		summaries[it.IdentitySummary.IdentityID] = it.IdentitySummary
	}
	var keep []certs.ReviewItem
	for _, it := range t.items[src.ID] {
		if !move[it.ID] {
			keep = append(keep, it)
			continue
		}
		sum, ok := summaries[it.IdentitySummary.IdentityID]
		if !ok {
			sum = it.IdentitySummary
			sum.ID = fmt.Sprintf("%s-%s", sum.ID, dst.ID)
			summaries[sum.IdentityID] = sum
		}
		it.IdentitySummary = sum
		t.items[dst.ID] = append(t.items[dst.ID], it)
	}
	t.items[src.ID] = keep
	for _, c := range []*certs.Certification{src, dst} {
		t.recountLocked(c.ID)
		c.Completed = c.DecisionsMade == c.DecisionsTotal
		c.Modified = now
	}
	return nil
}

func (t *Tenant) GetTask(ctx context.Context, taskID string) (*certs.Task, error) {
	if err := certs.ValidateID("task id", taskID); err != nil {
		return nil, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.enter("GetTask"); err != nil {
		return nil, err
	}
	task, ok := t.tasks[taskID]
	if !ok {
		return nil, notFound("certification task", taskID)
	}
	tt := *task
	return &tt, nil
}

func (t *Tenant) ListPendingTasks(ctx context.Context, certID string) ([]certs.Task, error) {
	if err := certs.ValidateID("certification id", certID); err != nil {
		return nil, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.enter("ListPendingTasks"); err != nil {
		return nil, err
	}
	var out []certs.Task
	for _, id := range t.taskOrder {
		if task := t.tasks[id]; task.TargetID == certID && !task.Status.Done() {
			out = append(out, *task)
		}
	}
	return out, nil
}

func (t *Tenant) GetIdentity(ctx context.Context, id string) (*certs.Identity, error) {
	if err := certs.ValidateID("identity id", id); err != nil {
		return nil, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.enter("GetIdentity"); err != nil {
		return nil, err
	}
	i, ok := t.identities[id]
	if !ok {
		return nil, certs.Errorf(certs.ENOTFOUND, "identity %s not found", id)
	}
	ii := *i
	return &ii, nil
}

func (t *Tenant) ListIdentities(ctx context.Context, ids []string) ([]certs.Identity, error) {
	if len(ids) > certs.MaxIdentitiesPerRead {
		return nil, certs.Errorf(certs.EINVALID, "%d identity ids in one read; at most %d", len(ids), certs.MaxIdentitiesPerRead)
	}
	if err := certs.ValidateIDs("identity id", ids...); err != nil {
		return nil, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.enter("ListIdentities"); err != nil {
		return nil, err
	}
	var out []certs.Identity
	seen := map[string]bool{}
	for _, id := range ids {
		if i, ok := t.identities[id]; ok && !seen[id] {
			seen[id] = true
			out = append(out, *i)
		}
	}
	return out, nil
}

func (t *Tenant) FindIdentityByEmail(ctx context.Context, email string) (*certs.Identity, error) {
	if err := certs.ValidateText("email", email, certs.TextRule{Required: true}); err != nil {
		return nil, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.enter("FindIdentityByEmail"); err != nil {
		return nil, err
	}
	var matches []certs.Identity
	var ids []string
	for _, i := range t.identities {
		if strings.EqualFold(i.Email, email) {
			matches = append(matches, *i)
			ids = append(ids, i.ID)
		}
	}
	switch len(matches) {
	case 0:
		return nil, certs.Errorf(certs.ENOTFOUND, "no identity has the email %q", email)
	case 1:
		return &matches[0], nil
	}
	slices.Sort(ids)
	return nil, certs.Errorf(certs.ECONFLICT, "%d identities have the email %q (%s); use an identity id", len(matches), email, strings.Join(ids, ", "))
}

// SearchIdentities applies certs.IdentityMatches, taking an identity's
// first name to be its name's first word and its last name the rest.
func (t *Tenant) SearchIdentities(ctx context.Context, q certs.IdentitySearch) (certs.Page[certs.Identity], error) {
	words, err := q.Words()
	if err != nil {
		return certs.Page[certs.Identity]{}, err
	}
	if err := q.Page.Validate(); err != nil {
		return certs.Page[certs.Identity]{}, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.enter("SearchIdentities"); err != nil {
		return certs.Page[certs.Identity]{}, err
	}
	var out []certs.Identity
	for _, i := range t.identities {
		first, last, _ := strings.Cut(i.Name, " ")
		if certs.IdentityMatches(words, first, last, i.Alias, i.Email) {
			out = append(out, *i)
		}
	}
	slices.SortFunc(out, func(a, b certs.Identity) int {
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return page(out, q.Page), nil
}

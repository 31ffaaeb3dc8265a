package slackbot

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/certops/certops/internal/certs"
)

// fakeService is an interface-level fake of certs.Service for unit tests of
// the bot's own logic (parsing, acks, rendering, routing). It keeps requests
// and an outbox in memory and applies the approval rules the real Service
// documents (only listed approvers, never the requester, once).
type fakeService struct {
	mu         sync.Mutex
	identities map[string]certs.Identity // by email
	certs      []certs.Certification
	items      []certs.ReviewItem
	plans      map[string]*certs.Plan
	requests   map[string]*certs.Request
	events     []certs.Event
	cursor     int64
	calls      []string // method(args) in order
	now        func() time.Time
	failWith   map[string]error // method → error to return
	seq        int
}

func newFakeService(now func() time.Time) *fakeService {
	return &fakeService{identities: map[string]certs.Identity{}, plans: map[string]*certs.Plan{},
		requests: map[string]*certs.Request{}, failWith: map[string]error{}, now: now}
}

func (f *fakeService) record(format string, args ...any) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	call := fmt.Sprintf(format, args...)
	f.calls = append(f.calls, call)
	name, _, _ := strings.Cut(call, "(")
	return f.failWith[name]
}

func (f *fakeService) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

func (f *fakeService) ListCertifications(ctx context.Context, a certs.Actor, q certs.CertificationQuery) (certs.Page[certs.Certification], error) {
	done := "nil"
	if q.Completed != nil {
		done = fmt.Sprint(*q.Completed)
	}
	if err := f.record("ListCertifications(%s,reviewer=%s,campaign=%s,completed=%s)", a.IdentityID, q.Reviewer, q.CampaignID, done); err != nil {
		return certs.Page[certs.Certification]{}, err
	}
	return certs.Page[certs.Certification]{Items: f.certs, Total: len(f.certs)}, nil
}

func (f *fakeService) GetCertification(ctx context.Context, a certs.Actor, id string) (*certs.CertificationDetail, error) {
	if err := f.record("GetCertification(%s)", id); err != nil {
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
	if err := f.record("ListReviewers(%s)", certID); err != nil {
		return certs.Page[certs.IdentityRef]{}, err
	}
	return certs.Page[certs.IdentityRef]{Items: []certs.IdentityRef{{ID: "id-alice", Name: "Alice Reviewer", Email: "alice@example.com"}}, Total: 1}, nil
}

func (f *fakeService) ListReviewItems(ctx context.Context, a certs.Actor, certID string, fl certs.ReviewItemFilter) (certs.Page[certs.ReviewItem], error) {
	if err := f.record("ListReviewItems(%s,name=%s)", certID, fl.IdentityName); err != nil {
		return certs.Page[certs.ReviewItem]{}, err
	}
	return certs.Page[certs.ReviewItem]{Items: f.items, Total: len(f.items)}, nil
}

func (f *fakeService) ListItemPermissions(ctx context.Context, a certs.Actor, certID, itemID string, fl certs.PermissionFilter) (certs.Page[certs.Permission], error) {
	if err := f.record("ListItemPermissions(%s,%s)", certID, itemID); err != nil {
		return certs.Page[certs.Permission]{}, err
	}
	return certs.Page[certs.Permission]{Items: []certs.Permission{{Target: "payroll_db", Rights: []string{"SELECT", "UPDATE"}}}, Total: 1}, nil
}

func (f *fakeService) ListPendingTasks(ctx context.Context, a certs.Actor, certID string) ([]certs.Task, error) {
	if err := f.record("ListPendingTasks(%s)", certID); err != nil {
		return nil, err
	}
	return []certs.Task{{ID: "task-1", Type: certs.TaskReassign, Status: certs.TaskQueued, TargetID: certID, Created: f.now().Add(-time.Minute)}}, nil
}

func (f *fakeService) GetTask(ctx context.Context, a certs.Actor, taskID string) (*certs.Task, error) {
	if err := f.record("GetTask(%s)", taskID); err != nil {
		return nil, err
	}
	if taskID != "task-1" {
		return nil, certs.Errorf(certs.ENOTFOUND, "task %s not found", taskID)
	}
	return &certs.Task{ID: "task-1", Type: certs.TaskReassign, Status: certs.TaskSuccess, TargetType: "CERTIFICATION", TargetID: "cert-1", Created: f.now().Add(-time.Hour)}, nil
}

func (f *fakeService) ResolveIdentity(ctx context.Context, a certs.Actor, idOrEmail string) (*certs.Identity, error) {
	if err := f.record("ResolveIdentity(%s)", idOrEmail); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if id, ok := f.identities[strings.ToLower(idOrEmail)]; ok {
		return &id, nil
	}
	return nil, certs.Errorf(certs.ENOTFOUND, "no identity has the email %s", idOrEmail)
}

func (f *fakeService) PlanReassignment(ctx context.Context, a certs.Actor, in certs.PlanInput) (*certs.Plan, error) {
	if err := f.record("PlanReassignment(%s,items=%v,identities=%v,to=%s,reason=%s)", in.CertificationID, in.ItemIDs, in.IdentityIDs, in.Target, in.Reason); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seq++
	n := len(in.ItemIDs)
	if n == 0 {
		n = 3
	}
	p := &certs.Plan{ID: fmt.Sprintf("plan-%d", f.seq), Digest: fmt.Sprintf("digest-%d", f.seq), CertificationID: in.CertificationID,
		CertificationName: "Q4 Manager Review", CampaignName: "Q4 2026", From: certs.Reviewer{ID: a.IdentityID, Name: a.Name},
		To: certs.Identity{ID: "id-carol", Name: "Carol Owner", Email: "carol@example.com"}, Reason: in.Reason, ItemCount: n,
		IdentityNames: []string{"Bob Worker"}, Calls: []certs.Reassignment{{CertificationID: in.CertificationID, To: "id-carol"}},
		Summary: fmt.Sprintf("Move %d review items to Carol Owner", n), CreatedBy: a, Created: f.now()}
	f.plans[p.ID] = p
	return p, nil
}

func (f *fakeService) RequestApproval(ctx context.Context, a certs.Actor, planID, digest string, approvers []string, refs map[string]string) (*certs.Request, error) {
	if err := f.record("RequestApproval(%s,%s,%v)", planID, digest, approvers); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	p, ok := f.plans[planID]
	if !ok {
		return nil, certs.Errorf(certs.ENOTFOUND, "plan %s not found", planID)
	}
	if p.Digest != digest {
		return nil, certs.Errorf(certs.EINVALID, "the plan changed since it was shown")
	}
	if len(approvers) == 0 {
		return nil, certs.Errorf(certs.EINVALID, "no approvers")
	}
	r := &certs.Request{ID: "req-" + planID, Plan: *p, Requester: a, Approvers: approvers, State: certs.StatePending,
		FrontendRefs: refs, Created: f.now(), Updated: f.now(), ExpiresAt: f.now().Add(certs.DefaultRequestTTL), Version: 1}
	f.requests[r.ID] = r
	f.emit(certs.ActionRequestCreated, r, a)
	return clone(r), nil
}

func clone(r *certs.Request) *certs.Request {
	c := *r
	c.FrontendRefs = map[string]string{}
	for k, v := range r.FrontendRefs {
		c.FrontendRefs[k] = v
	}
	c.Tasks = slices.Clone(r.Tasks)
	return &c
}

func (f *fakeService) emit(action certs.Action, r *certs.Request, a certs.Actor) {
	f.events = append(f.events, certs.Event{Seq: int64(len(f.events) + 1), Time: f.now(), Actor: a, Action: action, RequestID: r.ID})
}

func (f *fakeService) decide(a certs.Actor, id string, to certs.RequestState, reason string) (*certs.Request, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.requests[id]
	if !ok {
		return nil, certs.Errorf(certs.ENOTFOUND, "request %s not found", id)
	}
	if a.Same(r.Requester) {
		return nil, certs.Errorf(certs.EFORBIDDEN, "you filed request %s, so someone else must decide it", id)
	}
	allowed := false
	for _, k := range r.Approvers {
		allowed = allowed || a.Is(k)
	}
	if !allowed {
		return nil, certs.Errorf(certs.EFORBIDDEN, "you are not an approver of request %s", id)
	}
	if r.State != certs.StatePending {
		return nil, certs.Errorf(certs.ECONFLICT, "request %s is already %s", id, r.State)
	}
	r.State, r.DecidedBy, r.DecisionReason = to, &a, reason
	r.Version++
	if to == certs.StateApproved {
		f.emit(certs.ActionRequestApproved, r, a)
	} else {
		f.emit(certs.ActionRequestDenied, r, a)
	}
	return clone(r), nil
}

func (f *fakeService) Approve(ctx context.Context, a certs.Actor, id string) (*certs.Request, error) {
	if err := f.record("Approve(%s,%s)", a.ID, id); err != nil {
		return nil, err
	}
	return f.decide(a, id, certs.StateApproved, "")
}

func (f *fakeService) Deny(ctx context.Context, a certs.Actor, id, reason string) (*certs.Request, error) {
	if err := f.record("Deny(%s,%s,%s)", a.ID, id, reason); err != nil {
		return nil, err
	}
	return f.decide(a, id, certs.StateDenied, reason)
}

func (f *fakeService) GetRequest(ctx context.Context, a certs.Actor, id string) (*certs.Request, error) {
	if err := f.record("GetRequest(%s)", id); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.requests[id]
	if !ok {
		return nil, certs.Errorf(certs.ENOTFOUND, "request %s not found", id)
	}
	return clone(r), nil
}

func (f *fakeService) SetFrontendRefs(ctx context.Context, a certs.Actor, id string, refs map[string]string) (*certs.Request, error) {
	if err := f.record("SetFrontendRefs(%s)", id); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.requests[id]
	if !ok {
		return nil, certs.Errorf(certs.ENOTFOUND, "request %s not found", id)
	}
	if r.FrontendRefs == nil {
		r.FrontendRefs = map[string]string{}
	}
	for k, v := range refs {
		r.FrontendRefs[k] = v
	}
	return clone(r), nil
}

// setState moves a request as the Service's worker would, with its event.
func (f *fakeService) setState(id string, s certs.RequestState, action certs.Action, tasks []certs.RequestTask, errMsg string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.requests[id]
	r.State, r.Tasks, r.Error = s, tasks, errMsg
	f.emit(action, r, certs.SystemActor)
}

// ClaimEvents and AckEvents make the fake an EventSource (one consumer).
func (f *fakeService) ClaimEvents(ctx context.Context, consumer, owner string, lease time.Duration, limit int) ([]certs.Event, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []certs.Event
	for _, e := range f.events {
		if e.Seq > f.cursor && len(out) < limit {
			out = append(out, e)
		}
	}
	return out, nil
}

func (f *fakeService) AckEvents(ctx context.Context, consumer, owner string, seq int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cursor = seq
	return nil
}

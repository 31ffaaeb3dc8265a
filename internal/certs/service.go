package certs

import (
	"context"
	"log/slog"
	"time"
)

// Policy is how a deployment wants reassignments decided. Front ends build
// it from their configuration; the Service enforces it.
type Policy struct {
	// RequireApproval makes SubmitPlan file a request for approvers instead
	// of submitting (MCP); Slack always files requests.
	RequireApproval bool
	// Approvers are approver keys (see Actor.Keys) allowed to decide every
	// request, in addition to those a front end adds when filing.
	Approvers []string
	// RequestTTL is how long a request waits for a decision
	// (DefaultRequestTTL when zero).
	RequestTTL time.Duration
}

// Options configures a Service. Tenant and Store are required.
type Options struct {
	Tenant Tenant
	Store  Store
	Policy Policy
	Logger *slog.Logger
	// Now is the clock (time.Now when nil); tests inject their own.
	Now func() time.Time
	// NewID makes ids for plans and requests (random when nil).
	NewID func() string
	// TaskPoll is the first wait between reads of a running ISC task; it
	// doubles up to TaskPollMax. Defaults: 500ms and 10s.
	TaskPoll, TaskPollMax time.Duration
	// Owner names this process in leases (hostname:pid when empty).
	Owner string
}

// CertificationQuery selects certifications for a person.
type CertificationQuery struct {
	// Reviewer is "" or "me" for the actor's own certifications, or an
	// identity id (admins only).
	Reviewer string
	// CampaignID restricts to one campaign; with it and no Reviewer, an
	// admin sees every reviewer's certifications of the campaign.
	CampaignID string
	// Completed selects open (false) or completed (true) ones; nil is both.
	Completed *bool
	Page      PageOptions
}

// CertificationDetail is one certification with what certops knows about
// it beyond ISC: the reassignment requests filed against it and its pending
// ISC tasks.
type CertificationDetail struct {
	Certification
	Progress     float64    `json:"progress"`
	PendingTasks []Task     `json:"pendingTasks"`
	Requests     []*Request `json:"requests"`
}

// Service is the one service layer both front ends call. Every method takes
// the Actor on whose behalf it runs; reviewer-role actors see and act on only
// the certifications their identity reviews (others are ENOTFOUND or
// EFORBIDDEN).
type Service struct {
	opts Options
}

// NewService returns a Service. It panics if Tenant or Store is nil.
func NewService(opts Options) *Service {
	if opts.Tenant == nil || opts.Store == nil {
		panic("certs.NewService: Tenant and Store are required")
	}
	return &Service{opts: opts}
}

var errNotYet = Errorf(EINTERNAL, "not implemented yet")

// ListCertifications returns a page of certifications, due soonest first.
// Errors: EINVALID (bad query), EFORBIDDEN (a reviewer asking for another's),
// upstream codes.
func (s *Service) ListCertifications(ctx context.Context, a Actor, q CertificationQuery) (Page[Certification], error) {
	return Page[Certification]{}, errNotYet
}

// GetCertification returns one certification with progress, pending tasks
// and reassignment history. Errors: EINVALID, ENOTFOUND, EFORBIDDEN.
func (s *Service) GetCertification(ctx context.Context, a Actor, id string) (*CertificationDetail, error) {
	return nil, errNotYet
}

// ListReviewers returns a page of a certification's reviewers.
func (s *Service) ListReviewers(ctx context.Context, a Actor, certID string, f ReviewerFilter) (Page[IdentityRef], error) {
	return Page[IdentityRef]{}, errNotYet
}

// ListReviewItems returns a page of a certification's review items.
func (s *Service) ListReviewItems(ctx context.Context, a Actor, certID string, f ReviewItemFilter) (Page[ReviewItem], error) {
	return Page[ReviewItem]{}, errNotYet
}

// ListItemPermissions returns a page of what an entitlement item grants.
func (s *Service) ListItemPermissions(ctx context.Context, a Actor, certID, itemID string, f PermissionFilter) (Page[Permission], error) {
	return Page[Permission]{}, errNotYet
}

// ListPendingTasks returns a certification's queued and running ISC tasks.
func (s *Service) ListPendingTasks(ctx context.Context, a Actor, certID string) ([]Task, error) {
	return nil, errNotYet
}

// GetTask returns an ISC certification task.
func (s *Service) GetTask(ctx context.Context, a Actor, taskID string) (*Task, error) {
	return nil, errNotYet
}

// ResolveIdentity finds an identity by id or email (anything with an "@"
// is an email). Errors: EINVALID, ENOTFOUND, ECONFLICT (several match).
func (s *Service) ResolveIdentity(ctx context.Context, a Actor, idOrEmail string) (*Identity, error) {
	return nil, errNotYet
}

// PlanReassignment works out a reassignment and stores it as a Plan; it
// changes nothing in ISC. Errors: EINVALID (with the offending value),
// ENOTFOUND, EFORBIDDEN.
func (s *Service) PlanReassignment(ctx context.Context, a Actor, in PlanInput) (*Plan, error) {
	return nil, errNotYet
}

// GetPlan returns a stored plan. Errors: ENOTFOUND.
func (s *Service) GetPlan(ctx context.Context, a Actor, id string) (*Plan, error) {
	return nil, errNotYet
}

// SubmitPlan carries out a plan the actor has confirmed (digest must equal
// the plan's Digest, else EINVALID). Under a policy that requires approval it
// files a pending request instead (as RequestApproval). Otherwise it records
// an approved request, submits it exactly once and returns it in state
// submitted (async) or completed/failed (sync).
func (s *Service) SubmitPlan(ctx context.Context, a Actor, planID, digest string) (*Request, error) {
	return nil, errNotYet
}

// RequestApproval files a pending request for a confirmed plan. approvers
// are extra approver keys (e.g. resolved from a Slack user group) added to
// the policy's. refs are the front end's own references (may be nil).
// Errors: EINVALID (digest mismatch, no approvers), ENOTFOUND.
func (s *Service) RequestApproval(ctx context.Context, a Actor, planID, digest string, approvers []string, refs map[string]string) (*Request, error) {
	return nil, errNotYet
}

// Approve approves a pending request and submits it, exactly once however
// many approvers race. Errors: EFORBIDDEN (not an approver, or the
// requester), ECONFLICT (already decided: the message says by whom and what
// state it is in), ENOTFOUND.
func (s *Service) Approve(ctx context.Context, a Actor, requestID string) (*Request, error) {
	return nil, errNotYet
}

// Deny denies a pending request with an optional reason. Errors as Approve.
func (s *Service) Deny(ctx context.Context, a Actor, requestID, reason string) (*Request, error) {
	return nil, errNotYet
}

// Cancel withdraws a pending request; only its requester (or an admin) may.
func (s *Service) Cancel(ctx context.Context, a Actor, requestID string) (*Request, error) {
	return nil, errNotYet
}

// GetRequest returns a request. Errors: ENOTFOUND, EFORBIDDEN.
func (s *Service) GetRequest(ctx context.Context, a Actor, id string) (*Request, error) {
	return nil, errNotYet
}

// SetRequestRefs merges front-end references into a request (e.g. the Slack
// message that shows it) without changing its state.
func (s *Service) SetRequestRefs(ctx context.Context, a Actor, id string, refs map[string]string) (*Request, error) {
	return nil, errNotYet
}

// ListAudit returns audit events. Errors: EFORBIDDEN for reviewer-role
// actors asking beyond their own requests.
func (s *Service) ListAudit(ctx context.Context, a Actor, f EventFilter) ([]Event, error) {
	return nil, errNotYet
}

// RunWorker does background work until ctx ends: expires requests past
// their TTL, reconciles requests left in submitting, and follows submitted
// requests' ISC tasks to completed or failed. Work is claimed per request
// through the Store, so with several replicas each job is done once.
func (s *Service) RunWorker(ctx context.Context, interval time.Duration) error {
	return errNotYet
}

// Tick runs one pass of RunWorker's work (for tests and for start-up).
func (s *Service) Tick(ctx context.Context) error {
	return errNotYet
}

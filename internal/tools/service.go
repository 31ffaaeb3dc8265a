package tools

import (
	"context"

	"github.com/certops/certops/internal/certs"
)

// Service is the part of certs.Service the tools call: production and the
// tests both pass a *certs.Service (the tests over certstest's Tenant and
// Store), so the tools are checked against the Service's own rules.
type Service interface {
	ListCertifications(ctx context.Context, a certs.Actor, q certs.CertificationQuery) (certs.Page[certs.Certification], error)
	GetCertification(ctx context.Context, a certs.Actor, id string) (*certs.CertificationDetail, error)
	ListReviewers(ctx context.Context, a certs.Actor, certID string, f certs.ReviewerFilter) (certs.Page[certs.IdentityRef], error)
	ListReviewItems(ctx context.Context, a certs.Actor, certID string, f certs.ReviewItemFilter) (certs.Page[certs.ReviewItem], error)
	ListItemPermissions(ctx context.Context, a certs.Actor, certID, itemID string, f certs.PermissionFilter) (certs.Page[certs.Permission], error)
	ListPendingTasks(ctx context.Context, a certs.Actor, certID string) ([]certs.Task, error)
	GetTask(ctx context.Context, a certs.Actor, taskID string) (*certs.Task, error)
	ResolveIdentity(ctx context.Context, a certs.Actor, idOrEmail string) (*certs.Identity, error)
	FindPeople(ctx context.Context, a certs.Actor, query string, limit int) (certs.Page[certs.Identity], error) // people.go
	PlanReassignment(ctx context.Context, a certs.Actor, in certs.PlanInput) (*certs.Plan, error)
	GetPlan(ctx context.Context, a certs.Actor, id string) (*certs.Plan, error)
	SubmitPlan(ctx context.Context, a certs.Actor, planID, digest string) (*certs.Request, error)
	GetRequest(ctx context.Context, a certs.Actor, id string) (*certs.Request, error)
	FollowRequest(ctx context.Context, a certs.Actor, id string) (*certs.Request, error)

	// Reviewing: evidence, decisions, sign-off (evidence.go, decisions.go).
	GetItemEvidence(ctx context.Context, a certs.Actor, certID, itemID string) (*certs.ItemEvidence, error)
	ListEvidence(ctx context.Context, a certs.Actor, certID string, ids []string) ([]certs.ItemEvidence, error)
	PlanDecisions(ctx context.Context, a certs.Actor, in certs.DecisionInput) (*certs.Plan, error)
	PlanSignOff(ctx context.Context, a certs.Actor, certID, onBehalf string) (*certs.Plan, error)
	SignOffReady(ctx context.Context, a certs.Actor, certID string) (bool, string, error)
	ExportReviewEvidence(ctx context.Context, a certs.Actor, certID string) ([]certs.EvidenceRecord, error) // export.go
}

var _ Service = (*certs.Service)(nil)

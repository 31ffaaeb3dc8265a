package slackbot

// Generated from the Service interface (bot.go): each call with an actor is
// bound to that actor's own ISC sign-in (personService, signin.go).

import (
	"context"
	"time"

	"github.com/certops/certops/internal/certs"
)

func (s personService) ListCertifications(ctx context.Context, a certs.Actor, q certs.CertificationQuery) (certs.Page[certs.Certification], error) {
	ctx, err := s.bind(ctx, a)
	if err != nil {
		return certs.Page[certs.Certification]{}, err
	}
	return s.Service.ListCertifications(ctx, a, q)
}

func (s personService) GetCertification(ctx context.Context, a certs.Actor, id string) (*certs.CertificationDetail, error) {
	ctx, err := s.bind(ctx, a)
	if err != nil {
		return nil, err
	}
	return s.Service.GetCertification(ctx, a, id)
}

func (s personService) ListReviewers(ctx context.Context, a certs.Actor, certID string, f certs.ReviewerFilter) (certs.Page[certs.IdentityRef], error) {
	ctx, err := s.bind(ctx, a)
	if err != nil {
		return certs.Page[certs.IdentityRef]{}, err
	}
	return s.Service.ListReviewers(ctx, a, certID, f)
}

func (s personService) ListReviewItems(ctx context.Context, a certs.Actor, certID string, f certs.ReviewItemFilter) (certs.Page[certs.ReviewItem], error) {
	ctx, err := s.bind(ctx, a)
	if err != nil {
		return certs.Page[certs.ReviewItem]{}, err
	}
	return s.Service.ListReviewItems(ctx, a, certID, f)
}

func (s personService) ListItemPermissions(ctx context.Context, a certs.Actor, certID, itemID string, f certs.PermissionFilter) (certs.Page[certs.Permission], error) {
	ctx, err := s.bind(ctx, a)
	if err != nil {
		return certs.Page[certs.Permission]{}, err
	}
	return s.Service.ListItemPermissions(ctx, a, certID, itemID, f)
}

func (s personService) ListPendingTasks(ctx context.Context, a certs.Actor, certID string) ([]certs.Task, error) {
	ctx, err := s.bind(ctx, a)
	if err != nil {
		return nil, err
	}
	return s.Service.ListPendingTasks(ctx, a, certID)
}

func (s personService) GetTask(ctx context.Context, a certs.Actor, taskID string) (*certs.Task, error) {
	ctx, err := s.bind(ctx, a)
	if err != nil {
		return nil, err
	}
	return s.Service.GetTask(ctx, a, taskID)
}

func (s personService) ResolveIdentity(ctx context.Context, a certs.Actor, idOrEmail string) (*certs.Identity, error) {
	ctx, err := s.bind(ctx, a)
	if err != nil {
		return nil, err
	}
	return s.Service.ResolveIdentity(ctx, a, idOrEmail)
}

func (s personService) PlanReassignment(ctx context.Context, a certs.Actor, in certs.PlanInput) (*certs.Plan, error) {
	ctx, err := s.bind(ctx, a)
	if err != nil {
		return nil, err
	}
	return s.Service.PlanReassignment(ctx, a, in)
}

func (s personService) RequestApproval(ctx context.Context, a certs.Actor, planID, digest string, approvers []string, refs map[string]string) (*certs.Request, error) {
	ctx, err := s.bind(ctx, a)
	if err != nil {
		return nil, err
	}
	return s.Service.RequestApproval(ctx, a, planID, digest, approvers, refs)
}

func (s personService) MayDecideRequest(ctx context.Context, a certs.Actor, requestID string) error {
	ctx, err := s.bind(ctx, a)
	if err != nil {
		return err
	}
	return s.Service.MayDecideRequest(ctx, a, requestID)
}

func (s personService) Approve(ctx context.Context, a certs.Actor, requestID string) (*certs.Request, error) {
	ctx, err := s.bind(ctx, a)
	if err != nil {
		return nil, err
	}
	return s.Service.Approve(ctx, a, requestID)
}

func (s personService) Deny(ctx context.Context, a certs.Actor, requestID, reason string) (*certs.Request, error) {
	ctx, err := s.bind(ctx, a)
	if err != nil {
		return nil, err
	}
	return s.Service.Deny(ctx, a, requestID, reason)
}

func (s personService) ListAudit(ctx context.Context, a certs.Actor, f certs.EventFilter) ([]certs.Event, error) {
	ctx, err := s.bind(ctx, a)
	if err != nil {
		return nil, err
	}
	return s.Service.ListAudit(ctx, a, f)
}

func (s personService) GetRequest(ctx context.Context, a certs.Actor, id string) (*certs.Request, error) {
	ctx, err := s.bind(ctx, a)
	if err != nil {
		return nil, err
	}
	return s.Service.GetRequest(ctx, a, id)
}

func (s personService) SetFrontendRefs(ctx context.Context, a certs.Actor, id string, refs map[string]string) (*certs.Request, error) {
	ctx, err := s.bind(ctx, a)
	if err != nil {
		return nil, err
	}
	return s.Service.SetFrontendRefs(ctx, a, id, refs)
}

func (s personService) ListEvidence(ctx context.Context, a certs.Actor, certID string, ids []string) ([]certs.ItemEvidence, error) {
	ctx, err := s.bind(ctx, a)
	if err != nil {
		return nil, err
	}
	return s.Service.ListEvidence(ctx, a, certID, ids)
}

func (s personService) MayDecide(ctx context.Context, a certs.Actor, certID, onBehalf string) error {
	ctx, err := s.bind(ctx, a)
	if err != nil {
		return err
	}
	return s.Service.MayDecide(ctx, a, certID, onBehalf)
}

func (s personService) PlanDecisions(ctx context.Context, a certs.Actor, in certs.DecisionInput) (*certs.Plan, error) {
	ctx, err := s.bind(ctx, a)
	if err != nil {
		return nil, err
	}
	return s.Service.PlanDecisions(ctx, a, in)
}

func (s personService) PlanSignOff(ctx context.Context, a certs.Actor, certID, onBehalf string) (*certs.Plan, error) {
	ctx, err := s.bind(ctx, a)
	if err != nil {
		return nil, err
	}
	return s.Service.PlanSignOff(ctx, a, certID, onBehalf)
}

func (s personService) GetPlan(ctx context.Context, a certs.Actor, id string) (*certs.Plan, error) {
	ctx, err := s.bind(ctx, a)
	if err != nil {
		return nil, err
	}
	return s.Service.GetPlan(ctx, a, id)
}

func (s personService) SubmitPlan(ctx context.Context, a certs.Actor, planID, digest string) (*certs.Request, error) {
	ctx, err := s.bind(ctx, a)
	if err != nil {
		return nil, err
	}
	return s.Service.SubmitPlan(ctx, a, planID, digest)
}

func (s personService) ExportReviewEvidence(ctx context.Context, a certs.Actor, certID string) ([]certs.EvidenceRecord, error) {
	ctx, err := s.bind(ctx, a)
	if err != nil {
		return nil, err
	}
	return s.Service.ExportReviewEvidence(ctx, a, certID)
}

// The optional services (home.go, remind.go), bound the same way.

var (
	_ HomeService          = personService{}
	_ ReminderPrefsService = personService{}
)

func (s personService) MyPendingRequests(ctx context.Context, a certs.Actor) (certs.MyRequests, error) {
	hs, ok := s.Service.(HomeService)
	if !ok {
		return certs.MyRequests{}, certs.Errorf(certs.EINTERNAL, "the Home tab's requests are not available")
	}
	ctx, err := s.bind(ctx, a)
	if err != nil {
		return certs.MyRequests{}, err
	}
	return hs.MyPendingRequests(ctx, a)
}

func (s personService) MyReminderPrefs(ctx context.Context, a certs.Actor) (certs.ReminderPrefs, error) {
	rs, ok := s.Service.(ReminderPrefsService)
	if !ok {
		return certs.ReminderPrefs{}, certs.Errorf(certs.EINTERNAL, "reminders are not available")
	}
	ctx, err := s.bind(ctx, a)
	if err != nil {
		return certs.ReminderPrefs{}, err
	}
	return rs.MyReminderPrefs(ctx, a)
}

func (s personService) SetMyReminderPrefs(ctx context.Context, a certs.Actor, mode certs.ReminderMode, snoozeUntil *time.Time) (certs.ReminderPrefs, error) {
	rs, ok := s.Service.(ReminderPrefsService)
	if !ok {
		return certs.ReminderPrefs{}, certs.Errorf(certs.EINTERNAL, "reminders are not available")
	}
	ctx, err := s.bind(ctx, a)
	if err != nil {
		return certs.ReminderPrefs{}, err
	}
	return rs.SetMyReminderPrefs(ctx, a, mode, snoozeUntil)
}

package certs

import (
	"context"
	"fmt"
)

// The audit trail, as people read it. Events are written by the operations
// themselves (in the same transaction as each request's change); this file
// only reads them.
//
// Which action is written when:
//
//	plan.created            PlanReassignment stored a plan
//	request.created         SubmitPlan / RequestApproval filed a request
//	request.approved        Approve won the race (or SubmitPlan without approval)
//	request.denied          Deny
//	request.cancelled       Cancel
//	request.expired         a decision or the worker found it past ExpiresAt
//	request.submitting      the request was claimed for submission
//	task.submitted          one ISC call accepted, with its task id
//	request.outcome_unknown an ISC call's outcome could not be established
//	request.submitted       every call accepted
//	task.progress           a task's status changed
//	request.reconciled      the worker settled an abandoned submission
//	request.completed       every task succeeded (or the sync call did)
//	request.failed          a call was rejected, a task failed, or
//	                        reconciliation could not confirm a call
//	data.exported           a read returned ExportThreshold rows or more, or
//	                        a review evidence export (evidence_export.go)

// Limits on one ListAudit answer.
const (
	defaultAuditLimit = 100
	maxAuditLimit     = 1000
)

// ListAudit returns audit events, oldest first. Admins read any events;
// reviewer-role actors read the events of requests they may see, of
// certifications they review, or their own (with no filter, their own).
// Errors: EINVALID, EFORBIDDEN for reviewer-role actors asking beyond that.
func (s *Service) ListAudit(ctx context.Context, a Actor, f EventFilter) ([]Event, error) {
	if err := checkActor(a); err != nil {
		return nil, err
	}
	switch {
	case f.Limit < 0 || f.Limit > maxAuditLimit:
		return nil, Errorf(EINVALID, "limit %d is outside 0..%d", f.Limit, maxAuditLimit)
	case f.Limit == 0:
		f.Limit = defaultAuditLimit
	}
	if f.AfterSeq < 0 {
		return nil, Errorf(EINVALID, "after %d is negative", f.AfterSeq)
	}
	if f.RequestID != "" {
		if err := ValidateID("request id", f.RequestID); err != nil {
			return nil, err
		}
	}
	if f.CertificationID != "" {
		if err := ValidateID("certification id", f.CertificationID); err != nil {
			return nil, err
		}
	}
	if a.Role != RoleAdmin {
		if err := s.authorizeAudit(ctx, a, &f); err != nil {
			return nil, err
		}
	}
	evs, err := s.opts.Store.ListEvents(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("list audit events: %w", err)
	}
	return evs, nil
}

// authorizeAudit narrows or refuses a reviewer's audit query.
func (s *Service) authorizeAudit(ctx context.Context, a Actor, f *EventFilter) error {
	switch {
	case f.RequestID != "":
		if _, err := s.readRequest(ctx, a, f.RequestID); err != nil {
			return err
		}
	case f.CertificationID != "":
		if err := s.authorizeCertification(ctx, a, f.CertificationID); err != nil {
			return err
		}
	case f.ActorKey != "":
		if !a.Is(f.ActorKey) {
			return Errorf(EFORBIDDEN, "reviewers may read only their own audit events, not those of %s", f.ActorKey)
		}
	default:
		keys := a.Keys()
		f.ActorKey = keys[len(keys)-1] // the identity key when known: it spans front ends
	}
	return nil
}

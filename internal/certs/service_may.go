package certs

import (
	"context"
	"fmt"
	"strings"
)

// MayDecideRequest reports whether a may approve or deny request id now,
// changing nothing: a front end asks it before it asks the person anything
// more (Slack's Deny opens a form for a reason only for someone who may
// deny). Approve and Deny make the same checks again when they act.
//
// Errors: EINVALID (a malformed id), ENOTFOUND, EFORBIDDEN (no ISC
// identity, the requester, the would-be reviewer, not an approver), and
// ECONFLICT when the request is no longer pending or has expired; unlike
// Approve, a request past its expiry is not moved to expired here.
func (s *Service) MayDecideRequest(ctx context.Context, a Actor, id string) error {
	if err := checkActor(a); err != nil {
		return err
	}
	if err := ValidateID("request id", id); err != nil {
		return err
	}
	r, err := s.opts.Store.GetRequest(ctx, id)
	if err != nil {
		return fmt.Errorf("request %s: %w", id, err)
	}
	// The same rules, in the same order, as requestToDecide.
	switch {
	case a.IdentityID == "":
		return &Error{Code: EFORBIDDEN, Err: ErrNoIdentity, Message: fmt.Sprintf(
			"deciding request %s needs your ISC identity (so that no one decides their own request); %s:%s has none", id, a.Frontend, a.ID)}
	case a.Same(r.Requester):
		return Errorf(EFORBIDDEN, "you filed request %s; another approver must decide it", id)
	case strings.EqualFold(a.IdentityID, r.Plan.To.ID):
		return Errorf(EFORBIDDEN, "request %s would make you the reviewer of this work; another approver must decide it", id)
	case !isApprover(a, r):
		return Errorf(EFORBIDDEN, "you are not an approver of request %s", id)
	case r.State != StatePending:
		return s.conflict(ctx, r)
	case s.now().After(r.ExpiresAt):
		expired := *r
		expired.State = StateExpired
		return s.conflict(ctx, &expired)
	}
	return nil
}

package certs

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Reassignment, the first kind of change: moving review items of a
// certification to another reviewer. A plan of at most MaxSyncReassign
// items is one synchronous call, done when ISC answers
// (reassignIdentityCertifications); a larger one is asynchronous calls of
// at most MaxAsyncReassign, each an ISC task to follow
// (submitReassignCertsAsync). ISC moves the items, keeping their ids, to the
// certification of the same campaign that the new reviewer reviews.
type reassignKind struct{}

// settleSkew is how much earlier than our record of a call's sending an ISC
// task may say it was created and still be that call's: the clocks of
// SailPoint and of the replica that sent it differ a little.
const settleSkew = time.Minute

func (reassignKind) send(ctx context.Context, t Tenant, p *Plan, i int) (*Task, error) {
	if p.Sync {
		_, err := t.Reassign(ctx, p.Calls[i])
		return nil, err
	}
	return t.ReassignAsync(ctx, p.Calls[i])
}

// settle takes as call i's task only a pending reassignment task of the
// certification that no request in the store has recorded, created after
// the call was recorded as sending, whose trail moves work to the plan's
// target and nowhere else, and only when it is the one such task. Without
// one, the call is applied only if every one of its items is now with the
// target; items merely gone from the certification prove nothing (another
// request may have moved them elsewhere).
func (k reassignKind) settle(ctx context.Context, s *Service, r *Request, i int) (settlement, error) {
	p := &r.Plan
	if !p.Sync {
		pending, err := s.opts.Tenant.ListPendingTasks(ctx, p.CertificationID)
		if ErrorCode(err) == ENOTFOUND {
			return settlement{gone: true}, nil
		}
		if err != nil {
			return settlement{}, fmt.Errorf("pending tasks of certification %s: %w", p.CertificationID, err)
		}
		recorded, err := s.recordedTasks(ctx, p.CertificationID)
		if err != nil {
			return settlement{}, err
		}
		var sentAt time.Time
		if rec := r.call(i); rec != nil && rec.SentAt != nil {
			sentAt = *rec.SentAt
		}
		var candidates []Task
		for _, t := range pending {
			if reassignTaskFits(t, p, sentAt) && !recorded[t.ID] {
				candidates = append(candidates, t)
			}
		}
		switch len(candidates) {
		case 1:
			return settlement{task: &candidates[0]}, nil
		case 0:
		default:
			ids := make([]string, len(candidates))
			for j, t := range candidates {
				ids[j] = t.ID
			}
			return settlement{why: fmt.Sprintf("%d pending ISC tasks could be it (%s)", len(candidates), strings.Join(ids, ", "))}, nil
		}
	}
	ok, why, err := k.applied(ctx, s, r, i)
	if ErrorCode(err) == ENOTFOUND {
		return settlement{gone: true}, nil
	}
	if err != nil {
		return settlement{}, err
	}
	if ok {
		return settlement{applied: true, evidence: fmt.Sprintf("its %s with %s", plural(len(p.Calls[i].Refs), "review item is", "review items are"), p.To.Name)}, nil
	}
	if !p.Sync {
		why = "no pending ISC task matches it and " + why
	}
	return settlement{why: why}, nil
}

// reassignTaskFits: a reassignment task of p's certification, created no
// earlier than the call (less settleSkew), whose trail names only p's target
// as the new owner. A task without a trail proves nothing.
func reassignTaskFits(t Task, p *Plan, sentAt time.Time) bool {
	if t.Type != TaskReassign && t.Type != TaskAdminReassign {
		return false
	}
	if t.TargetID != p.CertificationID || len(t.Trail) == 0 {
		return false
	}
	if !sentAt.IsZero() && (t.Created.IsZero() || t.Created.Before(sentAt.Add(-settleSkew))) {
		return false
	}
	for _, tr := range t.Trail {
		if !strings.EqualFold(tr.NewOwner, p.To.ID) {
			return false
		}
	}
	return true
}

// applied reports whether every item of call i is in a certification of the
// same campaign reviewed by the plan's target.
func (reassignKind) applied(ctx context.Context, s *Service, r *Request, i int) (bool, string, error) {
	p := &r.Plan
	refs := p.Calls[i].Refs
	cert, err := s.opts.Tenant.GetCertification(ctx, p.CertificationID)
	if err != nil {
		return false, "", err
	}
	targets, err := s.opts.Tenant.ListAllCertifications(ctx, CertificationFilter{ReviewerIdentity: p.To.ID, CampaignIDs: []string{cert.Campaign.ID}, Page: PageOptions{Limit: MaxPageLimit}})
	if err != nil {
		return false, "", fmt.Errorf("certifications of %s in campaign %s: %w", p.To.ID, cert.Campaign.ID, err)
	}
	ids := make([]string, len(refs))
	for j, ref := range refs {
		ids[j] = ref.ID
	}
	byIDs := func(chunk []string) ReviewItemFilter { return ReviewItemFilter{IDs: chunk} }
	found := 0
	for _, t := range targets {
		items, err := s.itemsIn(ctx, t.ID, ids, byIDs)
		if err != nil {
			return false, "", err
		}
		found += len(items)
	}
	if found == len(refs) {
		return true, "", nil
	}
	still, err := s.itemsIn(ctx, p.CertificationID, ids, byIDs)
	if err != nil {
		return false, "", err
	}
	left := len(still)
	return false, fmt.Sprintf("%d of its %d review items are with %s, %d still in the certification and %d elsewhere",
		found, len(refs), describeIdentity(&p.To), left, len(refs)-found-left), nil
}

// recordedTasks is every ISC task id a request about the certification has
// recorded.
func (s *Service) recordedTasks(ctx context.Context, certID string) (map[string]bool, error) {
	reqs, err := s.opts.Store.ListRequests(ctx, RequestFilter{CertificationID: certID})
	if err != nil {
		return nil, fmt.Errorf("requests of certification %s: %w", certID, err)
	}
	ids := map[string]bool{}
	for _, r := range reqs {
		for _, t := range r.Tasks {
			if t.TaskID != "" {
				ids[t.TaskID] = true
			}
		}
	}
	return ids, nil
}

func (reassignKind) done(r *Request, n int) string {
	switch {
	case n == 0:
		return "Nothing was moved"
	case n < r.Plan.ItemCount:
		return fmt.Sprintf("%d of %s moved to %s", n, plural(r.Plan.ItemCount, "review item", "review items"), r.Plan.To.Name)
	}
	return fmt.Sprintf("%s moved to %s", plural(n, "review item", "review items"), r.Plan.To.Name)
}

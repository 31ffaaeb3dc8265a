package certstest

import (
	"context"
	"strings"

	"github.com/certops/certops/internal/certs"
)

// Decide and SignOff, as the sandbox answers makeIdentityDecision and
// signOffIdentityCertification: decisions only while the certification is
// ACTIVE, each item of it, the campaign's mandatory-comment rule, a
// proposed end date only on a revoke; a decided item may be decided again
// until sign-off; sign-off only when every item is decided and no task is
// pending. BeforeDecide and AfterDecide hooks work as the reassignment
// hooks do.

// DecideHook runs around Decide and SignOff (decisions is nil for a
// sign-off); n counts those calls from 0.
type DecideHook func(n int, certID string, decisions []certs.ItemDecision) error

func (t *Tenant) Decide(ctx context.Context, certID string, ds []certs.ItemDecision) (*certs.Certification, error) {
	if err := certs.ValidateDecisionCall(certID, ds); err != nil {
		return nil, err
	}
	return t.mutate("Decide", certID, ds, func(c *certs.Certification) error {
		if c.Phase != certs.PhaseActive {
			return badRequest("certification %s is %s; decisions can only be made while it is ACTIVE", c.ID, c.Phase)
		}
		index := map[string]int{}
		for i, it := range t.items[c.ID] {
			index[it.ID] = i
		}
		for i, d := range ds {
			if _, ok := index[d.ItemID]; !ok {
				return badRequest("review item %s is not in certification %s", d.ItemID, c.ID)
			}
			if d.Decision != certs.DecisionApprove && d.Decision != certs.DecisionRevoke {
				return badRequest("invalid value for [%d].decision: %q", i, d.Decision)
			}
			if d.ProposedEndDate != nil && d.Decision != certs.DecisionRevoke {
				return badRequest("[%d].proposedEndDate may only be set for REVOKE decisions", i)
			}
			rule := c.Campaign.MandatoryCommentRequirement
			if (rule == certs.CommentsOnAll || rule == certs.CommentsOnRevoke && d.Decision == certs.DecisionRevoke) && strings.TrimSpace(d.Comments) == "" {
				return badRequest("a comment is required for %s decisions in campaign %s (%s)", d.Decision, c.Campaign.Name, rule)
			}
		}
		for _, d := range ds {
			it := &t.items[c.ID][index[d.ItemID]]
			it.Decision, it.Comments, it.Completed = d.Decision, d.Comments, true
		}
		t.recountLocked(c.ID)
		c.Modified = t.now()
		return nil
	})
}

func (t *Tenant) SignOff(ctx context.Context, certID string) (*certs.Certification, error) {
	if err := certs.ValidateID("certification id", certID); err != nil {
		return nil, err
	}
	return t.mutate("SignOff", certID, nil, func(c *certs.Certification) error {
		if c.Phase == certs.PhaseSigned {
			return badRequest("certification %s is already signed", c.ID)
		}
		if left := c.DecisionsTotal - c.DecisionsMade; left > 0 {
			return badRequest("certification %s cannot be signed: %d items are undecided", c.ID, left)
		}
		for _, id := range t.taskOrder {
			if tk := t.tasks[id]; tk.TargetID == c.ID && !tk.Status.Done() {
				return badRequest("certification %s cannot be signed while task %s is pending", c.ID, id)
			}
		}
		now := t.now()
		c.Phase, c.Completed, c.Signed, c.Modified = certs.PhaseSigned, true, &now, now
		return nil
	})
}

// mutate runs a decide or sign-off call: the failure map, the hooks, and
// apply with t.mu held on the certification.
func (t *Tenant) mutate(method, certID string, ds []certs.ItemDecision, apply func(*certs.Certification) error) (*certs.Certification, error) {
	t.mu.Lock()
	if err := t.enter(method); err != nil {
		t.mu.Unlock()
		return nil, err
	}
	n := t.calls["Decide"] + t.calls["SignOff"] - 1
	t.mu.Unlock()
	if t.BeforeDecide != nil {
		if err := t.BeforeDecide(n, certID, ds); err != nil {
			return nil, err
		}
	}
	t.mu.Lock()
	c, ok := t.certs[certID]
	var out certs.Certification
	err := notFound("certification", certID)
	if ok {
		if err = apply(c); err == nil {
			out = *c
			t.decisions = append(t.decisions, ds...)
		}
	}
	t.mu.Unlock()
	if err != nil {
		return nil, err
	}
	if t.AfterDecide != nil {
		if err := t.AfterDecide(n, certID, ds); err != nil {
			return nil, err
		}
	}
	return &out, nil
}

// Decisions returns every decision the tenant applied, in order.
func (t *Tenant) Decisions() []certs.ItemDecision {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]certs.ItemDecision(nil), t.decisions...)
}

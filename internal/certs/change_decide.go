package certs

import (
	"context"
	"fmt"
)

// Decisions, the second kind of change: a reviewer approves or revokes
// review items. Each call is one synchronous makeIdentityDecision of at most
// MaxDecisionsPerCall decisions, done when ISC answers. A lost answer is
// settled by reading the items back: the call applied when every item now
// carries the decision (and comments) it sent. No other submission to the
// certification runs meanwhile (lifecycle.go), so what is read back is
// this call's doing or, at worst, the reviewer's own identical decision in
// ISC's UI, which leaves the item as the plan wanted it.
type decideKind struct{}

func (decideKind) send(ctx context.Context, t Tenant, p *Plan, i int) (*Task, error) {
	c := p.Decisions[i]
	_, err := t.Decide(ctx, c.CertificationID, c.Items)
	return nil, err
}

func (k decideKind) settle(ctx context.Context, s *Service, r *Request, i int) (settlement, error) {
	return settleByReading(ctx, k, s, r, i, fmt.Sprintf("its %s carry the decisions it sent", plural(r.Plan.CallSize(i), "review item", "review items")))
}

// applied reads call i's items back and compares their decisions.
func (decideKind) applied(ctx context.Context, s *Service, r *Request, i int) (bool, string, error) {
	c := r.Plan.Decisions[i]
	want := make(map[string]ItemDecision, len(c.Items))
	ids := make([]string, 0, len(c.Items))
	for _, d := range c.Items {
		want[d.ItemID] = d
		ids = append(ids, d.ItemID)
	}
	same, differ, missing := 0, 0, len(ids)
	for _, chunk := range chunks(ids, idsPerFilter) {
		items, err := s.allItems(ctx, c.CertificationID, ReviewItemFilter{IDs: chunk})
		if err != nil {
			return false, "", err
		}
		for _, it := range items {
			d, ok := want[it.ID]
			if !ok {
				continue
			}
			missing--
			if it.Decision == d.Decision && it.Comments == d.Comments {
				same++
			} else {
				differ++
			}
		}
	}
	if same == len(ids) {
		return true, "", nil
	}
	return false, fmt.Sprintf("%d of its %d review items carry the decisions it sent, %d carry others and %d were not found", same, len(ids), differ, missing), nil
}

func (decideKind) done(r *Request, n int) string {
	switch {
	case n == 0:
		return "No decision was recorded"
	case n < r.Plan.ItemCount:
		return fmt.Sprintf("%d of %s recorded", n, plural(r.Plan.ItemCount, "decision", "decisions"))
	}
	return fmt.Sprintf("%s recorded", plural(n, "decision", "decisions"))
}

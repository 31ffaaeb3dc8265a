package certs

import (
	"cmp"
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"
)

// Evidence: what a careful reviewer looks at for one review item, from facts
// only. certops points things out (Remarks), always saying which facts a
// remark comes from, and never recommends a decision on its own authority.
//
// Evidence for a whole certification costs one read of its items (every
// page), one read per 50 distinct identities and per 50 managers, and one
// read of certops's own requests: never a call per item or per person.

// ItemEvidence is one review item and the facts around it.
type ItemEvidence struct {
	Item     ReviewItem   `json:"item"`
	Identity PersonFacts  `json:"identity"`
	Manager  *PersonFacts `json:"manager,omitempty"` // the identity's manager, where the tenant has one
	// Peers is how many other identities in the certification hold the
	// same access.
	Peers int `json:"peers"`
	// Reassigned says how the item came to this reviewer, when it did.
	Reassigned *ReassignedFact `json:"reassigned,omitempty"`
	// Decided is the decision already made on the item, if any.
	Decided *DecidedFact `json:"decided,omitempty"`
	Remarks []Remark     `json:"remarks,omitempty"`
}

// PersonFacts names an identity.
type PersonFacts struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email,omitempty"`
}

// ReassignedFact is how an item came to its reviewer: by a certops request
// (RequestID set, with who asked and why) or by ISC's own reassignment of
// the certification (From and Reason from ISC).
type ReassignedFact struct {
	From      string `json:"from"`
	Reason    string `json:"reason,omitempty"`
	RequestID string `json:"requestId,omitempty"`
	By        string `json:"by,omitempty"` // who asked for it, for a certops request
	Source    string `json:"source"`       // "certops" or "ISC"
}

// DecidedFact is a decision already made. By and At are known when it was
// made through certops (its audit trail); ISC's items do not say.
type DecidedFact struct {
	Decision  Decision `json:"decision"`
	Comments  string   `json:"comments,omitempty"`
	By        string   `json:"by,omitempty"`
	At        string   `json:"at,omitempty"`
	RequestID string   `json:"requestId,omitempty"`
}

// Remark is something worth a reviewer's attention and the facts it comes
// from. It is never a recommendation.
type Remark struct {
	Text  string   `json:"text"`
	Facts []string `json:"facts"`
}

// GetItemEvidence returns the evidence for one review item. Errors:
// EINVALID, ENOTFOUND (no such item in the certification), EFORBIDDEN.
func (s *Service) GetItemEvidence(ctx context.Context, a Actor, certID, itemID string) (*ItemEvidence, error) {
	if err := ValidateID("review item id", itemID); err != nil {
		return nil, err
	}
	all, err := s.ListEvidence(ctx, a, certID, []string{itemID})
	if err != nil {
		return nil, err
	}
	if len(all) == 0 {
		return nil, Errorf(ENOTFOUND, "review item %s is not in certification %s", itemID, certID)
	}
	return &all[0], nil
}

// ListEvidence returns the evidence for the certification's items with the
// given ids (every item when ids is empty), in the certification's order.
// Errors: EINVALID, ENOTFOUND, EFORBIDDEN, upstream codes.
func (s *Service) ListEvidence(ctx context.Context, a Actor, certID string, ids []string) ([]ItemEvidence, error) {
	if err := validateIDs("review item id", ids); err != nil {
		return nil, err
	}
	c, err := s.certificationFor(ctx, a, certID)
	if err != nil {
		return nil, err
	}
	all, err := s.allItems(ctx, c.ID, ReviewItemFilter{})
	if err != nil {
		return nil, err
	}
	return s.evidence(ctx, c, all, ids)
}

// evidence builds the evidence for the items of all (every item of c) with
// the given ids (all when empty).
func (s *Service) evidence(ctx context.Context, c *Certification, all []ReviewItem, ids []string) ([]ItemEvidence, error) {
	reqs, err := s.opts.Store.ListRequests(ctx, RequestFilter{States: []RequestState{StateCompleted, StateFailed, StateSubmitted}})
	if err != nil {
		return nil, fmt.Errorf("requests: %w", err)
	}
	want := map[string]bool{}
	for _, id := range ids {
		want[id] = true
	}
	holders := map[string]map[string]bool{} // access id → identity ids
	for _, it := range all {
		if holders[it.Access.ID] == nil {
			holders[it.Access.ID] = map[string]bool{}
		}
		holders[it.Access.ID][it.IdentitySummary.IdentityID] = true
	}
	var chosen []ReviewItem
	for _, it := range all {
		if len(want) == 0 || want[it.ID] {
			chosen = append(chosen, it)
		}
	}
	people, err := s.people(ctx, chosen)
	if err != nil {
		return nil, err
	}
	moved, decided := requestFacts(c, reqs)
	out := make([]ItemEvidence, len(chosen))
	for i, it := range chosen {
		ev := ItemEvidence{Item: it, Peers: len(holders[it.Access.ID]) - 1}
		id := people[strings.ToLower(it.IdentitySummary.IdentityID)]
		ev.Identity = PersonFacts{ID: it.IdentitySummary.IdentityID, Name: it.IdentitySummary.Name}
		if id != nil {
			ev.Identity.Email = id.Email
			if m := people[strings.ToLower(id.ManagerID)]; id.ManagerID != "" && m != nil {
				ev.Manager = &PersonFacts{ID: m.ID, Name: m.Name, Email: m.Email}
			}
		}
		if f, ok := moved[it.ID]; ok {
			ev.Reassigned = &f
		} else if c.Reassignment != nil {
			from := reviewerName(c.Reassignment.Reviewer)
			if from == "" {
				from = "certification " + cmp.Or(c.Reassignment.CertificationName, c.Reassignment.CertificationID)
			}
			ev.Reassigned = &ReassignedFact{From: from, Reason: c.Reassignment.Comment, Source: "ISC"}
		}
		if it.Decision != "" {
			d := DecidedFact{Decision: it.Decision, Comments: it.Comments}
			if f, ok := decided[it.ID]; ok && f.Decision == it.Decision {
				d = f
				d.Comments = it.Comments
			}
			ev.Decided = &d
		}
		ev.Remarks = remarks(c, ev)
		out[i] = ev
	}
	return out, nil
}

// people reads each identity of the items, and their managers, once.
func (s *Service) people(ctx context.Context, items []ReviewItem) (map[string]*Identity, error) {
	var mu sync.Mutex
	out := map[string]*Identity{}
	// MaxIdentitiesPerRead ids per call, a few calls at once: a
	// 5,000-item certification's people cost tens of calls, not thousands.
	read := func(ids []string) error {
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(8)
		for _, chunk := range chunks(ids, MaxIdentitiesPerRead) {
			g.Go(func() error {
				found, err := s.opts.Tenant.ListIdentities(gctx, chunk)
				if err != nil {
					return fmt.Errorf("identities: %w", err)
				}
				// A removed identity is absent: its name from the item is
				// all there is.
				mu.Lock()
				for i := range found {
					out[strings.ToLower(found[i].ID)] = &found[i]
				}
				mu.Unlock()
				return nil
			})
		}
		return g.Wait()
	}
	var ids []string
	seen := map[string]bool{}
	for _, it := range items {
		if id := it.IdentitySummary.IdentityID; id != "" && !seen[strings.ToLower(id)] {
			seen[strings.ToLower(id)] = true
			ids = append(ids, id)
		}
	}
	if err := read(ids); err != nil {
		return nil, err
	}
	var managers []string
	for _, p := range out {
		if m := p.ManagerID; m != "" && !seen[strings.ToLower(m)] {
			seen[strings.ToLower(m)] = true
			managers = append(managers, m)
		}
	}
	sort.Strings(managers)
	if err := read(managers); err != nil {
		return nil, err
	}
	return out, nil
}

// requestFacts reads certops's own requests: which items came to this
// certification's reviewer by a reassignment, and which decisions on its
// items were made through certops (the latest per item).
func requestFacts(c *Certification, reqs []*Request) (map[string]ReassignedFact, map[string]DecidedFact) {
	moved := map[string]ReassignedFact{}
	decided := map[string]DecidedFact{}
	// Oldest first, so that later requests win.
	sort.Slice(reqs, func(i, j int) bool { return reqs[i].Created.Before(reqs[j].Created) })
	for _, r := range reqs {
		p := &r.Plan
		switch p.KindOf() {
		case KindReassign:
			if !strings.EqualFold(p.To.ID, c.Reviewer.ID) || p.CampaignName != c.Campaign.Name {
				continue
			}
			for i := range p.Calls {
				if t := r.call(i); t == nil || t.State != CallAccepted || t.Status != TaskSuccess {
					continue
				}
				for _, ref := range p.Calls[i].Refs {
					moved[ref.ID] = ReassignedFact{From: reviewerName(p.From), Reason: p.Reason, RequestID: r.ID, By: actorName(r.Requester), Source: "certops"}
				}
			}
		case KindDecide:
			if p.CertificationID != c.ID {
				continue
			}
			for i, call := range p.Decisions {
				if t := r.call(i); t == nil || t.State != CallAccepted || t.Status != TaskSuccess {
					continue
				}
				for _, d := range call.Items {
					by := actorName(r.Requester)
					if p.OnBehalf != "" {
						by += " (on the reviewer's behalf: " + p.OnBehalf + ")"
					}
					decided[d.ItemID] = DecidedFact{Decision: d.Decision, Comments: d.Comments, By: by, At: r.Updated.UTC().Format("2006-01-02 15:04 UTC"), RequestID: r.ID}
				}
			}
		}
	}
	return moved, decided
}

// remarks points out what deserves attention, each with its facts.
func remarks(c *Certification, ev ItemEvidence) []Remark {
	var out []Remark
	it := ev.Item
	switch {
	case it.Access.Privileged && it.NewAccess:
		out = append(out, Remark{Text: "privileged and new since the last review",
			Facts: []string{"access.privileged is true", "newAccess is true"}})
	case it.Access.Privileged:
		out = append(out, Remark{Text: "privileged access", Facts: []string{"access.privileged is true"}})
	case it.NewAccess:
		out = append(out, Remark{Text: "new since the last review", Facts: []string{"newAccess is true"}})
	}
	if ev.Peers == 0 {
		out = append(out, Remark{Text: "the only holder of this access in the certification",
			Facts: []string{fmt.Sprintf("no other identity in certification %q has %s %q", c.Name, strings.ToLower(string(it.Access.Type)), it.Access.Name)}})
	}
	if r := ev.Reassigned; r != nil {
		f := fmt.Sprintf("reassigned from %s", r.From)
		if r.RequestID != "" {
			f += fmt.Sprintf(" by certops request %s, asked by %s", r.RequestID, r.By)
		} else {
			f += " in ISC (the certification's reassignment)"
		}
		if r.Reason != "" {
			f += ": " + r.Reason
		}
		out = append(out, Remark{Text: "came to you by a reassignment", Facts: []string{f}})
	}
	return out
}

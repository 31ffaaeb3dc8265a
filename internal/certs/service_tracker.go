package certs

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// The campaign tracker's reading of ISC: one campaign's certifications,
// open and signed, summed by reviewer, so a campaign owner sees who is
// behind. Front ends (the Slack bot's tracker) render and update it.

// ReviewerProgress is one reviewer's share of a campaign.
type ReviewerProgress struct {
	Reviewer       Reviewer
	Certifications int
	Signed         int
	DecisionsMade  int
	DecisionsTotal int
	// Due is the soonest due date of the reviewer's unsigned
	// certifications (nil: none, or none has one).
	Due *time.Time
}

// Done reports whether every certification of the reviewer is signed.
func (p ReviewerProgress) Done() bool { return p.Signed == p.Certifications }

// CampaignProgress is a campaign's progress by reviewer.
type CampaignProgress struct {
	Campaign Campaign
	// Reviewers, most behind first: the lowest share of decisions made,
	// then the soonest due, then by name.
	Reviewers                     []ReviewerProgress
	Certifications, Signed        int
	DecisionsMade, DecisionsTotal int
	CertificationIDs              []string
}

// CampaignProgress reads every certification of a campaign once
// (ListAllCertifications filtered on the campaign id) and sums it by
// reviewer. ENOTFOUND when the campaign has no certification.
//
// It is for the tracker, not for people, and takes no Actor.
func (s *Service) CampaignProgress(ctx context.Context, campaignID string) (*CampaignProgress, error) {
	if err := ValidateID("campaign id", campaignID); err != nil {
		return nil, err
	}
	all, err := s.opts.Tenant.ListAllCertifications(ctx, CertificationFilter{CampaignIDs: []string{campaignID}, Page: PageOptions{Limit: MaxPageLimit}})
	if err != nil {
		return nil, fmt.Errorf("list the certifications of campaign %s: %w", campaignID, err)
	}
	if len(all) == 0 {
		return nil, Errorf(ENOTFOUND, "campaign %s has no certifications", campaignID)
	}
	p := &CampaignProgress{Campaign: all[0].Campaign}
	by := map[string]*ReviewerProgress{}
	var order []string
	for _, c := range all {
		key := c.Reviewer.ID
		if key == "" {
			key = "name:" + c.Reviewer.Name
		}
		rp, ok := by[key]
		if !ok {
			rp = &ReviewerProgress{Reviewer: c.Reviewer}
			by[key] = rp
			order = append(order, key)
		}
		signed := c.Completed || c.Phase == PhaseSigned
		rp.Certifications++
		rp.DecisionsMade += c.DecisionsMade
		rp.DecisionsTotal += c.DecisionsTotal
		if signed {
			rp.Signed++
		} else if c.Due != nil && (rp.Due == nil || c.Due.Before(*rp.Due)) {
			d := *c.Due
			rp.Due = &d
		}
		p.CertificationIDs = append(p.CertificationIDs, c.ID)
	}
	for _, k := range order {
		rp := by[k]
		p.Reviewers = append(p.Reviewers, *rp)
		p.Certifications += rp.Certifications
		p.Signed += rp.Signed
		p.DecisionsMade += rp.DecisionsMade
		p.DecisionsTotal += rp.DecisionsTotal
	}
	slices.SortStableFunc(p.Reviewers, func(a, b ReviewerProgress) int {
		if c := cmp.Compare(share(a), share(b)); c != 0 {
			return c
		}
		switch {
		case a.Due != nil && b.Due != nil && !a.Due.Equal(*b.Due):
			return a.Due.Compare(*b.Due)
		case a.Due != nil && b.Due == nil:
			return -1
		case a.Due == nil && b.Due != nil:
			return 1
		}
		return strings.Compare(a.Reviewer.Name, b.Reviewer.Name)
	})
	slices.Sort(p.CertificationIDs)
	return p, nil
}

// share is the part of a reviewer's work done: signed counts as all.
func share(p ReviewerProgress) float64 {
	if p.Done() {
		return 1
	}
	if p.DecisionsTotal == 0 {
		return 0
	}
	return float64(p.DecisionsMade) / float64(p.DecisionsTotal)
}

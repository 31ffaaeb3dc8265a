package sandbox

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Decisions and sign-off (v3/v1): POST /certifications/{id}/decide marks
// items APPROVE or REVOKE (1..250 per call, comments as the campaign
// requires); POST /certifications/{id}/sign-off needs every item decided
// and no pending task, and makes the certification SIGNED.

const maxDecisions = 250

type decisionBody struct {
	ID              *string         `json:"id"`
	Decision        *string         `json:"decision"`
	ProposedEndDate *string         `json:"proposedEndDate"`
	Bulk            *bool           `json:"bulk"`
	Comments        *string         `json:"comments"`
	Recommendation  json.RawMessage `json:"recommendation"`
}

func (s *Sandbox) decide(c *call) (any, *apiError) {
	cert, e := s.certFor(c, "id")
	if e != nil {
		return nil, e
	}
	var body []decisionBody
	if e := decodeJSON(c.r, &body); e != nil {
		return nil, e
	}
	switch {
	case len(body) == 0:
		return nil, badRequest("At least one decision is required.")
	case len(body) > maxDecisions:
		return nil, badRequest("Too many decisions: %d; at most %d are accepted per call.", len(body), maxDecisions)
	}
	if cert.Phase != "ACTIVE" {
		return nil, badRequest("Certification %s is %s; decisions can only be made while it is ACTIVE.", cert.ID, cert.Phase)
	}
	type decision struct {
		it       *item
		decision string
		comments string
		end      time.Time
	}
	var ds []decision
	for i, d := range body {
		field := func(name string) string { return fmt.Sprintf("[%d].%s", i, name) }
		if d.ID == nil || *d.ID == "" {
			return nil, missingField(field("id"))
		}
		if d.Decision == nil {
			return nil, missingField(field("decision"))
		}
		if d.Bulk == nil {
			return nil, missingField(field("bulk"))
		}
		if *d.Decision != "APPROVE" && *d.Decision != "REVOKE" {
			return nil, badRequest("Invalid value for %s: %q; it must be APPROVE or REVOKE.", field("decision"), *d.Decision)
		}
		it, ok := s.st.itemByID[*d.ID]
		if !ok || it.Cert != cert {
			return nil, badRequest("Review item %s is not in certification %s.", quoteID(*d.ID), cert.ID)
		}
		dec := decision{it: it, decision: *d.Decision}
		if d.Comments != nil {
			dec.comments = *d.Comments
		}
		if d.ProposedEndDate != nil {
			if dec.decision != "REVOKE" {
				return nil, badRequest("%s may only be set for REVOKE decisions.", field("proposedEndDate"))
			}
			t, err := time.Parse(time.RFC3339Nano, *d.ProposedEndDate)
			if err != nil {
				return nil, badRequest("Invalid value for %s: %q is not an ISO-8601 date-time.", field("proposedEndDate"), *d.ProposedEndDate)
			}
			dec.end = t
		}
		needComment := cert.Campaign.MandatoryCommentRequirement == "ALL_DECISIONS" ||
			(cert.Campaign.MandatoryCommentRequirement == "REVOKE_ONLY_DECISIONS" && dec.decision == "REVOKE")
		if needComment && strings.TrimSpace(dec.comments) == "" {
			return nil, badRequest("A comment is required for %s decisions in campaign %s (%s).", dec.decision, cert.Campaign.Name, cert.Campaign.MandatoryCommentRequirement)
		}
		ds = append(ds, dec)
	}
	for _, d := range ds {
		d.it.Completed, d.it.Decision, d.it.Comments, d.it.ProposedEndDate = true, d.decision, d.comments, d.end
		d.it.invalidate()
	}
	cert.recount()
	cert.Modified = c.now
	return s.certJSON(cert), nil
}

func (s *Sandbox) signOff(c *call) (any, *apiError) {
	cert, e := s.certFor(c, "id")
	if e != nil {
		return nil, e
	}
	switch {
	case cert.Phase == "SIGNED":
		return nil, badRequest("Certification %s is already signed.", cert.ID)
	case cert.Phase != "ACTIVE":
		return nil, badRequest("Certification %s is %s; only an ACTIVE certification can be signed.", cert.ID, cert.Phase)
	case !cert.completed():
		return nil, badRequest("Certification %s cannot be signed: %d of %d decisions remain.", cert.ID, cert.decisionsTotal-cert.decisionsMade, cert.decisionsTotal)
	case len(s.pendingFor(cert)) > 0:
		return nil, badRequest("Certification %s cannot be signed while a reassignment task is pending.", cert.ID)
	}
	cert.invalidate()
	cert.Phase = "SIGNED"
	cert.Signed = c.now
	cert.Modified = c.now
	clear(s.st.sortedBy)
	return s.certJSON(cert), nil
}

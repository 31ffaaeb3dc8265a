package sandbox

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Decisions and sign-off (v3/v1): POST /certifications/{id}/decide marks
// items APPROVE or REVOKE (1..250 per call, comments as the campaign
// requires; a decided item may be decided again until sign-off, the new
// decision and comments replacing the old); POST /certifications/{id}/sign-off
// needs every item decided and no pending task, and makes the
// certification SIGNED. A call that breaks a rule changes nothing.
//
// An AccessReviewItem shows only its current decision and comments: ISC's
// API has no decision history, no decider and no decision time, and does
// not show a revocation's proposedEndDate: a decision made with a user
// token has no place in ISC's data to name its person. The sandbox keeps every decision
// it applied, for tests, outside the API (Sandbox.Decisions,
// GET /_sandbox/decisions).

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
		bulk     bool
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
		dec := decision{it: it, decision: *d.Decision, bulk: *d.Bulk}
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
	s.decideCalls++
	for _, d := range ds {
		d.it.Completed, d.it.Decision, d.it.Comments, d.it.ProposedEndDate = true, d.decision, d.comments, d.end
		d.it.invalidate()
		rec := DecisionRecord{
			Call: s.decideCalls, CertificationID: cert.ID, ItemID: d.it.ID, Decision: d.decision, Comments: d.comments,
			Bulk: d.bulk, ClientID: c.client.ClientID, IdentityID: c.client.IdentityID, GrantType: c.grantType(), At: c.now.UTC(),
		}
		if !d.end.IsZero() {
			end := d.end.UTC()
			rec.ProposedEndDate = &end
		}
		s.decisions = append(s.decisions, rec)
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

// DecisionRecord is one decision the sandbox applied, as makeIdentityDecision
// received it: the tenant's decision history, which ISC's API does not
// show. Seeded decisions have none.
type DecisionRecord struct {
	// Call numbers the decide calls that changed something, from 1, across
	// the tenant: decisions of one call share it.
	Call            int        `json:"call"`
	CertificationID string     `json:"certificationId"`
	ItemID          string     `json:"itemId"`
	Decision        string     `json:"decision"`
	Comments        string     `json:"comments,omitempty"`
	ProposedEndDate *time.Time `json:"proposedEndDate,omitempty"`
	Bulk            bool       `json:"bulk"`
	// ClientID and IdentityID are the caller's: an admin client deciding
	// on a reviewer's behalf is recorded as itself; a user token as its
	// person (IdentityID), through its OAuth client (ClientID).
	ClientID   string `json:"clientId"`
	IdentityID string `json:"identityId"`
	// GrantType is how the caller's token was granted:
	// CLIENT_CREDENTIALS, or AUTHORIZATION_CODE for a user token.
	GrantType string    `json:"grantType"`
	At        time.Time `json:"at"`
}

// Decisions returns the decisions applied so far, oldest first; with a
// certification id, only those made in that certification.
func (s *Sandbox) Decisions(certificationID string) []DecisionRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []DecisionRecord{}
	for _, d := range s.decisions {
		if certificationID == "" || d.CertificationID == certificationID {
			out = append(out, d)
		}
	}
	return out
}

// handleDecisions serves GET /_sandbox/decisions[?certification=<id>].
func (s *Sandbox) handleDecisions(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.Decisions(r.URL.Query().Get("certification")))
}

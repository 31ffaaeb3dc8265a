package sandbox

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Reassignment: POST /certifications/{id}/reassign (sync, at most 50
// references) and /reassign-async (a task, at most 500). References:
//   - ITEM: a review item id of this certification;
//   - IDENTITY_SUMMARY: an identity summary id of this certification (all
//     of that identity's items);
//   - TARGET_SUMMARY: an access id (entitlement, access profile or role)
//     reviewed in this certification (all items for that access). ISC's
//     docs do not define it for identity campaigns; this is the sandbox's
//     reading.
//
// Moved items keep their decisions and go to the certification of the same
// campaign that the new reviewer reviews (an ACTIVE one is reused) or to a
// new one whose reassignment.from names the source.
//
// Who reassigned: the one place ISC's data has for it is an async task's
// type, ADMIN_REASSIGN when the caller acts as an admin (the admin client,
// or the admin identity's user token) and REASSIGN when a reviewer does.
// The sandbox also keeps every reassignment applied with its caller
// (ReassignmentRecord, GET /_sandbox/reassignments), as for decisions.

const (
	maxSyncRefs  = 50
	maxAsyncRefs = 500
)

type reassignRefBody struct {
	ID   *string `json:"id"`
	Type *string `json:"type"`
}

type reassignBody struct {
	Reassign   *[]reassignRefBody `json:"reassign"`
	ReassignTo *string            `json:"reassignTo"`
	Reason     *string            `json:"reason"`
}

type reassignRef struct{ id, typ string }

// reassignRequest is a validated reassignment.
type reassignRequest struct {
	refs   []reassignRef
	to     *identity
	reason string
	// by is the caller; taskID the async task that applies it ("" for a
	// sync call).
	by     actor
	taskID string
}

// actor is who made a change.
type actor struct {
	clientID, identityID, grantType string
}

// parseReassign decodes and validates a reassignment of cert (with at most
// limit references), resolving every reference.
func (s *Sandbox) parseReassign(c *call, cert *certification, limit int) (reassignRequest, *apiError) {
	var body reassignBody
	if e := decodeJSON(c.r, &body); e != nil {
		return reassignRequest{}, e
	}
	if body.Reassign == nil {
		return reassignRequest{}, missingField("reassign")
	}
	if body.ReassignTo == nil || strings.TrimSpace(*body.ReassignTo) == "" {
		return reassignRequest{}, missingField("reassignTo")
	}
	if body.Reason == nil || strings.TrimSpace(*body.Reason) == "" {
		return reassignRequest{}, missingField("reason")
	}
	refs := *body.Reassign
	switch {
	case len(refs) == 0:
		return reassignRequest{}, badRequest("reassign must list at least one item or identity to reassign.")
	case len(refs) > limit:
		return reassignRequest{}, badRequest("Too many references to reassign: %d; this operation accepts at most %d.", len(refs), limit)
	}
	req := reassignRequest{reason: *body.Reason,
		by: actor{clientID: c.client.ClientID, identityID: c.client.IdentityID, grantType: c.grantType()}}
	for i, r := range refs {
		if r.ID == nil || *r.ID == "" {
			return reassignRequest{}, missingField(fmt.Sprintf("reassign[%d].id", i))
		}
		if r.Type == nil || *r.Type == "" {
			return reassignRequest{}, missingField(fmt.Sprintf("reassign[%d].type", i))
		}
		switch *r.Type {
		case "ITEM", "IDENTITY_SUMMARY", "TARGET_SUMMARY":
		default:
			return reassignRequest{}, badRequest("Invalid value for reassign[%d].type: %q; it must be one of TARGET_SUMMARY, ITEM, IDENTITY_SUMMARY.", i, *r.Type)
		}
		req.refs = append(req.refs, reassignRef{id: *r.ID, typ: *r.Type})
	}
	if cert.Phase == "SIGNED" {
		return reassignRequest{}, badRequest("Certification %s is signed; its items can no longer be reassigned.", cert.ID)
	}
	items, e := s.resolveRefs(cert, req.refs)
	if e != nil {
		return reassignRequest{}, e
	}
	to, e := s.checkTarget(cert, *body.ReassignTo, items)
	if e != nil {
		return reassignRequest{}, e
	}
	req.to = to
	return req, nil
}

// resolveRefs returns the items the references name, each once, in the
// certification's order.
func (s *Sandbox) resolveRefs(cert *certification, refs []reassignRef) ([]*item, *apiError) {
	want := map[*item]bool{}
	for _, r := range refs {
		n := 0
		switch r.typ {
		case "ITEM":
			if it, ok := s.st.itemByID[r.id]; ok && it.Cert == cert {
				want[it] = true
				n++
			}
		case "IDENTITY_SUMMARY":
			if sum, ok := s.st.summaryByID[r.id]; ok && sum.Cert == cert {
				for _, it := range cert.items {
					if it.Summary == sum {
						want[it] = true
						n++
					}
				}
			}
		case "TARGET_SUMMARY":
			for _, it := range cert.items {
				if it.Access.ID == r.id {
					want[it] = true
					n++
				}
			}
		}
		if n == 0 {
			return nil, badRequest("Reference %s of type %s is not in certification %s.", quoteID(r.id), r.typ, cert.ID)
		}
	}
	var out []*item
	for _, it := range cert.items {
		if want[it] {
			out = append(out, it)
		}
	}
	return out, nil
}

// checkTarget validates the new reviewer.
func (s *Sandbox) checkTarget(cert *certification, id string, items []*item) (*identity, *apiError) {
	to, ok := s.st.identityByID[id]
	switch {
	case !ok:
		return nil, badRequest("reassignTo %s is not a known identity.", quoteID(id))
	case !to.active():
		return nil, badRequest("reassignTo %s (%s) is not active and cannot review.", to.ID, to.Name)
	case to == cert.Reviewer:
		return nil, badRequest("%s already reviews certification %s.", to.Name, cert.ID)
	}
	for _, it := range items {
		if it.Summary.Identity == to {
			return nil, badRequest("%s cannot review their own access (item %s).", to.Name, it.ID)
		}
	}
	return to, nil
}

// applyReassign moves the request's items now. Call with s.mu held.
func (s *Sandbox) applyReassign(cert *certification, req reassignRequest, now time.Time) *apiError {
	if cert.Phase == "SIGNED" {
		return badRequest("Certification %s was signed before the reassignment ran.", cert.ID)
	}
	items, e := s.resolveRefs(cert, req.refs)
	if e != nil {
		return badRequest("The items to reassign are no longer in certification %s (already reassigned?): %s", cert.ID, e.text)
	}
	if _, e := s.checkTarget(cert, req.to.ID, items); e != nil {
		return e
	}
	target := s.targetCert(cert, req, now)
	rec := ReassignmentRecord{
		CertificationID: cert.ID, TargetCertificationID: target.ID, TaskID: req.taskID,
		PreviousReviewer: cert.Reviewer.ID, NewReviewer: req.to.ID, Reason: req.reason,
		ClientID: req.by.clientID, IdentityID: req.by.identityID, GrantType: req.by.grantType, At: now.UTC(),
	}
	for _, it := range items {
		rec.Items = append(rec.Items, it.ID)
	}
	s.reassignments = append(s.reassignments, rec)
	moving := map[*item]bool{}
	for _, it := range items {
		moving[it] = true
	}
	cert.items = slices.DeleteFunc(cert.items, func(it *item) bool { return moving[it] })
	for _, it := range items {
		it.invalidate()
		it.Summary = target.summaryFor(it.Summary.Identity, s.newID)
		s.st.summaryByID[it.Summary.ID] = it.Summary
		it.Cert = target
		target.items = append(target.items, it)
	}
	cert.Modified, target.Modified = now, now
	cert.recount()
	target.recount()
	s.stats.reassignmentsApplied++
	s.stats.itemsMoved += len(items)
	s.log.Debug("reassigned", "from", cert.ID, "to", target.ID, "items", len(items))
	return nil
}

// targetCert returns the new reviewer's ACTIVE certification in the same
// campaign, creating it when there is none.
func (s *Sandbox) targetCert(from *certification, req reassignRequest, now time.Time) *certification {
	for _, c := range s.st.certsByReviewer[req.to.ID] {
		if c.Campaign == from.Campaign && c.Phase == "ACTIVE" && c != from {
			return c
		}
	}
	c := &certification{
		ID:           s.newID(),
		Name:         fmt.Sprintf("%s for %s", campaignSpecs[from.Campaign.Type].name, req.to.Name),
		Campaign:     from.Campaign,
		Reviewer:     req.to,
		Phase:        "ACTIVE",
		Due:          from.Due,
		Created:      now,
		Modified:     now,
		Reassignment: &reassignedFrom{From: from, Comment: req.reason},
		summaries:    map[string]*identitySummary{},
	}
	s.st.addCert(c)
	return c
}

func (s *Sandbox) reassignSync(c *call) (any, *apiError) {
	cert, e := s.certFor(c, "id")
	if e != nil {
		return nil, e
	}
	req, e := s.parseReassign(c, cert, maxSyncRefs)
	if e != nil {
		return nil, e
	}
	if e := s.applyReassign(cert, req, c.now); e != nil {
		return nil, e
	}
	return s.certJSON(cert), nil
}

func (s *Sandbox) reassignAsync(c *call) (any, *apiError) {
	cert, e := s.certFor(c, "id")
	if e != nil {
		return nil, e
	}
	req, e := s.parseReassign(c, cert, maxAsyncRefs)
	if e != nil {
		return nil, e
	}
	t := &task{
		ID: s.newID(), Type: "REASSIGN", Cert: cert, Created: c.now, Status: taskQueued,
		PreviousOwner: cert.Reviewer.ID, NewOwner: req.to.ID, req: req,
	}
	t.req.taskID = t.ID
	if c.admin() {
		t.Type = "ADMIN_REASSIGN"
	}
	s.st.tasks[t.ID] = t
	s.st.pending = append(s.st.pending, t)
	if c.route.Version == versionBeta {
		return betaTaskDto(t), nil
	}
	return taskDto(t), nil
}

// ReassignmentRecord is one reassignment the sandbox applied, with who asked
// for it: the tenant's record of who reassigned, which ISC's API shows only
// as a task's type (REASSIGN or ADMIN_REASSIGN).
type ReassignmentRecord struct {
	// CertificationID is where the items were; TargetCertificationID
	// where they went.
	CertificationID       string `json:"certificationId"`
	TargetCertificationID string `json:"targetCertificationId"`
	// TaskID is the async task that applied it; empty for a sync call.
	TaskID string `json:"taskId,omitempty"`
	// Items are the review items moved.
	Items            []string `json:"items"`
	PreviousReviewer string   `json:"previousReviewer"`
	NewReviewer      string   `json:"newReviewer"`
	Reason           string   `json:"reason"`
	// ClientID, IdentityID and GrantType are the caller's, as in
	// DecisionRecord: a user token's person and OAuth client.
	ClientID   string `json:"clientId"`
	IdentityID string `json:"identityId"`
	GrantType  string `json:"grantType"`
	// At is when it took effect (an async task's end).
	At time.Time `json:"at"`
}

// Reassignments returns the reassignments applied so far, oldest first; with
// a certification id, only those that moved items out of it.
func (s *Sandbox) Reassignments(certificationID string) []ReassignmentRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advanceTasks(s.cfg.Now())
	out := []ReassignmentRecord{}
	for _, r := range s.reassignments {
		if certificationID == "" || r.CertificationID == certificationID {
			r.Items = slices.Clone(r.Items)
			out = append(out, r)
		}
	}
	return out
}

// handleReassignments serves GET /_sandbox/reassignments[?certification=<id>].
func (s *Sandbox) handleReassignments(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.Reassignments(r.URL.Query().Get("certification")))
}

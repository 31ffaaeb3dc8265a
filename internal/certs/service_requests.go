package certs

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Filing and deciding requests: step 2 of the life of a request, which
// lifecycle.go describes with its table of transitions.

// Limits on front ends' references to a request (SetFrontendRefs).
const (
	maxRequestRefs   = 20
	maxRefKeyLength  = 64
	maxRefValueBytes = 1024
)

// SubmitPlan carries out a plan the actor has confirmed (digest must equal
// the plan's Digest, else EINVALID). Under a policy that requires approval it
// files a pending request instead (as RequestApproval). Otherwise it files
// the request and starts its submission at once on the requester's own
// decision (startSubmission, lifecycle.go), and returns it completed (a
// synchronous plan), submitted (tasks to follow), or submitting (waiting for
// another request on the certification).
//
// When submission fails, the request is returned together with the error:
// a call SailPoint refused or could not be reached for (its code, with
// SailPoint's status, detail code and tracking id) ends the submission and
// the message says what was applied and what was not sent; an unknown
// outcome (EUNKNOWN) leaves the request submitting while certops reads the
// tenant to settle it, never sending the call again.
func (s *Service) SubmitPlan(ctx context.Context, a Actor, planID, digest string) (*Request, error) {
	p, err := s.confirmedPlan(ctx, a, planID, digest)
	if err != nil {
		return nil, err
	}
	if p.KindOf() != KindReassign && !a.Same(p.CreatedBy) {
		// A decision is its planner's own: someone else confirming it
		// would be deciding in their name.
		return nil, Errorf(EFORBIDDEN, "plan %s was made by %s; only they can confirm their decisions", p.ID, actorName(p.CreatedBy))
	}
	if p.KindOf() == KindSignOff {
		if err := s.checkSignOffState(ctx, p); err != nil {
			return nil, err
		}
	}
	if s.opts.Policy.RequireApproval && p.KindOf() == KindReassign {
		return s.fileRequest(ctx, a, p, nil, nil, false)
	}
	r, err := s.fileRequest(ctx, a, p, nil, nil, true)
	if ErrorCode(err) == ECONFLICT && r != nil && r.State == StatePending && a.Same(r.Requester) {
		// Filed by an earlier SubmitPlan that stopped before submitting
		// (a crash, a lost connection): carry on from there.
		err = nil
	}
	if err != nil {
		return r, err
	}
	reason := "submitted by the requester; the policy requires no approval"
	switch p.KindOf() {
	case KindDecide:
		reason = "the reviewer's own decisions, confirmed by their digest"
	case KindSignOff:
		reason = "the reviewer's sign-off, confirmed by its digest"
	}
	if p.OnBehalf != "" {
		reason += "; on the reviewer's behalf: " + p.OnBehalf
	}
	return s.startSubmission(ctx, a, r, reason)
}

// RequestApproval files a pending request for a confirmed plan. approvers
// are extra approver keys (e.g. resolved from a Slack user group) added to
// the policy's. refs are the front end's own references (may be nil).
// Reviewers may file only for certifications they review.
// Errors: EINVALID (digest mismatch, no approvers), ENOTFOUND, EFORBIDDEN,
// ECONFLICT (the plan was already filed; the existing request is returned).
func (s *Service) RequestApproval(ctx context.Context, a Actor, planID, digest string, approvers []string, refs map[string]string) (*Request, error) {
	p, err := s.confirmedPlan(ctx, a, planID, digest)
	if err != nil {
		return nil, err
	}
	if p.KindOf() != KindReassign {
		return nil, Errorf(EINVALID, "plan %s is a reviewer's %s: it is confirmed by its reviewer (SubmitPlan), not filed for approval", p.ID, p.KindOf())
	}
	return s.fileRequest(ctx, a, p, approvers, refs, false)
}

// fileRequest creates a pending request for p. selfSubmit is SubmitPlan's
// filing under a policy that needs no approval: the requester goes on to
// submit it at once, so it needs no approver.
func (s *Service) fileRequest(ctx context.Context, a Actor, p *Plan, extra []string, refs map[string]string, selfSubmit bool) (*Request, error) {
	if selfSubmit {
		return s.createRequest(ctx, a, p, append([]string(nil), s.opts.Policy.Approvers...), nil, p.Summary)
	}
	if a.IdentityID == "" {
		// Without it, the same person could approve from another front end
		// (an MCP token and a Slack user share nothing but the identity).
		return nil, &Error{Code: EINVALID, Err: ErrNoIdentity, Message: fmt.Sprintf("filing a request needs your ISC identity, so that you cannot approve it yourself from elsewhere: "+
			"link %s:%s to an identity (an MCP token's identityId, CERTOPS_MCP_IDENTITY_ID, or the email on your Slack profile)", a.Frontend, a.ID)}
	}
	approvers, err := approverUnion(s.opts.Policy.Approvers, extra)
	if err != nil {
		return nil, err
	}
	if len(approvers) == 0 {
		return nil, Errorf(EINVALID, "no approver: the policy names none and the request names none")
	}
	others := 0
	for _, k := range approvers {
		if !a.Is(k) {
			others++
		}
	}
	if others == 0 {
		return nil, Errorf(EINVALID, "the only approver named is you (%s); someone else must approve your request", strings.Join(approvers, ", "))
	}
	if err := validateRefs(refs); err != nil {
		return nil, err
	}
	now := s.now()
	expires := now.Add(s.opts.Policy.RequestTTL)
	return s.createRequest(ctx, a, p, approvers, refs, fmt.Sprintf("%s. Awaiting approval by %s until %s.", p.Summary, strings.Join(approvers, ", "), formatTime(expires, now)))
}

// createRequest stores a new pending request for p (transition tFile).
func (s *Service) createRequest(ctx context.Context, a Actor, p *Plan, approvers []string, refs map[string]string, detail string) (*Request, error) {
	now := s.now()
	r := &Request{
		ID: p.ID, Plan: *p, Requester: a, Approvers: approvers, State: tFile.to, CallLog: true,
		FrontendRefs: cloneRefs(refs), Created: now, Updated: now, ExpiresAt: now.Add(s.opts.Policy.RequestTTL),
	}
	ev := s.requestEvent(a, ActionRequestCreated, r)
	ev.Detail = detail
	if err := s.opts.Store.CreateRequest(ctx, r, ev); err != nil {
		return s.createFailed(ctx, p, err)
	}
	return r, nil
}

// createFailed explains a failed CreateRequest: a duplicate means the plan
// was filed already.
func (s *Service) createFailed(ctx context.Context, p *Plan, err error) (*Request, error) {
	if ErrorCode(err) != ECONFLICT {
		return nil, fmt.Errorf("file request for plan %s: %w", p.ID, err)
	}
	cur, gerr := s.opts.Store.GetRequest(ctx, p.ID)
	if gerr != nil {
		return nil, &Error{Code: ECONFLICT, Message: fmt.Sprintf("plan %s was already filed as a request; plan again to make another", p.ID), Err: err}
	}
	return cur, &Error{Code: ECONFLICT, Message: fmt.Sprintf("plan %s was already filed as request %s, which is %s; plan again to make another", p.ID, cur.ID, cur.State), Err: err}
}

// confirmedPlan reads a plan the actor may act on and checks the digest the
// actor confirmed.
func (s *Service) confirmedPlan(ctx context.Context, a Actor, planID, digest string) (*Plan, error) {
	p, err := s.GetPlan(ctx, a, planID)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(digest) == "" {
		return nil, Errorf(EINVALID, "the plan's digest is required to confirm plan %s: show the plan and confirm its digest %s", planID, p.Digest)
	}
	if !p.digestMatches(digest) {
		return nil, digestMismatch(p, digest)
	}
	return p, nil
}

// digestMismatch says why digest does not confirm p: p itself no longer
// matches the digest it was shown with (it changed after it was shown), or
// the digest given is mistyped or another plan's. Plans do not change once
// made: planning again makes a new plan, with its own id and digest.
func digestMismatch(p *Plan, digest string) error {
	if p.Digest != p.computeDigest() {
		return Errorf(EINVALID, "plan %s no longer matches the digest it was shown with: it changed after it was shown; plan again and show the new plan", p.ID)
	}
	d := strings.TrimSpace(digest)
	if _, err := hex.DecodeString(d); err != nil || len(d) != len(p.Digest) {
		return Errorf(EINVALID, "digest %s is not a plan digest (%d hexadecimal characters): it looks mistyped; pass plan %s's digest exactly as it was shown", quoteShort(digest), len(p.Digest), p.ID)
	}
	return Errorf(EINVALID, "digest %s is not plan %s's: it is mistyped or another plan's digest; pass the digest shown with plan %s (planning again makes a new plan, with its own id and digest)", quoteShort(digest), p.ID, p.ID)
}

// Approve approves a pending request and submits it, exactly once however
// many approvers race. Errors: EFORBIDDEN (not an approver, or the
// requester), ECONFLICT (already decided: the message says by whom and what
// state it is in; the current request is returned with it), ENOTFOUND.
// Submission failures are returned as SubmitPlan's are.
func (s *Service) Approve(ctx context.Context, a Actor, requestID string) (*Request, error) {
	r, err := s.requestToDecide(ctx, a, requestID)
	if err != nil {
		s.refused(err)
		return r, err
	}
	return s.startSubmission(ctx, a, r, "")
}

// Deny denies a pending request with an optional reason. Errors as Approve.
func (s *Service) Deny(ctx context.Context, a Actor, requestID, reason string) (*Request, error) {
	reason = strings.TrimSpace(reason)
	if reason != "" {
		if err := ValidateReason(reason); err != nil {
			return nil, err
		}
	}
	r, err := s.requestToDecide(ctx, a, requestID)
	if err != nil {
		s.refused(err)
		return r, err
	}
	ev := s.requestEvent(a, ActionRequestDenied, r)
	ev.Detail = reason
	cur, err := s.move(ctx, r, tDeny, false, func(cur *Request) error {
		if s.now().After(cur.ExpiresAt) {
			return errExpired
		}
		cur.DecidedBy = &a
		cur.DecisionReason = reason
		return nil
	}, ev)
	if err != nil {
		cur, err = s.decisionFailed(ctx, a, requestID, cur, err)
		s.refused(err)
		return cur, err
	}
	return cur, nil
}

// Cancel withdraws a pending request; only its requester (or an admin) may.
// Errors: EFORBIDDEN, ECONFLICT (no longer pending), ENOTFOUND.
func (s *Service) Cancel(ctx context.Context, a Actor, requestID string) (*Request, error) {
	r, err := s.readRequest(ctx, a, requestID)
	if err != nil {
		return nil, err
	}
	if !a.Same(r.Requester) && a.Role != RoleAdmin {
		return nil, Errorf(EFORBIDDEN, "only the requester (%s) or an admin may cancel request %s", actorName(r.Requester), requestID)
	}
	if r.State != StatePending {
		return r, s.conflict(ctx, r)
	}
	if s.now().After(r.ExpiresAt) {
		return s.expire(ctx, a, r)
	}
	ev := s.requestEvent(a, ActionRequestCancelled, r)
	cur, err := s.move(ctx, r, tCancel, false, func(cur *Request) error {
		if s.now().After(cur.ExpiresAt) {
			return errExpired
		}
		cur.DecidedBy = &a
		return nil
	}, ev)
	if err != nil {
		return s.decisionFailed(ctx, a, requestID, cur, err)
	}
	return cur, nil
}

// storedRequest checks the actor and the id, and reads the request as
// stored, whoever may see it.
func (s *Service) storedRequest(ctx context.Context, a Actor, id string) (*Request, error) {
	if err := checkActor(a); err != nil {
		return nil, err
	}
	if err := ValidateID("request id", id); err != nil {
		return nil, err
	}
	r, err := s.opts.Store.GetRequest(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("request %s: %w", id, err)
	}
	return r, nil
}

// requestToDecide reads a request and checks that a may decide it now.
func (s *Service) requestToDecide(ctx context.Context, a Actor, id string) (*Request, error) {
	r, err := s.storedRequest(ctx, a, id)
	if err != nil {
		return nil, err
	}
	if a.IdentityID == "" {
		return nil, &Error{Code: EFORBIDDEN, Err: ErrNoIdentity, Message: fmt.Sprintf(
			"deciding request %s needs your ISC identity (so that no one decides their own request); %s:%s has none", id, a.Frontend, a.ID)}
	}
	if a.Same(r.Requester) {
		return nil, Errorf(EFORBIDDEN, "you filed request %s; another approver must decide it", id)
	}
	if strings.EqualFold(a.IdentityID, r.Plan.To.ID) {
		return nil, Errorf(EFORBIDDEN, "request %s would make you the reviewer of this work; another approver must decide it", id)
	}
	if !isApprover(a, r) {
		return nil, Errorf(EFORBIDDEN, "you are not an approver of request %s", id)
	}
	if r.State != StatePending {
		return r, s.conflict(ctx, r)
	}
	if s.now().After(r.ExpiresAt) {
		return s.expire(ctx, a, r)
	}
	return r, nil
}

// decisionFailed turns a failed decision compare-and-set into what the
// person is told.
func (s *Service) decisionFailed(ctx context.Context, a Actor, id string, cur *Request, err error) (*Request, error) {
	switch {
	case errors.Is(err, errExpired):
		r, gerr := s.opts.Store.GetRequest(ctx, id)
		if gerr != nil {
			return nil, fmt.Errorf("request %s: %w", id, gerr)
		}
		return s.expire(ctx, a, r)
	case ErrorCode(err) == ECONFLICT && cur != nil:
		return cur, s.conflict(ctx, cur)
	}
	return nil, fmt.Errorf("request %s: %w", id, err)
}

// expire moves a pending request past its expiry to expired and answers
// ECONFLICT "expired"; by is whoever noticed (a person or the worker).
func (s *Service) expire(ctx context.Context, by Actor, r *Request) (*Request, error) {
	ev := s.requestEvent(by, ActionRequestExpired, r)
	ev.Detail = fmt.Sprintf("no decision before %s", formatTime(r.ExpiresAt, s.now()))
	cur, err := s.move(ctx, r, tExpire, false, nil, ev)
	if err != nil && ErrorCode(err) != ECONFLICT {
		return nil, fmt.Errorf("expire request %s: %w", r.ID, err)
	}
	if cur == nil {
		cur = r
	}
	return cur, s.conflict(ctx, cur)
}

// conflict says, as ECONFLICT, what state a request is in and who put it
// there: "request R was already approved by Alice at 14:03 UTC (now
// submitted)".
func (s *Service) conflict(ctx context.Context, r *Request) error {
	now := s.now()
	by, at := "someone", r.Updated
	if r.DecidedBy != nil {
		by = actorName(*r.DecidedBy)
	}
	if t, ok := s.decisionTime(ctx, r); ok {
		at = t
	}
	var msg string
	switch r.State {
	case StatePending:
		msg = fmt.Sprintf("request %s is still pending", r.ID)
	case StateDenied:
		msg = fmt.Sprintf("request %s was already denied by %s at %s", r.ID, by, formatTime(at, now))
		if r.DecisionReason != "" {
			msg += ": " + r.DecisionReason
		}
	case StateCancelled:
		msg = fmt.Sprintf("request %s was cancelled by %s at %s", r.ID, by, formatTime(at, now))
	case StateExpired:
		msg = fmt.Sprintf("request %s expired at %s without a decision; file a new one", r.ID, formatTime(r.ExpiresAt, now))
	default:
		msg = fmt.Sprintf("request %s was already approved by %s at %s (now %s)", r.ID, by, formatTime(at, now), r.State)
		if r.State == StateFailed && r.Error != "" {
			msg += ": " + r.Error
		}
	}
	return Errorf(ECONFLICT, "%s", msg)
}

// decisionTime finds when a request was decided, from its audit trail.
func (s *Service) decisionTime(ctx context.Context, r *Request) (time.Time, bool) {
	want := map[RequestState]Action{
		StateDenied: ActionRequestDenied, StateCancelled: ActionRequestCancelled, StateExpired: ActionRequestExpired,
	}[r.State]
	if want == "" {
		want = ActionRequestApproved
	}
	evs, err := s.opts.Store.ListEvents(ctx, EventFilter{RequestID: r.ID})
	if err != nil {
		return time.Time{}, false
	}
	for _, ev := range evs {
		if ev.Action == want {
			return ev.Time, true
		}
	}
	return time.Time{}, false
}

// GetRequest returns a request. Reviewer-role actors see only requests they
// filed, may decide, or that move work from or to them.
// Errors: EINVALID, ENOTFOUND, EFORBIDDEN.
func (s *Service) GetRequest(ctx context.Context, a Actor, id string) (*Request, error) {
	return s.readRequest(ctx, a, id)
}

func (s *Service) readRequest(ctx context.Context, a Actor, id string) (*Request, error) {
	r, err := s.storedRequest(ctx, a, id)
	if err != nil {
		return nil, err
	}
	if !mayView(a, r) {
		return nil, Errorf(EFORBIDDEN, "request %s is about certification %q, which you do not review, and you neither filed it nor may decide it", id, r.Plan.CertificationName)
	}
	return r, nil
}

func mayView(a Actor, r *Request) bool {
	return a.Role == RoleAdmin || a.Same(r.Requester) || isApprover(a, r) ||
		(a.IdentityID != "" && (r.Plan.From.ID == a.IdentityID || r.Plan.To.ID == a.IdentityID))
}

// isApprover reports whether one of the request's approver keys names a.
// Only the request's own list counts: a front end's claim never does.
func isApprover(a Actor, r *Request) bool {
	for _, k := range r.Approvers {
		if a.Is(k) {
			return true
		}
	}
	return false
}

// SetFrontendRefs merges front-end references into a request (e.g. the Slack
// message that shows it) without changing its state. An empty value deletes
// a key. Errors: EINVALID, ENOTFOUND, EFORBIDDEN.
func (s *Service) SetFrontendRefs(ctx context.Context, a Actor, id string, refs map[string]string) (*Request, error) {
	if _, err := s.readRequest(ctx, a, id); err != nil {
		return nil, err
	}
	if err := validateRefs(refs); err != nil {
		return nil, err
	}
	r, err := s.opts.Store.UpdateRequest(ctx, id, AllStates, func(cur *Request) error {
		if cur.FrontendRefs == nil {
			cur.FrontendRefs = map[string]string{}
		}
		for k, v := range refs {
			if v == "" {
				delete(cur.FrontendRefs, k)
			} else {
				cur.FrontendRefs[k] = v
			}
		}
		if len(cur.FrontendRefs) > maxRequestRefs {
			return Errorf(EINVALID, "a request holds at most %d references; it would hold %d", maxRequestRefs, len(cur.FrontendRefs))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("set references of request %s: %w", id, err)
	}
	return r, nil
}

func validateRefs(refs map[string]string) error {
	if len(refs) > maxRequestRefs {
		return Errorf(EINVALID, "%d references given; at most %d are allowed", len(refs), maxRequestRefs)
	}
	for k, v := range refs {
		if k == "" || len(k) > maxRefKeyLength {
			return Errorf(EINVALID, "reference key %s must be 1..%d characters", quoteShort(k), maxRefKeyLength)
		}
		if len(v) > maxRefValueBytes {
			return Errorf(EINVALID, "reference %s is %d bytes; at most %d are allowed", quoteShort(k), len(v), maxRefValueBytes)
		}
	}
	return nil
}

func cloneRefs(refs map[string]string) map[string]string {
	if len(refs) == 0 {
		return nil
	}
	out := make(map[string]string, len(refs))
	for k, v := range refs {
		if v != "" {
			out[k] = v
		}
	}
	return out
}

// approverUnion merges approver keys, sorted and de-duplicated. A key is
// "<kind>:<id>" (see Actor.Keys).
func approverUnion(lists ...[]string) ([]string, error) {
	seen := map[string]bool{}
	var out []string
	for _, l := range lists {
		for _, k := range l {
			k = strings.TrimSpace(k)
			kind, id, ok := strings.Cut(k, ":")
			if !ok || kind == "" {
				return nil, Errorf(EINVALID, "approver %s is not a key like \"slack:U123\" or \"identity:<id>\"", quoteShort(k))
			}
			if err := ValidateID("approver id", id); err != nil {
				return nil, err
			}
			if !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	sort.Strings(out)
	return out, nil
}

// requestEvent is an audit event about a request.
func (s *Service) requestEvent(a Actor, action Action, r *Request) Event {
	ev := s.event(a, action, r.Plan.CertificationID)
	ev.RequestID = r.ID
	ev.Count = r.Plan.ItemCount
	return ev
}

func actorName(a Actor) string {
	if a.Name != "" {
		return a.Name
	}
	return a.ID
}

// formatTime shows a time in UTC, with the date unless it is today.
func formatTime(t, now time.Time) string {
	t, now = t.UTC(), now.UTC()
	if t.Year() == now.Year() && t.YearDay() == now.YearDay() {
		return t.Format("15:04 UTC")
	}
	return t.Format("2006-01-02 15:04 UTC")
}

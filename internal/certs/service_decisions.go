package certs

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// Review decisions and sign-off: planned here, then confirmed and submitted
// through the one pipeline (lifecycle.go) like any change. A reviewer's own
// decisions need no approver: confirming the plan's digest is the decision
// (SubmitPlan), whatever the reassignment approval policy says.
//
// The rules, each checked before anything is sent:
//   - only the certification's reviewer decides; an admin may decide on the
//     reviewer's behalf, giving a reason that the plan and the audit keep;
//   - nobody decides on their own access;
//   - the campaign's mandatory-comment rule (NO_DECISIONS,
//     REVOKE_ONLY_DECISIONS, ALL_DECISIONS) holds for every decision;
//   - a proposed end date only on a revoke, and in the future;
//   - a decided item may be decided again (changed) until sign-off: that
//     is a new plan, never an edit of a stored one;
//   - a signed-off certification takes no decisions;
//   - sign-off only when ISC would accept it: every item decided, no
//     pending task.

// DecisionInput says which review items to decide and how. Decisions lists
// explicit decisions; Select picks open items to give SelectDecision. Both
// may be used; every item ends up explicit in the plan.
type DecisionInput struct {
	CertificationID string         `json:"certificationId"`
	Decisions       []ItemDecision `json:"decisions,omitempty"`
	Select          *ItemSelection `json:"select,omitempty"`
	SelectDecision  Decision       `json:"selectDecision,omitempty"`
	// Comments is used for every decision that has none of its own.
	Comments string `json:"comments,omitempty"`
	// OnBehalf is an admin's reason for deciding in the reviewer's place.
	OnBehalf string `json:"onBehalf,omitempty"`
	// SameIntentSamePlan makes the plan's id a hash of who decides, what,
	// and each item's decision as it stands: the same click made twice,
	// on any replica, before either landed, finds the same plan, so it is
	// submitted once (a double click on a button that plans and confirms
	// in one go). A click after the decision landed sees another state
	// and makes another plan.
	SameIntentSamePlan bool `json:"sameIntentSamePlan,omitempty"`
}

// ItemSelection picks the certification's open (undecided) items: of the
// given identities (all when empty), leaving out privileged access and
// access new since the last review when asked.
type ItemSelection struct {
	IdentityIDs       []string `json:"identityIds,omitempty"`
	ExcludePrivileged bool     `json:"excludePrivileged,omitempty"`
	ExcludeNewAccess  bool     `json:"excludeNewAccess,omitempty"`
}

// MaxPlanDecisions caps one decision plan: a reviewable amount of work per
// confirmation (20 calls of MaxDecisionsPerCall).
const MaxPlanDecisions = 20 * MaxDecisionsPerCall

// PlanDecisions works out decisions and stores them as a Plan; it changes
// nothing in ISC. Errors: EINVALID (naming the offending item or field),
// EFORBIDDEN (not the reviewer, an admin without a reason, one's own
// access), ENOTFOUND, and upstream codes.
func (s *Service) PlanDecisions(ctx context.Context, a Actor, in DecisionInput) (*Plan, error) {
	if err := checkActor(a); err != nil {
		return nil, err
	}
	if err := ValidateID("certification id", in.CertificationID); err != nil {
		return nil, err
	}
	if err := ValidateComment(in.Comments); err != nil {
		return nil, err
	}
	if len(in.Decisions) == 0 && in.Select == nil {
		return nil, Errorf(EINVALID, "say what to decide: decisions on items, or a selection of open items with the decision to give them")
	}
	if in.Select != nil && in.SelectDecision != DecisionApprove && in.SelectDecision != DecisionRevoke {
		return nil, Errorf(EINVALID, "the decision for the selected items must be APPROVE or REVOKE, not %q", in.SelectDecision)
	}
	c, err := s.decidableCertification(ctx, a, in.CertificationID, in.OnBehalf)
	if err != nil {
		return nil, err
	}
	all, err := s.allItems(ctx, c.ID, ReviewItemFilter{})
	if err != nil {
		return nil, err
	}
	byID := make(map[string]ReviewItem, len(all))
	for _, it := range all {
		byID[it.ID] = it
	}
	decisions, err := s.resolveDecisions(c, in, all, byID)
	if err != nil {
		return nil, err
	}
	if err := checkDecisions(a, c, decisions, byID, s.now()); err != nil {
		return nil, err
	}
	if len(decisions) > MaxPlanDecisions {
		return nil, Errorf(EINVALID, "%d decisions in one plan; at most %d: split them into several plans", len(decisions), MaxPlanDecisions)
	}
	items := make([]ReviewItem, len(decisions))
	for i, d := range decisions {
		items[i] = byID[d.ItemID]
	}
	p := &Plan{
		ID: s.opts.NewID(), Kind: KindDecide,
		CertificationID: c.ID, CertificationName: c.Name, CampaignName: c.Campaign.Name,
		From: c.Reviewer, ItemCount: len(decisions), IdentityNames: identityNames(items),
		OnBehalf: strings.TrimSpace(in.OnBehalf), CreatedBy: a, Created: s.now(),
	}
	for chunk := range slices.Chunk(decisions, MaxDecisionsPerCall) {
		p.Decisions = append(p.Decisions, DecisionCall{CertificationID: c.ID, Items: chunk})
	}
	ids := make([]string, len(decisions))
	for i, d := range decisions {
		ids[i] = d.ItemID
	}
	if p.Evidence, err = s.evidence(ctx, c, all, ids); err != nil {
		return nil, err
	}
	p.Summary = summarizeDecisions(p, c)
	p.Warnings = decisionWarnings(c, decisions, byID)
	if !in.SameIntentSamePlan {
		return s.savePlan(ctx, a, p)
	}
	p.ID = intentID(a, p)
	if existing, err := s.opts.Store.GetPlan(ctx, p.ID); err == nil {
		return existing, nil
	}
	saved, err := s.savePlan(ctx, a, p)
	if ErrorCode(err) == ECONFLICT {
		return s.opts.Store.GetPlan(ctx, p.ID) // the other click saved it first
	}
	return saved, err
}

// intentID names a decision plan by who decides, on whose behalf, which
// decisions, and each item's decision as it stood (the request that made
// it, or ISC's value): see DecisionInput.SameIntentSamePlan.
func intentID(a Actor, p *Plan) string {
	h := sha256.New()
	fmt.Fprintf(h, "v1\x00%s\x00%s\x00%s\x00%s", strings.ToLower(a.FrontendKey()), strings.ToLower(a.IdentityID), p.CertificationID, p.OnBehalf)
	for _, c := range p.Decisions {
		for _, d := range c.Items {
			fmt.Fprintf(h, "\x00%s\x00%s\x00%s\x00%v", d.ItemID, d.Decision, d.Comments, d.ProposedEndDate)
		}
	}
	for _, ev := range p.Evidence {
		prior := "open"
		if ev.Decided != nil {
			prior = string(ev.Decided.Decision) + "/" + ev.Decided.RequestID + "/" + ev.Decided.Comments
		}
		fmt.Fprintf(h, "\x00%s\x00%s", ev.Item.ID, prior)
	}
	return "intent-" + hex.EncodeToString(h.Sum(nil))[:32]
}

// PlanSignOff plans signing a certification off; it changes nothing in ISC.
// Offered only when ISC would accept it. Errors: EINVALID (items undecided,
// a task pending, already signed), EFORBIDDEN, ENOTFOUND.
func (s *Service) PlanSignOff(ctx context.Context, a Actor, certID, onBehalf string) (*Plan, error) {
	c, err := s.decidableCertification(ctx, a, certID, onBehalf)
	if err != nil {
		return nil, err
	}
	if ready, why, err := s.signOffReady(ctx, c); err != nil {
		return nil, err
	} else if !ready {
		return nil, Errorf(EINVALID, "certification %q cannot be signed off yet: %s", c.Name, why)
	}
	all, err := s.allItems(ctx, c.ID, ReviewItemFilter{})
	if err != nil {
		return nil, err
	}
	p := &Plan{
		ID: s.opts.NewID(), Kind: KindSignOff,
		CertificationID: c.ID, CertificationName: c.Name, CampaignName: c.Campaign.Name,
		From: c.Reviewer, OnBehalf: strings.TrimSpace(onBehalf), CreatedBy: a, Created: s.now(),
		ItemCount: len(all), SignOffState: decisionState(all),
	}
	approve, revoke := 0, 0
	for _, it := range all {
		if it.Decision == DecisionRevoke {
			revoke++
		} else {
			approve++
		}
	}
	p.Summary = fmt.Sprintf("Sign off certification %q (campaign %q) reviewed by %s: its %s (%d approved, %d revoked) become final, and ISC removes the revoked access.",
		c.Name, c.Campaign.Name, reviewerName(c.Reviewer), plural(len(all), "decision", "decisions"), approve, revoke)
	if p.OnBehalf != "" {
		p.Summary += " Signed by " + actorName(a) + " on the reviewer's behalf: " + p.OnBehalf
	}
	return s.savePlan(ctx, a, p)
}

// decisionState hashes every item's decision and comments: a sign-off plan
// makes exactly these final, and is refused if they changed since it was
// shown (checkSignOffState).
func decisionState(items []ReviewItem) string {
	rows := make([]string, len(items))
	for i, it := range items {
		rows[i] = it.ID + "\x00" + string(it.Decision) + "\x00" + it.Comments
	}
	sort.Strings(rows)
	sum := sha256.Sum256([]byte(strings.Join(rows, "\x01")))
	return hex.EncodeToString(sum[:])[:digestLength]
}

// checkSignOffState refuses a sign-off whose certification's decisions
// changed since the plan was shown. Errors: EINVALID, upstream codes.
func (s *Service) checkSignOffState(ctx context.Context, p *Plan) error {
	all, err := s.allItems(ctx, p.CertificationID, ReviewItemFilter{})
	if err != nil {
		return err
	}
	if decisionState(all) != p.SignOffState {
		return Errorf(EINVALID, "the decisions of certification %q changed since sign-off plan %s was shown; nothing was signed: plan the sign-off again to see what becomes final", p.CertificationName, p.ID)
	}
	return nil
}

// MayDecide reports whether a may decide the certification's items now (its
// reviewer, or an admin giving onBehalf), changing nothing. Errors: as
// PlanDecisions' refusals (EFORBIDDEN, EINVALID for a certification no
// longer ACTIVE), ENOTFOUND.
func (s *Service) MayDecide(ctx context.Context, a Actor, certID, onBehalf string) error {
	_, err := s.decidableCertification(ctx, a, certID, onBehalf)
	return err
}

// SignOffReady reports whether ISC would accept signing certID off now,
// and if not, why. Errors: as GetCertification.
func (s *Service) SignOffReady(ctx context.Context, a Actor, certID string) (bool, string, error) {
	c, err := s.certificationFor(ctx, a, certID)
	if err != nil {
		return false, "", err
	}
	return s.signOffReady(ctx, c)
}

func (s *Service) signOffReady(ctx context.Context, c *Certification) (bool, string, error) {
	if c.Phase == PhaseSigned || c.Signed != nil {
		return false, "it is already signed off", nil
	}
	if c.Phase != PhaseActive {
		return false, fmt.Sprintf("it is %s, not ACTIVE", c.Phase), nil
	}
	if left := c.DecisionsTotal - c.DecisionsMade; left > 0 {
		return false, fmt.Sprintf("%s still to decide", plural(left, "review item is", "review items are")), nil
	}
	tasks, err := s.opts.Tenant.ListPendingTasks(ctx, c.ID)
	if err != nil {
		return false, "", fmt.Errorf("pending tasks of certification %s: %w", c.ID, err)
	}
	if len(tasks) > 0 {
		return false, fmt.Sprintf("%s pending in ISC (e.g. %s)", plural(len(tasks), "task is", "tasks are"), tasks[0].ID), nil
	}
	return true, "", nil
}

// decidableCertification reads a certification a may decide: its reviewer,
// or an admin giving a reason. It must be ACTIVE.
func (s *Service) decidableCertification(ctx context.Context, a Actor, certID, onBehalf string) (*Certification, error) {
	c, err := s.certificationFor(ctx, a, certID)
	if err != nil {
		return nil, err
	}
	isReviewer := a.IdentityID != "" && strings.EqualFold(a.IdentityID, c.Reviewer.ID)
	switch {
	case isReviewer && strings.TrimSpace(onBehalf) != "":
		return nil, Errorf(EINVALID, "you review certification %q yourself; a reason for deciding on the reviewer's behalf is only for admins", c.Name)
	case !isReviewer && a.Role != RoleAdmin:
		return nil, Errorf(EFORBIDDEN, "only the reviewer of certification %q (%s) decides its items", c.Name, reviewerName(c.Reviewer))
	case !isReviewer:
		if err := ValidateReason(strings.TrimSpace(onBehalf)); err != nil {
			return nil, &Error{Code: EFORBIDDEN, Message: fmt.Sprintf("you are not the reviewer of certification %q (%s): an admin deciding on the reviewer's behalf must give a reason (%s)", c.Name, reviewerName(c.Reviewer), ErrorMessage(err))}
		}
	}
	// ISC's completed means every decision is made, which does not stop
	// a decision being changed; only sign-off does.
	if c.Phase == PhaseSigned || c.Signed != nil {
		return nil, Errorf(EINVALID, "certification %q is signed off; its decisions are final", c.Name)
	}
	if c.Phase != PhaseActive {
		return nil, Errorf(EINVALID, "certification %q is %s; decisions are taken only while it is ACTIVE", c.Name, c.Phase)
	}
	return c, nil
}

// resolveDecisions turns the input into explicit decisions, in the
// certification's item order, each item once.
func (s *Service) resolveDecisions(c *Certification, in DecisionInput, all []ReviewItem, byID map[string]ReviewItem) ([]ItemDecision, error) {
	chosen := map[string]ItemDecision{}
	var order []string
	for i, d := range in.Decisions {
		if err := ValidateID(fmt.Sprintf("decisions[%d].itemId", i), d.ItemID); err != nil {
			return nil, err
		}
		if d.Decision != DecisionApprove && d.Decision != DecisionRevoke {
			return nil, Errorf(EINVALID, "decisions[%d].decision is %q; it must be APPROVE or REVOKE", i, d.Decision)
		}
		if err := ValidateComment(d.Comments); err != nil {
			return nil, err
		}
		if _, dup := chosen[d.ItemID]; dup {
			return nil, Errorf(EINVALID, "review item %s is decided twice in the input", d.ItemID)
		}
		if _, ok := byID[d.ItemID]; !ok {
			return nil, Errorf(EINVALID, "review item %s is not in certification %q", d.ItemID, c.Name)
		}
		if d.Comments == "" {
			d.Comments = strings.TrimSpace(in.Comments)
		}
		chosen[d.ItemID] = d
		order = append(order, d.ItemID)
	}
	if in.Select != nil {
		want := map[string]bool{}
		for i, id := range in.Select.IdentityIDs {
			if err := ValidateID(fmt.Sprintf("select.identityIds[%d]", i), id); err != nil {
				return nil, err
			}
			want[strings.ToLower(id)] = true
		}
		n := 0
		for _, it := range all {
			if !isOpen(it) || (len(want) > 0 && !want[strings.ToLower(it.IdentitySummary.IdentityID)]) ||
				(in.Select.ExcludePrivileged && it.Access.Privileged) || (in.Select.ExcludeNewAccess && it.NewAccess) {
				continue
			}
			n++
			if _, explicit := chosen[it.ID]; explicit {
				continue // an explicit decision wins over the selection
			}
			chosen[it.ID] = ItemDecision{ItemID: it.ID, Decision: in.SelectDecision, Comments: strings.TrimSpace(in.Comments)}
			order = append(order, it.ID)
		}
		if n == 0 && len(in.Decisions) == 0 {
			return nil, Errorf(EINVALID, "the selection matches no open review item of certification %q", c.Name)
		}
	}
	pos := make(map[string]int, len(all))
	for i, it := range all {
		pos[it.ID] = i
	}
	sort.SliceStable(order, func(i, j int) bool { return pos[order[i]] < pos[order[j]] })
	out := make([]ItemDecision, len(order))
	for i, id := range order {
		out[i] = chosen[id]
	}
	return out, nil
}

// checkDecisions applies the rules that need the items.
func checkDecisions(a Actor, c *Certification, ds []ItemDecision, byID map[string]ReviewItem, now time.Time) error {
	rule := c.Campaign.MandatoryCommentRequirement
	if rule == "" {
		rule = defaultCommentsRule
	}
	var own, uncommented []string
	for _, d := range ds {
		it := byID[d.ItemID]
		if a.IdentityID != "" && strings.EqualFold(it.IdentitySummary.IdentityID, a.IdentityID) {
			own = append(own, describeItem(it))
		}
		if commentRequired(rule, d.Decision) && strings.TrimSpace(d.Comments) == "" {
			uncommented = append(uncommented, d.ItemID)
		}
		if d.ProposedEndDate != nil {
			if d.Decision != DecisionRevoke {
				return Errorf(EINVALID, "review item %s: a proposed end date is only for a revoke", d.ItemID)
			}
			if !d.ProposedEndDate.After(now) {
				return Errorf(EINVALID, "review item %s: the proposed end date %s is not in the future", d.ItemID, d.ProposedEndDate.UTC().Format(time.RFC3339))
			}
		}
	}
	if len(own) > 0 {
		return Errorf(EFORBIDDEN, "nobody decides on their own access: %d of the items are yours (%s)", len(own), listSome(own))
	}
	if len(uncommented) > 0 {
		what := "every decision"
		if rule == CommentsOnRevoke {
			what = "every revoke"
		}
		return Errorf(EINVALID, "campaign %q requires a comment on %s (%s); %s without one: %s", c.Campaign.Name, what, rule, plural(len(uncommented), "decision is", "decisions are"), listSome(uncommented))
	}
	return nil
}

// summarizeDecisions says what the plan does in one sentence a person can
// check.
func summarizeDecisions(p *Plan, c *Certification) string {
	approve, revoke := decisionCounts(p)
	s := fmt.Sprintf("In certification %q (campaign %q), approve %s and revoke %s (%s: %s), in %s.",
		c.Name, c.Campaign.Name, plural(approve, "item", "items"), plural(revoke, "item", "items"),
		plural(len(p.IdentityNames), "identity", "identities"), listNames(p.IdentityNames, 5), plural(len(p.Decisions), "call", "calls"))
	if revoke > 0 {
		s += " Revoked access is removed when the certification is signed off."
	}
	if p.OnBehalf != "" {
		s += " Decided by " + actorName(p.CreatedBy) + " on the reviewer's behalf: " + p.OnBehalf
	}
	return s
}

// decisionCounts counts a decision plan's approvals and revocations.
func decisionCounts(p *Plan) (approve, revoke int) {
	for _, c := range p.Decisions {
		for _, d := range c.Items {
			if d.Decision == DecisionRevoke {
				revoke++
			} else {
				approve++
			}
		}
	}
	return approve, revoke
}

// decisionWarnings lists what a person should know before confirming.
func decisionWarnings(c *Certification, ds []ItemDecision, byID map[string]ReviewItem) []string {
	var w []string
	var privRevoke, changed, noComment []string
	for _, d := range ds {
		it := byID[d.ItemID]
		if d.Decision == DecisionRevoke && it.Access.Privileged {
			privRevoke = append(privRevoke, describeItem(it))
		}
		if it.Decision != "" && it.Decision != d.Decision {
			changed = append(changed, fmt.Sprintf("%s (%s → %s)", it.ID, it.Decision, d.Decision))
		}
		if d.Decision == DecisionRevoke && strings.TrimSpace(d.Comments) == "" {
			noComment = append(noComment, d.ItemID)
		}
	}
	if len(privRevoke) > 0 {
		w = append(w, fmt.Sprintf("revokes privileged access: %s", listSome(privRevoke)))
	}
	if len(changed) > 0 {
		w = append(w, fmt.Sprintf("changes %s already made: %s", plural(len(changed), "decision", "decisions"), listSome(changed)))
	}
	if len(noComment) > 0 {
		w = append(w, fmt.Sprintf("%s without a comment (auditors will ask why): %s", plural(len(noComment), "revoke", "revokes"), listSome(noComment)))
	}
	return w
}

// savePlan digests, stores and audits a plan.
func (s *Service) savePlan(ctx context.Context, a Actor, p *Plan) (*Plan, error) {
	p.Digest = p.computeDigest()
	if err := s.opts.Store.SavePlan(ctx, p); err != nil {
		return nil, fmt.Errorf("save plan: %w", err)
	}
	ev := s.event(a, ActionPlanCreated, p.CertificationID)
	ev.Count = p.ItemCount
	ev.Detail = fmt.Sprintf("plan %s (digest %s): %s", p.ID, p.Digest, p.Summary)
	if err := s.opts.Store.AppendEvents(ctx, ev); err != nil {
		return nil, fmt.Errorf("audit plan %s: %w", p.ID, err)
	}
	return p, nil
}

// digestOfKind hashes exactly what a decision or sign-off plan changes: its
// kind, certification, every decision in order with its comment and end
// date, the cut into calls, and who decides on whose behalf.
func (p *Plan) digestOfKind() string {
	canonical := struct {
		Version         int            `json:"v"`
		Kind            ChangeKind     `json:"kind"`
		CertificationID string         `json:"certificationId"`
		Calls           []DecisionCall `json:"calls"`
		OnBehalf        string         `json:"onBehalf"`
		SignOffState    string         `json:"signOffState,omitempty"`
	}{2, p.KindOf(), p.CertificationID, p.Decisions, p.OnBehalf, p.SignOffState}
	b, err := json.Marshal(canonical)
	if err != nil {
		panic("certs: plan digest: " + err.Error()) // plain data always encodes
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])[:digestLength]
}

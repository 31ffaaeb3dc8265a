package certs

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Planning a reassignment: from what a person asked for to exactly what will
// change, checked and worded so that a person can confirm it.
//
// Decisions:
//   - Every plan moves ITEM references, never IDENTITY_SUMMARY: the plan then
//     names exactly the review items that move (an identity's summary would
//     also carry items decided or added between approval and submission),
//     counts are exact, and reconciliation can check each one.
//   - Only open items move (not completed and no decision). Items named by
//     id that are decided are an error naming them; selections by identity,
//     identity summary or filter take the open items of the selection and
//     are an error only when nothing open is left.
//   - Refs are sorted by id and cut into calls in that order, so the same
//     selection always makes the same calls and the same digest.
//   - Every check on the input runs before anything is written; planning
//     changes nothing in ISC.

// idsPerFilter is how many ids one ISC "in" filter carries; it keeps URLs
// well under common 8 KB limits.
const idsPerFilter = 50

// digestLength is how many hex characters of the SHA-256 a plan shows: 64
// bits, short enough to type and long enough that a changed plan never
// matches by chance.
const digestLength = 16

// nearDue is how close a due date must be for a plan to warn about it.
const nearDue = 72 * time.Hour

// PlanReassignment works out a reassignment and stores it as a Plan; it
// changes nothing in ISC. Errors: EINVALID (with the offending value),
// ENOTFOUND, EFORBIDDEN.
func (s *Service) PlanReassignment(ctx context.Context, a Actor, in PlanInput) (*Plan, error) {
	if err := checkActor(a); err != nil {
		return nil, err
	}
	reason := strings.TrimSpace(in.Reason)
	if err := validatePlanInput(in); err != nil {
		return nil, err
	}
	c, err := s.certificationFor(ctx, a, in.CertificationID)
	if err != nil {
		return nil, err
	}
	if c.Completed || c.Phase == PhaseSigned {
		return nil, Errorf(EINVALID, "certification %q (%s) is signed off; its work can no longer be reassigned", c.Name, c.ID)
	}
	to, err := s.resolveIdentity(ctx, in.Target)
	if err != nil {
		return nil, err
	}
	if !to.Active() {
		return nil, Errorf(EINVALID, "%s is %s in ISC and cannot take review work; choose an active identity", describeIdentity(to), to.State)
	}
	if to.ID == c.Reviewer.ID {
		return nil, Errorf(EINVALID, "%s already reviews this certification (%q)", describeIdentity(to), c.Name)
	}
	items, err := s.selectItems(ctx, c, in)
	if err != nil {
		return nil, err
	}
	if err := checkSelfReview(to, items); err != nil {
		return nil, err
	}
	if len(items) > MaxPlanRefs {
		return nil, Errorf(EINVALID, "%d review items selected; one plan moves at most %d: narrow the selection or split it into several plans", len(items), MaxPlanRefs)
	}

	p := &Plan{
		ID:                s.opts.NewID(),
		CertificationID:   c.ID,
		CertificationName: c.Name,
		CampaignName:      c.Campaign.Name,
		From:              c.Reviewer,
		To:                *to,
		Reason:            reason,
		Refs:              make([]Ref, len(items)),
		ItemCount:         len(items),
		IdentityNames:     identityNames(items),
		Sync:              len(items) <= MaxSyncReassign,
		CreatedBy:         a,
		Created:           s.now(),
	}
	for i, it := range items {
		p.Refs[i] = Ref{ID: it.ID, Type: RefItem}
	}
	p.Calls = splitCalls(c.ID, to.ID, reason, p.Refs, p.Sync)
	p.Summary = summarize(p)
	p.Warnings = s.planWarnings(ctx, c, to)
	p.Digest = p.computeDigest()

	if err := s.opts.Store.SavePlan(ctx, p); err != nil {
		return nil, fmt.Errorf("save plan: %w", err)
	}
	ev := s.event(a, ActionPlanCreated, c.ID)
	ev.Count = p.ItemCount
	ev.Detail = fmt.Sprintf("plan %s (digest %s): %s", p.ID, p.Digest, p.Summary)
	if err := s.opts.Store.AppendEvents(ctx, ev); err != nil {
		return nil, fmt.Errorf("audit plan %s: %w", p.ID, err)
	}
	return p, nil
}

// validatePlanInput checks everything about the input that needs no call.
func validatePlanInput(in PlanInput) error {
	if err := ValidateID("certification id", in.CertificationID); err != nil {
		return err
	}
	if err := ValidateReason(in.Reason); err != nil {
		return err
	}
	var modes []string
	if len(in.ItemIDs) > 0 {
		modes = append(modes, "item ids")
	}
	if len(in.IdentitySummaryIDs) > 0 {
		modes = append(modes, "identity summary ids")
	}
	if len(in.IdentityIDs) > 0 {
		modes = append(modes, "identity ids")
	}
	switch len(modes) {
	case 0:
		return Errorf(EINVALID, "say what to reassign: item ids, identity summary ids or identity ids (all their open items)")
	case 1:
	default:
		return Errorf(EINVALID, "choose one way of selecting the work; got %s", strings.Join(modes, " and "))
	}
	for what, ids := range map[string][]string{"review item id": in.ItemIDs, "identity summary id": in.IdentitySummaryIDs, "identity id": in.IdentityIDs} {
		if len(ids) > MaxPlanRefs {
			return Errorf(EINVALID, "%d %ss given; one plan moves at most %d review items", len(ids), what, MaxPlanRefs)
		}
		if err := validateIDs(what, ids); err != nil {
			return err
		}
	}
	if strings.TrimSpace(in.Target) == "" {
		return Errorf(EINVALID, "a target is required: the new reviewer's identity id or email address")
	}
	return nil
}

// selectItems resolves the input's selection to open review items of c,
// de-duplicated and sorted by id.
func (s *Service) selectItems(ctx context.Context, c *Certification, in PlanInput) ([]ReviewItem, error) {
	switch {
	case len(in.ItemIDs) > 0:
		ids := dedupe(in.ItemIDs)
		found, err := s.itemsByID(ctx, c, ids)
		if err != nil {
			return nil, err
		}
		var missing, decided []string
		var open []ReviewItem
		for _, id := range ids {
			it, ok := found[id]
			switch {
			case !ok:
				missing = append(missing, id)
			case !isOpen(it):
				decided = append(decided, describeItem(it))
			default:
				open = append(open, it)
			}
		}
		if len(missing) > 0 {
			return nil, Errorf(EINVALID, "%d review item(s) are not in certification %q: %s", len(missing), c.Name, listSome(missing))
		}
		if len(decided) > 0 {
			return nil, Errorf(EINVALID, "%d review item(s) are already decided and cannot be reassigned: %s", len(decided), listSome(decided))
		}
		return sortItems(open), nil

	case len(in.IdentitySummaryIDs) > 0:
		ids := dedupe(in.IdentitySummaryIDs)
		var all []ReviewItem
		for _, chunk := range chunks(ids, idsPerFilter) {
			got, err := s.allItems(ctx, c.ID, ReviewItemFilter{IdentitySummaryIDs: chunk})
			if err != nil {
				return nil, err
			}
			all = append(all, got...)
		}
		return openItemsOf(c, ids, all, "identity summary", func(it ReviewItem) string { return it.IdentitySummary.ID })

	case len(in.IdentityIDs) > 0:
		// ISC cannot filter items on identitySummary.identityId: read the
		// certification's items and match here.
		ids := dedupe(in.IdentityIDs)
		all, err := s.allItems(ctx, c.ID, ReviewItemFilter{})
		if err != nil {
			return nil, err
		}
		return openItemsOf(c, ids, all, "identity", func(it ReviewItem) string { return it.IdentitySummary.IdentityID })

	}
	return nil, Errorf(EINVALID, "say what to reassign")
}

// openItemsOf keeps the open items of the given keys (identity ids or
// identity summary ids); a key with no items, or none open, is EINVALID.
func openItemsOf(c *Certification, keys []string, all []ReviewItem, what string, key func(ReviewItem) string) ([]ReviewItem, error) {
	byKey := map[string][]ReviewItem{}
	for _, it := range all {
		byKey[key(it)] = append(byKey[key(it)], it)
	}
	var missing, decided []string
	var open []ReviewItem
	seen := map[string]bool{}
	for _, k := range keys {
		its, ok := byKey[k]
		if !ok {
			missing = append(missing, k)
			continue
		}
		n := 0
		for _, it := range its {
			if isOpen(it) && !seen[it.ID] {
				seen[it.ID] = true
				open = append(open, it)
				n++
			}
		}
		if n == 0 {
			decided = append(decided, fmt.Sprintf("%s (%s)", its[0].IdentitySummary.Name, k))
		}
	}
	if len(missing) > 0 {
		return nil, Errorf(EINVALID, "no review items of %d %s(s) in certification %q: %s", len(missing), what, c.Name, listSome(missing))
	}
	if len(decided) > 0 {
		return nil, Errorf(EINVALID, "every review item of %s is already decided; nothing of theirs can be reassigned", listSome(decided))
	}
	return sortItems(open), nil
}

// itemsByID reads the items with the given ids: by "id in" filters, or by
// reading the whole certification when that takes fewer calls.
func (s *Service) itemsByID(ctx context.Context, c *Certification, ids []string) (map[string]ReviewItem, error) {
	found := map[string]ReviewItem{}
	byFilter := (len(ids) + idsPerFilter - 1) / idsPerFilter
	whole := (c.DecisionsTotal + MaxPageLimit - 1) / MaxPageLimit
	if c.DecisionsTotal > 0 && whole < byFilter {
		all, err := s.allItems(ctx, c.ID, ReviewItemFilter{})
		if err != nil {
			return nil, err
		}
		for _, it := range all {
			found[it.ID] = it
		}
		return found, nil
	}
	for _, chunk := range chunks(ids, idsPerFilter) {
		got, err := s.allItems(ctx, c.ID, ReviewItemFilter{IDs: chunk})
		if err != nil {
			return nil, err
		}
		for _, it := range got {
			found[it.ID] = it
		}
	}
	return found, nil
}

// allItems reads every page of a certification's items matching f.
func (s *Service) allItems(ctx context.Context, certID string, f ReviewItemFilter) ([]ReviewItem, error) {
	var all []ReviewItem
	f.Page = PageOptions{Limit: MaxPageLimit}
	for {
		page, err := s.opts.Tenant.ListReviewItems(ctx, certID, f)
		if err != nil {
			return nil, fmt.Errorf("review items of certification %s: %w", certID, err)
		}
		all = append(all, page.Items...)
		if len(page.Items) < MaxPageLimit {
			return all, nil
		}
		f.Page.Offset += len(page.Items)
	}
}

func isOpen(it ReviewItem) bool { return !it.Completed && it.Decision == "" }

// checkSelfReview refuses a target whose own access is among the items.
func checkSelfReview(to *Identity, items []ReviewItem) error {
	var own []string
	for _, it := range items {
		if it.IdentitySummary.IdentityID == to.ID {
			own = append(own, it.ID)
		}
	}
	if len(own) == 0 {
		return nil
	}
	return Errorf(EINVALID, "%s cannot review their own access: %d of the selected review items are about it (%s); leave them out or choose another reviewer", describeIdentity(to), len(own), listSome(own))
}

// splitCalls cuts refs into ISC calls: one synchronous call (a plan of at
// most MaxSyncReassign items: done when ISC answers, no task to follow), or
// asynchronous calls of at most MaxAsyncReassign.
func splitCalls(certID, to, reason string, refs []Ref, sync bool) []Reassignment {
	size := MaxAsyncReassign
	if sync {
		size = MaxSyncReassign
	}
	var calls []Reassignment
	for start := 0; start < len(refs); start += size {
		end := min(start+size, len(refs))
		calls = append(calls, Reassignment{CertificationID: certID, Refs: append([]Ref(nil), refs[start:end]...), To: to, Reason: reason})
	}
	return calls
}

// computeDigest hashes a canonical encoding of exactly what the plan
// changes: certification, refs in order, target, reason, sync and the cut
// into calls. Names, warnings and times are left out: they describe the
// change, they are not the change.
func (p *Plan) computeDigest() string {
	if p.KindOf() != KindReassign {
		return p.digestOfKind()
	}
	refs := append([]Ref(nil), p.Refs...)
	sort.Slice(refs, func(i, j int) bool {
		if refs[i].ID != refs[j].ID {
			return refs[i].ID < refs[j].ID
		}
		return refs[i].Type < refs[j].Type
	})
	calls := make([][]Ref, len(p.Calls))
	for i, c := range p.Calls {
		calls[i] = c.Refs
		if c.CertificationID != p.CertificationID || c.To != p.To.ID || c.Reason != p.Reason {
			// A call that differs from the plan's header must change the
			// digest too.
			calls[i] = append([]Ref{{ID: c.CertificationID + "|" + c.To + "|" + c.Reason, Type: "CALL"}}, c.Refs...)
		}
	}
	canonical := struct {
		Version         int     `json:"v"`
		CertificationID string  `json:"certificationId"`
		Refs            []Ref   `json:"refs"`
		To              string  `json:"to"`
		Reason          string  `json:"reason"`
		Sync            bool    `json:"sync"`
		Calls           [][]Ref `json:"calls"`
	}{1, p.CertificationID, refs, p.To.ID, p.Reason, p.Sync, calls}
	b, err := json.Marshal(canonical)
	if err != nil {
		panic("certs: plan digest: " + err.Error()) // strings and bools always encode
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])[:digestLength]
}

// digestMatches compares a digest a person typed or a front end echoed.
func (p *Plan) digestMatches(digest string) bool {
	return strings.EqualFold(strings.TrimSpace(digest), p.Digest) && p.Digest == p.computeDigest()
}

// summarize says what the plan does in one sentence a person can check.
func summarize(p *Plan) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Move %s (%s: %s) of certification %q", plural(p.ItemCount, "review item", "review items"),
		plural(len(p.IdentityNames), "identity", "identities"), listNames(p.IdentityNames, 5), p.CertificationName)
	if p.CampaignName != "" {
		fmt.Fprintf(&b, " (campaign %q)", p.CampaignName)
	}
	fmt.Fprintf(&b, " from %s to %s, in ", reviewerName(p.From), describeIdentity(&p.To))
	if p.Sync {
		b.WriteString("1 synchronous call")
	} else {
		b.WriteString(plural(len(p.Calls), "call", "calls"))
	}
	fmt.Fprintf(&b, ". Reason: %s", p.Reason)
	return b.String()
}

// planWarnings lists what a person should know before confirming. They are
// best effort: a failed check becomes a warning, never an error.
func (s *Service) planWarnings(ctx context.Context, c *Certification, to *Identity) []string {
	var w []string
	if c.Phase == PhaseStaged {
		w = append(w, fmt.Sprintf("certification %q is STAGED: reviewers do not see it yet", c.Name))
	}
	if c.Due != nil {
		now := s.now()
		switch left := c.Due.Sub(now); {
		case left < 0:
			w = append(w, fmt.Sprintf("the certification was due %s (%s ago); %s takes over late work", c.Due.UTC().Format("2006-01-02 15:04 MST"), roughDuration(-left), to.Name))
		case left < nearDue:
			w = append(w, fmt.Sprintf("the certification is due %s (in %s); %s will have little time", c.Due.UTC().Format("2006-01-02 15:04 MST"), roughDuration(left), to.Name))
		}
	}
	if c.Campaign.ID != "" {
		page, err := s.opts.Tenant.ListCertifications(ctx, CertificationFilter{ReviewerIdentity: to.ID, CampaignIDs: []string{c.Campaign.ID}, Page: PageOptions{Limit: 1}})
		switch {
		case err != nil:
			w = append(w, fmt.Sprintf("could not check whether %s already reviews in campaign %q: %s", to.Name, c.Campaign.Name, ErrorMessage(err)))
		case len(page.Items) == 0:
			w = append(w, fmt.Sprintf("%s is not a reviewer in campaign %q yet; ISC will give them a new certification", to.Name, c.Campaign.Name))
		}
	}
	tasks, err := s.opts.Tenant.ListPendingTasks(ctx, c.ID)
	switch {
	case err != nil:
		w = append(w, fmt.Sprintf("could not read the certification's pending ISC tasks: %s", ErrorMessage(err)))
	case len(tasks) > 0:
		ids := make([]string, len(tasks))
		for i, t := range tasks {
			ids[i] = string(t.Type) + " " + t.ID
		}
		w = append(w, fmt.Sprintf("the certification has %d pending ISC task(s) (%s); items may change before this plan runs", len(tasks), listSome(ids)))
	}
	return w
}

// GetPlan returns a stored plan. Reviewers may read only plans of
// certifications they review. Errors: EINVALID, ENOTFOUND, EFORBIDDEN.
func (s *Service) GetPlan(ctx context.Context, a Actor, id string) (*Plan, error) {
	if err := checkActor(a); err != nil {
		return nil, err
	}
	if err := ValidateID("plan id", id); err != nil {
		return nil, err
	}
	p, err := s.opts.Store.GetPlan(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("plan %s: %w", id, err)
	}
	if a.Role != RoleAdmin && (a.IdentityID == "" || p.From.ID != a.IdentityID) {
		return nil, Errorf(EFORBIDDEN, "plan %s is about certification %q, which you do not review", id, p.CertificationName)
	}
	return p, nil
}

func identityNames(items []ReviewItem) []string {
	seen := map[string]bool{}
	var names []string
	for _, it := range items {
		key := it.IdentitySummary.IdentityID + "|" + it.IdentitySummary.ID
		if seen[key] {
			continue
		}
		seen[key] = true
		name := it.IdentitySummary.Name
		if name == "" {
			name = it.IdentitySummary.IdentityID
		}
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

func sortItems(items []ReviewItem) []ReviewItem {
	sort.Slice(items, func(i, j int) bool { return items[i].ID < items[j].ID })
	return items
}

func dedupe(ids []string) []string {
	seen := make(map[string]bool, len(ids))
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

func chunks(ids []string, n int) [][]string {
	var out [][]string
	for start := 0; start < len(ids); start += n {
		out = append(out, ids[start:min(start+n, len(ids))])
	}
	return out
}

func describeItem(it ReviewItem) string {
	return fmt.Sprintf("%s (%s: %s)", it.ID, it.IdentitySummary.Name, it.Access.Name)
}

func describeIdentity(id *Identity) string {
	name := id.Name
	if name == "" {
		name = id.ID
	}
	if id.Email != "" {
		return fmt.Sprintf("%s (%s)", name, id.Email)
	}
	return name
}

func reviewerName(r Reviewer) string {
	if r.Name != "" {
		return r.Name
	}
	return r.ID
}

// listSome joins up to 10 values and says how many more there are.
func listSome(vals []string) string {
	const show = 10
	if len(vals) <= show {
		return strings.Join(vals, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(vals[:show], ", "), len(vals)-show)
}

func listNames(names []string, show int) string {
	if len(names) <= show {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s, and %d more", strings.Join(names[:show], ", "), len(names)-show)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

func roughDuration(d time.Duration) string {
	switch {
	case d >= 48*time.Hour:
		return fmt.Sprintf("%d days", int(d/(24*time.Hour)))
	case d >= 2*time.Hour:
		return fmt.Sprintf("%d hours", int(d/time.Hour))
	default:
		return fmt.Sprintf("%d minutes", int(d/time.Minute))
	}
}

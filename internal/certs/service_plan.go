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

	"golang.org/x/sync/errgroup"
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
	rd, err := s.planReads(ctx, a, in)
	if err != nil {
		return nil, err
	}
	c := rd.cert
	if c.Completed || c.Phase == PhaseSigned {
		return nil, Errorf(EINVALID, "certification %q (%s) is signed off; its work can no longer be reassigned", c.Name, c.ID)
	}
	if rd.toErr != nil {
		return nil, rd.toErr
	}
	to := rd.to
	if !to.Active() {
		return nil, Errorf(EINVALID, "%s is %s in ISC and cannot take review work; choose an active identity", describeIdentity(to), to.State)
	}
	if to.ID == c.Reviewer.ID {
		return nil, Errorf(EINVALID, "%s already reviews this certification (%q)", describeIdentity(to), c.Name)
	}
	if rd.itemsErr != nil {
		return nil, rd.itemsErr
	}
	items, err := selectItems(c, in, rd.items)
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
	p.Warnings = s.planWarnings(c, to, rd)
	return s.savePlan(ctx, a, p)
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

// planInputs are what planning reads from the tenant. The reads go out
// together: the certification, the target identity, the selected items
// and the certification's pending tasks at once, and the target's
// certifications in the campaign (for a warning) as soon as the
// certification and the target are known. The certification comes first:
// when it cannot be read, or the actor may not see it, planning fails with
// that, the other reads are stopped and what they found is never used.
type planInputs struct {
	cert *Certification

	to    *Identity
	toErr error

	items    []ReviewItem // what the selection needs, not yet checked
	itemsErr error

	tasks    []Task
	tasksErr error

	// campaign: one certification of the target in c's campaign, when
	// read (campaignRead).
	campaign     []Certification
	campaignErr  error
	campaignRead bool
}

func (s *Service) planReads(ctx context.Context, a Actor, in PlanInput) (*planInputs, error) {
	rd := &planInputs{}
	certDone, toDone := make(chan struct{}), make(chan struct{})
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		defer close(certDone)
		c, err := s.certificationFor(gctx, a, in.CertificationID)
		rd.cert = c
		return err // stops the other reads
	})
	g.Go(func() error {
		defer close(toDone)
		rd.to, rd.toErr = s.resolveIdentity(gctx, in.Target)
		return nil
	})
	g.Go(func() error {
		rd.items, rd.itemsErr = s.readSelection(gctx, in, func() *Certification {
			<-certDone
			return rd.cert
		})
		return nil
	})
	g.Go(func() error {
		rd.tasks, rd.tasksErr = s.opts.Tenant.ListPendingTasks(gctx, in.CertificationID)
		return nil
	})
	g.Go(func() error {
		<-certDone
		<-toDone
		c, to := rd.cert, rd.to
		if c == nil || to == nil || c.Campaign.ID == "" {
			return nil
		}
		page, err := s.opts.Tenant.ListCertifications(gctx, CertificationFilter{ReviewerIdentity: to.ID, CampaignIDs: []string{c.Campaign.ID}, Page: PageOptions{Limit: 1}})
		rd.campaign, rd.campaignErr, rd.campaignRead = page.Items, err, true
		return nil
	})
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return rd, nil
}

// readSelection reads the review items the input's selection needs. Only
// a selection of more than idsPerFilter item ids needs the certification
// (its size says whether reading it whole takes fewer calls): cert waits
// for it, and returns nil when it could not be read.
func (s *Service) readSelection(ctx context.Context, in PlanInput, cert func() *Certification) ([]ReviewItem, error) {
	certID := in.CertificationID
	switch {
	case len(in.ItemIDs) > 0:
		ids := dedupe(in.ItemIDs)
		if len(ids) > idsPerFilter {
			c := cert()
			if c == nil {
				return nil, nil // planning fails with the certification's error
			}
			byFilter := (len(ids) + idsPerFilter - 1) / idsPerFilter
			whole := (c.DecisionsTotal + MaxPageLimit - 1) / MaxPageLimit
			if c.DecisionsTotal > 0 && whole < byFilter {
				return s.allItems(ctx, certID, ReviewItemFilter{})
			}
		}
		return s.itemsIn(ctx, certID, ids, func(chunk []string) ReviewItemFilter { return ReviewItemFilter{IDs: chunk} })
	case len(in.IdentitySummaryIDs) > 0:
		return s.itemsIn(ctx, certID, dedupe(in.IdentitySummaryIDs), func(chunk []string) ReviewItemFilter {
			return ReviewItemFilter{IdentitySummaryIDs: chunk}
		})
	case len(in.IdentityIDs) > 0:
		// ISC cannot filter items on identitySummary.identityId: read the
		// certification's items and match here.
		return s.allItems(ctx, certID, ReviewItemFilter{})
	}
	return nil, nil
}

// selectItems resolves the input's selection to open review items of c,
// de-duplicated and sorted by id, from the items readSelection read.
func selectItems(c *Certification, in PlanInput, read []ReviewItem) ([]ReviewItem, error) {
	switch {
	case len(in.ItemIDs) > 0:
		ids := dedupe(in.ItemIDs)
		found := make(map[string]ReviewItem, len(read))
		for _, it := range read {
			found[it.ID] = it
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
		return openItemsOf(c, dedupe(in.IdentitySummaryIDs), read, "identity summary", func(it ReviewItem) string { return it.IdentitySummary.ID })

	case len(in.IdentityIDs) > 0:
		return openItemsOf(c, dedupe(in.IdentityIDs), read, "identity", func(it ReviewItem) string { return it.IdentitySummary.IdentityID })
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

// allItems reads every review item of a certification matching f: every
// page, the others at once after the first (Tenant.ListAllReviewItems).
func (s *Service) allItems(ctx context.Context, certID string, f ReviewItemFilter) ([]ReviewItem, error) {
	f.Page = PageOptions{Limit: MaxPageLimit}
	all, err := s.opts.Tenant.ListAllReviewItems(ctx, certID, f)
	if err != nil {
		return nil, fmt.Errorf("review items of certification %s: %w", certID, err)
	}
	return all, nil
}

// readsAtOnce bounds the filtered reads one operation sends at once (each
// of which reads its pages at once in turn, as the Tenant bounds them).
const readsAtOnce = 8

// itemsIn reads a certification's items matching filter(chunk) for each
// chunk of at most idsPerFilter ids, the reads at once, and returns them in
// the order of the chunks. The first failure fails it and stops the rest.
func (s *Service) itemsIn(ctx context.Context, certID string, ids []string, filter func(chunk []string) ReviewItemFilter) ([]ReviewItem, error) {
	parts := chunks(ids, idsPerFilter)
	got := make([][]ReviewItem, len(parts))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(readsAtOnce)
	for i, chunk := range parts {
		g.Go(func() error {
			items, err := s.allItems(gctx, certID, filter(chunk))
			got[i] = items
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return slices.Concat(got...), nil
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

// planWarnings lists what a person should know before confirming, from
// what planReads found. They are best effort: a failed check becomes a
// warning, never an error.
func (s *Service) planWarnings(c *Certification, to *Identity, rd *planInputs) []string {
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
	if rd.campaignRead {
		switch {
		case rd.campaignErr != nil:
			w = append(w, fmt.Sprintf("could not check whether %s already reviews in campaign %q: %s", to.Name, c.Campaign.Name, ErrorMessage(rd.campaignErr)))
		case len(rd.campaign) == 0:
			w = append(w, fmt.Sprintf("%s is not a reviewer in campaign %q yet; ISC will give them a new certification", to.Name, c.Campaign.Name))
		}
	}
	switch tasks := rd.tasks; {
	case rd.tasksErr != nil:
		w = append(w, fmt.Sprintf("could not read the certification's pending ISC tasks: %s", ErrorMessage(rd.tasksErr)))
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

package certs

import (
	"context"
	"fmt"
	"net/mail"
	"sort"
	"strings"

	"golang.org/x/sync/errgroup"
)

// The read side of the Service: certifications, their reviewers, items,
// permissions and tasks, and identities.
//
// Access rule: admins read everything the ISC client may see; reviewer-role
// actors read only certifications whose reviewer is their own identity, and
// anything else is EFORBIDDEN naming the certification (ISC ids are random,
// so the answer leaks nothing, and "you do not review it" is more useful to a
// person than "not found").
//
// Bulk reads: any read that returns ExportThreshold (100) rows or more
// writes an ActionExport event with the row count before the rows are
// returned; if the event cannot be written the read fails, so no bulk read
// goes unaudited.

// ListCertifications returns a page of certifications, due soonest first
// (ISC sorter "due"; within the page, those without a due date come last).
// Errors: EINVALID (bad query, or "mine" asked by an actor with no ISC
// identity), EFORBIDDEN (a reviewer asking for another's), upstream codes.
func (s *Service) ListCertifications(ctx context.Context, a Actor, q CertificationQuery) (Page[Certification], error) {
	if err := checkActor(a); err != nil {
		return Page[Certification]{}, err
	}
	if err := validatePage(q.Page); err != nil {
		return Page[Certification]{}, err
	}
	f := CertificationFilter{Completed: q.Completed, Sorters: []string{"due"}, Page: q.Page}
	if q.CampaignID != "" {
		if err := ValidateID("campaign id", q.CampaignID); err != nil {
			return Page[Certification]{}, err
		}
		f.CampaignIDs = []string{q.CampaignID}
	}
	reviewer := strings.TrimSpace(q.Reviewer)
	switch {
	case reviewer == "" && q.CampaignID != "" && a.Role == RoleAdmin:
		// An admin looking at a whole campaign: every reviewer's share.
	case reviewer == "" || strings.EqualFold(reviewer, "me"):
		// Never pass ISC's own "me": it means the API client's identity,
		// not the person at the front end.
		if a.IdentityID == "" {
			return Page[Certification]{}, &Error{Code: EINVALID, Err: ErrNoIdentity, Message: fmt.Sprintf(
				"your %s account is not linked to an ISC identity, so certops cannot tell which certifications are yours; ask an admin to link it, or give a reviewer identity id or a campaign id", a.Frontend)}
		}
		f.ReviewerIdentity = a.IdentityID
	default:
		if err := ValidateID("reviewer identity id", reviewer); err != nil {
			return Page[Certification]{}, err
		}
		if a.Role != RoleAdmin && reviewer != a.IdentityID {
			return Page[Certification]{}, Errorf(EFORBIDDEN, "reviewers may list only their own certifications, not those of identity %s", reviewer)
		}
		f.ReviewerIdentity = reviewer
	}
	page, err := s.opts.Tenant.ListCertifications(ctx, f)
	if err != nil {
		return Page[Certification]{}, fmt.Errorf("list certifications: %w", err)
	}
	sortDueNullsLast(page.Items)
	detail := fmt.Sprintf("certifications of reviewer %q campaign %q", f.ReviewerIdentity, q.CampaignID)
	if err := s.auditExport(ctx, a, "", len(page.Items), detail); err != nil {
		return Page[Certification]{}, err
	}
	return page, nil
}

// sortDueNullsLast keeps ISC's order but moves certifications without a due
// date after those with one. ISC does not document where nulls sort, so this
// holds within a page only.
func sortDueNullsLast(cs []Certification) {
	sort.SliceStable(cs, func(i, j int) bool { return cs[i].Due != nil && cs[j].Due == nil })
}

// GetCertification returns one certification with progress, pending tasks
// and reassignment history (every request filed against it, newest first).
// The three reads go out together; the certification's decides: when it
// fails, or the actor may not see it, that is the answer and the other two
// are stopped. Errors: EINVALID, ENOTFOUND, EFORBIDDEN.
func (s *Service) GetCertification(ctx context.Context, a Actor, id string) (*CertificationDetail, error) {
	if err := checkActor(a); err != nil {
		return nil, err
	}
	if err := ValidateID("certification id", id); err != nil {
		return nil, err
	}
	var (
		c           *Certification
		tasks       []Task
		reqs        []*Request
		tErr, rdErr error
	)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		var err error
		c, err = s.certificationFor(gctx, a, id)
		return err
	})
	g.Go(func() error {
		tasks, tErr = s.opts.Tenant.ListPendingTasks(gctx, id)
		return nil
	})
	g.Go(func() error {
		reqs, rdErr = s.opts.Store.ListRequests(gctx, RequestFilter{CertificationID: id})
		return nil
	})
	if err := g.Wait(); err != nil {
		return nil, err
	}
	if tErr != nil {
		return nil, fmt.Errorf("pending tasks of certification %s: %w", id, tErr)
	}
	if rdErr != nil {
		return nil, fmt.Errorf("requests of certification %s: %w", id, rdErr)
	}
	if tasks == nil {
		tasks = []Task{}
	}
	if reqs == nil {
		reqs = []*Request{}
	}
	return &CertificationDetail{Certification: *c, DecidedFraction: c.Progress(), PendingTasks: tasks, Requests: reqs}, nil
}

// ListReviewers returns a page of a certification's reviewers.
// Errors: EINVALID, ENOTFOUND, EFORBIDDEN, upstream codes.
func (s *Service) ListReviewers(ctx context.Context, a Actor, certID string, f ReviewerFilter) (Page[IdentityRef], error) {
	if err := s.authorizeCertification(ctx, a, certID); err != nil {
		return Page[IdentityRef]{}, err
	}
	if err := validatePage(f.Page); err != nil {
		return Page[IdentityRef]{}, err
	}
	if err := validateIDs("reviewer id", f.IDs); err != nil {
		return Page[IdentityRef]{}, err
	}
	if err := validateNames("name", f.Name, "name prefix", f.NameSW, "email", f.Email, "email prefix", f.EmailSW); err != nil {
		return Page[IdentityRef]{}, err
	}
	page, err := s.opts.Tenant.ListReviewers(ctx, certID, f)
	if err != nil {
		return Page[IdentityRef]{}, fmt.Errorf("reviewers of certification %s: %w", certID, err)
	}
	if err := s.auditExport(ctx, a, certID, len(page.Items), "reviewers"); err != nil {
		return Page[IdentityRef]{}, err
	}
	return page, nil
}

// ListReviewItems returns a page of a certification's review items.
// Errors: EINVALID (bad filter), ENOTFOUND, EFORBIDDEN, upstream codes.
func (s *Service) ListReviewItems(ctx context.Context, a Actor, certID string, f ReviewItemFilter) (Page[ReviewItem], error) {
	if err := s.authorizeCertification(ctx, a, certID); err != nil {
		return Page[ReviewItem]{}, err
	}
	if err := validateItemFilter(f); err != nil {
		return Page[ReviewItem]{}, err
	}
	page, err := s.opts.Tenant.ListReviewItems(ctx, certID, f)
	if err != nil {
		return Page[ReviewItem]{}, fmt.Errorf("review items of certification %s: %w", certID, err)
	}
	if err := s.auditExport(ctx, a, certID, len(page.Items), "review items"); err != nil {
		return Page[ReviewItem]{}, err
	}
	return page, nil
}

// ListItemPermissions returns a page of what an entitlement item grants.
// Errors: EINVALID, ENOTFOUND, EFORBIDDEN, upstream codes.
func (s *Service) ListItemPermissions(ctx context.Context, a Actor, certID, itemID string, f PermissionFilter) (Page[Permission], error) {
	if err := s.authorizeCertification(ctx, a, certID); err != nil {
		return Page[Permission]{}, err
	}
	if err := ValidateID("review item id", itemID); err != nil {
		return Page[Permission]{}, err
	}
	if err := validatePage(f.Page); err != nil {
		return Page[Permission]{}, err
	}
	if err := validateNames("target", f.Target); err != nil {
		return Page[Permission]{}, err
	}
	for _, r := range f.Rights {
		if err := validateNames("right", r); err != nil {
			return Page[Permission]{}, err
		}
	}
	page, err := s.opts.Tenant.ListItemPermissions(ctx, certID, itemID, f)
	if err != nil {
		return Page[Permission]{}, fmt.Errorf("permissions of item %s: %w", itemID, err)
	}
	if err := s.auditExport(ctx, a, certID, len(page.Items), "permissions of item "+itemID); err != nil {
		return Page[Permission]{}, err
	}
	return page, nil
}

// ListPendingTasks returns a certification's queued and running ISC tasks.
// Errors: EINVALID, ENOTFOUND, EFORBIDDEN, upstream codes.
func (s *Service) ListPendingTasks(ctx context.Context, a Actor, certID string) ([]Task, error) {
	if err := s.authorizeCertification(ctx, a, certID); err != nil {
		return nil, err
	}
	tasks, err := s.opts.Tenant.ListPendingTasks(ctx, certID)
	if err != nil {
		return nil, fmt.Errorf("pending tasks of certification %s: %w", certID, err)
	}
	return tasks, nil
}

// GetTask returns an ISC certification task. Reviewers may read only tasks
// of certifications they review. Errors: EINVALID, ENOTFOUND, EFORBIDDEN.
func (s *Service) GetTask(ctx context.Context, a Actor, taskID string) (*Task, error) {
	if err := checkActor(a); err != nil {
		return nil, err
	}
	if err := ValidateID("task id", taskID); err != nil {
		return nil, err
	}
	t, err := s.opts.Tenant.GetTask(ctx, taskID)
	if err != nil {
		return nil, fmt.Errorf("task %s: %w", taskID, err)
	}
	if a.Role != RoleAdmin {
		if t.TargetType != "" && t.TargetType != "CERTIFICATION" {
			return nil, Errorf(EFORBIDDEN, "task %s is about %s %s; reviewers may read only their certifications' tasks", taskID, strings.ToLower(t.TargetType), t.TargetID)
		}
		if err := s.authorizeCertification(ctx, a, t.TargetID); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// ResolveIdentity finds an identity by id or email (anything with an "@"
// is an email). Errors: EINVALID, ENOTFOUND, ECONFLICT (several match).
func (s *Service) ResolveIdentity(ctx context.Context, a Actor, idOrEmail string) (*Identity, error) {
	if err := checkActor(a); err != nil {
		return nil, err
	}
	return s.resolveIdentity(ctx, idOrEmail)
}

func (s *Service) resolveIdentity(ctx context.Context, idOrEmail string) (*Identity, error) {
	v := strings.TrimSpace(idOrEmail)
	if v == "" {
		return nil, Errorf(EINVALID, "an identity id or email address is required")
	}
	if strings.Contains(v, "@") {
		if err := validateEmail(v); err != nil {
			return nil, err
		}
		id, err := s.opts.Tenant.FindIdentityByEmail(ctx, v)
		if ErrorCode(err) == ENOTFOUND {
			return nil, &Error{Code: ENOTFOUND, Message: fmt.Sprintf("no ISC identity has the email %s", quoteShort(v)), Err: err}
		}
		if err != nil {
			return nil, fmt.Errorf("find identity by email %s: %w", v, err)
		}
		return id, nil
	}
	if err := ValidateID("identity id", v); err != nil {
		return nil, err
	}
	id, err := s.opts.Tenant.GetIdentity(ctx, v)
	if ErrorCode(err) == ENOTFOUND {
		return nil, &Error{Code: ENOTFOUND, Message: fmt.Sprintf("no ISC identity has the id %s", quoteShort(v)), Err: err}
	}
	if err != nil {
		return nil, fmt.Errorf("get identity %s: %w", v, err)
	}
	return id, nil
}

// validateEmail accepts a bare address (no display name) of at most 254
// characters, as RFC 5321 allows.
func validateEmail(v string) error {
	if len(v) > 254 {
		return Errorf(EINVALID, "email address %s is %d characters; at most 254 are allowed", quoteShort(v), len(v))
	}
	addr, err := mail.ParseAddress(v)
	if err != nil || addr.Address != v {
		return Errorf(EINVALID, "%s is not a valid email address", quoteShort(v))
	}
	return nil
}

// checkActor rejects calls with no identifiable actor: a front-end bug, never
// something to guess around.
func checkActor(a Actor) error {
	if a.ID == "" || a.Frontend == "" {
		return Errorf(EFORBIDDEN, "the caller is not identified (actor id and front end are required)")
	}
	switch a.Role {
	case RoleAdmin, RoleReviewer:
		return nil
	}
	return Errorf(EFORBIDDEN, "role %q is not one of admin, reviewer", a.Role)
}

// mayReview reports whether a may read and act on c.
func mayReview(a Actor, c *Certification) error {
	if a.Role == RoleAdmin {
		return nil
	}
	if a.IdentityID != "" && c.Reviewer.ID == a.IdentityID && c.Reviewer.Type != ReviewerGovernanceGroup {
		return nil
	}
	return Errorf(EFORBIDDEN, "you do not review certification %q (%s); reviewers may see and act on only their own", c.Name, c.ID)
}

// certificationFor reads a certification the actor may see.
func (s *Service) certificationFor(ctx context.Context, a Actor, id string) (*Certification, error) {
	if err := checkActor(a); err != nil {
		return nil, err
	}
	if err := ValidateID("certification id", id); err != nil {
		return nil, err
	}
	c, err := s.opts.Tenant.GetCertification(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("certification %s: %w", id, err)
	}
	if err := mayReview(a, c); err != nil {
		return nil, err
	}
	return c, nil
}

// authorizeCertification checks a may read certID. Admins need no extra
// call: ISC answers ENOTFOUND for an unknown id on the read that follows.
func (s *Service) authorizeCertification(ctx context.Context, a Actor, certID string) error {
	if err := checkActor(a); err != nil {
		return err
	}
	if err := ValidateID("certification id", certID); err != nil {
		return err
	}
	if a.Role == RoleAdmin {
		return nil
	}
	_, err := s.certificationFor(ctx, a, certID)
	return err
}

func validatePage(p PageOptions) error {
	if p.Offset < 0 {
		return Errorf(EINVALID, "offset %d is negative", p.Offset)
	}
	if p.Limit < 0 || p.Limit > MaxPageLimit {
		return Errorf(EINVALID, "limit %d is outside 0..%d (ISC's largest page)", p.Limit, MaxPageLimit)
	}
	return nil
}

func validateIDs(what string, ids []string) error {
	for _, id := range ids {
		if err := ValidateID(what, id); err != nil {
			return err
		}
	}
	return nil
}

func validateItemFilter(f ReviewItemFilter) error {
	if err := validatePage(f.Page); err != nil {
		return err
	}
	if err := validateNames("identity name", f.IdentityName, "access name", f.AccessName); err != nil {
		return err
	}
	for what, ids := range map[string][]string{
		"review item id": f.IDs, "identity summary id": f.IdentitySummaryIDs, "access id": f.AccessIDs,
		"entitlement id": f.Entitlements, "access profile id": f.AccessProfiles, "role id": f.Roles,
	} {
		if err := validateIDs(what, ids); err != nil {
			return err
		}
	}
	if f.AccessType != "" {
		ok := false
		for _, t := range AccessTypes {
			ok = ok || f.AccessType == t
		}
		if !ok {
			return Errorf(EINVALID, "access type %q is not one of ENTITLEMENT, ACCESS_PROFILE, ROLE", f.AccessType)
		}
	}
	n := 0
	for _, l := range [][]string{f.Entitlements, f.AccessProfiles, f.Roles} {
		if len(l) > 0 {
			n++
		}
	}
	if n > 1 {
		return Errorf(EINVALID, "give at most one of entitlements, access profiles and roles (ISC accepts one at a time)")
	}
	return nil
}

// auditExport writes an ActionExport event when rows reaches the export
// threshold. A bulk read whose event cannot be written fails.
func (s *Service) auditExport(ctx context.Context, a Actor, certID string, rows int, detail string) error {
	if rows < s.opts.ExportThreshold {
		return nil
	}
	ev := s.event(a, ActionExport, certID)
	ev.Count = rows
	ev.Detail = detail
	if err := s.opts.Store.AppendEvents(ctx, ev); err != nil {
		return &Error{Code: EUNAVAILABLE, Message: fmt.Sprintf("could not record the audit event of this bulk read (%d rows), so nothing is returned", rows), Err: err}
	}
	return nil
}

// validateNames checks filter texts (field, value pairs) against the text
// policy for single-line names (text.go).
func validateNames(pairs ...string) error {
	for i := 0; i+1 < len(pairs); i += 2 {
		if err := ValidateName(pairs[i], pairs[i+1]); err != nil {
			return err
		}
	}
	return nil
}

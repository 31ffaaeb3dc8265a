package certs

import "context"

// Tenant is an ISC tenant, as certops needs it. internal/sailpoint implements
// it over ISC's REST API (v3 or the per-service v1 paths).
//
// Every method validates its arguments before any call (EINVALID, the
// message naming the argument: "certification id", "email", ...): an id that
// is not an id ("../x", a quote) never reaches a path or a filter. SailPoint's
// answers map to codes: 400 → EINVALID, 401/403 → EFORBIDDEN, 404 →
// ENOTFOUND, 409 → ECONFLICT, 429 → ERATELIMITED, 5xx and network failures
// → EUNAVAILABLE, always with Error.Upstream set when SailPoint answered.
// internal/certs/certstest/tenanttest checks this contract.
//
// The mutations (Reassign, ReassignAsync, Decide, SignOff) narrow this, because their
// callers must know whether to send them again. A Tenant sends each call
// once and never reconciles: it does not read the tenant to learn what an
// unanswered call did.
//
//   - EINVALID, EFORBIDDEN, ENOTFOUND, ECONFLICT: SailPoint refused the
//     call; nothing was applied.
//   - ERATELIMITED and EUNAVAILABLE: the call was NOT sent, or SailPoint
//     refused it before doing anything (429, token endpoint down, no
//     connection, the deadline reached while waiting to send). Nothing was
//     applied; sending it again cannot duplicate it.
//   - EUNKNOWN: the call was sent and may have been applied (then a
//     timeout, a lost connection, a 5xx, an unreadable answer, or the
//     caller stopped waiting). Error.Message says what was sent (how many
//     references, to whom, in which certification) and why the outcome is
//     unknown; Error.Upstream holds SailPoint's status, detail code and
//     tracking id when it answered. The caller (the certs Service) settles
//     it by reading the tenant, and sends nothing again until it has.
//
// Any other error is to be treated as EUNKNOWN.
type Tenant interface {
	// ListCertifications returns one page of the certifications the client
	// may see, filtered and sorted as asked.
	ListCertifications(ctx context.Context, f CertificationFilter) (Page[Certification], error)

	// GetCertification returns one certification, or ENOTFOUND.
	GetCertification(ctx context.Context, id string) (*Certification, error)

	// ListAllCertifications returns every certification ListCertifications
	// returns for f, from f.Page.Offset on, in the same order, in pages of
	// f.Page.Limit (0: DefaultPageLimit; Count is ignored): the first page
	// asks for the count, and the others may then be read concurrently. Its
	// errors are ListCertifications'; a page that fails fails the whole
	// read with that page's error (Upstream kept).
	ListAllCertifications(ctx context.Context, f CertificationFilter) ([]Certification, error)

	// ListReviewers returns one page of a certification's reviewers, or
	// ENOTFOUND for an unknown certification.
	ListReviewers(ctx context.Context, certID string, f ReviewerFilter) (Page[IdentityRef], error)

	// ListReviewItems returns one page of a certification's review items,
	// or ENOTFOUND for an unknown certification. Setting more than one of
	// Entitlements, AccessProfiles and Roles is EINVALID.
	ListReviewItems(ctx context.Context, certID string, f ReviewItemFilter) (Page[ReviewItem], error)

	// ListAllReviewItems returns every review item ListReviewItems returns
	// for certID and f, read as ListAllCertifications reads them. Its
	// errors are ListReviewItems' (ENOTFOUND for an unknown certification,
	// EINVALID for a bad filter); a page that fails fails the whole read
	// with that page's error.
	ListAllReviewItems(ctx context.Context, certID string, f ReviewItemFilter) ([]ReviewItem, error)

	// ListItemPermissions returns one page of what an entitlement review
	// item grants, or ENOTFOUND.
	ListItemPermissions(ctx context.Context, certID, itemID string, f PermissionFilter) (Page[Permission], error)

	// Reassign moves at most MaxSyncReassign references synchronously:
	// when it returns, the items have left the certification for one the
	// new reviewer reviews in the same campaign (made when there is none).
	// It returns the updated source certification, and leaves no task.
	Reassign(ctx context.Context, r Reassignment) (*Certification, error)

	// ReassignAsync queues a reassignment of at most MaxAsyncReassign
	// references and returns its task (QUEUED, its trail naming the new
	// reviewer). By the time the task ends in SUCCESS the items have moved
	// as Reassign moves them; a task that can no longer be applied (its
	// items moved by another, the certification signed) ends in ERROR with
	// its reasons.
	ReassignAsync(ctx context.Context, r Reassignment) (*Task, error)

	// Decide records decisions on review items of one certification (at
	// most MaxDecisionsPerCall) synchronously and returns the updated
	// certification. A mutation: see the error codes of mutations above.
	Decide(ctx context.Context, certID string, decisions []ItemDecision) (*Certification, error)

	// SignOff signs a certification off and returns it. SailPoint refuses
	// (EINVALID) while items are undecided or a task is pending. A
	// mutation: see the error codes of mutations above.
	SignOff(ctx context.Context, certID string) (*Certification, error)

	// GetTask returns a certification task, or ENOTFOUND.
	GetTask(ctx context.Context, taskID string) (*Task, error)

	// ListPendingTasks returns a certification's QUEUED and IN_PROGRESS
	// tasks: none for a certification that has none or does not exist (ISC
	// filters tasks by target id).
	ListPendingTasks(ctx context.Context, certID string) ([]Task, error)

	// GetIdentity returns a public identity by id, or ENOTFOUND.
	GetIdentity(ctx context.Context, id string) (*Identity, error)

	// ListIdentities returns the public identities with these ids (at most
	// MaxIdentitiesPerRead) in one call; ids no identity has are left out,
	// not an error. EINVALID names a malformed id.
	ListIdentities(ctx context.Context, ids []string) ([]Identity, error)

	// FindIdentityByEmail returns the identity with this email (compared
	// case-insensitively), ENOTFOUND when none has it, or ECONFLICT when
	// several do, whatever their spelling.
	FindIdentityByEmail(ctx context.Context, email string) (*Identity, error)

	// SearchIdentities returns one page of the identities whose name or
	// email starts with the query, by IdentitySearch's rules, sorted by
	// name. A query Words refuses is EINVALID.
	SearchIdentities(ctx context.Context, s IdentitySearch) (Page[Identity], error)
}

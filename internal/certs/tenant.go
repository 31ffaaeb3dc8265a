package certs

import "context"

// Tenant is an ISC tenant, as certops needs it. internal/sailpoint implements
// it over ISC's REST API (v3 or the per-service v1 paths).
//
// Every method validates ids before any call (EINVALID), and maps SailPoint's
// answers to codes: 400 → EINVALID, 401/403 → EFORBIDDEN, 404 → ENOTFOUND,
// 409 → ECONFLICT, 429 → ERATELIMITED, 5xx and network failures →
// EUNAVAILABLE, always with Error.Upstream set when SailPoint answered.
//
// The mutations (Reassign, ReassignAsync) narrow this, because their
// callers must know whether to try again:
//
//   - EINVALID, EFORBIDDEN, ENOTFOUND, ECONFLICT: SailPoint refused the
//     call; nothing was applied.
//   - ERATELIMITED and EUNAVAILABLE: the call was NOT sent, or SailPoint
//     refused it before doing anything (429, token endpoint down, no
//     connection, the deadline reached while waiting to send). Nothing was
//     applied; sending it again cannot duplicate it.
//   - EUNKNOWN: the call may have been applied (sent, then a timeout, a
//     lost connection, a 5xx, an unreadable answer) and reconciliation
//     could not tell. The caller must check the certification before
//     sending anything again.
//
// Any other error is to be treated as EUNKNOWN.
type Tenant interface {
	// ListCertifications returns one page of the certifications the client
	// may see, filtered and sorted as asked.
	ListCertifications(ctx context.Context, f CertificationFilter) (Page[Certification], error)

	// GetCertification returns one certification, or ENOTFOUND.
	GetCertification(ctx context.Context, id string) (*Certification, error)

	// ListReviewers returns one page of a certification's reviewers, or
	// ENOTFOUND for an unknown certification.
	ListReviewers(ctx context.Context, certID string, f ReviewerFilter) (Page[IdentityRef], error)

	// ListReviewItems returns one page of a certification's review items,
	// or ENOTFOUND for an unknown certification. Setting more than one of
	// Entitlements, AccessProfiles and Roles is EINVALID.
	ListReviewItems(ctx context.Context, certID string, f ReviewItemFilter) (Page[ReviewItem], error)

	// ListItemPermissions returns one page of what an entitlement review
	// item grants, or ENOTFOUND.
	ListItemPermissions(ctx context.Context, certID, itemID string, f PermissionFilter) (Page[Permission], error)

	// Reassign moves at most MaxSyncReassign references synchronously and
	// returns the updated certification. It is never retried blindly: when
	// the outcome is unknown it returns EUNKNOWN, never EUNAVAILABLE (see
	// the error codes of mutations above).
	Reassign(ctx context.Context, r Reassignment) (*Certification, error)

	// ReassignAsync queues a reassignment of at most MaxAsyncReassign
	// references and returns its task. When the outcome of the call is
	// unknown (timeout, connection closed after sending), it reconciles
	// against the certification's pending tasks and returns the task that
	// exists, or EUNKNOWN; it never submits the same work twice.
	// EUNAVAILABLE and ERATELIMITED mean the call was not sent.
	ReassignAsync(ctx context.Context, r Reassignment) (*Task, error)

	// GetTask returns a certification task, or ENOTFOUND.
	GetTask(ctx context.Context, taskID string) (*Task, error)

	// ListPendingTasks returns a certification's QUEUED and IN_PROGRESS
	// tasks.
	ListPendingTasks(ctx context.Context, certID string) ([]Task, error)

	// GetIdentity returns a public identity by id, or ENOTFOUND.
	GetIdentity(ctx context.Context, id string) (*Identity, error)

	// FindIdentityByEmail returns the identity with this email (compared
	// case-insensitively), ENOTFOUND when none has it, or ECONFLICT when
	// several do.
	FindIdentityByEmail(ctx context.Context, email string) (*Identity, error)

	// FindIdentityByAlias returns the identity with this alias (user name),
	// or ENOTFOUND.
	FindIdentityByAlias(ctx context.Context, alias string) (*Identity, error)
}

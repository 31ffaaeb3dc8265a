// Package sailpoint is certops' client for the SailPoint Identity Security
// Cloud (ISC) REST API. *Client implements certs.Tenant; both front ends
// reach SailPoint through it and nothing else.
//
// # Flavours
//
// Config.APIVersion picks the paths: "v3" (/v3/certifications/...) or "v1",
// SailPoint's per-service paths (/certifications/v1/...,
// /certification-tasks/v1, /public-identities/v1, no version prefix), which
// replace v3 and beta. Both carry the same operations and shapes
// (api/sailpoint/README.md); every method's doc comment names the
// operationIds it calls in each.
//
// The deprecated beta operations are not called. What the client calls
// instead:
//
//	beta operation (deprecated)                    client method          v3 / v1 operation
//	listCertifications                             ListCertifications     listIdentityCertifications / ...V1 (param reviewer-identity, filter campaign.id)
//	listCertificationReviewers                     ListReviewers          listCertificationReviewers / ...V1 (same path)
//	getIdentityCertificationItemPermissions        ListItemPermissions    getIdentityCertificationItemPermissions / ...V1 (same path)
//	getIdentityCertificationPendingTasks           ListPendingTasks       getPendingCertificationTasks / ...V1 with filters=targetId eq "<id>", all pages
//	getIdentityCertificationTaskStatus             GetTask                getCertificationTask / ...V1 (GET /certification-tasks/{taskId})
//	submitReassignCertsAsync                       ReassignAsync          submitReassignCertsAsync / ...V1 (returns CertificationTask)
//
// # Requests
//
// Ids are checked with certs.ValidateID before any call, so a "../" or a
// quote in an id is EINVALID and never a request. Every path segment is
// escaped with url.PathEscape; every filter is built with the Filter
// builder (Eq, In, Sw, Ca, And, ...), which quotes and escapes literals.
// Limits (0..250), sorter fields, enum values and reassignment sizes
// (Reassignment.Validate with certs.MaxSyncReassign / MaxAsyncReassign) are
// checked at the edge as well.
//
// Authentication is OAuth 2 client credentials (client_id and client_secret
// as form fields, as ISC documents). One token is reused by every call until
// shortly before it expires (a tenth of its life, at most 30 s early).
//
// # Pagination
//
// List methods take certs.PageOptions and return one certs.Page (Total from
// X-Total-Count when Count was asked, else -1). ListAllCertifications,
// ListAllReviewItems and ListPendingTasks read every page: the first with
// count=true, then the remaining pages concurrently (Config.Concurrency at
// once, errgroup), returned in order; the first page that fails fails the
// read with SailPoint's answer and stops the pages not yet sent.
//
// # Shared reads
//
// A client given a ReadCache (Options.Reads; internal/app gives the
// production client one) sends identical GETs in flight once
// (singleflight) and keeps identity lookups for DefaultIdentityTTL;
// nothing else is kept. Keys hold the client id, the API version, the
// operation and the URL, so no answer crosses from one credential to
// another; a read that starts after a mutation returned never joins one
// that started before it, nor a person's read a background one. See
// ReadCache.
//
// # Pacing
//
// One pacer per Client holds every request to SailPoint's limit
// (SailPoint counts per client id and API version, so make one Client per
// tenant and share it). A request starts when:
//
//   - no pause is in force: after a 429, nobody starts before its
//     Retry-After is over;
//   - the window has room: fewer than Config.RateLimit (100) requests are
//     in flight or finished within the last Config.RateWindow (10 s). An
//     idle window admits them all at once, with no added wait; counting
//     requests until a window after they finish makes the client's own
//     traffic immune to 429s whatever the network's jitter (see pacer);
//   - its lane may go: a context marked certs.Background (the worker's
//     Tick, the Slack notifier) waits while a person's request waits, and
//     leaves the last fifth of the window to people.
//
// 429s, which then come from someone else spending the same budget or a
// tenant allowing less than RateLimit, also lower the pace: the limit the
// pacer applies drops to half of what the window held (once per window,
// not below a tenth of RateLimit) and grows back by a tenth of RateLimit
// for every window without one. Config.RateBurst,
// when set below RateLimit, also spreads requests evenly with a token
// bucket (golang.org/x/time/rate), the client's pace before the window
// alone sufficed; every call then waits up to RateWindow/RateLimit.
// Metrics.RateLimiterWait gets each request's wait and lane.
//
// # Failures and retries
//
// Reads are retried; mutations (Reassign, ReassignAsync) are resent only
// when SailPoint certainly did not apply them. "Retried" means after a
// capped exponential backoff with jitter (Config.MaxBackoff), at most
// Config.MaxRetries times, and never past the caller's context.
//
//	failure                                   reads (GET)                     Reassign / ReassignAsync (POST)
//	invalid input (id, limit, filter, size)   EINVALID, nothing sent          EINVALID, nothing sent
//	no connection (dial failed)               retried                         retried: nothing left this machine
//	token endpoint 5xx/429/unreachable        retried                         retried: the call itself was not sent
//	token endpoint 400/401                    EFORBIDDEN                      EFORBIDDEN
//	401                                       new token, resent once          new token, resent once: a 401 is never applied
//	400, 403, 404, 409, other 4xx             EINVALID/EFORBIDDEN/ENOTFOUND/  same: SailPoint refused, nothing applied
//	                                          ECONFLICT, not retried
//	429                                       every caller paused for         same as reads: a 429 is never applied
//	                                          Retry-After, then retried;
//	                                          ERATELIMITED at once if the
//	                                          wait would outlast the deadline
//	500                                       EUNAVAILABLE, not retried       EUNKNOWN: may have been applied
//	502, 503, 504                             retried                         EUNKNOWN: may have been applied
//	timeout or connection lost after sending  retried                         EUNKNOWN
//	2xx with a cut or unreadable body         retried                         EUNKNOWN: accepted, answer lost
//	caller's context canceled                 returned at once (wraps         EUNKNOWN at once if the request had
//	                                          context.Canceled)               left, else EUNAVAILABLE
//	retries used up                           the last failure's code         the last failure's code (only 429s
//	                                                                          and unsent requests are retried)
//
// A mutation is sent once and the client never reads the tenant to learn
// what an unanswered one did: that is the caller's job (certs.Service
// settles an unknown outcome by reading the tenant; see certs.Tenant).
// certs.EUNKNOWN's message says what was sent (how many references, to
// whom, in which certification) and why the outcome is unknown; Upstream
// holds SailPoint's status, detail code and tracking id when it answered.
//
// # Errors
//
// Failures are *certs.Error. When SailPoint answered, Upstream carries its
// status, detailCode and trackingId, and Err wraps an *APIError (errors.As
// works): 400 → EINVALID, 401/403 → EFORBIDDEN, 404 → ENOTFOUND,
// 429 → ERATELIMITED, 5xx → EUNAVAILABLE. Error bodies are read up to 1 MiB
// and may be any text; success bodies up to 64 MiB.
//
// # Logs
//
// One slog record per HTTP attempt: operation, method, path (never the
// query, which may hold emails), status, duration, attempt and SailPoint's
// tracking id. Tokens, the client secret and the Authorization header are
// never logged.
package sailpoint

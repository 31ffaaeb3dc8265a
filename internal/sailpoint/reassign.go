package sailpoint

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/certops/certops/internal/certs"
)

// reconcileSkew is how much earlier than the call's start (by the client's
// clock) a task may say it was created and still be taken for the call's:
// SailPoint's clock and ours differ a little.
const reconcileSkew = 30 * time.Second

// Reassign moves at most certs.MaxSyncReassign references synchronously and
// returns the updated certification.
//
// It is never retried blindly (see the package doc's table). When the
// outcome is unknown it checks whether the references have left the
// certification: if all have, the reassignment happened and the
// certification is returned; otherwise EUNKNOWN.
//
// SailPoint: reassignIdentityCertifications (POST /v3/certifications/{id}/reassign),
// reassignIdentityCertificationsV1 (POST /certifications/v1/{id}/reassign).
func (c *Client) Reassign(ctx context.Context, r certs.Reassignment) (*certs.Certification, error) {
	if err := r.Validate(certs.MaxSyncReassign); err != nil {
		return nil, err
	}
	var dto identityCertificationDTO
	req := &request{op: opReassign, method: http.MethodPost, url: c.url(opReassign, nil, r.CertificationID, "reassign"),
		body: reassignBody(r), mutation: true, notFound: fmt.Sprintf("certification %s not found", r.CertificationID)}
	_, err := c.send(ctx, req, &dto)
	var unknown *outcomeUnknown
	if errors.As(err, &unknown) {
		return c.reconcileSync(ctx, r, unknown)
	}
	if err != nil {
		return nil, err
	}
	cert := dto.domain()
	return &cert, nil
}

// ReassignAsync queues a reassignment of at most certs.MaxAsyncReassign
// references and returns its task.
//
// When the outcome of the call is unknown (a timeout or a dropped
// connection after sending, a 5xx), it reads the certification's pending
// tasks and returns the one REASSIGN task created since the call started
// whose trail names the new reviewer; with none or several, EUNKNOWN. It
// never submits the same work twice.
//
// SailPoint: submitReassignCertsAsync (POST /v3/certifications/{id}/reassign-async),
// submitReassignCertsAsyncV1 (POST /certifications/v1/{id}/reassign-async).
func (c *Client) ReassignAsync(ctx context.Context, r certs.Reassignment) (*certs.Task, error) {
	if err := r.Validate(certs.MaxAsyncReassign); err != nil {
		return nil, err
	}
	started := c.now()
	var dto certificationTaskDTO
	req := &request{op: opReassignAsync, method: http.MethodPost, url: c.url(opReassignAsync, nil, r.CertificationID, "reassign-async"),
		body: reassignBody(r), mutation: true, notFound: fmt.Sprintf("certification %s not found", r.CertificationID)}
	_, err := c.send(ctx, req, &dto)
	var unknown *outcomeUnknown
	if errors.As(err, &unknown) {
		return c.reconcileAsync(ctx, r, started, unknown)
	}
	if err != nil {
		return nil, err
	}
	t := dto.domain()
	c.known.add(t.ID)
	return &t, nil
}

// reconcileAsync finds the task an unanswered ReassignAsync created.
func (c *Client) reconcileAsync(ctx context.Context, r certs.Reassignment, started time.Time, unknown *outcomeUnknown) (*certs.Task, error) {
	if unknown.callerGone {
		return nil, outcomeUnknownError(r, unknown.cause, "the call was canceled after it was sent")
	}
	tasks, err := c.ListPendingTasks(ctx, r.CertificationID)
	if err != nil {
		return nil, outcomeUnknownError(r, unknown.cause, fmt.Sprintf("reading its pending tasks failed too (%s)", certs.ErrorMessage(err)))
	}
	var matches []certs.Task
	for _, t := range tasks {
		if c.taskMatches(t, r, started) {
			matches = append(matches, t)
		}
	}
	if len(matches) > 1 {
		return nil, outcomeUnknownError(r, unknown.cause, fmt.Sprintf("%d pending reassignment tasks could be it", len(matches)))
	}
	if len(matches) == 0 {
		// No task to return. What the items say helps the person who
		// must decide, but proves nothing: a task may have finished
		// (applied) or not be visible yet.
		why := "no pending reassignment task was found for it"
		switch remaining, err := c.refsRemaining(ctx, r); {
		case err != nil:
		case remaining == 0:
			why += ", and none of its items is left in the certification (it may have run already)"
		default:
			why += fmt.Sprintf(", and %d of its items are still in the certification", remaining)
		}
		return nil, outcomeUnknownError(r, unknown.cause, why)
	}
	t := matches[0]
	c.known.add(t.ID)
	c.log.LogAttrs(ctx, slog.LevelInfo, "sailpoint reassignment reconciled: the call's task exists",
		slog.String("certification_id", r.CertificationID), slog.String("task_id", t.ID), slog.String("cause", unknown.cause.Error()))
	return &t, nil
}

// taskMatches: a reassignment task of this certification, created after the
// call started, not one this client already returned for another call, and
// moving work to r.To (when the trail says whom to).
func (c *Client) taskMatches(t certs.Task, r certs.Reassignment, started time.Time) bool {
	if t.Type != certs.TaskReassign && t.Type != certs.TaskAdminReassign {
		return false
	}
	if t.TargetID != r.CertificationID || t.Created.Before(started.Add(-reconcileSkew)) || c.known.has(t.ID) {
		return false
	}
	for _, tr := range t.Trail {
		if tr.NewOwner != r.To {
			return false
		}
	}
	return true
}

// reconcileSync decides an unanswered Reassign by whether its references
// are still in the certification.
func (c *Client) reconcileSync(ctx context.Context, r certs.Reassignment, unknown *outcomeUnknown) (*certs.Certification, error) {
	if unknown.callerGone {
		return nil, outcomeUnknownError(r, unknown.cause, "the call was canceled after it was sent")
	}
	remaining, err := c.refsRemaining(ctx, r)
	switch {
	case errors.Is(err, errUncheckable):
		return nil, outcomeUnknownError(r, unknown.cause, "its references cannot be checked")
	case err != nil:
		return nil, outcomeUnknownError(r, unknown.cause, fmt.Sprintf("checking its items failed too (%s)", certs.ErrorMessage(err)))
	case remaining > 0:
		return nil, outcomeUnknownError(r, unknown.cause, fmt.Sprintf("%d of its items are still in the certification", remaining))
	}
	cert, err := c.GetCertification(ctx, r.CertificationID)
	if err != nil {
		return nil, outcomeUnknownError(r, unknown.cause, "its items left the certification, but reading it failed")
	}
	c.log.LogAttrs(ctx, slog.LevelInfo, "sailpoint reassignment reconciled: the items left the certification",
		slog.String("certification_id", r.CertificationID), slog.String("cause", unknown.cause.Error()))
	return cert, nil
}

// errUncheckable: a TARGET_SUMMARY reference has no filter to look it up.
var errUncheckable = errors.New("references cannot be looked up")

// refsRemaining counts the review items of r's references still in its
// certification: items by id, identity summaries by identitySummary.id, 50
// ids per call to keep URLs short.
func (c *Client) refsRemaining(ctx context.Context, r certs.Reassignment) (int, error) {
	var itemIDs, summaryIDs []string
	for _, ref := range r.Refs {
		switch ref.Type {
		case certs.RefItem:
			itemIDs = append(itemIDs, ref.ID)
		case certs.RefIdentitySummary:
			summaryIDs = append(summaryIDs, ref.ID)
		default:
			return 0, errUncheckable
		}
	}
	const perCall = 50
	var filters []certs.ReviewItemFilter
	for ids := range slices.Chunk(itemIDs, perCall) {
		filters = append(filters, certs.ReviewItemFilter{IDs: ids})
	}
	for ids := range slices.Chunk(summaryIDs, perCall) {
		filters = append(filters, certs.ReviewItemFilter{IdentitySummaryIDs: ids})
	}
	remaining := 0
	for _, f := range filters {
		f.Page = certs.PageOptions{Limit: 1, Count: true}
		page, err := c.ListReviewItems(ctx, r.CertificationID, f)
		if err != nil {
			return 0, err
		}
		if page.Total < 0 {
			return 0, fmt.Errorf("SailPoint sent no X-Total-Count")
		}
		remaining += page.Total
	}
	return remaining, nil
}

// outcomeUnknownError is EUNKNOWN for r, keeping SailPoint's details of the
// failure that made the outcome unknown.
func outcomeUnknownError(r certs.Reassignment, cause error, why string) error {
	return &certs.Error{
		Code: certs.EUNKNOWN,
		Message: fmt.Sprintf("outcome unknown: SailPoint may or may not have applied the reassignment of %d references to %s (%s; %s): check pending tasks of certification %s before retrying",
			len(r.Refs), r.To, certs.ErrorMessage(cause), why, r.CertificationID),
		Upstream: certs.UpstreamOf(cause),
		Err:      cause,
	}
}

// knownTasks remembers the last task ids ReassignAsync returned, so that
// reconciling one call never claims the task of another call made by this
// client (chunks of one plan go to the same certification and reviewer).
type knownTasks struct {
	mu    sync.Mutex
	ids   map[string]struct{}
	order []string
}

const knownTasksKept = 4096

func (k *knownTasks) add(id string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.ids == nil {
		k.ids = make(map[string]struct{})
	}
	if _, ok := k.ids[id]; ok {
		return
	}
	k.ids[id] = struct{}{}
	k.order = append(k.order, id)
	if len(k.order) > knownTasksKept {
		delete(k.ids, k.order[0])
		k.order = k.order[1:]
	}
}

func (k *knownTasks) has(id string) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	_, ok := k.ids[id]
	return ok
}

package sailpoint

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/certops/certops/internal/certs"
)

// Reassign moves at most certs.MaxSyncReassign references synchronously and
// returns the updated certification.
//
// The call is sent once (see the package doc's table). When its outcome is
// unknown it returns certs.EUNKNOWN saying what was sent and why nothing is
// known, and reads nothing: the caller settles it by reading the tenant.
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
	if _, err := c.send(ctx, req, &dto); err != nil {
		return nil, c.mutationError(ctx, r, err)
	}
	cert := dto.domain()
	return &cert, nil
}

// ReassignAsync queues a reassignment of at most certs.MaxAsyncReassign
// references and returns its task.
//
// The call is sent once, like Reassign's: an unknown outcome is
// certs.EUNKNOWN, and nothing is read to settle it.
//
// SailPoint: submitReassignCertsAsync (POST /v3/certifications/{id}/reassign-async),
// submitReassignCertsAsyncV1 (POST /certifications/v1/{id}/reassign-async).
func (c *Client) ReassignAsync(ctx context.Context, r certs.Reassignment) (*certs.Task, error) {
	if err := r.Validate(certs.MaxAsyncReassign); err != nil {
		return nil, err
	}
	var dto certificationTaskDTO
	req := &request{op: opReassignAsync, method: http.MethodPost, url: c.url(opReassignAsync, nil, r.CertificationID, "reassign-async"),
		body: reassignBody(r), mutation: true, notFound: fmt.Sprintf("certification %s not found", r.CertificationID)}
	if _, err := c.send(ctx, req, &dto); err != nil {
		return nil, c.mutationError(ctx, r, err)
	}
	t := dto.domain()
	return &t, nil
}

// mutationError turns send's outcomeUnknown into certs.EUNKNOWN for r, and
// returns any other error as it is (SailPoint refused the call, or it was
// not sent).
func (c *Client) mutationError(ctx context.Context, r certs.Reassignment, err error) error {
	var unknown *outcomeUnknown
	if !errors.As(err, &unknown) {
		return err
	}
	refs := "references"
	if len(r.Refs) == 1 {
		refs = "reference"
	}
	c.log.LogAttrs(context.WithoutCancel(ctx), slog.LevelWarn, "sailpoint reassignment: outcome unknown, not resent",
		slog.String("certification_id", r.CertificationID), slog.Int("refs", len(r.Refs)), slog.String("to", r.To),
		slog.String("why", unknown.why), slog.String("cause", unknown.cause.Error()))
	return &certs.Error{
		Code: certs.EUNKNOWN,
		Message: fmt.Sprintf("outcome unknown: the reassignment of %d %s of certification %s to identity %s was sent to SailPoint, but %s, so it may or may not have been applied; it was not sent again",
			len(r.Refs), refs, r.CertificationID, r.To, unknown.why),
		Upstream: unknown.upstream,
		Err:      unknown.cause,
	}
}

package sailpoint

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/certops/certops/internal/certs"
)

// Decide records decisions on review items of one certification, at most
// certs.MaxDecisionsPerCall, and returns the updated certification. Sent
// once, like Reassign: an unknown outcome is certs.EUNKNOWN and nothing is
// read to settle it (the certs service reads the items back).
//
// SailPoint: makeIdentityDecision (POST /v3/certifications/{id}/decide),
// makeIdentityDecisionV1 (POST /certifications/v1/{id}/decide).
func (c *Client) Decide(ctx context.Context, certID string, ds []certs.ItemDecision) (*certs.Certification, error) {
	if err := certs.ValidateDecisionCall(certID, ds); err != nil {
		return nil, err
	}
	body := make([]reviewDecisionDTO, len(ds))
	for i, d := range ds {
		if err := certs.ValidateID(fmt.Sprintf("decisions[%d] item id", i), d.ItemID); err != nil {
			return nil, err
		}
		if d.Decision != certs.DecisionApprove && d.Decision != certs.DecisionRevoke {
			return nil, certs.Errorf(certs.EINVALID, "decisions[%d]: decision %q is not APPROVE or REVOKE", i, d.Decision)
		}
		if err := certs.ValidateComment(d.Comments); err != nil {
			return nil, err
		}
		body[i] = reviewDecisionDTO{ID: d.ItemID, Decision: string(d.Decision), Bulk: len(ds) > 1}
		if d.Comments != "" {
			body[i].Comments = &ds[i].Comments
		}
		if d.ProposedEndDate != nil {
			end := d.ProposedEndDate.UTC().Format(time.RFC3339Nano)
			body[i].ProposedEndDate = &end
		}
	}
	var dto identityCertificationDTO
	req := &request{op: opDecide, method: http.MethodPost, url: c.url(opDecide, nil, certID, "decide"),
		body: jsonBody(body), mutation: true, notFound: fmt.Sprintf("certification %s not found", certID)}
	if _, err := c.send(ctx, req, &dto); err != nil {
		return nil, c.unknownMutation(ctx, err, certID, fmt.Sprintf("%d decisions on certification %s", len(ds), certID))
	}
	cert := dto.domain()
	return &cert, nil
}

// SignOff signs a certification off and returns it. Sent once; an unknown
// outcome is certs.EUNKNOWN.
//
// SailPoint: signOffIdentityCertification (POST /v3/certifications/{id}/sign-off),
// signOffIdentityCertificationV1 (POST /certifications/v1/{id}/sign-off).
func (c *Client) SignOff(ctx context.Context, certID string) (*certs.Certification, error) {
	if err := certs.ValidateID("certification id", certID); err != nil {
		return nil, err
	}
	var dto identityCertificationDTO
	req := &request{op: opSignOff, method: http.MethodPost, url: c.url(opSignOff, nil, certID, "sign-off"),
		mutation: true, notFound: fmt.Sprintf("certification %s not found", certID)}
	if _, err := c.send(ctx, req, &dto); err != nil {
		return nil, c.unknownMutation(ctx, err, certID, "the sign-off of certification "+certID)
	}
	cert := dto.domain()
	return &cert, nil
}

// unknownMutation turns send's outcomeUnknown into certs.EUNKNOWN saying
// what was sent; any other error is returned as it is.
func (c *Client) unknownMutation(ctx context.Context, err error, certID, what string) error {
	var unknown *outcomeUnknown
	if !errors.As(err, &unknown) {
		return err
	}
	c.log.LogAttrs(context.WithoutCancel(ctx), slog.LevelWarn, "sailpoint mutation: outcome unknown, not resent",
		slog.String("certification_id", certID), slog.String("what", what), slog.String("why", unknown.why), slog.String("cause", unknown.cause.Error()))
	return &certs.Error{
		Code:     certs.EUNKNOWN,
		Message:  fmt.Sprintf("outcome unknown: %s was sent to SailPoint, but %s, so it may or may not have been applied; it was not sent again", what, unknown.why),
		Upstream: unknown.upstream,
		Err:      unknown.cause,
	}
}

// reviewDecisionDTO is ISC's ReviewDecision.
type reviewDecisionDTO struct {
	ID              string  `json:"id"`
	Decision        string  `json:"decision"`
	ProposedEndDate *string `json:"proposedEndDate,omitempty"`
	Bulk            bool    `json:"bulk"`
	Comments        *string `json:"comments,omitempty"`
}

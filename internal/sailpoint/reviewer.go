package sailpoint

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/certops/certops/internal/certs"
)

var reviewerSorters = []string{"name", "email"}

// ListReviewers returns one page of a certification's reviewers, or
// ENOTFOUND for an unknown certification.
//
// SailPoint: listCertificationReviewers (GET /v3/certifications/{id}/reviewers),
// listCertificationReviewersV1 (GET /certifications/v1/{id}/reviewers).
func (c *Client) ListReviewers(ctx context.Context, certID string, f certs.ReviewerFilter) (certs.Page[certs.IdentityRef], error) {
	q, err := reviewerQuery(certID, f)
	if err != nil {
		return certs.Page[certs.IdentityRef]{}, err
	}
	return c.listReviewersPage(ctx, certID, q, f.Page)
}

func (c *Client) listReviewersPage(ctx context.Context, certID string, q url.Values, p certs.PageOptions) (certs.Page[certs.IdentityRef], error) {
	if err := p.Validate(); err != nil {
		return certs.Page[certs.IdentityRef]{}, err
	}
	q = cloneValues(q)
	addPage(q, p)
	req := &request{op: opListReviewers, method: http.MethodGet, url: c.url(opListReviewers, q, certID, "reviewers"),
		notFound: fmt.Sprintf("certification %s not found", certID)}
	return getPage[identityReferenceWithNameAndEmailDTO, certs.IdentityRef](ctx, c, req, p)
}

func reviewerQuery(certID string, f certs.ReviewerFilter) (url.Values, error) {
	if err := certs.ValidateID("certification id", certID); err != nil {
		return nil, err
	}
	if err := certs.ValidateIDs("reviewer id", f.IDs...); err != nil {
		return nil, err
	}
	var filters []Filter
	if len(f.IDs) > 0 {
		filters = append(filters, In("id", f.IDs...))
	}
	for _, l := range []struct {
		what, field, value string
		prefix             bool
	}{
		{"reviewer name", "name", f.Name, false},
		{"reviewer name prefix", "name", f.NameSW, true},
		{"reviewer email", "email", f.Email, false},
		{"reviewer email prefix", "email", f.EmailSW, true},
	} {
		if l.value == "" {
			continue
		}
		if err := checkLiteral(l.what, l.value); err != nil {
			return nil, err
		}
		if l.prefix {
			filters = append(filters, Sw(l.field, l.value))
		} else {
			filters = append(filters, Eq(l.field, l.value))
		}
	}
	q := url.Values{}
	if err := setFilters(q, And(filters...)); err != nil {
		return nil, err
	}
	if err := setSorters(q, f.Sorters, reviewerSorters); err != nil {
		return nil, err
	}
	return q, nil
}

package sailpoint

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"

	"github.com/certops/certops/internal/certs"
)

// Sorter fields ISC accepts on listIdentityCertifications.
var certificationSorters = []string{"name", "due", "signed"}

// ListCertifications returns one page of the certifications the client may
// see, filtered and sorted as asked.
//
// SailPoint: listIdentityCertifications (GET /v3/certifications),
// listIdentityCertificationsV1 (GET /certifications/v1).
func (c *Client) ListCertifications(ctx context.Context, f certs.CertificationFilter) (certs.Page[certs.Certification], error) {
	q, err := certificationQuery(f)
	if err != nil {
		return certs.Page[certs.Certification]{}, err
	}
	return c.listCertificationsPage(ctx, q, f.Page)
}

func (c *Client) listCertificationsPage(ctx context.Context, q url.Values, p certs.PageOptions) (certs.Page[certs.Certification], error) {
	if err := p.Validate(); err != nil {
		return certs.Page[certs.Certification]{}, err
	}
	q = cloneValues(q)
	addPage(q, p)
	req := &request{op: opListCertifications, method: http.MethodGet, url: c.url(opListCertifications, q)}
	return getPage[identityCertificationDTO, certs.Certification](ctx, c, req, p)
}

// ListAllCertifications returns every certification matching f, from
// f.Page.Offset on, in pages of f.Page.Limit (0: 250): the first page with
// its total, then the other pages concurrently (at most Config.Concurrency
// at once), in order. Its errors are ListCertifications'; a page that fails
// fails the whole read.
//
// SailPoint: listIdentityCertifications, listIdentityCertificationsV1, one
// call per page.
func (c *Client) ListAllCertifications(ctx context.Context, f certs.CertificationFilter) ([]certs.Certification, error) {
	q, err := certificationQuery(f)
	if err != nil {
		return nil, err
	}
	return listAll(ctx, c, func(ctx context.Context, p certs.PageOptions) (certs.Page[certs.Certification], error) {
		return c.listCertificationsPage(ctx, q, p)
	}, f.Page)
}

// GetCertification returns one certification, or ENOTFOUND.
//
// SailPoint: getIdentityCertification (GET /v3/certifications/{id}),
// getIdentityCertificationV1 (GET /certifications/v1/{id}).
func (c *Client) GetCertification(ctx context.Context, id string) (*certs.Certification, error) {
	if err := certs.ValidateID("certification id", id); err != nil {
		return nil, err
	}
	var dto identityCertificationDTO
	req := &request{op: opGetCertification, method: http.MethodGet, url: c.url(opGetCertification, nil, id),
		notFound: fmt.Sprintf("certification %s not found", id)}
	if _, err := c.send(ctx, req, &dto); err != nil {
		return nil, err
	}
	cert := dto.domain()
	return &cert, nil
}

// certificationQuery validates f and builds reviewer-identity, filters and
// sorters.
func certificationQuery(f certs.CertificationFilter) (url.Values, error) {
	q := url.Values{}
	if f.ReviewerIdentity != "" {
		if f.ReviewerIdentity != "me" {
			if err := certs.ValidateID("reviewer identity id", f.ReviewerIdentity); err != nil {
				return nil, err
			}
		}
		q.Set("reviewer-identity", f.ReviewerIdentity)
	}
	if err := certs.ValidateIDs("certification id", f.IDs...); err != nil {
		return nil, err
	}
	if err := certs.ValidateIDs("campaign id", f.CampaignIDs...); err != nil {
		return nil, err
	}
	var filters []Filter
	if len(f.IDs) > 0 {
		filters = append(filters, In("id", f.IDs...))
	}
	if len(f.CampaignIDs) > 0 {
		filters = append(filters, In("campaign.id", f.CampaignIDs...))
	}
	if f.Phase != "" {
		if !slices.Contains([]certs.Phase{certs.PhaseStaged, certs.PhaseActive, certs.PhaseSigned}, f.Phase) {
			return nil, certs.Errorf(certs.EINVALID, "phase %q is not one of STAGED, ACTIVE, SIGNED", f.Phase)
		}
		filters = append(filters, Eq("phase", string(f.Phase)))
	}
	if f.Completed != nil {
		filters = append(filters, EqBool("completed", *f.Completed))
	}
	if err := setFilters(q, And(filters...)); err != nil {
		return nil, err
	}
	if err := setSorters(q, f.Sorters, certificationSorters); err != nil {
		return nil, err
	}
	return q, nil
}

func setFilters(q url.Values, f Filter) error {
	if err := filterError(f); err != nil {
		return err
	}
	if !f.IsZero() {
		q.Set("filters", f.String())
	}
	return nil
}

func setSorters(q url.Values, sorters, allowed []string) error {
	s, err := checkSorters(sorters, allowed)
	if err != nil {
		return err
	}
	if s != "" {
		q.Set("sorters", s)
	}
	return nil
}

func cloneValues(q url.Values) url.Values {
	out := make(url.Values, len(q)+3)
	for k, v := range q {
		out[k] = slices.Clone(v)
	}
	return out
}

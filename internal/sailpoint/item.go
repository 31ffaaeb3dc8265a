package sailpoint

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/certops/certops/internal/certs"
)

var reviewItemSorters = []string{"identitySummary.name", "access.name", "access.type", "entitlement.sourceName", "accessProfile.sourceName"}

// ListReviewItems returns one page of a certification's review items, or
// ENOTFOUND for an unknown certification. Setting more than one of
// Entitlements, AccessProfiles and Roles is EINVALID (ISC's rule).
//
// SailPoint: listIdentityAccessReviewItems (GET /v3/certifications/{id}/access-review-items),
// listIdentityAccessReviewItemsV1 (GET /certifications/v1/{id}/access-review-items).
func (c *Client) ListReviewItems(ctx context.Context, certID string, f certs.ReviewItemFilter) (certs.Page[certs.ReviewItem], error) {
	q, err := reviewItemQuery(certID, f)
	if err != nil {
		return certs.Page[certs.ReviewItem]{}, err
	}
	return c.listReviewItemsPage(ctx, certID, q, f.Page)
}

func (c *Client) listReviewItemsPage(ctx context.Context, certID string, q url.Values, p certs.PageOptions) (certs.Page[certs.ReviewItem], error) {
	if err := p.Validate(); err != nil {
		return certs.Page[certs.ReviewItem]{}, err
	}
	q = cloneValues(q)
	addPage(q, p)
	req := &request{op: opListReviewItems, method: http.MethodGet, url: c.url(opListReviewItems, q, certID, "access-review-items"),
		notFound: fmt.Sprintf("certification %s not found", certID)}
	return getPage[accessReviewItemDTO, certs.ReviewItem](ctx, c, req, p)
}

// ListAllReviewItems returns every review item of a certification matching
// f, from f.Page.Offset on, in pages of f.Page.Limit (0: 250): the first
// page with its total, then the other pages concurrently (at most
// Config.Concurrency at once), in order. Its errors are ListReviewItems'; a
// page that fails fails the whole read.
//
// SailPoint: listIdentityAccessReviewItems, listIdentityAccessReviewItemsV1,
// one call per page.
func (c *Client) ListAllReviewItems(ctx context.Context, certID string, f certs.ReviewItemFilter) ([]certs.ReviewItem, error) {
	q, err := reviewItemQuery(certID, f)
	if err != nil {
		return nil, err
	}
	return listAll(ctx, c, func(ctx context.Context, p certs.PageOptions) (certs.Page[certs.ReviewItem], error) {
		return c.listReviewItemsPage(ctx, certID, q, p)
	}, f.Page)
}

func reviewItemQuery(certID string, f certs.ReviewItemFilter) (url.Values, error) {
	if err := certs.ValidateReviewItemIDs(certID, f); err != nil {
		return nil, err
	}
	var filters []Filter
	if len(f.IDs) > 0 {
		filters = append(filters, In("id", f.IDs...))
	}
	if f.AccessType != "" {
		if !slices.Contains(certs.AccessTypes, f.AccessType) {
			return nil, certs.Errorf(certs.EINVALID, "access type %q is not one of ENTITLEMENT, ACCESS_PROFILE, ROLE", f.AccessType)
		}
		filters = append(filters, Eq("access.type", string(f.AccessType)))
	}
	if f.Completed != nil {
		filters = append(filters, EqBool("completed", *f.Completed))
	}
	if len(f.IdentitySummaryIDs) > 0 {
		filters = append(filters, In("identitySummary.id", f.IdentitySummaryIDs...))
	}
	if f.IdentityName != "" {
		if err := checkLiteral("identity name", f.IdentityName); err != nil {
			return nil, err
		}
		filters = append(filters, Sw("identitySummary.name", f.IdentityName))
	}
	if len(f.AccessIDs) > 0 {
		filters = append(filters, In("access.id", f.AccessIDs...))
	}
	if f.AccessName != "" {
		if err := checkLiteral("access name", f.AccessName); err != nil {
			return nil, err
		}
		filters = append(filters, Sw("access.name", f.AccessName))
	}
	q := url.Values{}
	if err := setFilters(q, And(filters...)); err != nil {
		return nil, err
	}
	if err := setSorters(q, f.Sorters, reviewItemSorters); err != nil {
		return nil, err
	}
	// The selectors are plain comma-separated ids, not filters; ISC takes
	// one of the three at a time.
	set := 0
	for _, s := range []struct {
		param string
		ids   []string
	}{
		{"entitlements", f.Entitlements},
		{"access-profiles", f.AccessProfiles},
		{"roles", f.Roles},
	} {
		if len(s.ids) > 0 {
			set++
			q.Set(s.param, strings.Join(s.ids, ","))
		}
	}
	if set > 1 {
		return nil, certs.Errorf(certs.EINVALID, "select by entitlements, access profiles or roles, not several at once (ISC accepts one)")
	}
	return q, nil
}

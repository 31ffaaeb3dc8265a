package sailpoint

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/certops/certops/internal/certs"
)

// ListItemPermissions returns one page of what an entitlement review item
// grants, or ENOTFOUND. The filter is ISC's only allowed shape: a target
// filter (eq or sw) and a rights filter (ca), joined by one `and`.
//
// SailPoint: getIdentityCertificationItemPermissions
// (GET /v3/certifications/{certificationId}/access-review-items/{itemId}/permissions),
// getIdentityCertificationItemPermissionsV1
// (GET /certifications/v1/{certificationId}/access-review-items/{itemId}/permissions).
func (c *Client) ListItemPermissions(ctx context.Context, certID, itemID string, f certs.PermissionFilter) (certs.Page[certs.Permission], error) {
	if err := certs.ValidateID("certification id", certID); err != nil {
		return certs.Page[certs.Permission]{}, err
	}
	if err := certs.ValidateID("review item id", itemID); err != nil {
		return certs.Page[certs.Permission]{}, err
	}
	if err := f.Page.Validate(); err != nil {
		return certs.Page[certs.Permission]{}, err
	}
	var filters []Filter
	if f.Target != "" {
		if err := checkLiteral("permission target", f.Target); err != nil {
			return certs.Page[certs.Permission]{}, err
		}
		if f.TargetPrefix {
			filters = append(filters, Sw("target", f.Target))
		} else {
			filters = append(filters, Eq("target", f.Target))
		}
	} else if f.TargetPrefix {
		return certs.Page[certs.Permission]{}, certs.Errorf(certs.EINVALID, "a target prefix match needs a target")
	}
	for _, r := range f.Rights {
		if err := checkLiteral("permission right", r); err != nil {
			return certs.Page[certs.Permission]{}, err
		}
	}
	if len(f.Rights) > 0 {
		filters = append(filters, Ca("rights", f.Rights...))
	}
	q := url.Values{}
	if err := setFilters(q, And(filters...)); err != nil {
		return certs.Page[certs.Permission]{}, err
	}
	addPage(q, f.Page)
	req := &request{op: opListPermissions, method: http.MethodGet,
		url:      c.url(opListPermissions, q, certID, "access-review-items", itemID, "permissions"),
		notFound: fmt.Sprintf("review item %s of certification %s not found", itemID, certID)}
	return getPage[permissionDTO, certs.Permission](ctx, c, req, f.Page)
}

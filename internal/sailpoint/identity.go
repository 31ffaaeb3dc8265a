package sailpoint

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/certops/certops/internal/certs"
)

// GetIdentity returns a public identity by id, or ENOTFOUND. ISC has no
// GET-by-id for public identities, so this is a list with `id eq`.
//
// SailPoint: getPublicIdentities (GET /v3/public-identities?filters=id eq "<id>"),
// getPublicIdentitiesV1 (GET /public-identities/v1?filters=...).
func (c *Client) GetIdentity(ctx context.Context, id string) (*certs.Identity, error) {
	if err := certs.ValidateID("identity id", id); err != nil {
		return nil, err
	}
	found, err := c.findIdentities(ctx, Eq("id", id), 2)
	if err != nil {
		return nil, err
	}
	for _, it := range found {
		if it.ID == id {
			return &it, nil
		}
	}
	return nil, certs.Errorf(certs.ENOTFOUND, "identity %s not found", id)
}

// FindIdentityByEmail returns the identity with this email (compared
// case-insensitively), ENOTFOUND when none has it, or ECONFLICT when several
// do.
//
// SailPoint: getPublicIdentities (GET /v3/public-identities?filters=email eq "<email>"),
// getPublicIdentitiesV1 (GET /public-identities/v1?filters=...).
func (c *Client) FindIdentityByEmail(ctx context.Context, email string) (*certs.Identity, error) {
	if err := checkLiteral("email", email); err != nil {
		return nil, err
	}
	return c.findOne(ctx, "email", email, func(it certs.Identity) string { return it.Email })
}

// FindIdentityByAlias returns the identity with this alias (user name), or
// ENOTFOUND. An alias matching several identities only case-insensitively
// is ECONFLICT.
//
// SailPoint: getPublicIdentities (GET /v3/public-identities?filters=alias eq "<alias>"),
// getPublicIdentitiesV1 (GET /public-identities/v1?filters=...).
func (c *Client) FindIdentityByAlias(ctx context.Context, alias string) (*certs.Identity, error) {
	if err := checkLiteral("alias", alias); err != nil {
		return nil, err
	}
	return c.findOne(ctx, "alias", alias, func(it certs.Identity) string { return it.Alias })
}

// findOne looks up the identities whose field equals value and keeps those
// that really do (case-insensitively), whatever the server's comparison.
// An exact-case match wins over case-insensitive ones.
func (c *Client) findOne(ctx context.Context, field, value string, get func(certs.Identity) string) (*certs.Identity, error) {
	found, err := c.findIdentities(ctx, Eq(field, value), certs.MaxPageLimit)
	if err != nil {
		return nil, err
	}
	var matches []certs.Identity
	for _, it := range found {
		if strings.EqualFold(get(it), value) {
			matches = append(matches, it)
		}
	}
	switch len(matches) {
	case 0:
		return nil, certs.Errorf(certs.ENOTFOUND, "no identity has the %s %q", field, value)
	case 1:
		return &matches[0], nil
	}
	var exact []certs.Identity
	ids := make([]string, len(matches))
	for i, m := range matches {
		ids[i] = m.ID
		if get(m) == value {
			exact = append(exact, m)
		}
	}
	if len(exact) == 1 {
		return &exact[0], nil
	}
	return nil, certs.Errorf(certs.ECONFLICT, "%d identities have the %s %q (%s); use an identity id", len(matches), field, value, strings.Join(ids, ", "))
}

func (c *Client) findIdentities(ctx context.Context, f Filter, limit int) ([]certs.Identity, error) {
	q := url.Values{}
	if err := setFilters(q, f); err != nil {
		return nil, err
	}
	p := certs.PageOptions{Limit: limit}
	addPage(q, p)
	req := &request{op: opListPublicIdentities, method: http.MethodGet, url: c.url(opListPublicIdentities, q)}
	page, err := getPage[publicIdentityDTO, certs.Identity](ctx, c, req, p)
	if err != nil {
		return nil, fmt.Errorf("looking up identities: %w", err)
	}
	return page.Items, nil
}

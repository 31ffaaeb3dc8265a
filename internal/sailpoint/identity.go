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
// GET-by-id for public identities, so this is a list with `id eq`. The
// answer is kept for a while (ReadCache).
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

// ListIdentities returns the public identities with these ids, at most
// certs.MaxIdentitiesPerRead, in one call; unknown ids are left out.
//
// SailPoint: getPublicIdentities (GET /v3/public-identities?filters=id in ("a","b")),
// getPublicIdentitiesV1 (GET /public-identities/v1?filters=...).
func (c *Client) ListIdentities(ctx context.Context, ids []string) ([]certs.Identity, error) {
	if len(ids) > certs.MaxIdentitiesPerRead {
		return nil, certs.Errorf(certs.EINVALID, "%d identity ids in one read; at most %d", len(ids), certs.MaxIdentitiesPerRead)
	}
	if err := certs.ValidateIDs("identity id", ids...); err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		return nil, nil
	}
	return c.findIdentities(ctx, In("id", ids...), certs.MaxPageLimit)
}

// FindIdentityByEmail returns the identity with this email (compared
// case-insensitively), ENOTFOUND when none has it, or ECONFLICT when several
// do, whatever their spelling: which of them is meant is for a person to
// say, with an identity id.
//
// The identities the tenant returns are checked again here, whatever the
// server's comparison: only equal emails count. The answer is kept for a
// while (ReadCache).
//
// SailPoint: getPublicIdentities (GET /v3/public-identities?filters=email eq "<email>"),
// getPublicIdentitiesV1 (GET /public-identities/v1?filters=...).
func (c *Client) FindIdentityByEmail(ctx context.Context, email string) (*certs.Identity, error) {
	if err := checkLiteral("email", email); err != nil {
		return nil, err
	}
	found, err := c.findIdentities(ctx, Eq("email", email), certs.MaxPageLimit)
	if err != nil {
		return nil, err
	}
	var matches []certs.Identity
	var ids []string
	for _, it := range found {
		if strings.EqualFold(it.Email, email) {
			matches = append(matches, it)
			ids = append(ids, it.ID)
		}
	}
	switch len(matches) {
	case 0:
		return nil, certs.Errorf(certs.ENOTFOUND, "no identity has the email %q", email)
	case 1:
		return &matches[0], nil
	}
	return nil, certs.Errorf(certs.ECONFLICT, "%d identities have the email %q (%s); use an identity id", len(matches), email, strings.Join(ids, ", "))
}

func (c *Client) findIdentities(ctx context.Context, f Filter, limit int) ([]certs.Identity, error) {
	q := url.Values{}
	if err := setFilters(q, f); err != nil {
		return nil, err
	}
	p := certs.PageOptions{Limit: limit}
	addPage(q, p)
	req := &request{op: opListPublicIdentities, method: http.MethodGet, url: c.url(opListPublicIdentities, q), cached: true}
	page, err := getPage[publicIdentityDTO, certs.Identity](ctx, c, req, p)
	if err != nil {
		return nil, fmt.Errorf("looking up identities: %w", err)
	}
	return page.Items, nil
}

// SearchIdentities returns one page of the identities whose name or email
// starts with the query, by certs.IdentitySearch's rules, sorted by name.
// ISC filters public identities by firstname, lastname, alias and email
// (eq, sw), not by name, so the rules become one filter of those, e.g.
// "bob b": firstname sw "bob b" or lastname sw "bob b" or (firstname sw
// "bob" and lastname sw "b").
//
// SailPoint: getPublicIdentities (GET /v3/public-identities?filters=…&sorters=name),
// getPublicIdentitiesV1 (GET /public-identities/v1?filters=...).
func (c *Client) SearchIdentities(ctx context.Context, s certs.IdentitySearch) (certs.Page[certs.Identity], error) {
	words, err := s.Words()
	if err != nil {
		return certs.Page[certs.Identity]{}, err
	}
	if err := s.Page.Validate(); err != nil {
		return certs.Page[certs.Identity]{}, err
	}
	q := url.Values{}
	if err := setFilters(q, identitySearchFilter(words)); err != nil {
		return certs.Page[certs.Identity]{}, err
	}
	q.Set("sorters", "name")
	addPage(q, s.Page)
	req := &request{op: opListPublicIdentities, method: http.MethodGet, url: c.url(opListPublicIdentities, q)}
	page, err := getPage[publicIdentityDTO, certs.Identity](ctx, c, req, s.Page)
	if err != nil {
		return certs.Page[certs.Identity]{}, fmt.Errorf("searching identities: %w", err)
	}
	return page, nil
}

// identitySearchFilter is certs.IdentitySearch's rule as an ISC filter.
func identitySearchFilter(words []string) Filter {
	whole := strings.Join(words, " ")
	switch {
	case strings.Contains(whole, "@"):
		return Sw("email", whole)
	case len(words) == 1:
		return Or(Sw("firstname", whole), Sw("lastname", whole), Sw("alias", whole), Sw("email", whole))
	}
	fs := []Filter{Sw("firstname", whole), Sw("lastname", whole)}
	for i := 1; i < len(words); i++ {
		fs = append(fs, And(Sw("firstname", strings.Join(words[:i], " ")), Sw("lastname", strings.Join(words[i:], " "))))
	}
	return Or(fs...)
}

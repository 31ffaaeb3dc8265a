package certs

import (
	"context"
	"fmt"
)

// MaxPeopleResults bounds FindPeople: it finds the person someone means,
// and is not a way to read the tenant's directory.
const MaxPeopleResults = 50

// FindPeople returns the identities whose name or email starts with query
// (IdentitySearch's rules: "bob", "bob b", "bob.brown@"), sorted by name, at
// most limit of them (1 to MaxPeopleResults), with Total counting every
// match. It is how a person who knows only a name finds the identity id or
// email that a reassignment's target or a reviewer argument needs; inactive
// identities are returned too, with their State, so the caller can say why
// they cannot take review work.
//
// Any identified actor may search: ISC shows public identities to every
// client. Errors: EFORBIDDEN (no actor), EINVALID (the query, as
// IdentitySearch.Words says, or the limit), and the tenant's.
func (s *Service) FindPeople(ctx context.Context, a Actor, query string, limit int) (Page[Identity], error) {
	if err := checkActor(a); err != nil {
		return Page[Identity]{}, err
	}
	q := IdentitySearch{Query: query, Page: PageOptions{Limit: limit, Count: true}}
	if _, err := q.Words(); err != nil {
		return Page[Identity]{}, err
	}
	if limit < 1 || limit > MaxPeopleResults {
		return Page[Identity]{}, Errorf(EINVALID, "limit must be between 1 and %d, got %d", MaxPeopleResults, limit)
	}
	page, err := s.opts.Tenant.SearchIdentities(ctx, q)
	if err != nil {
		return Page[Identity]{}, fmt.Errorf("find people %s: %w", quoteShort(query), err)
	}
	return page, nil
}

package sandbox

import (
	"slices"

	"github.com/certops/certops/internal/sandbox/filter"
)

// GET /certifications/{id}/reviewers: the certification's reviewer, then
// the reviewers its work was reassigned to (see state.reviewersOf), as
// IdentityReferenceWithNameAndEmail.

type identityReferenceWithNameAndEmail struct {
	Type  string `json:"type"`
	ID    string `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email"`
}

var (
	reviewerFilters = filter.Fields{"id": {"eq", "in"}, "name": {"eq", "sw"}, "email": {"eq", "sw"}}
	reviewerSorters = []string{"name", "email"}
)

func identityField(i *identity, field string) (filter.Value, bool) {
	switch field {
	case "id":
		return str(i.ID)
	case "name":
		return str(i.Name)
	case "email":
		return optStr(i.Email)
	case "alias":
		return optStr(i.Alias)
	case "firstname":
		return optStr(i.First)
	case "lastname":
		return optStr(i.Last)
	}
	return filter.Null(), false
}

func identitySortKey(i *identity, field string) string {
	switch field {
	case "name":
		return i.Name
	case "email":
		return i.Email
	}
	return ""
}

func (s *Sandbox) listReviewers(c *call) (any, *apiError) {
	cert, e := s.certFor(c, "id")
	if e != nil {
		return nil, e
	}
	col, e := parseCollection(c, reviewerFilters, reviewerSorters)
	if e != nil {
		return nil, e
	}
	p, expr, sorters := col.page, col.filter, col.sorters
	var all []*identity
	for _, r := range s.st.reviewersOf(cert) {
		if expr == nil || filter.Eval(expr, func(f string) (filter.Value, bool) { return identityField(r, f) }) {
			all = append(all, r)
		}
	}
	sortIdentities(all, sorters)
	if p.count {
		c.total = len(all)
	}
	lo, hi := p.window(len(all))
	out := make([]identityReferenceWithNameAndEmail, 0, hi-lo)
	for _, r := range all[lo:hi] {
		out = append(out, identityReferenceWithNameAndEmail{Type: "IDENTITY", ID: r.ID, Name: r.Name, Email: r.Email})
	}
	return out, nil
}

func sortIdentities(all []*identity, sorters []sorter) {
	if len(sorters) == 0 {
		return
	}
	slices.SortStableFunc(all, func(a, b *identity) int {
		for _, so := range sorters {
			r := compareEmptyLast(identitySortKey(a, so.field), identitySortKey(b, so.field))
			if so.desc {
				r = -r
			}
			if r != 0 {
				return r
			}
		}
		return 0
	})
}

package sandbox

import (
	"slices"
	"strings"

	"github.com/certops/certops/internal/sandbox/filter"
)

// GET /public-identities: every identity of the tenant, visible to every
// client (USER level), sorted by name by default.

type publicIdentityAttribute struct {
	Key   string  `json:"key"`
	Name  string  `json:"name"`
	Value *string `json:"value"`
}

type publicIdentity struct {
	ID            string                    `json:"id"`
	Name          string                    `json:"name"`
	Alias         string                    `json:"alias"`
	Email         *string                   `json:"email"`
	Status        *string                   `json:"status"`
	IdentityState *string                   `json:"identityState"`
	Manager       *identityRef              `json:"manager"`
	Attributes    []publicIdentityAttribute `json:"attributes"`
}

var (
	identityFilters = filter.Fields{
		"id": {"eq", "in"}, "alias": {"eq", "sw"}, "email": {"eq", "sw"},
		"firstname": {"eq", "sw"}, "lastname": {"eq", "sw"},
	}
	identitySorters = []string{"name"}
)

func (s *Sandbox) publicIdentityDto(i *identity) publicIdentity {
	d := publicIdentity{ID: i.ID, Name: i.Name, Alias: i.Alias, Email: nullable(i.Email),
		Status: nullable(i.Status), IdentityState: nullable(i.State), Attributes: []publicIdentityAttribute{}}
	if m := s.st.identityByID[i.ManagerID]; m != nil {
		d.Manager = &identityRef{Type: "IDENTITY", ID: m.ID, Name: m.Name}
	}
	for _, a := range []struct{ key, name, value string }{
		{"department", "Department", i.Department}, {"country", "Country", i.Country}, {"phone", "Phone", i.Phone},
	} {
		if a.value != "" {
			d.Attributes = append(d.Attributes, publicIdentityAttribute{Key: a.key, Name: a.name, Value: nullable(a.value)})
		}
	}
	return d
}

// identityKeys returns the values of an `email eq` or `alias eq` the
// filter requires.
func identityKeys(expr filter.Expr) ([]string, string, bool) {
	for _, field := range []string{"email", "alias"} {
		if vs, ok := eqInValues(expr, field); ok {
			for _, v := range vs {
				if v == "" {
					return nil, "", false
				}
			}
			return vs, field, true
		}
	}
	return nil, "", false
}

// coreIdentity is what add-core-filters keeps: correlated, not
// spadmin/cloudadmin, with a uid, last name and email.
func coreIdentity(i *identity) bool {
	return i.Correlated && i.Alias != "" && i.Last != "" && i.Email != "" &&
		i.Alias != "spadmin" && i.Alias != "cloudadmin"
}

func (s *Sandbox) listPublicIdentities(c *call) (any, *apiError) {
	col, e := parseCollection(c, identityFilters, identitySorters)
	if e != nil {
		return nil, e
	}
	p, expr, sorters := col.page, col.filter, col.sorters
	core := false
	if v, ok := c.q["add-core-filters"]; ok {
		b, err := parseBool(v[0])
		if err != nil {
			return nil, badRequest("Invalid value for add-core-filters: %q; it must be true or false.", v[0])
		}
		core = b
	}
	// The list is kept sorted by name; an id, email or alias lookup needs
	// no scan.
	candidates := s.st.identities
	if ids, ok := eqInValues(expr, "id"); ok {
		candidates = nil
		for _, id := range ids {
			if i := s.st.identityByID[strings.ToLower(id)]; i != nil {
				candidates = append(candidates, i)
			}
		}
		sortIdentities(candidates, []sorter{{field: "name"}})
	} else if keys, field, ok := identityKeys(expr); ok {
		candidates = nil
		for _, k := range keys {
			candidates = append(candidates, s.st.identitiesByKey[field+":"+strings.ToLower(k)]...)
		}
		sortIdentities(candidates, []sorter{{field: "name"}})
		candidates = slices.Compact(candidates)
	}
	var all []*identity
	for _, i := range candidates {
		if core && !coreIdentity(i) {
			continue
		}
		if expr != nil && !filter.Eval(expr, func(f string) (filter.Value, bool) { return identityField(i, f) }) {
			continue
		}
		all = append(all, i)
	}
	if len(sorters) == 1 && sorters[0].desc {
		all = reversed(all)
	}
	if p.count {
		c.total = len(all)
	}
	lo, hi := p.window(len(all))
	out := make([]publicIdentity, 0, hi-lo)
	for _, i := range all[lo:hi] {
		out = append(out, s.publicIdentityDto(i))
	}
	return out, nil
}

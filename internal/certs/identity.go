package certs

import "strings"

// Identity is a person (or machine) known to ISC, as the public-identities
// API shows it.
type Identity struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Alias  string `json:"alias,omitempty"`
	Email  string `json:"email,omitempty"`
	Status string `json:"status,omitempty"`
	// State is ACTIVE, INACTIVE_SHORT_TERM or INACTIVE_LONG_TERM.
	State     string `json:"identityState,omitempty"`
	ManagerID string `json:"managerId,omitempty"`
}

// MaxIdentitiesPerRead is how many ids one Tenant.ListIdentities takes: an
// "id in (…)" filter of that many keeps the URL well under common limits.
const MaxIdentitiesPerRead = 50

// Active reports whether the identity can take review work.
func (i *Identity) Active() bool { return i.State == "" || i.State == "ACTIVE" }

// Limits of an identity search (Tenant.SearchIdentities).
const (
	MaxIdentityQueryLength = 100
	MaxIdentityQueryWords  = 4
)

// IdentitySearch finds identities by the start of their name or email, as a
// person types them. Matching is case-insensitive:
//
//   - a query with an "@" matches the emails that start with it;
//   - a one-word query matches a first name, last name, alias (account
//     name) or email that starts with it: "bob" finds Bob Brown, Anna
//     Bobbitt and bob.x@…;
//   - a query of several words matches a first name that starts with the
//     first words and a last name that starts with the rest, split at any
//     word ("bob b" finds Bob Brown), or a first or last name that starts
//     with the whole query ("van der").
//
// Where a tenant keeps no separate first and last names, the first name is
// the name's first word and the last name the rest. Identities come sorted
// by name.
type IdentitySearch struct {
	Query string
	Page  PageOptions
}

// Words checks the query (EINVALID naming "query": required, at most
// MaxIdentityQueryLength characters and MaxIdentityQueryWords words, one
// line, and no spaces in an email) and returns its words.
func (s IdentitySearch) Words() ([]string, error) {
	if err := ValidateText("query", s.Query, TextRule{Required: true, MaxRunes: MaxIdentityQueryLength}); err != nil {
		return nil, err
	}
	words := strings.Fields(s.Query)
	if len(words) > MaxIdentityQueryWords {
		return nil, Errorf(EINVALID, "query has %d words; at most %d are allowed (a first and a last name, or the start of an email)", len(words), MaxIdentityQueryWords)
	}
	if len(words) > 1 && strings.Contains(s.Query, "@") {
		return nil, Errorf(EINVALID, "query %s has an @ and spaces: give the start of one email, or a name", quoteShort(s.Query))
	}
	return words, nil
}

// IdentityMatches reports whether an identity with these first and last
// names, alias and email matches a query's words (as Words returns them),
// by the rules of IdentitySearch: the rule certstest's tenant applies.
func IdentityMatches(words []string, first, last, alias, email string) bool {
	sw := func(v, prefix string) bool {
		return strings.HasPrefix(strings.ToLower(v), strings.ToLower(prefix))
	}
	whole := strings.Join(words, " ")
	switch {
	case len(words) == 0:
		return false
	case strings.Contains(whole, "@"):
		return sw(email, whole)
	case len(words) == 1:
		return sw(first, whole) || sw(last, whole) || sw(alias, whole) || sw(email, whole)
	}
	if sw(first, whole) || sw(last, whole) {
		return true
	}
	for i := 1; i < len(words); i++ {
		if sw(first, strings.Join(words[:i], " ")) && sw(last, strings.Join(words[i:], " ")) {
			return true
		}
	}
	return false
}

package certs

import "fmt"

// MaxIDLength caps ids accepted at the edge. ISC ids are 32 hex characters;
// 128 leaves room for other tenants' formats without letting a page of text
// through.
const MaxIDLength = 128

// ValidateID checks that an id is safe to put in a URL path or a filter
// literal: 1..MaxIDLength characters of [A-Za-z0-9_.:@-], not "." or "..".
// what names the id in the error ("certification id"). Returns EINVALID.
func ValidateID(what, id string) error {
	if id == "" {
		return Errorf(EINVALID, "%s is required", what)
	}
	if len(id) > MaxIDLength {
		return Errorf(EINVALID, "%s is %d characters; at most %d are allowed", what, len(id), MaxIDLength)
	}
	if id == "." || id == ".." {
		return Errorf(EINVALID, "%s %q is not a valid id", what, id)
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' || r == ':' || r == '@') {
			return Errorf(EINVALID, "%s %s contains %q; ids may use letters, digits and - _ . : @", what, quoteShort(id), r)
		}
	}
	return nil
}

func quoteShort(s string) string {
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return fmt.Sprintf("%q", s)
}

// ValidateIDs is ValidateID on each of ids.
func ValidateIDs(what string, ids ...string) error {
	for _, id := range ids {
		if err := ValidateID(what, id); err != nil {
			return err
		}
	}
	return nil
}

// ValidateReviewItemIDs checks the ids of a review item query, as a Tenant
// does before anything is read: the certification's, and every id f
// filters by (ValidateID).
func ValidateReviewItemIDs(certID string, f ReviewItemFilter) error {
	if err := ValidateID("certification id", certID); err != nil {
		return err
	}
	for _, l := range []struct {
		what string
		ids  []string
	}{
		{"review item id", f.IDs},
		{"identity summary id", f.IdentitySummaryIDs},
		{"access id", f.AccessIDs},
		{"entitlement id", f.Entitlements},
		{"access profile id", f.AccessProfiles},
		{"role id", f.Roles},
	} {
		if err := ValidateIDs(l.what, l.ids...); err != nil {
			return err
		}
	}
	return nil
}

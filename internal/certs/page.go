package certs

import (
	"slices"
	"strings"
)

// ISC's collection limits (standard collection parameters).
const (
	MaxPageLimit     = 250 // largest `limit` ISC accepts
	DefaultPageLimit = 250
)

// PageOptions selects one page of a collection. Limit 0 means the default
// (250); ISC answers 400 above 250.
type PageOptions struct {
	Offset int
	Limit  int
	// Count asks for the total number of matches (ISC's X-Total-Count).
	Count bool
}

// Page is one page of a collection. Total is the number of matches when
// PageOptions.Count was set, and -1 otherwise.
type Page[T any] struct {
	Items []T `json:"items"`
	Total int `json:"total"`
}

// Validate refuses what ISC answers 400 to: a limit above MaxPageLimit, or
// a negative limit or offset. Tenants check it before anything is read, so
// the message is clear.
func (p PageOptions) Validate() error {
	if p.Limit < 0 || p.Limit > MaxPageLimit {
		return Errorf(EINVALID, "page limit %d is out of range: use 0 (default %d) to %d", p.Limit, DefaultPageLimit, MaxPageLimit)
	}
	if p.Offset < 0 {
		return Errorf(EINVALID, "page offset %d is negative", p.Offset)
	}
	return nil
}

// ValidateSorters accepts ISC sorter fields from allowed, each optionally
// prefixed with "-" (descending). Returns EINVALID naming the fields
// allowed.
func ValidateSorters(sorters []string, allowed ...string) error {
	for _, s := range sorters {
		if !slices.Contains(allowed, strings.TrimPrefix(s, "-")) {
			return Errorf(EINVALID, "cannot sort by %q: use one of %s (prefix - for descending)", s, strings.Join(allowed, ", "))
		}
	}
	return nil
}

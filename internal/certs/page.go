package certs

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

package certs

// Permission is what an entitlement grants on a target (ISC PermissionDto).
type Permission struct {
	Rights []string `json:"rights"`
	Target string   `json:"target"`
}

// PermissionFilter selects permissions of an entitlement item: Target is an
// exact ("eq") or, with TargetPrefix, a prefix ("sw") match; Rights are
// matched with "ca" (contains all). ISC compares case-insensitively.
type PermissionFilter struct {
	Target       string
	TargetPrefix bool
	Rights       []string
	Page         PageOptions
}

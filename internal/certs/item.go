package certs

// AccessType is the kind of access a review item is about.
type AccessType string

const (
	AccessEntitlement   AccessType = "ENTITLEMENT"
	AccessAccessProfile AccessType = "ACCESS_PROFILE"
	AccessRole          AccessType = "ROLE"
)

// AccessTypes lists the access types a review item can have.
var AccessTypes = []AccessType{AccessEntitlement, AccessAccessProfile, AccessRole}

// Decision is a reviewer's decision on an item.
type Decision string

const (
	DecisionApprove Decision = "APPROVE"
	DecisionRevoke  Decision = "REVOKE"
)

// IdentitySummary is the identity whose access an item reviews (ISC
// CertificationIdentitySummary). ID is the identity summary's id within the
// certification; IdentityID is the identity's own id.
type IdentitySummary struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	IdentityID string `json:"identityId"`
	Completed  bool   `json:"completed"`
}

// Access is what an item reviews.
type Access struct {
	Type        AccessType `json:"type"`
	ID          string     `json:"id"`
	Name        string     `json:"name"`
	Description string     `json:"description,omitempty"`
	// SourceName is set for entitlements and access profiles.
	SourceName string `json:"sourceName,omitempty"`
	Privileged bool   `json:"privileged,omitempty"`
	// HasPermissions is set for entitlements that carry permissions
	// (see Tenant.ListItemPermissions).
	HasPermissions bool `json:"hasPermissions,omitempty"`
}

// ReviewItem is one decision a reviewer must make: an identity's access to
// one entitlement, access profile or role (ISC AccessReviewItem).
type ReviewItem struct {
	ID              string          `json:"id"`
	Completed       bool            `json:"completed"`
	NewAccess       bool            `json:"newAccess"`
	Decision        Decision        `json:"decision,omitempty"`
	Comments        string          `json:"comments,omitempty"`
	Access          Access          `json:"access"`
	IdentitySummary IdentitySummary `json:"identitySummary"`
}

// ReviewItemFilter selects review items of a certification.
type ReviewItemFilter struct {
	IDs                []string
	AccessType         AccessType
	Completed          *bool
	IdentitySummaryIDs []string
	IdentityName       string // prefix match ("sw") on identitySummary.name
	AccessIDs          []string
	AccessName         string // prefix match on access.name
	// At most one of these three may be set (ISC's rule): comma-joined ids
	// sent as the entitlements / access-profiles / roles parameters.
	Entitlements   []string
	AccessProfiles []string
	Roles          []string
	Sorters        []string
	Page           PageOptions
}

package certs

// IdentityRef names an identity with its email (ISC
// IdentityReferenceWithNameAndEmail), as listed among a certification's
// reviewers.
type IdentityRef struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email,omitempty"`
	Type  string `json:"type,omitempty"` // "IDENTITY"
}

// ReviewerFilter selects reviewers of a certification. NameSW and EmailSW are
// prefix matches ("sw"); Name and Email are exact ("eq").
type ReviewerFilter struct {
	IDs     []string
	Name    string
	NameSW  string
	Email   string
	EmailSW string
	Sorters []string // "name", "email"
	Page    PageOptions
}

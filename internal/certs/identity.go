package certs

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

// Active reports whether the identity can take review work.
func (i *Identity) Active() bool { return i.State == "" || i.State == "ACTIVE" }

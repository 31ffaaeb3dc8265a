package certs

import "strings"

// Frontend names the way a person reached certops.
type Frontend string

const (
	FrontendMCP    Frontend = "mcp"
	FrontendSlack  Frontend = "slack"
	FrontendSystem Frontend = "system" // background workers, start-up reconciliation
	FrontendCLI    Frontend = "cli"    // the command line (certops-audit)
)

// Role is what an actor may do. Admins see every certification; reviewers
// see and act on only the certifications their identity reviews.
type Role string

const (
	RoleAdmin    Role = "admin"
	RoleReviewer Role = "reviewer"
)

// Actor is who calls the Service: every call carries one, and every audit
// event records it. Front ends build it from their own user (a Slack user
// mapped by email to an ISC identity; an MCP bearer token mapped to an
// identity and a role).
type Actor struct {
	// ID is the front end's own id for the person: a Slack user id, an MCP
	// token's name.
	ID       string   `json:"id"`
	Name     string   `json:"name,omitempty"`
	Frontend Frontend `json:"frontend"`
	Role     Role     `json:"role"`
	// IdentityID is the actor's ISC identity id, when known.
	IdentityID string `json:"identityId,omitempty"`
	Email      string `json:"email,omitempty"`
}

// Keys returns the approver keys that name this actor: "<frontend>:<id>"
// and, when known, "identity:<identity id>". Approver lists (Policy,
// Request.Approvers) hold such keys.
func (a Actor) Keys() []string {
	keys := []string{a.FrontendKey()}
	if k := a.IdentityKey(); k != "" {
		keys = append(keys, k)
	}
	return keys
}

// FrontendKey is the key that names the actor's front-end user:
// "<frontend>:<id>" (see Keys).
func (a Actor) FrontendKey() string { return ApproverKey(a.Frontend, a.ID) }

// IdentityKey is the key that names the actor's ISC identity:
// "identity:<identity id>", or "" when the identity is not known (see Keys).
func (a Actor) IdentityKey() string {
	if a.IdentityID == "" {
		return ""
	}
	return "identity:" + a.IdentityID
}

// ApproverKey is the approver key that names the user id of front end f:
// ApproverKey(FrontendSlack, "U0123ABC") is "slack:U0123ABC". Front ends
// build the approver lists they file requests with from it (see Keys).
func ApproverKey(f Frontend, id string) string { return string(f) + ":" + id }

// Is reports whether key names this actor (see Keys).
func (a Actor) Is(key string) bool {
	for _, k := range a.Keys() {
		// Case-insensitive: an identity id typed in upper case in a tokens
		// file or CERTOPS_APPROVERS is still the same identity.
		if strings.EqualFold(k, key) {
			return true
		}
	}
	return false
}

// Same reports whether a and b are the same person: the same front-end
// user, or the same ISC identity.
func (a Actor) Same(b Actor) bool {
	for _, k := range b.Keys() {
		if a.Is(k) {
			return true
		}
	}
	return false
}

// SystemActor is the actor of background work.
var SystemActor = Actor{ID: "certops", Name: "certops", Frontend: FrontendSystem, Role: RoleAdmin}

// FiledBy reports whether a filed the request: a is its requester, as the
// same front-end user or the same ISC identity (see Same).
func (r *Request) FiledBy(a Actor) bool { return r.Requester.Same(a) }

// SelfSubmitted reports whether the request never went to approvers: its
// requester submitted it, under a policy that requires no approval
// (SubmitPlan). No one may decide their own request otherwise, so a request
// decided by whoever filed it, other than by cancelling it, is one. Front
// ends use it to post for approvers only what approvers are asked about.
func (r *Request) SelfSubmitted() bool {
	return r.DecidedBy != nil && r.FiledBy(*r.DecidedBy) && r.State != StateCancelled && r.State != StateDenied
}

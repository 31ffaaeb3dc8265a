package certs

import "fmt"

// ISC's reassignment limits, from the operation descriptions (the schema has
// no maxItems).
const (
	MaxSyncReassign  = 50  // POST /certifications/{id}/reassign
	MaxAsyncReassign = 500 // POST /certifications/{id}/reassign-async
	// MaxReasonLength caps a reassignment reason. ISC sets no limit in the
	// spec; 1000 characters is ample for an audit-worthy explanation and
	// keeps Slack messages and audit rows readable. ValidateReason (text.go)
	// applies it with the rest of the text policy.
	MaxReasonLength = 1000
)

// RefType is the kind of thing a reassignment moves.
type RefType string

const (
	RefItem            RefType = "ITEM"             // one review item
	RefIdentitySummary RefType = "IDENTITY_SUMMARY" // all items of one identity
	RefTargetSummary   RefType = "TARGET_SUMMARY"
)

// Ref names one thing to reassign (ISC ReassignReference).
type Ref struct {
	ID   string  `json:"id"`
	Type RefType `json:"type"`
}

// Reassignment is one call's worth of review work to move from a
// certification to another reviewer (ISC ReviewReassign plus the
// certification id from the path).
type Reassignment struct {
	CertificationID string `json:"certificationId"`
	Refs            []Ref  `json:"refs"`
	// To is the identity id of the new reviewer.
	To     string `json:"to"`
	Reason string `json:"reason"`
}

// Validate checks a reassignment against ISC's rules. max is the call's
// limit: MaxSyncReassign or MaxAsyncReassign. Returns EINVALID.
func (r *Reassignment) Validate(max int) error {
	if err := ValidateID("certification id", r.CertificationID); err != nil {
		return err
	}
	if err := ValidateID("target identity id", r.To); err != nil {
		return err
	}
	if err := ValidateReason(r.Reason); err != nil {
		return err
	}
	if len(r.Refs) == 0 {
		return Errorf(EINVALID, "nothing to reassign: give at least one item or identity")
	}
	if len(r.Refs) > max {
		return Errorf(EINVALID, "%d references in one call; ISC accepts at most %d", len(r.Refs), max)
	}
	for _, ref := range r.Refs {
		if err := ValidateID("reference id", ref.ID); err != nil {
			return err
		}
		switch ref.Type {
		case RefItem, RefIdentitySummary, RefTargetSummary:
		default:
			return Errorf(EINVALID, "reference type %q is not one of ITEM, IDENTITY_SUMMARY, TARGET_SUMMARY", ref.Type)
		}
	}
	return nil
}

// String describes the reassignment for logs.
func (r *Reassignment) String() string {
	return fmt.Sprintf("reassign %d refs of %s to %s", len(r.Refs), r.CertificationID, r.To)
}

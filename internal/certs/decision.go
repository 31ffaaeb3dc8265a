package certs

import "time"

// MaxDecisionsPerCall is ISC's limit on decisions in one makeIdentityDecision
// call (the operation's requestBody: minItems 1, maxItems 250).
const MaxDecisionsPerCall = 250

// The campaign's mandatory-comment rule (CampaignReference
// mandatoryCommentRequirement).
const (
	CommentsNever       = "NO_DECISIONS"
	CommentsOnRevoke    = "REVOKE_ONLY_DECISIONS"
	CommentsOnAll       = "ALL_DECISIONS"
	defaultCommentsRule = CommentsNever
)

// ItemDecision is one decision on one review item (ISC ReviewDecision).
type ItemDecision struct {
	ItemID   string   `json:"itemId"`
	Decision Decision `json:"decision"`
	Comments string   `json:"comments,omitempty"`
	// ProposedEndDate is when revoked access should end; revokes only.
	ProposedEndDate *time.Time `json:"proposedEndDate,omitempty"`
}

// DecisionCall is one makeIdentityDecision call's decisions.
type DecisionCall struct {
	CertificationID string         `json:"certificationId"`
	Items           []ItemDecision `json:"items"`
}

// commentRequired reports whether the campaign's rule requires a comment on
// decision d.
func commentRequired(rule string, d Decision) bool {
	return rule == CommentsOnAll || (rule == CommentsOnRevoke && d == DecisionRevoke)
}

// ValidateDecisionCall checks one Tenant.Decide call before it is sent: a
// valid certification id and 1 to MaxDecisionsPerCall decisions. Returns
// EINVALID.
func ValidateDecisionCall(certID string, ds []ItemDecision) error {
	if err := ValidateID("certification id", certID); err != nil {
		return err
	}
	switch {
	case len(ds) == 0:
		return Errorf(EINVALID, "nothing to decide: give at least one decision")
	case len(ds) > MaxDecisionsPerCall:
		return Errorf(EINVALID, "%d decisions in one call; ISC accepts at most %d", len(ds), MaxDecisionsPerCall)
	}
	return nil
}

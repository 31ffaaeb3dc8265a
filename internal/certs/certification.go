package certs

import "time"

// Phase is where a certification is in its life (ISC CertificationPhase).
type Phase string

const (
	PhaseStaged Phase = "STAGED" // created, not yet visible to reviewers
	PhaseActive Phase = "ACTIVE" // reviewers are deciding
	PhaseSigned Phase = "SIGNED" // the reviewer signed off; no more changes
)

// CampaignType is the kind of campaign a certification belongs to.
type CampaignType string

const (
	CampaignManager         CampaignType = "MANAGER"
	CampaignSourceOwner     CampaignType = "SOURCE_OWNER"
	CampaignSearch          CampaignType = "SEARCH"
	CampaignRoleComposition CampaignType = "ROLE_COMPOSITION"
	CampaignMachineAccount  CampaignType = "MACHINE_ACCOUNT"
)

// CampaignTypes lists every CampaignType, in the spec's order.
var CampaignTypes = []CampaignType{CampaignManager, CampaignSourceOwner, CampaignSearch, CampaignRoleComposition, CampaignMachineAccount}

// Campaign is the campaign a certification belongs to (ISC CampaignReference).
type Campaign struct {
	ID                          string       `json:"id"`
	Name                        string       `json:"name"`
	CampaignType                CampaignType `json:"campaignType"`
	Description                 string       `json:"description,omitempty"`
	CorrelatedStatus            string       `json:"correlatedStatus,omitempty"`            // CORRELATED | UNCORRELATED
	MandatoryCommentRequirement string       `json:"mandatoryCommentRequirement,omitempty"` // ALL_DECISIONS | REVOKE_ONLY_DECISIONS | NO_DECISIONS
}

// ReviewerType says whether a reviewer is a person or a governance group.
type ReviewerType string

const (
	ReviewerIdentity        ReviewerType = "IDENTITY"
	ReviewerGovernanceGroup ReviewerType = "GOVERNANCE_GROUP"
)

// Reviewer is who decides a certification (ISC Reviewer).
type Reviewer struct {
	ID    string       `json:"id"`
	Name  string       `json:"name"`
	Email string       `json:"email,omitempty"`
	Type  ReviewerType `json:"type,omitempty"`
}

// ReassignedFrom says where a certification's work came from when it was
// created by a reassignment (ISC Reassignment).
type ReassignedFrom struct {
	CertificationID   string   `json:"certificationId"`
	CertificationName string   `json:"certificationName,omitempty"`
	Reviewer          Reviewer `json:"reviewer"`
	Comment           string   `json:"comment,omitempty"`
}

// Certification is one reviewer's share of a campaign: the identities and
// access they must approve or revoke (ISC IdentityCertificationDto).
type Certification struct {
	ID                  string          `json:"id"`
	Name                string          `json:"name"`
	Campaign            Campaign        `json:"campaign"`
	Reviewer            Reviewer        `json:"reviewer"`
	Phase               Phase           `json:"phase"`
	Completed           bool            `json:"completed"`
	Due                 *time.Time      `json:"due,omitempty"`
	Signed              *time.Time      `json:"signed,omitempty"`
	IdentitiesCompleted int             `json:"identitiesCompleted"`
	IdentitiesTotal     int             `json:"identitiesTotal"`
	DecisionsMade       int             `json:"decisionsMade"`
	DecisionsTotal      int             `json:"decisionsTotal"`
	Created             time.Time       `json:"created"`
	Modified            time.Time       `json:"modified"`
	Reassignment        *ReassignedFrom `json:"reassignment,omitempty"`
	HasErrors           bool            `json:"hasErrors"`
	ErrorMessage        string          `json:"errorMessage,omitempty"`
}

// Progress is the share of decisions made, from 0 to 1.
func (c *Certification) Progress() float64 {
	if c.DecisionsTotal == 0 {
		return 0
	}
	return float64(c.DecisionsMade) / float64(c.DecisionsTotal)
}

// CertificationFilter selects certifications. Zero fields select everything
// the caller may see.
type CertificationFilter struct {
	// ReviewerIdentity is "me" (the caller's identity) or an identity id.
	ReviewerIdentity string
	IDs              []string
	CampaignIDs      []string
	Phase            Phase
	Completed        *bool
	// Sorters are ISC sorter fields ("name", "due", "signed"), "-" prefix
	// for descending.
	Sorters []string
	Page    PageOptions
}

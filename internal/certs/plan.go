package certs

import "time"

// MaxPlanRefs caps how many references one plan may move: 10 async calls of
// MaxAsyncReassign. A larger move is several plans, so that each approval
// covers a reviewable amount of work.
const MaxPlanRefs = 10 * MaxAsyncReassign

// PlanInput says what to reassign. Exactly one way of choosing the work may
// be used: ItemIDs, IdentitySummaryIDs or IdentityIDs ("all open items of
// these identities").
type PlanInput struct {
	CertificationID    string   `json:"certificationId"`
	ItemIDs            []string `json:"itemIds,omitempty"`
	IdentitySummaryIDs []string `json:"identitySummaryIds,omitempty"`
	IdentityIDs        []string `json:"identityIds,omitempty"`
	// Target is the new reviewer: an identity id or an email address.
	Target string `json:"target"`
	Reason string `json:"reason"`
}

// Plan is a reassignment worked out but not yet done: exactly what moves, to
// whom, in which calls. Its Digest covers all of that, so what is approved is
// exactly what was shown.
type Plan struct {
	ID                string         `json:"id"`
	Digest            string         `json:"digest"`
	CertificationID   string         `json:"certificationId"`
	CertificationName string         `json:"certificationName"`
	CampaignName      string         `json:"campaignName,omitempty"`
	From              Reviewer       `json:"from"`
	To                Identity       `json:"to"`
	Reason            string         `json:"reason"`
	Refs              []Ref          `json:"refs"`
	ItemCount         int            `json:"itemCount"`     // review items that move
	IdentityNames     []string       `json:"identityNames"` // whose access they review
	Calls             []Reassignment `json:"calls"`         // one per ISC call, in order
	Sync              bool           `json:"sync"`          // one synchronous call: at most MaxSyncReassign items
	Summary           string         `json:"summary"`       // what will happen, in words a person can check
	Warnings          []string       `json:"warnings,omitempty"`
	CreatedBy         Actor          `json:"createdBy"`
	Created           time.Time      `json:"created"`
}

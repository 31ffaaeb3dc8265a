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

// ChangeKind is the kind of change a plan makes in ISC (change.go).
type ChangeKind string

const (
	KindReassign ChangeKind = "reassign" // also plans stored before kinds (Kind "")
	KindDecide   ChangeKind = "decide"   // approve or revoke review items
	KindSignOff  ChangeKind = "sign_off" // sign a certification off
)

// Plan is a change worked out but not yet made: exactly what changes, in
// which ISC calls. Its Digest covers all of that, so what is confirmed and
// approved is exactly what was shown. The fields after Kind's block are the
// kind's own: a reassignment's (From, To, Refs, Calls, Sync), decisions'
// (Decisions), a sign-off's (none).
type Plan struct {
	ID                string         `json:"id"`
	Kind              ChangeKind     `json:"kind,omitempty"`
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

	// Decisions are a decision plan's calls, in order, each at most
	// MaxDecisionsPerCall (change_decide.go).
	Decisions []DecisionCall `json:"decisions,omitempty"`
	// OnBehalf is why an admin decides in the reviewer's place; empty when
	// the reviewer decides.
	OnBehalf string `json:"onBehalf,omitempty"`
	// SignOffState is a sign-off plan's hash of every item's decision and
	// comments when it was made: what the sign-off makes final.
	SignOffState string `json:"signOffState,omitempty"`
	// Evidence is what the person was shown of each decided item when the
	// plan was made (evidence.go): the audit keeps it with the decision.
	// It describes the change; the digest does not cover it.
	Evidence []ItemEvidence `json:"evidence,omitempty"`
}

// KindOf is the plan's kind (KindReassign for plans stored before kinds).
func (p *Plan) KindOf() ChangeKind {
	if p.Kind == "" {
		return KindReassign
	}
	return p.Kind
}

// CallCount is how many ISC calls the plan makes.
func (p *Plan) CallCount() int {
	switch p.KindOf() {
	case KindDecide:
		return len(p.Decisions)
	case KindSignOff:
		return 1
	}
	return len(p.Calls)
}

// CallSize is how many review items call i changes (0 for a sign-off).
func (p *Plan) CallSize(i int) int {
	switch p.KindOf() {
	case KindDecide:
		return len(p.Decisions[i].Items)
	case KindSignOff:
		return 0
	}
	return len(p.Calls[i].Refs)
}

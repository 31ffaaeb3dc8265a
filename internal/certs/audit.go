package certs

import "time"

// Action names what an audit event records.
type Action string

const (
	ActionPlanCreated      Action = "plan.created"
	ActionRequestCreated   Action = "request.created"
	ActionRequestApproved  Action = "request.approved"
	ActionRequestDenied    Action = "request.denied"
	ActionRequestCancelled Action = "request.cancelled"
	ActionRequestExpired   Action = "request.expired"
	ActionSubmitting       Action = "request.submitting"
	ActionTaskSubmitted    Action = "task.submitted"
	ActionSubmitted        Action = "request.submitted"
	ActionTaskProgress     Action = "task.progress"
	ActionCompleted        Action = "request.completed"
	ActionFailed           Action = "request.failed"
	ActionReconciled       Action = "request.reconciled"
	// ActionOutcomeUnknown: an ISC call's outcome could not be established
	// while submitting; the request stays in submitting and is reconciled
	// later, never resubmitted.
	ActionOutcomeUnknown Action = "request.outcome_unknown"
	// ActionWaiting: a call was held back because another request's call
	// to the same certification is being sent or settled (lifecycle.go).
	ActionWaiting Action = "request.waiting"
	ActionExport  Action = "data.exported" // a bulk read (many items, many certifications)
)

// Event is one entry of the audit trail. Events are written in the same
// transaction as the change they record, so they double as an outbox that
// front ends' workers read to tell people what happened.
type Event struct {
	Seq             int64     `json:"seq"` // assigned by the Store, increasing
	Time            time.Time `json:"time"`
	Actor           Actor     `json:"actor"`
	Action          Action    `json:"action"`
	RequestID       string    `json:"requestId,omitempty"`
	CertificationID string    `json:"certificationId,omitempty"`
	Count           int       `json:"count,omitempty"` // items moved or rows read
	TaskIDs         []string  `json:"taskIds,omitempty"`
	TrackingIDs     []string  `json:"trackingIds,omitempty"`
	Detail          string    `json:"detail,omitempty"`
}

// EventFilter selects audit events. Zero fields select all, oldest first.
type EventFilter struct {
	RequestID       string
	CertificationID string
	ActorKey        string // see Actor.Keys
	AfterSeq        int64
	Limit           int
}

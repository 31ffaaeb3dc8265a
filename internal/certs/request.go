package certs

import "time"

// RequestState is where a reassignment request is. The transitions are:
//
//	pending → approved → submitting → submitted → completed | failed
//	pending → denied | expired | cancelled
//	submitting → completed | failed   (sync plans, and failures while submitting)
//
// Every transition is a compare-and-set in the Store.
type RequestState string

const (
	StatePending    RequestState = "pending"
	StateApproved   RequestState = "approved"
	StateSubmitting RequestState = "submitting"
	StateSubmitted  RequestState = "submitted"
	StateCompleted  RequestState = "completed"
	StateFailed     RequestState = "failed"
	StateDenied     RequestState = "denied"
	StateExpired    RequestState = "expired"
	StateCancelled  RequestState = "cancelled"
)

// Final reports whether no further transition can happen.
func (s RequestState) Final() bool {
	switch s {
	case StateCompleted, StateFailed, StateDenied, StateExpired, StateCancelled:
		return true
	}
	return false
}

// DefaultRequestTTL is how long a request waits for a decision.
const DefaultRequestTTL = 72 * time.Hour

// RequestTask is one ISC call of a request's plan and what became of it.
type RequestTask struct {
	Call       int        `json:"call"` // index into Plan.Calls
	TaskID     string     `json:"taskId,omitempty"`
	Status     TaskStatus `json:"status,omitempty"`
	Errors     []string   `json:"errors,omitempty"`
	TrackingID string     `json:"trackingId,omitempty"`
}

// Request is a reassignment waiting for, or past, a decision.
type Request struct {
	ID        string       `json:"id"`
	Plan      Plan         `json:"plan"`
	Requester Actor        `json:"requester"`
	Approvers []string     `json:"approvers"` // approver keys, see Actor.Keys
	State     RequestState `json:"state"`
	// DecidedBy is who approved, denied or cancelled the request.
	DecidedBy      *Actor        `json:"decidedBy,omitempty"`
	DecisionReason string        `json:"decisionReason,omitempty"`
	Tasks          []RequestTask `json:"tasks,omitempty"`
	Error          string        `json:"error,omitempty"`
	// FrontendRefs holds front ends' own references to the request, e.g. the Slack
	// channel and message ts of its approval message.
	FrontendRefs map[string]string `json:"refs,omitempty"`
	Created      time.Time         `json:"created"`
	Updated      time.Time         `json:"updated"`
	ExpiresAt    time.Time         `json:"expiresAt"`
	// Version grows by one with every change; the Store uses it for
	// compare-and-set.
	Version int64 `json:"version"`
}

// Progress summarises a request's ISC tasks.
type Progress struct {
	Calls      int `json:"calls"`
	Queued     int `json:"queued"`
	Running    int `json:"running"`
	Done       int `json:"done"`
	Failed     int `json:"failed"`
	ItemsMoved int `json:"itemsMoved"`
}

// Progress counts the request's tasks by status. Calls not yet submitted
// count as queued.
func (r *Request) Progress() Progress {
	p := Progress{Calls: len(r.Plan.Calls)}
	seen := 0
	for _, t := range r.Tasks {
		seen++
		switch t.Status {
		case TaskSuccess:
			p.Done++
			if t.Call >= 0 && t.Call < len(r.Plan.Calls) {
				p.ItemsMoved += len(r.Plan.Calls[t.Call].Refs)
			}
		case TaskError:
			p.Failed++
		case TaskInProgress:
			p.Running++
		default:
			p.Queued++
		}
	}
	if rest := p.Calls - seen; rest > 0 {
		p.Queued += rest
	}
	return p
}

// RequestFilter selects requests. Zero fields select all.
type RequestFilter struct {
	States          []RequestState
	CertificationID string
	RequesterKey    string // an approver-style key, see Actor.Keys
	Limit           int
}

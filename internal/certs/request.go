package certs

import "time"

// RequestState is where a request is in its life. lifecycle.go describes
// that life once, with the table of transitions, who may cause each and the
// audit events each writes.
type RequestState string

const (
	StatePending    RequestState = "pending"
	StateApproved   RequestState = "approved" // written only by versions before the call log; see lifecycle.go
	StateSubmitting RequestState = "submitting"
	StateSubmitted  RequestState = "submitted"
	StateCompleted  RequestState = "completed"
	StateFailed     RequestState = "failed"
	StateDenied     RequestState = "denied"
	StateExpired    RequestState = "expired"
	StateCancelled  RequestState = "cancelled"
)

// AllStates lists every state, in the order of a request's life.
var AllStates = []RequestState{StatePending, StateApproved, StateSubmitting, StateSubmitted, StateCompleted, StateFailed, StateDenied, StateExpired, StateCancelled}

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

// CallState is where one ISC call of a request stands (lifecycle.go).
type CallState string

const (
	// CallSending: recorded just before the call is made; its answer is
	// not recorded yet. A call without any record was never sent.
	CallSending CallState = "sending"
	// CallUnknown: the call was made and its answer lost; the service
	// settles it by reading the tenant, never by sending it again.
	CallUnknown CallState = "unknown"
	// CallAccepted: ISC took the call: a task to follow (TaskID, Status),
	// or, for a synchronous call, done (Status SUCCESS, no TaskID).
	CallAccepted CallState = "accepted"
	// CallRejected: ISC refused the call; nothing of it was applied.
	CallRejected CallState = "rejected"
	// CallNotSent: the call was never sent (SailPoint unreachable, or an
	// earlier call failed) and never will be.
	CallNotSent CallState = "not_sent"
	// CallUnconfirmed: the answer was lost and reading the tenant never
	// proved what happened; nothing was resubmitted. Final.
	CallUnconfirmed CallState = "unconfirmed"
)

// Final reports whether the call's submission has ended (its task, if
// any, may still be running).
func (s CallState) Final() bool {
	return s == CallAccepted || s == CallRejected || s == CallNotSent || s == CallUnconfirmed
}

// RequestTask is the record of one ISC call of a request's plan: whether it
// was sent, and what became of it.
type RequestTask struct {
	Call  int       `json:"call"` // index of the plan's call (Plan.CallCount)
	State CallState `json:"state,omitempty"`
	// SentAt is when the call was recorded as sending (the service's clock).
	SentAt     *time.Time `json:"sentAt,omitempty"`
	TaskID     string     `json:"taskId,omitempty"`
	Status     TaskStatus `json:"status,omitempty"`
	Errors     []string   `json:"errors,omitempty"`
	TrackingID string     `json:"trackingId,omitempty"`
	// Found is set when the call's answer was lost and its task or its
	// effect was found by reading the tenant (settle.go).
	Found bool `json:"found,omitempty"`
}

// Finished reports whether nothing more will happen to the call: its
// submission ended and its task, if any, is done.
func (t RequestTask) Finished() bool {
	switch t.State {
	case CallAccepted:
		return t.Status.Done()
	case CallRejected, CallNotSent, CallUnconfirmed:
		return true
	}
	return false
}

// Request is a planned change waiting for, or past, a decision.
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
	// WaitingFor names what the request's next call waits for (another
	// request sending to or settling with the same certification); empty
	// when it waits for nothing.
	WaitingFor string `json:"waitingFor,omitempty"`
	// CallLog is set on requests whose every call is recorded (sending)
	// before it is made, so that a call without a record was never sent.
	// Requests stored by earlier versions lack it (see lifecycle.go).
	CallLog bool `json:"callLog,omitempty"`
	// Version grows by one with every change; the Store uses it for
	// compare-and-set.
	Version int64 `json:"version"`
}

// Progress summarises a request's calls.
type Progress struct {
	Calls   int `json:"calls"`
	Queued  int `json:"queued"`  // accepted by ISC, task not started
	Running int `json:"running"` // task in progress
	Done    int `json:"done"`    // applied
	Failed  int `json:"failed"`  // refused by ISC, or its task ended in ERROR
	// Unknown calls were sent and their answer lost: being settled, or
	// (Unconfirmed) never proven either way; nothing was resubmitted.
	Unknown int `json:"unknown,omitempty"`
	// NotSent calls were never sent to ISC and never will be.
	NotSent int `json:"notSent,omitempty"`
	// ToSend calls are still to be sent.
	ToSend     int `json:"toSend,omitempty"`
	ItemsMoved int `json:"itemsMoved"`
}

// Progress counts the request's calls by where they stand.
func (r *Request) Progress() Progress {
	p := Progress{Calls: r.Plan.CallCount()}
	for i := range r.Plan.CallCount() {
		t := r.call(i)
		switch {
		case t == nil || t.State == CallSending:
			p.ToSend++
		case t.State == CallUnknown || t.State == CallUnconfirmed:
			p.Unknown++
		case t.State == CallNotSent:
			p.NotSent++
		case t.State == CallRejected || t.Status == TaskError:
			p.Failed++
		case t.Status == TaskSuccess:
			p.Done++
			p.ItemsMoved += r.Plan.CallSize(i)
		case t.Status == TaskInProgress:
			p.Running++
		default:
			p.Queued++
		}
	}
	return p
}

// call returns the record of call i, or nil when it has none.
func (r *Request) call(i int) *RequestTask {
	for j := range r.Tasks {
		if r.Tasks[j].Call == i {
			return &r.Tasks[j]
		}
	}
	return nil
}

// RequestFilter selects requests. Zero fields select all.
type RequestFilter struct {
	States          []RequestState
	CertificationID string
	RequesterKey    string // an approver-style key, see Actor.Keys
	Limit           int
}

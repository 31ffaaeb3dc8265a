package certs

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// The life of a request. Every change certops sends to ISC lives it, whatever
// its kind (a kind of change is one file: change_reassign.go is the first)
// and whichever front end started it. This is the one place it is
// described; the code that carries each step out is named beside it.
//
// 1. Plan (service_plan.go). The person asks for a change; the service works
// out exactly what would be sent, split into ISC calls, stores it as a Plan
// with a digest of exactly that, and changes nothing in ISC.
//
// 2. Confirm and decide (service_requests.go). The person confirms the plan
// by its digest (a model cannot skip this: the MCP tool asks the person
// through elicitation, the Slack bot shows Confirm/Cancel). Filing creates a
// pending request whose id is the plan's, so a plan is filed at most once.
// An approver's Approve, or the requester's own SubmitPlan when the policy
// needs no approval, moves it to submitting through one function,
// startSubmission: a compare-and-set, so of any number of clicks, front
// ends and replicas exactly one wins and the others are told who decided.
//
// 3. Submit once (submit.go). Only the winner of that compare-and-set calls
// ISC. Each call is recorded as sending before it is made, and its answer
// (a task to follow, done, or refused) is recorded before the next call is
// made, so a call with no record was certainly never sent. Before a call is
// sent, the certification is checked: while another request's call to it
// is sending or has an unknown outcome, this request waits (nothing sent)
// and the worker sends it later, so that what a reading of the tenant finds
// can belong to one request only.
//
// 4. When an answer is lost (settle.go). A call whose outcome is unknown
// (a timeout, a dropped connection or a 5xx after sending: the Tenant
// answers EUNKNOWN) is never sent again. The worker settles it by reading
// the tenant, accepting only evidence that belongs to that call and no
// other; the kind of change says what that evidence is. Until then the
// request says "outcome unknown, nothing resubmitted"; when reading proves
// nothing within SubmitLease the call is unconfirmed for good and the
// person is told which certification to check. A submitter that died is
// replaced after SubmitLease: its call still marked sending is settled the
// same way, and calls it never recorded are sent by the worker.
//
// 5. Follow to the end (service_worker.go). Accepted calls' ISC tasks are
// read until done. When every call is finished the request is completed
// (everything applied) or failed, saying exactly which calls were applied
// (and how many items moved), which were refused, unknown or never sent.
//
// Every transition is a Store.UpdateRequest compare-and-set written together
// with its audit events, in one transaction. The transitions, who may cause
// each, and the events each writes:
//
//	from                   to          by                                       events
//	(new)                  pending     the requester: RequestApproval, or       request.created
//	                                   SubmitPlan
//	pending                submitting  an approver (not the requester, not      request.approved,
//	(approved¹)                        the new reviewer): Approve; the          request.submitting
//	                                   requester under a no-approval policy,
//	                                   or the reviewer confirming their own
//	                                   decisions or sign-off: SubmitPlan; the
//	                                   worker for approved¹
//	pending                denied      an approver: Deny                        request.denied
//	pending                cancelled   the requester or an admin: Cancel        request.cancelled
//	pending                expired     whoever notices ExpiresAt passed         request.expired
//	submitting             submitting  the submitter, or the worker: a call's   task.submitted, or
//	                                   answer, its settlement, a wait for       request.outcome_unknown,
//	                                   another request, an accepted call's      request.reconciled,
//	                                   task progressing meanwhile               request.waiting,
//	                                                                            task.progress
//	submitting             submitted   the submitter or the worker: every call  request.submitted
//	                                   sent, some task still running
//	submitted              submitted   the worker: a task progressed            task.progress
//	submitting, submitted  completed   whoever records the last call finished,  request.completed
//	                                   everything applied
//	submitting, submitted  failed      the same, when anything was refused,     request.failed
//	                                   failed, unconfirmed or not sent
//
// ¹ approved (accepted, not yet claimed) is written only by versions before
// the call log; the worker submits any it finds as Approve would.
type transition struct {
	name   string
	from   []RequestState
	to     RequestState
	events []Action
}

var (
	tFile     = transition{"file", nil, StatePending, []Action{ActionRequestCreated}}
	tApprove  = transition{"approve", []RequestState{StatePending, StateApproved}, StateSubmitting, []Action{ActionRequestApproved, ActionSubmitting}}
	tDeny     = transition{"deny", []RequestState{StatePending}, StateDenied, []Action{ActionRequestDenied}}
	tCancel   = transition{"cancel", []RequestState{StatePending}, StateCancelled, []Action{ActionRequestCancelled}}
	tExpire   = transition{"expire", []RequestState{StatePending}, StateExpired, []Action{ActionRequestExpired}}
	tRecord   = transition{"record a call", []RequestState{StateSubmitting}, StateSubmitting, []Action{ActionTaskSubmitted, ActionOutcomeUnknown, ActionReconciled, ActionWaiting}}
	tSent     = transition{"all sent", []RequestState{StateSubmitting}, StateSubmitted, []Action{ActionSubmitted}}
	tComplete = transition{"complete", []RequestState{StateSubmitting, StateSubmitted}, StateCompleted, []Action{ActionCompleted}}
	tFail     = transition{"fail", []RequestState{StateSubmitting, StateSubmitted}, StateFailed, []Action{ActionFailed}}
	// tProgress records a task's progress without changing state.
	tProgress = transition{"task progress", []RequestState{StateSubmitted}, StateSubmitted, []Action{ActionTaskProgress}}
)

// transitions is the table above, for tests and for checking moves.
var transitions = []transition{tFile, tApprove, tDeny, tCancel, tExpire, tRecord, tSent, tComplete, tFail, tProgress}

// errStale aborts a compare-and-set when the request changed since it was
// read (a version check on top of the Store's state check).
var errStale = errors.New("request changed since it was read")

// move makes transition t on the request r, as a compare-and-set: the
// request must still be in one of t's from states and, when exact is set,
// at r's version. update makes the rest of the change (may be nil). The
// events must be among t's (a programming error otherwise). It returns the
// request as written; on ECONFLICT or errStale the current request is
// returned with the error.
func (s *Service) move(ctx context.Context, r *Request, t transition, exact bool, update func(*Request) error, events ...Event) (*Request, error) {
	for _, ev := range events {
		// A move may also record the call whose answer caused it.
		if !containsAction(t.events, ev.Action) && !containsAction(tRecord.events, ev.Action) && !containsAction(tProgress.events, ev.Action) {
			panic(fmt.Sprintf("certs: transition %q does not write %s", t.name, ev.Action))
		}
	}
	cur, err := s.opts.Store.UpdateRequest(ctx, r.ID, t.from, func(cur *Request) error {
		if exact && cur.Version != r.Version {
			return errStale
		}
		if update != nil {
			if err := update(cur); err != nil { // sees the state moved from
				return err
			}
		}
		cur.State = t.to
		cur.Updated = s.now()
		return nil
	}, events...)
	if errors.Is(err, errStale) {
		fresh, gerr := s.opts.Store.GetRequest(ctx, r.ID)
		if gerr != nil {
			return nil, gerr
		}
		return fresh, err
	}
	return cur, err
}

// lostRace reports whether err means another caller changed the request
// first (they own what happens next).
func lostRace(err error) bool {
	return errors.Is(err, errStale) || ErrorCode(err) == ECONFLICT
}

func containsAction(list []Action, a Action) bool {
	for _, x := range list {
		if x == a {
			return true
		}
	}
	return false
}

// describeCalls says, for people, what became of each call of a request that
// is finished or stopping: which were applied (and how many items moved),
// refused, failed, unknown or never sent. It is the message of a failed
// request. withTracking adds SailPoint's tracking id of refused calls (left
// out where the message's error carries it already).
func describeCalls(r *Request, withTracking bool) string {
	var parts []string
	n := r.Plan.CallCount()
	items := func(i int) string { return plural(r.Plan.CallSize(i), "review item", "review items") }
	for i := range r.Plan.CallCount() {
		t := r.call(i)
		name := fmt.Sprintf("call %d of %d (%s)", i+1, n, items(i))
		switch {
		case t == nil:
			parts = append(parts, name+": not sent yet")
		case t.State == CallNotSent:
			parts = append(parts, name+": not sent to ISC")
		case t.State == CallRejected:
			text := fmt.Sprintf("%s: refused by SailPoint, nothing applied: %s", name, strings.Join(t.Errors, "; "))
			if withTracking && t.TrackingID != "" {
				text += " (tracking id " + t.TrackingID + ")"
			}
			parts = append(parts, text)
		case t.State == CallUnknown || t.State == CallUnconfirmed:
			parts = append(parts, fmt.Sprintf("%s: outcome unknown, nothing resubmitted — check certification %q (%s)", name, r.Plan.CertificationName, r.Plan.CertificationID))
		case t.Status == TaskSuccess:
			parts = append(parts, fmt.Sprintf("%s: applied%s", name, taskNote(t)))
		case t.Status == TaskError:
			e := strings.Join(t.Errors, "; ")
			if e == "" {
				e = "no reason given"
			}
			parts = append(parts, fmt.Sprintf("%s: ISC task %s failed: %s", name, t.TaskID, e))
		default:
			parts = append(parts, fmt.Sprintf("%s: %s%s", name, orQueued(t.Status), taskNote(t)))
		}
	}
	return strings.Join(parts, "; ")
}

func taskNote(t *RequestTask) string {
	if t.TaskID == "" {
		return ""
	}
	return " (ISC task " + t.TaskID + ")"
}

func orQueued(s TaskStatus) TaskStatus {
	if s == "" {
		return TaskQueued
	}
	return s
}

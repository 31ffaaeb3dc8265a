package certs

import (
	"context"
	"errors"
	"fmt"
)

// Carrying on submissions that no submitter is carrying: step 4 of
// lifecycle.go. The worker claims requests in submitting (and legacy
// approved ones) and, for each that needs it:
//
//   - settles every call whose outcome is unknown by reading the tenant
//     (the kind of change says what counts as evidence: change.go), at most
//     every TaskPoll..TaskPollMax; a call still marked sending whose
//     submitter has gone quiet for SubmitLease is treated as unknown;
//   - a call the tenant does not settle within SubmitLease of its sending
//     becomes unconfirmed, for good: "outcome unknown, nothing resubmitted,
//     check certification X", and the calls after it are not sent;
//   - then sends the calls not sent yet (a request that waited for another
//     on the same certification, or whose submitter died between calls:
//     a call without a record was never sent, so sending it now is its
//     first and only time).

// advanceSubmissions carries on the submissions that need it.
func (s *Service) advanceSubmissions(ctx context.Context) error {
	claimed, err := s.opts.Store.ClaimRequests(ctx, s.opts.Owner, []RequestState{StateApproved, StateSubmitting}, s.opts.ClaimLease, claimLimit)
	if err != nil {
		return fmt.Errorf("claim requests being submitted: %w", err)
	}
	var errs []error
	for _, r := range claimed {
		if s.needsAdvance(r) {
			if _, err := s.advance(ctx, r); err != nil && !recorded(err) {
				errs = append(errs, fmt.Errorf("request %s: %w", r.ID, err))
			}
		}
		errs = append(errs, s.release(ctx, r.ID))
	}
	return errors.Join(errs...)
}

// recorded reports whether a submission error is already written on its
// request, so the worker has nothing to retry.
func recorded(err error) bool {
	switch ErrorCode(err) {
	case EINVALID, EFORBIDDEN, ENOTFOUND, ECONFLICT, ERATELIMITED, EUNAVAILABLE, EUNKNOWN:
		return true
	}
	return false
}

// needsAdvance reports whether no submitter is carrying r now.
func (s *Service) needsAdvance(r *Request) bool {
	quiet := s.now().Sub(r.Updated) >= s.opts.SubmitLease
	switch {
	case r.State == StateApproved || !r.CallLog:
		return quiet
	case hasCall(r, CallUnknown):
		return s.pollDue(r.ID)
	case r.WaitingFor != "":
		return true
	}
	return quiet
}

func hasCall(r *Request, state CallState) bool {
	for _, t := range r.Tasks {
		if t.State == state {
			return true
		}
	}
	return false
}

// advance settles what it can of r and sends what is left to send.
func (s *Service) advance(ctx context.Context, r *Request) (*Request, error) {
	if r.State == StateApproved {
		return s.startSubmission(ctx, SystemActor, r, "")
	}
	quiet := s.now().Sub(r.Updated) >= s.opts.SubmitLease
	if r.CallLog {
		// Calls already accepted are followed meanwhile, so that what
		// people see of them stays true while another call is settled.
		if cur, _, err := s.followOnce(ctx, r); err == nil && cur != nil && cur.State == StateSubmitting {
			r = cur
		}
	}
	tasks := append([]RequestTask(nil), r.Tasks...)
	if !r.CallLog {
		// Stored before the call log: calls were made in order, each
		// recorded before the next, so only the first call without a
		// record may have been sent.
		if i := nextToSend(r); i >= 0 {
			at := r.Updated
			tasks = append(tasks, RequestTask{Call: i, State: CallUnknown, SentAt: &at})
		}
	}
	kind := kindOf(&r.Plan)
	view := *r
	view.Tasks = tasks
	var events []Event
	for j := range tasks {
		t := &tasks[j]
		if t.State == CallSending && quiet {
			t.State = CallUnknown
			ev := s.requestEvent(SystemActor, ActionOutcomeUnknown, r)
			ev.Detail = fmt.Sprintf("call %d of %d: its submitter stopped before recording ISC's answer; nothing will be resubmitted, certops is reading certification %q to find out", t.Call+1, r.Plan.CallCount(), r.Plan.CertificationName)
			events = append(events, ev)
		}
		if t.State != CallUnknown {
			continue
		}
		st, err := kind.settle(ctx, s, &view, t.Call)
		if err != nil {
			s.schedulePoll(r.ID, false, false)
			return r, fmt.Errorf("settle call %d: %w", t.Call+1, err)
		}
		ev := s.requestEvent(SystemActor, ActionReconciled, r)
		ev.Count = r.Plan.CallSize(t.Call)
		name := fmt.Sprintf("call %d of %d", t.Call+1, r.Plan.CallCount())
		switch {
		case st.task != nil:
			t.State, t.TaskID, t.Status, t.Errors, t.Found = CallAccepted, st.task.ID, st.task.Status, st.task.Errors, true
			ev.TaskIDs = []string{st.task.ID}
			ev.Detail = fmt.Sprintf("%s: its answer was lost; found as ISC task %s (%s), which no other request recorded", name, st.task.ID, st.task.Status)
		case st.applied:
			t.State, t.Status, t.Errors, t.Found = CallAccepted, TaskSuccess, nil, true
			ev.Detail = fmt.Sprintf("%s: its answer was lost; applied: %s", name, st.evidence)
		case st.gone:
			t.State = CallUnconfirmed
			t.Errors = []string{fmt.Sprintf("certification %s no longer exists in ISC", r.Plan.CertificationID)}
			ev.Detail = fmt.Sprintf("%s: outcome unknown and certification %q (%s) no longer exists in ISC; nothing resubmitted", name, r.Plan.CertificationName, r.Plan.CertificationID)
		case t.SentAt == nil || s.now().Sub(*t.SentAt) >= s.opts.SubmitLease:
			t.State = CallUnconfirmed
			t.Errors = append(t.Errors, st.why)
			ev.Detail = fmt.Sprintf("%s: outcome unknown, nothing resubmitted — check certification %q (%s): %s", name, r.Plan.CertificationName, r.Plan.CertificationID, st.why)
		default:
			ev.Detail = fmt.Sprintf("%s: not settled yet (%s); certops will read the tenant again", name, st.why)
			if !r.CallLog || hasEvent(events, ActionOutcomeUnknown) {
				events = append(events, ev)
			}
			s.schedulePoll(r.ID, false, false)
			continue
		}
		events = append(events, ev)
		if t.State == CallUnconfirmed {
			tasks = notSentAfter(tasks, t.Call, r.Plan.CallCount())
		}
	}
	// Concluded even with nothing new to record: a submitter may have
	// recorded every call's answer and stopped before moving the request
	// on (conclude writes nothing when there is nothing to move).
	cur, err := s.conclude(ctx, SystemActor, r, tasks, events...)
	if err != nil {
		return cur, err
	}
	if cur.State == StateSubmitting && cur.CallLog && !unsettled(cur) && nextToSend(cur) >= 0 {
		if cur.WaitingFor != "" {
			// Still held back: try again on a later pass, without
			// claiming the call and writing request.waiting again.
			if other, err := s.blocker(ctx, cur); err == nil && other != nil {
				return cur, nil
			}
		}
		return s.submit(ctx, SystemActor, cur)
	}
	return cur, nil
}

// notSentAfter records every call after call i that has no record as not
// sent.
func notSentAfter(tasks []RequestTask, i, n int) []RequestTask {
	have := map[int]bool{}
	for _, t := range tasks {
		have[t.Call] = true
	}
	for j := i + 1; j < n; j++ {
		if !have[j] {
			tasks = append(tasks, RequestTask{Call: j, State: CallNotSent, Errors: []string{fmt.Sprintf("not sent: the outcome of call %d is unknown", i+1)}})
		}
	}
	return tasks
}

func hasEvent(events []Event, a Action) bool {
	for _, ev := range events {
		if ev.Action == a {
			return true
		}
	}
	return false
}

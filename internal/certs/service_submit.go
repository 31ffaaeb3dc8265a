package certs

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Submitting a request's calls to ISC. Only the winner of the compare-and-set
// into submitting ever calls ISC for a request, and nothing here or in the
// worker ever calls it twice for the same call:
//
//   - each returned task id is recorded (compare-and-set from submitting,
//     with a task.submitted event) before the next call is made, so at most
//     one call (the first without a recorded task) can have been made
//     without being recorded;
//   - a call ISC rejects (EINVALID, EFORBIDDEN, ENOTFOUND, ECONFLICT) fails
//     the request with SailPoint's reason and tracking id; calls made
//     before it are listed and not undone;
//   - a call refused before anything was done is retried: 429
//     (ERATELIMITED) rateLimitRetries times, and EUNAVAILABLE (the Tenant
//     could not send it: SailPoint unreachable, see certs.Tenant) for as
//     long as the call's time budget (SubmitLease/2) allows. Trying again
//     cannot duplicate either. If the retries run out, the request fails
//     saying which calls were submitted and which were not sent (notSent,
//     failSubmission for a 429): never "outcome unknown", since nothing
//     of the refused call reached ISC;
//   - a call whose outcome is unknown (EUNKNOWN, or any error that is not a
//     certs.Error) leaves the request in submitting with a
//     request.outcome_unknown event; the worker reconciles it once its
//     lease ends (see service_worker.go) and never resubmits it.
//
// Why fail rather than go back to approved (which the worker would submit
// again after SubmitLease) when SailPoint stays unreachable for the whole
// budget: approved → submitting → approved is not a transition of the
// state machine front ends render (request.go), a long outage would make
// the work land hours after the approver decided, and the retries already
// ride out short outages. The message tells people exactly what to redo.

// rateLimitRetries is how many times a call refused with 429 is tried again.
// A call refused with EUNAVAILABLE is retried until its time budget is
// spent instead.
const rateLimitRetries = 3

// submitApproved claims an approved request for submission (approved →
// submitting) and submits it.
func (s *Service) submitApproved(ctx context.Context, a Actor, r *Request) (*Request, error) {
	ev := s.requestEvent(a, ActionSubmitting, r)
	ev.Detail = fmt.Sprintf("%s in %s", plural(r.Plan.ItemCount, "review item", "review items"), plural(len(r.Plan.Calls), "call", "calls"))
	cur, err := s.opts.Store.UpdateRequest(ctx, r.ID, []RequestState{StateApproved}, func(cur *Request) error {
		cur.State = StateSubmitting
		cur.Updated = s.now()
		return nil
	}, ev)
	if err != nil {
		if ErrorCode(err) == ECONFLICT && cur != nil {
			return cur, s.conflict(ctx, cur)
		}
		return nil, fmt.Errorf("request %s: start submitting: %w", r.ID, err)
	}
	return s.runSubmission(ctx, a, cur)
}

// runSubmission makes the request's ISC calls, in order, from the first
// without a recorded task. r must be in submitting and owned by the caller
// (it won the compare-and-set into submitting).
func (s *Service) runSubmission(ctx context.Context, a Actor, r *Request) (*Request, error) {
	// Once this process owns the submission, a caller going away (a closed
	// connection, Slack's 3-second timeout) must not abandon it halfway.
	ctx = context.WithoutCancel(ctx)
	n := len(r.Plan.Calls)
	for i, call := range r.Plan.Calls {
		if taskOf(r, i) != nil {
			continue
		}
		callCtx, cancel := context.WithTimeout(ctx, s.opts.SubmitLease/2)
		var task *Task
		var err error
		if r.Plan.Sync {
			err = s.withRetry(callCtx, func() error {
				_, err := s.opts.Tenant.Reassign(callCtx, call)
				return err
			})
		} else {
			err = s.withRetry(callCtx, func() (err error) {
				task, err = s.opts.Tenant.ReassignAsync(callCtx, call)
				return err
			})
		}
		cancel()
		switch code := ErrorCode(err); {
		case err == nil && r.Plan.Sync:
			return s.finishSync(ctx, a, r)
		case err == nil:
			r, err = s.recordTask(ctx, a, r, i, task)
			if err != nil {
				return r, err
			}
		case code == EINVALID || code == EFORBIDDEN || code == ENOTFOUND || code == ECONFLICT || code == ERATELIMITED:
			return s.failSubmission(ctx, a, r, i, err)
		case code == EUNAVAILABLE:
			return s.notSent(ctx, a, r, i, err)
		default:
			return s.outcomeUnknown(ctx, a, r, i, err)
		}
	}
	ev := s.requestEvent(a, ActionSubmitted, r)
	ev.TaskIDs = taskIDs(r)
	ev.Detail = fmt.Sprintf("%s submitted to ISC as %s", plural(r.Plan.ItemCount, "review item", "review items"), plural(n, "task", "tasks"))
	cur, err := s.opts.Store.UpdateRequest(ctx, r.ID, []RequestState{StateSubmitting}, func(cur *Request) error {
		cur.State = StateSubmitted
		cur.Error = ""
		cur.Updated = s.now()
		return nil
	}, ev)
	if err != nil {
		return s.lostSubmission(ctx, r, cur, err, "every call was submitted (tasks "+strings.Join(taskIDs(r), ", ")+") but the request could not be marked submitted")
	}
	return cur, nil
}

// recordTask stores call i's task id before the next call is made.
func (s *Service) recordTask(ctx context.Context, a Actor, r *Request, i int, t *Task) (*Request, error) {
	ev := s.requestEvent(a, ActionTaskSubmitted, r)
	ev.TaskIDs = []string{t.ID}
	ev.Count = len(r.Plan.Calls[i].Refs)
	ev.Detail = fmt.Sprintf("call %d of %d: %s moving to ISC task %s (%s)", i+1, len(r.Plan.Calls), plural(ev.Count, "review item", "review items"), t.ID, t.Status)
	cur, err := s.opts.Store.UpdateRequest(ctx, r.ID, []RequestState{StateSubmitting}, func(cur *Request) error {
		if taskOf(cur, i) == nil {
			cur.Tasks = append(cur.Tasks, RequestTask{Call: i, TaskID: t.ID, Status: t.Status, Errors: t.Errors})
		}
		cur.Updated = s.now()
		return nil
	}, ev)
	if err != nil {
		return s.lostSubmission(ctx, r, cur, err, fmt.Sprintf("call %d of %d was submitted as ISC task %s but could not be recorded", i+1, len(r.Plan.Calls), t.ID))
	}
	return cur, nil
}

// lostSubmission reports a record that could not be written after ISC
// accepted work: the request stays as it is, and the worker reconciles it.
func (s *Service) lostSubmission(ctx context.Context, r, cur *Request, err error, what string) (*Request, error) {
	s.log.ErrorContext(ctx, "reassignment submitted but not recorded", "request", r.ID, "detail", what, "err", err)
	if cur == nil {
		cur = r
	}
	return cur, &Error{Code: EUNKNOWN, Message: fmt.Sprintf("request %s: %s; nothing will be resubmitted, the worker will reconcile it with certification %s", r.ID, what, r.Plan.CertificationID), Err: err}
}

// finishSync records a synchronous reassignment's success.
func (s *Service) finishSync(ctx context.Context, a Actor, r *Request) (*Request, error) {
	ev := s.requestEvent(a, ActionCompleted, r)
	ev.Detail = fmt.Sprintf("%s moved to %s synchronously", plural(r.Plan.ItemCount, "review item", "review items"), r.Plan.To.Name)
	cur, err := s.opts.Store.UpdateRequest(ctx, r.ID, []RequestState{StateSubmitting}, func(cur *Request) error {
		cur.State = StateCompleted
		cur.Tasks = []RequestTask{{Call: 0, Status: TaskSuccess}}
		cur.Error = ""
		cur.Updated = s.now()
		return nil
	}, ev)
	if err != nil {
		return s.lostSubmission(ctx, r, cur, err, "the synchronous reassignment succeeded but could not be recorded")
	}
	return cur, nil
}

// failSubmission records that ISC rejected call i.
func (s *Service) failSubmission(ctx context.Context, a Actor, r *Request, i int, cause error) (*Request, error) {
	up := UpstreamOf(cause)
	msg := fmt.Sprintf("SailPoint rejected call %d of %d (%s): %s", i+1, len(r.Plan.Calls), plural(len(r.Plan.Calls[i].Refs), "review item", "review items"), ErrorMessage(cause))
	if done := taskIDs(r); len(done) > 0 {
		msg += fmt.Sprintf(". The %s before it were submitted (tasks %s) and are not undone", plural(len(done), "call", "calls"), strings.Join(done, ", "))
	}
	if rest := len(r.Plan.Calls) - i - 1; rest > 0 {
		msg += fmt.Sprintf("; %s after it were not made", plural(rest, "call", "calls"))
	}
	rt := RequestTask{Call: i, Status: TaskError, Errors: []string{ErrorMessage(cause)}}
	ev := s.requestEvent(a, ActionFailed, r)
	ev.Detail = msg
	ev.TaskIDs = taskIDs(r)
	if up != nil && up.TrackingID != "" {
		rt.TrackingID = up.TrackingID
		ev.TrackingIDs = []string{up.TrackingID}
	}
	cur, err := s.opts.Store.UpdateRequest(ctx, r.ID, []RequestState{StateSubmitting}, func(cur *Request) error {
		cur.State = StateFailed
		cur.Error = msg
		cur.Tasks = append(cur.Tasks, rt)
		cur.Updated = s.now()
		return nil
	}, ev)
	if err != nil {
		s.log.ErrorContext(ctx, "could not record a rejected reassignment", "request", r.ID, "err", err)
		cur = r
	}
	return cur, &Error{Code: ErrorCode(cause), Message: fmt.Sprintf("request %s failed: %s", r.ID, msg), Upstream: up, Err: cause}
}

// outcomeUnknown records that call i may or may not have been applied. The
// request stays in submitting for the worker's reconciliation.
func (s *Service) outcomeUnknown(ctx context.Context, a Actor, r *Request, i int, cause error) (*Request, error) {
	msg := fmt.Sprintf("call %d of %d: outcome unknown (%s); nothing will be resubmitted, the worker will reconcile it with certification %q", i+1, len(r.Plan.Calls), ErrorMessage(cause), r.Plan.CertificationName)
	ev := s.requestEvent(a, ActionOutcomeUnknown, r)
	ev.Detail = msg
	ev.TaskIDs = taskIDs(r)
	if up := UpstreamOf(cause); up != nil && up.TrackingID != "" {
		ev.TrackingIDs = []string{up.TrackingID}
	}
	cur, err := s.opts.Store.UpdateRequest(ctx, r.ID, []RequestState{StateSubmitting}, func(cur *Request) error {
		cur.Error = msg
		return nil
	}, ev)
	if err != nil {
		s.log.ErrorContext(ctx, "could not record an unknown reassignment outcome", "request", r.ID, "err", err)
		cur = r
	}
	s.log.WarnContext(ctx, "reassignment outcome unknown", "request", r.ID, "call", i, "err", cause)
	return cur, &Error{Code: EUNKNOWN, Message: fmt.Sprintf("request %s: %s", r.ID, msg), Upstream: UpstreamOf(cause), Err: cause}
}

// notSent records that call i could not be sent: the Tenant answered
// EUNAVAILABLE (SailPoint unreachable, see certs.Tenant) until the call's
// time budget ran out. The request fails, naming the calls that were
// submitted (their tasks are in ISC and not undone) and those that were
// not sent, each recorded as an ERROR task without a task id. The error
// is EUNAVAILABLE, with the same message.
func (s *Service) notSent(ctx context.Context, a Actor, r *Request, i int, cause error) (*Request, error) {
	n := len(r.Plan.Calls)
	unsentItems := 0
	for _, c := range r.Plan.Calls[i:] {
		unsentItems += len(c.Refs)
	}
	var msg string
	if i == 0 {
		msg = fmt.Sprintf("SailPoint could not be reached; nothing was submitted — none of the %s (%s) was sent to ISC. Plan the reassignment again to retry (%s)",
			plural(unsentItems, "review item", "review items"), plural(n, "call", "calls"), ErrorMessage(cause))
	} else {
		tasks := "task"
		if i > 1 {
			tasks = "tasks"
		}
		sent, sentVerb := callRange(0, i-1)
		rest, restVerb := callRange(i, n-1)
		msg = fmt.Sprintf("SailPoint could not be reached for call %d of %d; %s %s submitted as ISC %s %s and not undone; %s (%s) %s not sent to ISC. Plan those review items again to finish (%s)",
			i+1, n, sent, sentVerb, tasks, strings.Join(taskIDs(r), ", "), rest, plural(unsentItems, "review item", "review items"), restVerb, ErrorMessage(cause))
	}
	var unsent []RequestTask
	for j := i; j < n; j++ {
		unsent = append(unsent, RequestTask{Call: j, Status: TaskError, Errors: []string{"not sent: SailPoint could not be reached"}})
	}
	ev := s.requestEvent(a, ActionFailed, r)
	ev.Detail = msg
	ev.TaskIDs = taskIDs(r)
	cur, err := s.opts.Store.UpdateRequest(ctx, r.ID, []RequestState{StateSubmitting}, func(cur *Request) error {
		cur.State = StateFailed
		cur.Error = msg
		cur.Tasks = append(cur.Tasks, unsent...)
		cur.Updated = s.now()
		return nil
	}, ev)
	if err != nil {
		// Left in submitting: the worker reconciles it after the lease
		// and finds the unsent calls' items still in the certification.
		s.log.ErrorContext(ctx, "could not record an unsent reassignment", "request", r.ID, "call", i, "err", err)
		return r, &Error{Code: EUNAVAILABLE, Message: fmt.Sprintf("request %s: %s; this could not be recorded, the worker will reconcile it", r.ID, msg), Upstream: UpstreamOf(cause), Err: errors.Join(cause, err)}
	}
	s.log.WarnContext(ctx, "reassignment not sent: SailPoint unreachable", "request", r.ID, "call", i, "err", cause)
	return cur, &Error{Code: EUNAVAILABLE, Message: fmt.Sprintf("request %s failed: %s", r.ID, msg), Upstream: UpstreamOf(cause), Err: cause}
}

// callRange names calls from..to (0-based) for people, with the verb that
// agrees: ("call 2", "was"), ("calls 2–3", "were").
func callRange(from, to int) (string, string) {
	if from == to {
		return fmt.Sprintf("call %d", from+1), "was"
	}
	return fmt.Sprintf("calls %d–%d", from+1, to+1), "were"
}

// withRetry calls f again while ISC refused the call without doing
// anything: after a 429 (ERATELIMITED) at most rateLimitRetries times,
// waiting max(TaskPoll, 1s), then twice as long, and so on; after
// EUNAVAILABLE (the call was not sent) for as long as ctx's deadline leaves
// room for the next wait, waiting TaskPoll doubling up to TaskPollMax. It
// returns the last error when it gives up.
func (s *Service) withRetry(ctx context.Context, f func() error) error {
	limitedWait := max(s.opts.TaskPoll, time.Second)
	unavailableWait := s.opts.TaskPoll
	limited := 0
	for {
		err := f()
		var wait time.Duration
		switch ErrorCode(err) {
		case ERATELIMITED:
			if limited == rateLimitRetries {
				return err
			}
			limited++
			wait, limitedWait = limitedWait, limitedWait*2
		case EUNAVAILABLE:
			wait, unavailableWait = unavailableWait, min(unavailableWait*2, s.opts.TaskPollMax)
		default:
			return err
		}
		// The deadline is the real clock's (context.WithTimeout).
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) <= wait {
			return err
		}
		if sleep(ctx, wait) != nil {
			return err
		}
	}
}

func taskOf(r *Request, call int) *RequestTask {
	for i := range r.Tasks {
		if r.Tasks[i].Call == call {
			return &r.Tasks[i]
		}
	}
	return nil
}

func taskIDs(r *Request) []string {
	var ids []string
	for _, t := range r.Tasks {
		if t.TaskID != "" {
			ids = append(ids, t.TaskID)
		}
	}
	return ids
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

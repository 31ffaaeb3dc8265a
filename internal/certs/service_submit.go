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
//     with a task.submitted event) before the next call is made;
//   - a call ISC rejects (EINVALID, EFORBIDDEN, ENOTFOUND) fails the request
//     with SailPoint's reason and tracking id; calls made before it are
//     listed and not undone;
//   - a call whose outcome is unknown (EUNKNOWN, EUNAVAILABLE, anything
//     else) leaves the request in submitting with a request.outcome_unknown
//     event; the worker reconciles it once its lease ends (see
//     service_worker.go) and never resubmits;
//   - a 429 (ERATELIMITED) is the one error retried: ISC refused the call
//     before doing anything, so trying again cannot duplicate it; after
//     rateLimitRetries it fails the request like a rejection.

// rateLimitRetries is how many times a call refused with 429 is tried again.
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
			err = s.withRateLimitRetry(callCtx, func() error {
				_, err := s.opts.Tenant.Reassign(callCtx, call)
				return err
			})
		} else {
			err = s.withRateLimitRetry(callCtx, func() (err error) {
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
		case code == EINVALID || code == EFORBIDDEN || code == ENOTFOUND || code == ERATELIMITED:
			return s.failSubmission(ctx, a, r, i, err)
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

// withRateLimitRetry calls f again when ISC refused it with 429, waiting
// TaskPoll, then twice as long, and so on.
func (s *Service) withRateLimitRetry(ctx context.Context, f func() error) error {
	wait := max(s.opts.TaskPoll, time.Second)
	for attempt := 0; ; attempt++ {
		err := f()
		if ErrorCode(err) != ERATELIMITED || attempt == rateLimitRetries {
			return err
		}
		if serr := sleep(ctx, wait); serr != nil {
			return errors.Join(err, serr)
		}
		wait *= 2
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

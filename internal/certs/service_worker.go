package certs

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Background work: expiry, take-over of abandoned submissions, and following
// ISC tasks. Every step claims its requests through Store.ClaimRequests, so
// with several replicas each request is worked on by one of them at a time,
// and every change is still a compare-and-set, so even a lease that ran out
// mid-step cannot make a change twice.
//
// The reconciliation rule (a request left in submitting, or approved, for
// longer than SubmitLease without a change, i.e. its submitter is gone):
//
//   - approved: nothing was sent to ISC yet (the compare-and-set into
//     submitting comes before any call), so the worker submits it, once, as
//     the submitter would have.
//   - submitting: calls are made in order and each call's task is recorded
//     before the next call is made (service_submit.go), so only the first
//     call without a recorded task can have been made; the calls after it
//     were certainly never sent, and are reported as such, never as
//     "outcome unknown". For that first call the worker looks at the
//     certification: a REASSIGN task pending on it, created since the
//     request and not recorded by another call, is taken as that call's
//     task; if its review items are all gone from the certification it is
//     recorded as applied. If every call is then accounted for, the request
//     goes on (submitted, or completed when nothing is left to follow).
//     Otherwise it fails: with "outcome unknown; nothing resubmitted —
//     check certification X" when the first call could not be confirmed
//     (the worker never submits a call that may have been made, because a
//     duplicate reassignment cannot be undone), and naming the calls never
//     sent.
//
// A call the Tenant refused with EUNAVAILABLE (not sent) does not leave its
// request in submitting: the submitter retries it, then fails the request
// itself, naming what was and was not sent (notSent in service_submit.go).
// Only a submitter that died, or could not write that failure, leaves it
// here; then the worker cannot tell a refused call from a lost one and
// judges by the certification as above.

// claimLimit is how many requests one step claims per pass.
const claimLimit = 100

// RunWorker does background work until ctx ends: expires requests past
// their TTL, reconciles requests left in submitting, and follows submitted
// requests' ISC tasks to completed or failed. Work is claimed per request
// through the Store, so with several replicas each job is done once.
// It returns nil when ctx ends.
func (s *Service) RunWorker(ctx context.Context, interval time.Duration) error {
	if interval <= 0 {
		interval = s.opts.TaskPoll
	}
	for {
		if err := s.Tick(ctx); err != nil && ctx.Err() == nil {
			s.log.ErrorContext(ctx, "certs worker pass", "err", err)
		}
		if sleep(ctx, interval) != nil {
			return nil
		}
	}
}

// Tick runs one pass of RunWorker's work (for tests and for start-up).
func (s *Service) Tick(ctx context.Context) error {
	return errors.Join(s.expireDue(ctx), s.takeOverStale(ctx), s.followSubmitted(ctx))
}

// expireDue moves pending requests past ExpiresAt to expired.
func (s *Service) expireDue(ctx context.Context) error {
	// A read, not a claim: most passes find nothing due, and claiming every
	// pending request on every pass would write to the database for
	// nothing. Expiring is itself a compare-and-set from pending, so two
	// replicas expiring the same request record it once.
	pending, err := s.opts.Store.ListRequests(ctx, RequestFilter{States: []RequestState{StatePending}})
	if err != nil {
		return fmt.Errorf("list pending requests: %w", err)
	}
	var errs []error
	now := s.now()
	for _, r := range pending {
		if now.After(r.ExpiresAt) {
			if _, err := s.expire(ctx, SystemActor, r); ErrorCode(err) != ECONFLICT {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// takeOverStale submits approved requests and reconciles submitting ones
// whose submitter has gone quiet for SubmitLease.
func (s *Service) takeOverStale(ctx context.Context) error {
	claimed, err := s.opts.Store.ClaimRequests(ctx, s.opts.Owner, []RequestState{StateApproved, StateSubmitting}, s.opts.ClaimLease, claimLimit)
	if err != nil {
		return fmt.Errorf("claim requests being submitted: %w", err)
	}
	var errs []error
	for _, r := range claimed {
		if s.now().Sub(r.Updated) >= s.opts.SubmitLease {
			var err error
			switch r.State {
			case StateApproved:
				var cur *Request
				cur, err = s.submitApproved(ctx, SystemActor, r)
				if c := ErrorCode(err); c == EINVALID || c == EFORBIDDEN || c == ENOTFOUND || c == EUNKNOWN || c == ECONFLICT ||
					c == ERATELIMITED || (cur != nil && cur.State.Final()) {
					err = nil // recorded on the request; nothing for the worker to retry
				}
			case StateSubmitting:
				_, err = s.reconcile(ctx, r)
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("request %s: %w", r.ID, err))
			}
		}
		errs = append(errs, s.release(ctx, r.ID))
	}
	return errors.Join(errs...)
}

// reconcile settles a request left in submitting (see the rule above).
func (s *Service) reconcile(ctx context.Context, r *Request) (*Request, error) {
	certID := r.Plan.CertificationID
	pending, err := s.opts.Tenant.ListPendingTasks(ctx, certID)
	if ErrorCode(err) == ENOTFOUND {
		return s.failReconciliation(ctx, r, fmt.Sprintf("outcome unknown; nothing resubmitted — certification %q (%s) no longer exists in ISC", r.Plan.CertificationName, certID))
	}
	if err != nil {
		return nil, fmt.Errorf("pending tasks of certification %s: %w", certID, err)
	}
	used := map[string]bool{}
	for _, t := range r.Tasks {
		used[t.TaskID] = true
	}
	var found []RequestTask
	var notes, unknown []string
	first := firstUnrecorded(r)
	if first >= 0 {
		call := r.Plan.Calls[first]
		if t := matchingTask(pending, used, certID, r.Plan.To.ID, r.Created); t != nil {
			found = append(found, RequestTask{Call: first, TaskID: t.ID, Status: t.Status, Errors: t.Errors})
			notes = append(notes, fmt.Sprintf("call %d found as pending ISC task %s", first+1, t.ID))
		} else {
			left, err := s.refsLeft(ctx, certID, call.Refs)
			if err != nil {
				return nil, err
			}
			if left == 0 {
				found = append(found, RequestTask{Call: first, Status: TaskSuccess})
				notes = append(notes, fmt.Sprintf("call %d applied: its %s are no longer in the certification", first+1, plural(len(call.Refs), "review item", "review items")))
			} else {
				unknown = append(unknown, fmt.Sprintf("call %d (%d of %d items still in the certification)", first+1, left, len(call.Refs)))
			}
		}
	}
	neverSent := ""
	if n := len(r.Plan.Calls); first >= 0 && first+1 < n {
		items := 0
		for _, c := range r.Plan.Calls[first+1:] {
			items += len(c.Refs)
		}
		calls, verb := callRange(first+1, n-1)
		neverSent = fmt.Sprintf("%s (%s) %s never sent to ISC", calls, plural(items, "review item", "review items"), verb)
	}

	rec := s.requestEvent(SystemActor, ActionReconciled, r)
	var next Event
	state := StateSubmitted
	msg := ""
	switch {
	case len(unknown) > 0:
		state = StateFailed
		msg = fmt.Sprintf("outcome unknown; nothing resubmitted — check certification %q (%s): %s could not be confirmed", r.Plan.CertificationName, certID, strings.Join(unknown, ", "))
		if len(notes) > 0 {
			msg += "; " + strings.Join(notes, "; ")
		}
		if neverSent != "" {
			msg += "; " + neverSent
		}
		next = s.requestEvent(SystemActor, ActionFailed, r)
		next.Detail = msg
	case neverSent != "":
		// The first unrecorded call is accounted for, but its answer was
		// lost, so the submitter stopped there.
		state = StateFailed
		msg = fmt.Sprintf("submission stopped at call %d, whose answer from ISC was lost: %s; %s. Nothing was resubmitted — plan those review items again to finish (certification %q, %s)",
			first+1, strings.Join(notes, "; "), neverSent, r.Plan.CertificationName, certID)
		next = s.requestEvent(SystemActor, ActionFailed, r)
		next.Detail = msg
	default:
		next = s.requestEvent(SystemActor, ActionSubmitted, r)
		next.Detail = "all calls accounted for after reconciliation"
	}
	if len(notes) == 0 {
		notes = append(notes, "every call already had its task")
	}
	rec.Detail = strings.Join(notes, "; ")
	for _, t := range found {
		if t.TaskID != "" {
			rec.TaskIDs = append(rec.TaskIDs, t.TaskID)
		}
	}
	next.TaskIDs = append(taskIDs(r), rec.TaskIDs...)
	events := []Event{rec, next}
	tasks := append(append([]RequestTask(nil), r.Tasks...), found...)
	if state == StateSubmitted && allDone(r, tasks) {
		state, msg = finalState(r, tasks)
		done := s.requestEvent(SystemActor, ActionCompleted, r)
		if state == StateFailed {
			done = s.requestEvent(SystemActor, ActionFailed, r)
		}
		done.Detail = msg
		done.TaskIDs = next.TaskIDs
		events = append(events, done)
	}
	cur, err := s.opts.Store.UpdateRequest(ctx, r.ID, []RequestState{StateSubmitting}, func(cur *Request) error {
		if cur.Version != r.Version {
			return errStale
		}
		cur.Tasks = tasks
		cur.State = state
		cur.Error = msg
		cur.Updated = s.now()
		return nil
	}, events...)
	if errors.Is(err, errStale) || ErrorCode(err) == ECONFLICT {
		return cur, nil // someone else moved it on; they own it now
	}
	if err != nil {
		return nil, fmt.Errorf("record reconciliation: %w", err)
	}
	return cur, nil
}

// firstUnrecorded is the index of the first call without a recorded task,
// or -1.
func firstUnrecorded(r *Request) int {
	for i := range r.Plan.Calls {
		if taskOf(r, i) == nil {
			return i
		}
	}
	return -1
}

// failReconciliation fails a request left in submitting with msg.
func (s *Service) failReconciliation(ctx context.Context, r *Request, msg string) (*Request, error) {
	rec := s.requestEvent(SystemActor, ActionReconciled, r)
	rec.Detail = msg
	failed := s.requestEvent(SystemActor, ActionFailed, r)
	failed.Detail = msg
	failed.TaskIDs = taskIDs(r)
	cur, err := s.opts.Store.UpdateRequest(ctx, r.ID, []RequestState{StateSubmitting}, func(cur *Request) error {
		if cur.Version != r.Version {
			return errStale
		}
		cur.State, cur.Error, cur.Updated = StateFailed, msg, s.now()
		return nil
	}, rec, failed)
	if errors.Is(err, errStale) || ErrorCode(err) == ECONFLICT {
		return cur, nil
	}
	if err != nil {
		return nil, fmt.Errorf("record reconciliation: %w", err)
	}
	return cur, nil
}

// matchingTask finds a pending reassignment task on the certification,
// created since the request (with a minute's allowance for clock skew),
// moving work to the plan's target when its trail says, and not already
// recorded for another call.
func matchingTask(pending []Task, used map[string]bool, certID, to string, since time.Time) *Task {
	for i := range pending {
		t := &pending[i]
		if used[t.ID] || (t.Type != TaskReassign && t.Type != TaskAdminReassign) {
			continue
		}
		if t.TargetID != "" && t.TargetID != certID {
			continue
		}
		if !t.Created.IsZero() && t.Created.Before(since.Add(-time.Minute)) {
			continue
		}
		if len(t.Trail) > 0 && !slices.ContainsFunc(t.Trail, func(tr ReassignmentTrail) bool { return tr.NewOwner == to }) {
			continue
		}
		return t
	}
	return nil
}

// refsLeft counts the refs still in the certification.
func (s *Service) refsLeft(ctx context.Context, certID string, refs []Ref) (int, error) {
	ids := make([]string, len(refs))
	for i, r := range refs {
		ids[i] = r.ID
	}
	left := 0
	for _, chunk := range chunks(ids, idsPerFilter) {
		items, err := s.allItems(ctx, certID, ReviewItemFilter{IDs: chunk})
		if err != nil {
			return 0, err
		}
		left += len(items)
	}
	return left, nil
}

// followSubmitted reads the tasks of submitted requests that are due a poll.
func (s *Service) followSubmitted(ctx context.Context) error {
	claimed, err := s.opts.Store.ClaimRequests(ctx, s.opts.Owner, []RequestState{StateSubmitted}, s.opts.ClaimLease, claimLimit)
	if err != nil {
		return fmt.Errorf("claim submitted requests: %w", err)
	}
	var errs []error
	for _, r := range claimed {
		if s.pollDue(r.ID) {
			cur, changed, err := s.followOnce(ctx, r)
			s.schedulePoll(r.ID, changed, cur != nil && cur.State.Final())
			if err != nil {
				errs = append(errs, fmt.Errorf("request %s: %w", r.ID, err))
			}
		}
		errs = append(errs, s.release(ctx, r.ID))
	}
	return errors.Join(errs...)
}

// followOnce reads the ISC tasks of a submitted request once and records
// what changed; when every task is done the request becomes completed (all
// SUCCESS) or failed (any ERROR, with the errors).
func (s *Service) followOnce(ctx context.Context, r *Request) (*Request, bool, error) {
	tasks := append([]RequestTask(nil), r.Tasks...)
	var events []Event
	var errs []error
	for i := range tasks {
		rt := &tasks[i]
		if rt.TaskID == "" || rt.Status.Done() {
			continue
		}
		t, err := s.opts.Tenant.GetTask(ctx, rt.TaskID)
		if ErrorCode(err) == ENOTFOUND {
			// ISC no longer knows the task: judge by the items, as
			// reconciliation does.
			t, err = s.vanishedTask(ctx, r, rt)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("task %s: %w", rt.TaskID, err))
			continue
		}
		if t.Status == rt.Status {
			continue
		}
		ev := s.requestEvent(SystemActor, ActionTaskProgress, r)
		ev.TaskIDs = []string{t.ID}
		ev.Count = len(r.Plan.Calls[rt.Call].Refs)
		ev.Detail = fmt.Sprintf("call %d of %d: task %s %s → %s", rt.Call+1, len(r.Plan.Calls), t.ID, orQueued(rt.Status), t.Status)
		if len(t.Errors) > 0 {
			ev.Detail += ": " + strings.Join(t.Errors, "; ")
		}
		events = append(events, ev)
		rt.Status, rt.Errors = t.Status, t.Errors
	}
	state, msg := StateSubmitted, ""
	if allDone(r, tasks) {
		state, msg = finalState(r, tasks)
		done := s.requestEvent(SystemActor, ActionCompleted, r)
		if state == StateFailed {
			done = s.requestEvent(SystemActor, ActionFailed, r)
		}
		done.Detail = msg
		done.TaskIDs = taskIDs(r)
		events = append(events, done)
	}
	if len(events) == 0 {
		return r, false, errors.Join(errs...)
	}
	cur, err := s.opts.Store.UpdateRequest(ctx, r.ID, []RequestState{StateSubmitted}, func(cur *Request) error {
		if cur.Version != r.Version {
			return errStale
		}
		cur.Tasks = tasks
		cur.State = state
		cur.Error = msg
		cur.Updated = s.now()
		return nil
	}, events...)
	if errors.Is(err, errStale) || ErrorCode(err) == ECONFLICT {
		// Another follower recorded it first: read what it wrote.
		fresh, gerr := s.opts.Store.GetRequest(ctx, r.ID)
		if gerr != nil {
			return r, false, gerr
		}
		return fresh, true, errors.Join(errs...)
	}
	if err != nil {
		return r, false, fmt.Errorf("record task progress: %w", err)
	}
	return cur, true, errors.Join(errs...)
}

// vanishedTask stands in for a task ISC answers 404 for: SUCCESS when the
// call's items have all left the certification, else ERROR.
func (s *Service) vanishedTask(ctx context.Context, r *Request, rt *RequestTask) (*Task, error) {
	refs := r.Plan.Calls[rt.Call].Refs
	left, err := s.refsLeft(ctx, r.Plan.CertificationID, refs)
	if err != nil {
		return nil, err
	}
	t := &Task{ID: rt.TaskID, Status: TaskSuccess}
	if left > 0 {
		t.Status = TaskError
		t.Errors = []string{fmt.Sprintf("ISC no longer knows task %s and %d of its %d review items are still in certification %s", rt.TaskID, left, len(refs), r.Plan.CertificationID)}
	}
	return t, nil
}

// allDone reports whether every call has a finished task.
func allDone(r *Request, tasks []RequestTask) bool {
	done := map[int]bool{}
	for _, t := range tasks {
		if t.Status.Done() {
			done[t.Call] = true
		}
	}
	return len(done) == len(r.Plan.Calls)
}

// finalState is completed when every task succeeded, else failed with the
// tasks' errors.
func finalState(r *Request, tasks []RequestTask) (RequestState, string) {
	var failed []string
	for _, t := range tasks {
		if t.Status == TaskError {
			e := strings.Join(t.Errors, "; ")
			if e == "" {
				e = "no reason given"
			}
			failed = append(failed, fmt.Sprintf("call %d (task %s): %s", t.Call+1, t.TaskID, e))
		}
	}
	if len(failed) == 0 {
		return StateCompleted, ""
	}
	return StateFailed, fmt.Sprintf("ISC reported errors for %d of %d calls: %s", len(failed), len(r.Plan.Calls), strings.Join(failed, " | "))
}

func orQueued(s TaskStatus) TaskStatus {
	if s == "" {
		return TaskQueued
	}
	return s
}

// FollowRequest polls a request until it is final or ctx ends, reading its
// ISC tasks itself when it is submitted (so a caller need not wait for the
// worker), waiting TaskPoll doubling up to TaskPollMax between reads. It
// returns the request as last seen; when ctx ends first, with an
// EUNAVAILABLE error saying where the request is.
func (s *Service) FollowRequest(ctx context.Context, a Actor, id string) (*Request, error) {
	r, err := s.readRequest(ctx, a, id)
	if err != nil {
		return nil, err
	}
	wait := s.opts.TaskPoll
	for {
		if r.State == StateSubmitted {
			if cur, _, err := s.followOnce(ctx, r); err == nil || cur != nil {
				r = cur
			}
		}
		if r.State.Final() {
			return r, nil
		}
		if err := sleep(ctx, wait); err != nil {
			return r, &Error{Code: EUNAVAILABLE, Message: fmt.Sprintf("request %s is still %s; follow it again later", r.ID, r.State), Err: err}
		}
		wait = min(wait*2, s.opts.TaskPollMax)
		fresh, err := s.opts.Store.GetRequest(ctx, id)
		if err != nil {
			if ctx.Err() != nil {
				return r, &Error{Code: EUNAVAILABLE, Message: fmt.Sprintf("request %s is still %s; follow it again later", r.ID, r.State), Err: err}
			}
			return r, fmt.Errorf("request %s: %w", id, err)
		}
		r = fresh
	}
}

// pollDue reports whether this process should read the request's tasks now.
func (s *Service) pollDue(id string) bool {
	s.pollMu.Lock()
	defer s.pollMu.Unlock()
	p, ok := s.polls[id]
	return !ok || !s.now().Before(p.next)
}

// schedulePoll sets the next read: TaskPoll after a change, else twice the
// last wait, up to TaskPollMax.
func (s *Service) schedulePoll(id string, changed, final bool) {
	s.pollMu.Lock()
	defer s.pollMu.Unlock()
	if final {
		delete(s.polls, id)
		return
	}
	p := s.polls[id]
	switch {
	case changed || p.wait == 0:
		p.wait = s.opts.TaskPoll
	default:
		p.wait = min(p.wait*2, s.opts.TaskPollMax)
	}
	p.next = s.now().Add(p.wait)
	s.polls[id] = p
}

func (s *Service) release(ctx context.Context, id string) error {
	if err := s.opts.Store.ReleaseRequest(context.WithoutCancel(ctx), id, s.opts.Owner); err != nil {
		return fmt.Errorf("release request %s: %w", id, err)
	}
	return nil
}

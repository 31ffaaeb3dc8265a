package certs

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Background work: expiry, submissions left by their submitter (waiting,
// unknown outcomes, crashed submitters: settle.go), and following ISC tasks
// (step 5 of lifecycle.go). Every step claims its requests through
// Store.ClaimRequests, so with several replicas each request is worked on by
// one of them at a time, and every change is still a compare-and-set, so
// even a lease that ran out mid-step cannot make a change twice. The loop
// that runs Tick is internal/app's RunWorker.

// claimLimit is how many requests one step claims per pass.
const claimLimit = 100

// Tick runs one pass of the background work.
func (s *Service) Tick(ctx context.Context) error {
	ctx = Background(ctx) // nobody waits on this pass: its SailPoint calls go after people's
	return errors.Join(s.expireDue(ctx), s.advanceSubmissions(ctx), s.followSubmitted(ctx))
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
// what changed; when every call is finished the request becomes completed
// or failed (conclude).
func (s *Service) followOnce(ctx context.Context, r *Request) (*Request, bool, error) {
	next := Request{Tasks: append([]RequestTask(nil), r.Tasks...)}
	kind := kindOf(&r.Plan)
	var events []Event
	var errs []error
	for i := range next.Tasks {
		rt := &next.Tasks[i]
		if rt.TaskID == "" || rt.Finished() {
			continue
		}
		t, err := s.opts.Tenant.GetTask(ctx, rt.TaskID)
		if ErrorCode(err) == ENOTFOUND {
			t, err = s.vanishedTask(ctx, kind, r, rt)
		} else if err == nil && t.Status == TaskSuccess && rt.Found {
			// A task taken for this call after its answer was lost: its
			// success counts only if the items are where the call sent them.
			t, err = s.confirmFoundTask(ctx, kind, r, rt, t)
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
		ev.Count = r.Plan.CallSize(rt.Call)
		ev.Detail = fmt.Sprintf("call %d of %d: task %s %s → %s", rt.Call+1, r.Plan.CallCount(), t.ID, orQueued(rt.Status), t.Status)
		if len(t.Errors) > 0 {
			ev.Detail += ": " + strings.Join(t.Errors, "; ")
		}
		events = append(events, ev)
		rt.Status, rt.Errors = t.Status, t.Errors
	}
	if len(events) == 0 {
		return r, false, errors.Join(errs...)
	}
	cur, err := s.conclude(ctx, SystemActor, r, next.Tasks, events...)
	if err != nil {
		return r, false, errors.Join(append(errs, err)...)
	}
	return cur, true, errors.Join(errs...)
}

// vanishedTask stands in for a task ISC answers 404 for: SUCCESS when the
// call's effect is visible in the tenant, else ERROR saying what was found.
func (s *Service) vanishedTask(ctx context.Context, kind changeKind, r *Request, rt *RequestTask) (*Task, error) {
	ok, why, err := kind.applied(ctx, s, r, rt.Call)
	if err != nil {
		return nil, err
	}
	t := &Task{ID: rt.TaskID, Status: TaskSuccess}
	if !ok {
		t.Status = TaskError
		t.Errors = []string{fmt.Sprintf("ISC no longer knows task %s, and %s", rt.TaskID, why)}
	}
	return t, nil
}

// confirmFoundTask checks that a task found by settling, now SUCCESS, did
// what the call asked; otherwise it was not this call's task after all.
func (s *Service) confirmFoundTask(ctx context.Context, kind changeKind, r *Request, rt *RequestTask, t *Task) (*Task, error) {
	ok, why, err := kind.applied(ctx, s, r, rt.Call)
	if err != nil || ok {
		return t, err
	}
	return &Task{ID: t.ID, Status: TaskError, Errors: []string{fmt.Sprintf("task %s, taken for this call after its answer was lost, succeeded, but %s: the call's outcome is unknown, nothing was resubmitted", t.ID, why)}}, nil
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

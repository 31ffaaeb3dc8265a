package certs

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Submitting a request's calls to ISC: step 3 of lifecycle.go. Only the
// winner of the compare-and-set into submitting (startSubmission), or the
// worker that took over from a submitter gone quiet, runs submit, and each
// call is claimed by a compare-and-set before it is sent, so no call is
// ever made twice.
//
// How each answer is recorded (before the next call is made):
//
//   - a task (or, synchronously, done): accepted, with a task.submitted
//     event;
//   - refused by SailPoint (EINVALID, EFORBIDDEN, ENOTFOUND, ECONFLICT), or
//     still 429 after rateLimitRetries: rejected, with SailPoint's reason
//     and tracking id; the calls after it are not sent, those before it are
//     followed to the end;
//   - not sent (EUNAVAILABLE: SailPoint unreachable) after retrying for the
//     call's budget (SubmitLease/2): this call and those after it are not
//     sent; the message says what was and was not sent;
//   - outcome unknown (EUNKNOWN, or any error that is not a *Error):
//     unknown, with a request.outcome_unknown event; the worker settles it
//     (settle.go) and never sends it again.
//
// Why stop at a refused or unsent call rather than try it later: a long
// outage would make the work land hours after the approver decided; the
// retries ride out short ones, and the message says exactly what to redo.

// rateLimitRetries is how many times a call refused with 429 is tried again.
// A call refused with EUNAVAILABLE is retried until its time budget is
// spent instead.
const rateLimitRetries = 3

// errExpired aborts a compare-and-set on a request found past its expiry.
var errExpired = errors.New("request expired")

// startSubmission moves r from pending (or a legacy approved) to submitting
// on a's decision, then submits it. It is the only way into submitting.
// The caller has checked that a may decide. When the decision loses (another
// decided first, or the request expired) the error is ECONFLICT saying who
// decided what, with the current request.
func (s *Service) startSubmission(ctx context.Context, a Actor, r *Request, reason string) (*Request, error) {
	var events []Event
	if r.State != StateApproved {
		approved := s.requestEvent(a, ActionRequestApproved, r)
		approved.Detail = withDigest(reason, r.Plan.Digest)
		events = append(events, approved)
	}
	submitting := s.requestEvent(a, ActionSubmitting, r)
	submitting.Detail = fmt.Sprintf("%s in %s", plural(r.Plan.ItemCount, "review item", "review items"), plural(r.Plan.CallCount(), "call", "calls"))
	events = append(events, submitting)
	cur, err := s.move(ctx, r, tApprove, false, func(cur *Request) error {
		if cur.State == StatePending {
			if s.now().After(cur.ExpiresAt) {
				return errExpired
			}
			cur.DecidedBy = &a
			cur.DecisionReason = reason
		}
		cur.CallLog = true
		return nil
	}, events...)
	if err != nil {
		cur, err = s.decisionFailed(ctx, a, r.ID, cur, err)
		s.refused(err)
		return cur, err
	}
	return s.submit(ctx, a, cur)
}

// withDigest prefixes a decision event's detail with the digest of the plan
// decided, so that the audit trail says exactly what was confirmed.
func withDigest(detail, digest string) string {
	if detail == "" {
		return "digest " + digest
	}
	return "digest " + digest + ": " + detail
}

// submit sends r's calls in order, from the first without a record. r is in
// submitting. It returns the request as left: submitting while a call
// waits or is being settled, else submitted, completed or failed.
func (s *Service) submit(ctx context.Context, a Actor, r *Request) (*Request, error) {
	// Once this process owns the submission, a caller going away (a closed
	// connection, Slack's 3-second timeout) must not abandon it halfway.
	ctx = context.WithoutCancel(ctx)
	kind := kindOf(&r.Plan)
	for {
		i := nextToSend(r)
		if i < 0 || unsettled(r) {
			break
		}
		claimed, err := s.claimCall(ctx, r, i)
		if err != nil {
			if lostRace(err) {
				return claimed, nil // another submitter has it
			}
			return r, fmt.Errorf("request %s: claim call %d: %w", r.ID, i+1, err)
		}
		r = claimed
		if other, err := s.blocker(ctx, r); err != nil || other != nil {
			return s.wait(ctx, a, r, i, other, err)
		}
		callCtx, cancel := context.WithTimeout(ctx, s.opts.SubmitLease/2)
		var task *Task
		err = s.withRetry(callCtx, func() (err error) {
			task, err = kind.send(callCtx, s.opts.Tenant, &r.Plan, i)
			return err
		})
		cancel()
		switch code := ErrorCode(err); {
		case err == nil:
			r, err = s.recordAccepted(ctx, a, r, i, task)
			if err != nil {
				return r, err
			}
		case code == EINVALID || code == EFORBIDDEN || code == ENOTFOUND || code == ECONFLICT || code == ERATELIMITED:
			return s.recordRefused(ctx, a, r, i, CallRejected, err)
		case code == EUNAVAILABLE:
			return s.recordRefused(ctx, a, r, i, CallNotSent, err)
		default:
			return s.recordUnknown(ctx, a, r, i, err)
		}
	}
	return s.conclude(ctx, a, r, nil)
}

// nextToSend is the first call without a record, or -1.
func nextToSend(r *Request) int {
	for i := range r.Plan.CallCount() {
		if r.call(i) == nil {
			return i
		}
	}
	return -1
}

// unsettled reports whether one of r's calls is being sent or has an
// unknown outcome.
func unsettled(r *Request) bool {
	for _, t := range r.Tasks {
		if t.State == CallSending || t.State == CallUnknown {
			return true
		}
	}
	return false
}

// claimCall records call i as sending; it fails with ECONFLICT or errStale
// when someone else recorded anything about it first.
func (s *Service) claimCall(ctx context.Context, r *Request, i int) (*Request, error) {
	now := s.now()
	return s.move(ctx, r, tRecord, false, func(cur *Request) error {
		if cur.call(i) != nil || unsettled(cur) {
			return errStale
		}
		cur.Tasks = append(cur.Tasks, RequestTask{Call: i, State: CallSending, SentAt: &now})
		cur.WaitingFor = ""
		return nil
	})
}

// blocker returns another request whose call to the same certification is
// being sent or has an unknown outcome: while there is one, r sends
// nothing, so that a reading of the tenant can tell their effects apart.
// Both requests may see each other and both wait; the worker then sends
// them one at a time.
func (s *Service) blocker(ctx context.Context, r *Request) (*Request, error) {
	others, err := s.opts.Store.ListRequests(ctx, RequestFilter{CertificationID: r.Plan.CertificationID, States: []RequestState{StateSubmitting}})
	if err != nil {
		return nil, fmt.Errorf("requests of certification %s: %w", r.Plan.CertificationID, err)
	}
	for _, o := range others {
		if o.ID != r.ID && unsettled(o) {
			return o, nil
		}
	}
	return nil, nil
}

// wait takes back r's claim on call i, which was not sent because other is
// being sent or settled (or the check failed: cause), and leaves r for the
// worker to send later.
func (s *Service) wait(ctx context.Context, a Actor, r *Request, i int, other *Request, cause error) (*Request, error) {
	why := ""
	if other != nil {
		why = fmt.Sprintf("request %s is sending to certification %q or settling a lost answer from it", other.ID, r.Plan.CertificationName)
	} else {
		why = "the other requests of the certification could not be read (" + ErrorMessage(cause) + ")"
	}
	ev := s.requestEvent(a, ActionWaiting, r)
	ev.Detail = fmt.Sprintf("call %d of %d not sent yet: %s; it will be sent once that is settled", i+1, r.Plan.CallCount(), why)
	cur, err := s.move(ctx, r, tRecord, false, func(cur *Request) error {
		t := cur.call(i)
		if t == nil || t.State != CallSending {
			return errStale
		}
		cur.Tasks = dropCall(cur.Tasks, i)
		cur.WaitingFor = "certification " + r.Plan.CertificationID
		if other != nil {
			cur.WaitingFor = other.ID
		}
		return nil
	}, ev)
	if err != nil {
		// The claim stays: after SubmitLease the worker treats it as an
		// unknown outcome, reads the tenant and finds nothing sent.
		s.log.ErrorContext(ctx, "could not take back a call claim", "request", r.ID, "call", i, "err", err)
		return r, nil
	}
	s.log.InfoContext(ctx, "request waits for another on the same certification", "request", r.ID, "call", i, "waiting_for", cur.WaitingFor)
	return cur, nil
}

func dropCall(tasks []RequestTask, i int) []RequestTask {
	out := tasks[:0:0]
	for _, t := range tasks {
		if t.Call != i {
			out = append(out, t)
		}
	}
	return out
}

// updateCall changes call i's record, which must still be in state want.
func updateCall(cur *Request, i int, want CallState, change func(*RequestTask)) error {
	t := cur.call(i)
	if t == nil || t.State != want {
		return errStale
	}
	change(t)
	return nil
}

// recordAccepted records ISC's answer to call i: task (nil for a
// synchronous call, done when answered).
func (s *Service) recordAccepted(ctx context.Context, a Actor, r *Request, i int, task *Task) (*Request, error) {
	n := r.Plan.CallCount()
	ev := s.requestEvent(a, ActionTaskSubmitted, r)
	ev.Count = r.Plan.CallSize(i)
	if task != nil {
		ev.TaskIDs = []string{task.ID}
		ev.Detail = fmt.Sprintf("call %d of %d: %s moving to ISC task %s (%s)", i+1, n, plural(ev.Count, "review item", "review items"), task.ID, task.Status)
	} else {
		ev.Detail = fmt.Sprintf("call %d of %d: %s moved (synchronous call)", i+1, n, plural(ev.Count, "review item", "review items"))
	}
	ev.Detail += "; digest " + r.Plan.Digest
	cur, err := s.move(ctx, r, tRecord, false, func(cur *Request) error {
		return updateCall(cur, i, CallSending, func(t *RequestTask) {
			t.State = CallAccepted
			if task != nil {
				t.TaskID, t.Status, t.Errors = task.ID, task.Status, task.Errors
			} else {
				t.Status = TaskSuccess
			}
		})
	}, ev)
	if err != nil {
		what := fmt.Sprintf("call %d of %d was accepted by ISC", i+1, n)
		if task != nil {
			what += " as task " + task.ID
		}
		return s.unrecorded(ctx, r, err, what)
	}
	return cur, nil
}

// unrecorded reports an answer that could not be written after ISC
// accepted work: the call stays marked sending, and the worker settles it
// by reading the tenant after SubmitLease.
func (s *Service) unrecorded(ctx context.Context, r *Request, err error, what string) (*Request, error) {
	s.log.ErrorContext(ctx, "ISC call made but its answer not recorded", "request", r.ID, "detail", what, "err", err)
	return r, &Error{Code: EUNKNOWN, Message: fmt.Sprintf("request %s: %s but this could not be recorded; nothing will be resubmitted, certops will check certification %q", r.ID, what, r.Plan.CertificationName), Err: err}
}

// recordRefused records call i as rejected by SailPoint, or not sent
// (SailPoint unreachable), and the calls after it as not sent; calls
// before it go on to be followed. The error says what was and was not sent.
func (s *Service) recordRefused(ctx context.Context, a Actor, r *Request, i int, state CallState, cause error) (*Request, error) {
	up := UpstreamOf(cause)
	reason := plainMessage(cause)
	if ErrorCode(cause) == ERATELIMITED {
		// SailPoint's own words ("try again in 1s") are no longer true
		// once the retries are spent.
		reason = fmt.Sprintf("SailPoint answered 429 Too Many Requests %d times in a row; nothing was applied", rateLimitRetries+1)
	}
	cur, err := s.move(ctx, r, tRecord, false, func(cur *Request) error {
		err := updateCall(cur, i, CallSending, func(t *RequestTask) {
			t.State, t.Status, t.Errors = state, TaskError, []string{reason}
			if state == CallNotSent {
				t.Errors = []string{"not sent: SailPoint could not be reached (" + reason + ")"}
			}
			if up != nil {
				t.TrackingID = up.TrackingID
			}
		})
		if err != nil {
			return err
		}
		for j := i + 1; j < cur.Plan.CallCount(); j++ {
			if cur.call(j) == nil {
				cur.Tasks = append(cur.Tasks, RequestTask{Call: j, State: CallNotSent, Errors: []string{fmt.Sprintf("not sent: call %d did not go through", i+1)}})
			}
		}
		return nil
	})
	if err != nil {
		s.log.ErrorContext(ctx, "could not record a refused call", "request", r.ID, "call", i, "err", err)
		return r, &Error{Code: ErrorCode(cause), Message: fmt.Sprintf("request %s: call %d of %d did not go through (%s) and this could not be recorded; certops will check certification %q", r.ID, i+1, r.Plan.CallCount(), reason, r.Plan.CertificationName), Upstream: up, Err: errors.Join(cause, err)}
	}
	if state == CallNotSent {
		s.log.WarnContext(ctx, "call not sent: SailPoint unreachable", "request", r.ID, "call", i, "err", cause)
	}
	cur, err = s.conclude(ctx, a, cur, nil)
	if err != nil {
		return cur, err
	}
	what := "SailPoint refused"
	if state == CallNotSent {
		what = "SailPoint could not be reached for"
	}
	msg := fmt.Sprintf("%s call %d of %d: %s", what, i+1, r.Plan.CallCount(), describeCalls(cur, false))
	if i == 0 && r.Plan.CallCount() == 1 {
		msg = fmt.Sprintf("%s the call (%s): %s; nothing was applied", what, plural(r.Plan.ItemCount, "review item", "review items"), reason)
	}
	return cur, &Error{Code: ErrorCode(cause), Message: fmt.Sprintf("request %s: %s", r.ID, msg), Upstream: up, Err: cause}
}

// recordUnknown records that call i may or may not have been applied. The
// request stays in submitting until the worker settles the call.
func (s *Service) recordUnknown(ctx context.Context, a Actor, r *Request, i int, cause error) (*Request, error) {
	msg := fmt.Sprintf("call %d of %d (%s): outcome unknown (%s); nothing will be resubmitted, certops is reading certification %q to find out",
		i+1, r.Plan.CallCount(), plural(r.Plan.CallSize(i), "review item", "review items"), plainMessage(cause), r.Plan.CertificationName)
	ev := s.requestEvent(a, ActionOutcomeUnknown, r)
	ev.Detail = msg
	up := UpstreamOf(cause)
	if up != nil && up.TrackingID != "" {
		ev.TrackingIDs = []string{up.TrackingID}
	}
	cur, err := s.move(ctx, r, tRecord, false, func(cur *Request) error {
		return updateCall(cur, i, CallSending, func(t *RequestTask) {
			t.State = CallUnknown
			t.Errors = []string{plainMessage(cause)}
			if up != nil {
				t.TrackingID = up.TrackingID
			}
		})
	}, ev)
	if err != nil {
		s.log.ErrorContext(ctx, "could not record an unknown outcome", "request", r.ID, "err", err)
		cur = r
	}
	s.log.WarnContext(ctx, "ISC call outcome unknown", "request", r.ID, "call", i, "err", cause)
	return cur, &Error{Code: EUNKNOWN, Message: fmt.Sprintf("request %s: %s", r.ID, msg), Upstream: up, Err: cause}
}

// conclude records tasks (r's call records with what was just learned; nil
// for r's own) with events and moves r on once no call is being sent:
// completed or failed when every call is finished, submitted when every call
// was sent and some task is still running; otherwise r stays as it is. The
// write is a compare-and-set on r's call records as read: when another
// worker changed them first, it returns the current request and no error
// (they own what follows).
func (s *Service) conclude(ctx context.Context, a Actor, r *Request, tasks []RequestTask, events ...Event) (*Request, error) {
	next := *r
	if tasks != nil {
		next.Tasks = tasks
	}
	var t transition
	switch {
	case unsettled(&next) || nextToSend(&next) >= 0:
		t = tRecord
	case finished(&next) && allApplied(&next):
		t = tComplete
	case finished(&next):
		t = tFail
	case r.State == StateSubmitted:
		t = tProgress
	default:
		t = tSent
	}
	msg := r.Error
	if t.name != tRecord.name && t.name != tProgress.name {
		ev := s.requestEvent(a, t.events[0], r)
		ev.TaskIDs = taskIDs(&next)
		ev.TrackingIDs = trackingIDs(&next)
		msg = ""
		switch t.to {
		case StateSubmitted:
			ev.Detail = fmt.Sprintf("%s submitted to ISC in %s", plural(r.Plan.ItemCount, "review item", "review items"), plural(r.Plan.CallCount(), "call", "calls"))
			if sent := itemsAccepted(&next); sent < r.Plan.ItemCount {
				// Some calls were refused, not sent or unconfirmed.
				ev.Detail = fmt.Sprintf("%d of %s submitted to ISC: %s", sent, plural(r.Plan.ItemCount, "review item", "review items"), describeCalls(&next, true))
			}
		case StateCompleted:
			ev.Detail = kindOf(&r.Plan).done(r, next.Progress().ItemsMoved)
		case StateFailed:
			p := next.Progress()
			msg = kindOf(&r.Plan).done(r, p.ItemsMoved) + ". " + describeCalls(&next, true)
			ev.Detail = msg
		}
		events = append(events, ev)
	}
	if len(events) == 0 {
		return r, nil
	}
	if t.name == tRecord.name && r.State == StateSubmitted {
		t = tProgress
	}
	cur, err := s.move(ctx, r, t, false, func(cur *Request) error {
		if !sameCalls(cur.Tasks, r.Tasks) {
			return errStale
		}
		cur.Tasks = next.Tasks
		cur.Error = msg
		cur.CallLog = true // a legacy request's records now follow it (settle.go)
		return nil
	}, events...)
	if lostRace(err) {
		return cur, nil
	}
	if err != nil {
		return r, fmt.Errorf("request %s: record %s: %w", r.ID, t.name, err)
	}
	if t.to.Final() {
		s.log.InfoContext(ctx, "request finished", "request", r.ID, "state", cur.State, "items_moved", cur.Progress().ItemsMoved)
	}
	return cur, nil
}

// plainMessage is err's message without SailPoint's details, for messages
// that carry those once, elsewhere.
func plainMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return ErrorMessage(err)
}

// sameCalls reports whether two sets of call records say the same.
func sameCalls(a, b []RequestTask) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if x.Call != y.Call || x.State != y.State || x.TaskID != y.TaskID || x.Status != y.Status || len(x.Errors) != len(y.Errors) {
			return false
		}
	}
	return true
}

// finished reports whether nothing more will happen to any call.
func finished(r *Request) bool {
	for i := range r.Plan.CallCount() {
		t := r.call(i)
		if t == nil || !t.Finished() {
			return false
		}
	}
	return true
}

// allApplied reports whether every call succeeded.
func allApplied(r *Request) bool {
	for i := range r.Plan.CallCount() {
		t := r.call(i)
		if t == nil || t.State != CallAccepted || t.Status != TaskSuccess {
			return false
		}
	}
	return true
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

// trackingIDs are SailPoint's tracking ids of r's calls that were refused
// or whose answer was lost.
func trackingIDs(r *Request) []string {
	var ids []string
	for _, t := range r.Tasks {
		if t.TrackingID != "" {
			ids = append(ids, t.TrackingID)
		}
	}
	return ids
}

// itemsAccepted counts the items of r's calls that ISC accepted.
func itemsAccepted(r *Request) int {
	n := 0
	for i := range r.Plan.CallCount() {
		if t := r.call(i); t != nil && t.State == CallAccepted {
			n += r.Plan.CallSize(i)
		}
	}
	return n
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

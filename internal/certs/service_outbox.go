package certs

import (
	"context"
	"fmt"
	"time"
)

// The outbox: how front ends learn what happened, to tell people (the Slack
// bot posts a request for its approvers, updates that message as the
// request moves, and DMs the requester the outcome).
//
// The audit trail is the outbox. Every change writes its events in the same
// transaction as the change itself (see Store.UpdateRequest), so an event
// read here is a change that was committed, and a front end that crashes
// between a change and its message loses nothing: the event is still there.
//
// Each consumer (a name: "slack") has one cursor, shared by all of its
// replicas. A claim leases the cursor to one owner, so exactly one replica
// tells people about each event, in order; an acknowledgement moves the
// cursor past what was told and releases the lease. A replica that dies
// holding the lease is taken over once the lease ends, and its
// unacknowledged events are claimed again: a consumer tells each event at
// least once, twice only after a crash or a lease it outlived.

// MaxNotificationBatch caps how many events one claim returns.
const MaxNotificationBatch = 1000

// Notification is one outbox event with the request it is about.
type Notification struct {
	Event
	// Request is the request the event is about as it is when the event is
	// claimed (not as the event left it: a front end shows the request as
	// it is now), or nil when the event is about no request or the request
	// no longer exists.
	Request *Request
}

// ClaimNotifications leases consumer's cursor to owner until now+lease and
// returns up to limit events after the cursor, oldest first, each with the
// request it is about. It returns none, and takes no lease, when there is
// nothing new or another owner holds an unexpired lease. Tell the events in
// order and acknowledge what was told with AckNotifications before the lease
// ends: past it another owner may claim the same events.
//
// It is for front ends' background notifiers, not for people, and takes no
// Actor: it is the front end itself, not a person, that reads what happened.
//
// Errors: EINVALID (consumer or owner not an id, lease not positive, limit
// outside 1..MaxNotificationBatch); the Store's errors (EUNAVAILABLE when the
// database does not answer), after which the lease, if taken, is released.
func (s *Service) ClaimNotifications(ctx context.Context, consumer, owner string, lease time.Duration, limit int) ([]Notification, error) {
	if err := validateConsumer(consumer, owner); err != nil {
		return nil, err
	}
	if lease <= 0 {
		return nil, Errorf(EINVALID, "lease is %s; it must be positive", lease)
	}
	if limit < 1 || limit > MaxNotificationBatch {
		return nil, Errorf(EINVALID, "limit %d is outside 1..%d", limit, MaxNotificationBatch)
	}
	events, err := s.opts.Store.ClaimEvents(ctx, consumer, owner, lease, limit)
	if err != nil {
		return nil, fmt.Errorf("claim %s events: %w", consumer, err)
	}
	if len(events) == 0 {
		return nil, nil
	}
	// One reading per request: the events of one request in a batch see it
	// the same.
	requests := map[string]*Request{}
	out := make([]Notification, len(events))
	for i, e := range events {
		out[i].Event = e
		if e.RequestID == "" {
			continue
		}
		r, ok := requests[e.RequestID]
		if !ok {
			r, err = s.opts.Store.GetRequest(ctx, e.RequestID)
			switch {
			case ErrorCode(err) == ENOTFOUND:
				r = nil
			case err != nil:
				// Release the lease so that the next claim need not wait for it
				// to end; the cursor stays where it was.
				if aerr := s.opts.Store.AckEvents(context.WithoutCancel(ctx), consumer, owner, events[0].Seq-1); aerr != nil {
					s.log.WarnContext(ctx, "certs: could not release the events lease", "consumer", consumer, "owner", owner, "err", aerr)
				}
				return nil, fmt.Errorf("request %s of event %d: %w", e.RequestID, e.Seq, err)
			}
			requests[e.RequestID] = r
		}
		out[i].Request = r
	}
	return out, nil
}

// AckNotifications records that consumer told every event up to and
// including seq, and releases owner's lease.
// Errors: EINVALID (consumer or owner not an id, seq negative); ECONFLICT
// when owner no longer holds the lease (it ended and another owner may have
// claimed, and be telling, the same events); the Store's errors.
func (s *Service) AckNotifications(ctx context.Context, consumer, owner string, seq int64) error {
	if err := validateConsumer(consumer, owner); err != nil {
		return err
	}
	if seq < 0 {
		return Errorf(EINVALID, "event seq %d is negative", seq)
	}
	if err := s.opts.Store.AckEvents(ctx, consumer, owner, seq); err != nil {
		return fmt.Errorf("acknowledge %s events up to %d: %w", consumer, seq, err)
	}
	return nil
}

func validateConsumer(consumer, owner string) error {
	if err := ValidateID("consumer", consumer); err != nil {
		return err
	}
	return ValidateID("lease owner", owner)
}

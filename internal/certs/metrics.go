package certs

import (
	"context"
	"time"
)

// Metrics receives the service's measurements of reassignment requests.
// internal/metrics implements it; it is optional (Options.Metrics).
type Metrics interface {
	// Approval records a decision on a pending request: the state it moved
	// to ("approved", denied, cancelled, expired), or the error code of a
	// decision that was refused (forbidden, conflict for a lost race, …).
	Approval(outcome string)
	// RequestState records a request reaching state, age after its
	// creation.
	RequestState(state RequestState, age time.Duration)
}

// ApprovalApproved is the Approval outcome of an approved request (which
// moves straight from pending to submitting).
const ApprovalApproved = string(StateApproved)

// meteredStore reports every state change to Metrics. Every change goes
// through CreateRequest or UpdateRequest, so measuring here sees each
// transition once, including those a future code path adds, and only once
// it is committed.
type meteredStore struct {
	Store
	met Metrics
	now func() time.Time
}

func (s meteredStore) CreateRequest(ctx context.Context, r *Request, events ...Event) error {
	if err := s.Store.CreateRequest(ctx, r, events...); err != nil {
		return err
	}
	s.met.RequestState(r.State, s.now().Sub(r.Created))
	return nil
}

func (s meteredStore) UpdateRequest(ctx context.Context, id string, from []RequestState, update func(*Request) error, events ...Event) (*Request, error) {
	// The state before update ran, from the last (committed) attempt: a
	// store may run update again when it retries a transaction.
	var before RequestState
	r, err := s.Store.UpdateRequest(ctx, id, from, func(cur *Request) error {
		before = cur.State
		return update(cur)
	}, events...)
	if err != nil || r == nil || r.State == before {
		return r, err
	}
	s.met.RequestState(r.State, s.now().Sub(r.Created))
	if before == StatePending {
		outcome := string(r.State)
		if r.State == StateSubmitting {
			outcome = ApprovalApproved // Approve goes straight on to submit
		}
		s.met.Approval(outcome)
	}
	return r, nil
}

// refused records a decision (Approve, Deny) that was not made, by its
// error code.
func (s *Service) refused(err error) {
	if s.opts.Metrics != nil && err != nil {
		s.opts.Metrics.Approval(ErrorCode(err))
	}
}

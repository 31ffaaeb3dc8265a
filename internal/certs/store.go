package certs

import (
	"context"
	"time"
)

// Store keeps plans, reassignment requests and the audit trail. It is the
// only state shared between replicas. internal/store implements it on SQLite
// and PostgreSQL.
type Store interface {
	// SavePlan stores a plan (ids are the caller's).
	SavePlan(ctx context.Context, p *Plan) error
	// GetPlan returns a plan, or ENOTFOUND.
	GetPlan(ctx context.Context, id string) (*Plan, error)

	// CreateRequest stores a new request (Version 1) and its events in one
	// transaction. A duplicate id is ECONFLICT.
	CreateRequest(ctx context.Context, r *Request, events ...Event) error
	// GetRequest returns a request, or ENOTFOUND.
	GetRequest(ctx context.Context, id string) (*Request, error)
	// ListRequests returns requests, newest first.
	ListRequests(ctx context.Context, f RequestFilter) ([]*Request, error)

	// UpdateRequest is the compare-and-set every state change goes
	// through. In one transaction it reads the request, checks that its
	// state is one of from (else ECONFLICT, with the current request
	// returned alongside the error), calls update on it, writes it with
	// Version+1 and appends the events (each given the request's id when
	// it has none). update may return an error to abort without writing.
	// Returns ENOTFOUND for an unknown id.
	UpdateRequest(ctx context.Context, id string, from []RequestState, update func(*Request) error, events ...Event) (*Request, error)

	// ClaimRequests leases to owner, until now+lease, up to limit requests
	// in one of states whose lease is free or expired, and returns them.
	// Two concurrent callers never receive the same request. A lease
	// outlives a crashed owner by at most lease, then others may claim.
	ClaimRequests(ctx context.Context, owner string, states []RequestState, lease time.Duration, limit int) ([]*Request, error)
	// ReleaseRequest ends owner's lease on a request (no-op if not held).
	ReleaseRequest(ctx context.Context, id, owner string) error

	// AppendEvents appends audit events that accompany no state change
	// (bulk reads, plans).
	AppendEvents(ctx context.Context, events ...Event) error
	// ListEvents returns audit events, oldest first.
	ListEvents(ctx context.Context, f EventFilter) ([]Event, error)

	// ClaimEvents leases the named consumer's cursor to owner until
	// now+lease and returns up to limit events after it; it returns none
	// when another owner holds an unexpired lease. Front ends' notifiers
	// use it so that exactly one replica tells people about each event.
	ClaimEvents(ctx context.Context, consumer, owner string, lease time.Duration, limit int) ([]Event, error)
	// AckEvents moves the consumer's cursor to seq and releases the lease
	// if owner still holds it (else ECONFLICT).
	AckEvents(ctx context.Context, consumer, owner string, seq int64) error

	// Ping checks the database answers (for readiness probes).
	Ping(ctx context.Context) error
	Close() error
}

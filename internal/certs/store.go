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

	// ClaimReminder claims the reminder r.Key for owner until now+lease
	// (reminder_store.go). A new key is stored as r with State claimed
	// and Attempt 1. An existing key in state claimed whose lease has
	// ended (or that owner holds) is claimed again, Attempt+1. It returns
	// the reminder as stored and whether owner now holds it: false when it
	// is sent, skipped or leased by another owner (nothing changes then).
	// Of concurrent callers at most one gets true. EINVALID for an empty
	// key, kind, subject or owner or a lease that is not positive.
	ClaimReminder(ctx context.Context, r Reminder, owner string, lease time.Duration) (*Reminder, bool, error)
	// FinishReminder moves a claimed reminder to sent or skipped (state),
	// with where it went (channel, ts) and what it showed (snapshot), and
	// appends the events, in one transaction. Only its owner may, also
	// after the lease ended if nobody claimed it since; anyone else, or a
	// reminder no longer claimed, is ECONFLICT. ENOTFOUND for an unknown
	// key.
	FinishReminder(ctx context.Context, key, owner string, state ReminderState, channel, ts string, snapshot []ReminderCert, events ...Event) (*Reminder, error)
	// GetReminder returns a reminder by key, or ENOTFOUND.
	GetReminder(ctx context.Context, key string) (*Reminder, error)
	// LastReminder returns the subject's most recently finished reminder
	// of kind in state sent, or ENOTFOUND when there is none.
	LastReminder(ctx context.Context, kind ReminderKind, subject string) (*Reminder, error)
	// GetReminderPrefs returns a person's (ISC identity id) reminder
	// preferences; the zero ReminderPrefs when none were set.
	GetReminderPrefs(ctx context.Context, subject string) (ReminderPrefs, error)
	// PutReminderPrefs replaces a person's preferences (Updated set to now)
	// and appends the events, in one transaction.
	PutReminderPrefs(ctx context.Context, subject string, p ReminderPrefs, events ...Event) error

	// GrantStore keeps people's sign-ins with SailPoint (grant.go).
	GrantStore

	// Ping checks the database answers (for readiness probes).
	Ping(ctx context.Context) error
	Close() error
}

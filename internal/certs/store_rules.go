package certs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// What every Store keeps and answers the same way, whichever engine holds
// the data: internal/store's SQL stores and certstest's in-memory fake both
// call these, so the fake cannot drift from the real stores' words and
// rounding.

// StoredTime is how a store keeps a time: UTC, to the microsecond
// (PostgreSQL's precision, which SQLite's INTEGER column copies), so what is
// read back equals what was written. The zero time stays zero.
func StoredTime(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC().Truncate(time.Microsecond)
}

// StoreUnavailable turns a failed database call into the error people see:
// EUNAVAILABLE with a plain message, the cause (with the operation) kept in
// Err for logs. nil stays nil; a *Error passes through unchanged.
func StoreUnavailable(op string, err error) error {
	if err == nil {
		return nil
	}
	var ce *Error
	if errors.As(err, &ce) {
		return err
	}
	msg := "database unavailable"
	switch {
	case errors.Is(err, context.Canceled):
		msg = "database call cancelled"
	case errors.Is(err, context.DeadlineExceeded):
		msg = "database did not answer in time"
	}
	return &Error{Code: EUNAVAILABLE, Message: msg, Err: fmt.Errorf("%s: %w", op, err)}
}

// RequestConflict is UpdateRequest's ECONFLICT when r's state is not one of
// from, in words the person who clicked can act on: "request r-123 is
// already approved by Alice".
func RequestConflict(r *Request, from []RequestState) error {
	var msg string
	switch {
	case r.State == StatePending:
		msg = fmt.Sprintf("request %s is still pending", r.ID)
	case r.DecidedBy != nil && (r.State == StateApproved || r.State == StateDenied || r.State == StateCancelled):
		msg = fmt.Sprintf("request %s is already %s by %s", r.ID, r.State, r.DecidedBy.nameOrID())
	case r.DecidedBy != nil:
		// Past its decision, which can only have been an approval: say
		// where it is and who approved it.
		msg = fmt.Sprintf("request %s is already %s (approved by %s)", r.ID, r.State, r.DecidedBy.nameOrID())
	default:
		msg = fmt.Sprintf("request %s is already %s", r.ID, r.State)
	}
	return &Error{Code: ECONFLICT, Message: msg,
		Err: fmt.Errorf("request %s: state %s, version %d; expected one of %v", r.ID, r.State, r.Version, from)}
}

func (a Actor) nameOrID() string {
	if a.Name != "" {
		return a.Name
	}
	return a.ID
}

// EventLeaseConflict is AckEvents' ECONFLICT when owner does not hold the
// lease on consumer's cursor.
func EventLeaseConflict(consumer, owner string) error {
	if owner == "" {
		owner = "no owner"
	}
	return Errorf(ECONFLICT, "%s does not hold the lease on the %s events; they may have been handed to another replica", owner, consumer)
}

// EventsForRequest gives events without a request id r's id, and without a
// certification id r's certification, so the audit trail can be filtered by
// either. events is not changed.
func EventsForRequest(r *Request, events []Event) []Event {
	out := make([]Event, len(events))
	for i, e := range events {
		if e.RequestID == "" {
			e.RequestID = r.ID
		}
		if e.CertificationID == "" {
			e.CertificationID = r.Plan.CertificationID
		}
		out[i] = e
	}
	return out
}

// PreparePlanForSave readies p for SavePlan: it needs an id; Created, when
// zero, becomes now, and is kept as stored (StoredTime). It returns p as
// JSON after refusing what a store cannot hold (ValidateStorable).
func PreparePlanForSave(p *Plan, now time.Time) ([]byte, error) {
	if p == nil || p.ID == "" {
		return nil, Errorf(EINVALID, "a plan needs an id")
	}
	if p.Created.IsZero() {
		p.Created = now
	}
	p.Created = StoredTime(p.Created)
	body, err := json.Marshal(p)
	if err != nil {
		return nil, &Error{Code: EINTERNAL, Message: "plan cannot be stored", Err: err}
	}
	if err := ValidateStorableTexts("plan id", p.ID, "plan certification id", p.CertificationID); err != nil {
		return nil, err
	}
	if err := ValidateStorableJSON("plan "+p.ID, body); err != nil {
		return nil, err
	}
	return body, nil
}

// PrepareRequestForCreate readies r for CreateRequest: it needs an id;
// Created, when zero, becomes now, and Updated, when zero, Created; its
// times are kept as stored (StoredTime) and its Version is 1.
func PrepareRequestForCreate(r *Request, now time.Time) error {
	if r == nil || r.ID == "" {
		return Errorf(EINVALID, "a request needs an id")
	}
	if r.Created.IsZero() {
		r.Created = now
	}
	if r.Updated.IsZero() {
		r.Updated = r.Created
	}
	r.Created, r.Updated, r.ExpiresAt = StoredTime(r.Created), StoredTime(r.Updated), StoredTime(r.ExpiresAt)
	r.Version = 1
	return nil
}

// ValidateStorableTexts is ValidateStorable over pairs of (what, value).
func ValidateStorableTexts(pairs ...string) error {
	for i := 0; i+1 < len(pairs); i += 2 {
		if err := ValidateStorable(pairs[i], pairs[i+1]); err != nil {
			return err
		}
	}
	return nil
}

// ValidateStorableRequestTexts refuses what a store cannot hold in r's text
// columns (ValidateStorable). Its JSON columns are the store's to check
// (ValidateStorableJSON).
func ValidateStorableRequestTexts(r *Request) error {
	return ValidateStorableTexts("request id", r.ID, "request state", string(r.State),
		"request certification id", r.Plan.CertificationID, "request plan id", r.Plan.ID,
		"requester", r.Requester.FrontendKey(), "requester identity", r.Requester.IdentityKey(),
		"request decision reason", r.DecisionReason, "request error", r.Error, "request waiting for", r.WaitingFor)
}

// ValidateStorableEventTexts refuses what a store cannot hold in e's text
// columns (ValidateStorable). Its JSON columns are the store's to check
// (ValidateStorableJSON).
func ValidateStorableEventTexts(e Event) error {
	return ValidateStorableTexts("event action", string(e.Action), "event request id", e.RequestID,
		"event certification id", e.CertificationID, "event detail", e.Detail,
		"event actor", e.Actor.FrontendKey(), "event actor identity", e.Actor.IdentityKey())
}

// ValidateStorableJSON refuses an encoded value one of whose strings holds a
// NUL, which PostgreSQL's jsonb cannot hold: encoding/json writes it as the
// escape \u0000, told apart from a literal backslash followed by "u0000"
// (written \\u0000) by the number of backslashes before it. Invalid UTF-8
// needs no check: encoding/json turns it into U+FFFD.
func ValidateStorableJSON(what string, encoded []byte) error {
	esc := []byte(`\u0000`)
	for i := 0; ; {
		j := bytes.Index(encoded[i:], esc)
		if j < 0 {
			return nil
		}
		j += i
		backslashes := 0
		for k := j - 1; k >= 0 && encoded[k] == '\\'; k-- {
			backslashes++
		}
		if backslashes%2 == 0 {
			// The words of ValidateStorable, less the position: in
			// encoded JSON it would not be the person's.
			return Errorf(EINVALID, "%s contains U+0000, a NUL character: it cannot be stored; remove it", what)
		}
		i = j + 1
	}
}

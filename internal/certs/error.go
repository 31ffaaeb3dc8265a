package certs

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Error codes. They say what kind of failure happened, so each edge can map
// them once to its own way of telling (an HTTP status, a tool error result, an
// ephemeral Slack message).
const (
	EINVALID     = "invalid"      // the caller's input is wrong; it can be corrected
	ENOTFOUND    = "not_found"    // the thing does not exist (or is not visible to the caller)
	EFORBIDDEN   = "forbidden"    // the caller may not do this
	ECONFLICT    = "conflict"     // the state changed under the caller (already approved, ...)
	ERATELIMITED = "rate_limited" // SailPoint's rate limit; try again after RetryAfter
	EUNAVAILABLE = "unavailable"  // SailPoint or the database could not answer; safe to retry reads
	EUNKNOWN     = "outcome_unknown"
	EINTERNAL    = "internal" // a bug or an unexpected failure; details stay in the logs
)

// Upstream carries what SailPoint said about a failed call, so a person can
// quote the tracking id to SailPoint support.
type Upstream struct {
	Operation  string   // SailPoint operationId, e.g. "listIdentityCertifications"
	Status     int      // HTTP status
	DetailCode string   // ErrorResponseDto.detailCode, e.g. "400.1 Bad Request Content"
	TrackingID string   // ErrorResponseDto.trackingId
	Messages   []string // ErrorResponseDto.messages[].text
}

// describe says what SailPoint answered, for people to quote to support:
// "(SailPoint 400.1 Bad Request Content, tracking id 8b6b…)". The status is
// left out when the detail code already starts with it, as SailPoint's do.
func (u *Upstream) describe() string {
	status := strconv.Itoa(u.Status)
	what := u.DetailCode
	switch {
	case what == "":
		what = status
	case u.Status != 0 && !strings.HasPrefix(what, status):
		what = status + " " + what
	}
	return fmt.Sprintf("(SailPoint %s, tracking id %s)", what, u.TrackingID)
}

// Error is the one error type that crosses every boundary of certops.
//
// EUNKNOWN is used for mutations whose outcome could not be established (the
// connection broke after the request was sent and reconciliation could not
// tell whether SailPoint applied it); the caller must check before retrying.
type Error struct {
	Code    string
	Message string
	// Upstream is set when the failure came from SailPoint.
	Upstream *Upstream
	// Err is the underlying cause, if any; it is for logs, not for people.
	Err error
}

func (e *Error) Error() string {
	msg := e.Message
	if e.Upstream != nil && e.Upstream.TrackingID != "" {
		msg += " " + e.Upstream.describe()
	}
	if e.Err != nil {
		return fmt.Sprintf("certs %s: %s: %v", e.Code, msg, e.Err)
	}
	return fmt.Sprintf("certs %s: %s", e.Code, msg)
}

func (e *Error) Unwrap() error { return e.Err }

// ErrNoIdentity is the cause (Error.Err) of the errors of operations that
// need the actor's ISC identity when the actor has none (Actor.IdentityID
// is empty), so that each front end can add how its people get linked
// (a variable, a token's identityId, a Slack profile's email), which the
// domain does not know.
var ErrNoIdentity = errors.New("the actor is not linked to an ISC identity")

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, "" for nil,
// and EINTERNAL for any other error.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the human message of the first *Error in err's chain
// (with SailPoint's tracking id when there is one), "" for nil, and
// "internal error" for any other error so internals never leak to people.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		if e.Upstream != nil && e.Upstream.TrackingID != "" {
			return e.Message + " " + e.Upstream.describe()
		}
		return e.Message
	}
	return "internal error"
}

// UpstreamOf returns SailPoint's details of err, or nil.
func UpstreamOf(err error) *Upstream {
	var e *Error
	if errors.As(err, &e) {
		return e.Upstream
	}
	return nil
}

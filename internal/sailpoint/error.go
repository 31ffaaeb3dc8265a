package sailpoint

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/certops/certops/internal/certs"
)

// APIError is a non-2xx answer from SailPoint. The client returns it wrapped
// in a *certs.Error (Err), so both errors.As(err, &*APIError) and
// certs.ErrorCode(err) work on what a method returns.
type APIError struct {
	Operation string // SailPoint operationId, e.g. "listIdentityCertifications"
	Method    string
	Path      string // without the query
	Status    int
	// From ErrorResponseDto (400, 403, 404, 500), or the 401/429 bodies'
	// `error` / `message`.
	DetailCode string
	TrackingID string
	Messages   []string
	Causes     []string
	// RetryAfter is the 429's Retry-After, 0 when absent.
	RetryAfter time.Duration
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "sailpoint %s: %d", e.Operation, e.Status)
	if e.DetailCode != "" {
		fmt.Fprintf(&b, " %s", e.DetailCode)
	} else {
		fmt.Fprintf(&b, " %s", http.StatusText(e.Status))
	}
	if len(e.Messages) > 0 {
		fmt.Fprintf(&b, ": %s", strings.Join(e.Messages, "; "))
	}
	if len(e.Causes) > 0 {
		fmt.Fprintf(&b, " (causes: %s)", strings.Join(e.Causes, "; "))
	}
	if e.TrackingID != "" {
		fmt.Fprintf(&b, " [tracking id %s]", e.TrackingID)
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, " [retry after %s]", e.RetryAfter)
	}
	return b.String()
}

// Temporary reports whether the same read may succeed later.
func (e *APIError) Temporary() bool { return retryableStatus(e.Status) }

func retryableStatus(status int) bool {
	switch status {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// Error bodies are read up to this size: enough for any ErrorResponseDto,
// small enough that a misbehaving proxy cannot fill memory.
const maxErrorBody = 1 << 20

// errorBody is the union of SailPoint's error shapes: ErrorResponseDto, the
// 401 `{"error": ...}` and the 429 `{"message": ...}`.
type errorBody struct {
	DetailCode string            `json:"detailCode"`
	TrackingID string            `json:"trackingId"`
	Messages   []errorMessageDTO `json:"messages"`
	Causes     []errorMessageDTO `json:"causes"`
	Error      any               `json:"error"`
	Message    string            `json:"message"`
}

type errorMessageDTO struct {
	Locale       *string `json:"locale"`
	LocaleOrigin *string `json:"localeOrigin"`
	Text         string  `json:"text"`
}

// parseAPIError builds an APIError from a status and at most maxErrorBody
// bytes of body. A body that is not JSON (an HTML page from a proxy) becomes
// one short message.
func parseAPIError(op, method, path string, status int, header http.Header, body []byte, now time.Time) *APIError {
	e := &APIError{Operation: op, Method: method, Path: path, Status: status}
	if status == http.StatusTooManyRequests {
		e.RetryAfter = parseRetryAfter(header.Get("Retry-After"), now)
	}
	var eb errorBody
	if err := json.Unmarshal(body, &eb); err == nil {
		e.DetailCode = eb.DetailCode
		e.TrackingID = eb.TrackingID
		e.DetailCode, e.TrackingID = upstreamText(e.DetailCode), upstreamText(e.TrackingID)
		for _, m := range eb.Messages {
			if t := upstreamText(m.Text); t != "" {
				e.Messages = append(e.Messages, t)
			}
		}
		for _, m := range eb.Causes {
			if t := upstreamText(m.Text); t != "" {
				e.Causes = append(e.Causes, t)
			}
		}
		if s, ok := eb.Error.(string); ok && upstreamText(s) != "" {
			e.Messages = append(e.Messages, upstreamText(s))
		}
		if t := upstreamText(eb.Message); t != "" {
			e.Messages = append(e.Messages, t)
		}
		return e
	}
	if snippet := bodySnippet(body); snippet != "" {
		e.Messages = []string{snippet}
	}
	return e
}

// upstreamText makes upstream text fit for messages, logs and the audit trail:
// control characters (a NUL, which PostgreSQL cannot store, among them)
// become spaces, and runs of white space one space.
func upstreamText(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

// bodySnippet is the start of a non-JSON body, on one line, for a message.
func bodySnippet(body []byte) string {
	const max = 200
	if !utf8.Valid(body) {
		return fmt.Sprintf("(%d bytes of non-text body)", len(body))
	}
	s := upstreamText(string(body))
	if len(s) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

// parseRetryAfter reads delay-seconds or an HTTP date. SailPoint sends
// seconds; the date form is accepted because proxies send it.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 32); err == nil {
		if secs < 0 {
			return 0
		}
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}

// codeForStatus is the certs code of an HTTP status (see certs.Tenant).
func codeForStatus(status int) string {
	switch {
	case status == http.StatusBadRequest:
		return certs.EINVALID
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return certs.EFORBIDDEN
	case status == http.StatusNotFound:
		return certs.ENOTFOUND
	case status == http.StatusConflict:
		return certs.ECONFLICT
	case status == http.StatusTooManyRequests:
		return certs.ERATELIMITED
	case status >= 500:
		return certs.EUNAVAILABLE
	case status >= 400:
		return certs.EINVALID
	}
	return certs.EINTERNAL
}

// toCertsError maps an APIError to the domain error. notFound, when set, is
// the message for a 404 ("certification X not found"), which says more than
// SailPoint's generic text.
func toCertsError(e *APIError, notFound string) *certs.Error {
	code := codeForStatus(e.Status)
	var msg string
	switch code {
	case certs.EINVALID:
		msg = "SailPoint rejected the request"
	case certs.EFORBIDDEN:
		if e.Status == http.StatusUnauthorized {
			msg = "SailPoint did not accept certops' credentials"
		} else {
			msg = "SailPoint refused: the API client lacks the rights (scope or user level) for this"
		}
	case certs.ENOTFOUND:
		msg = "not found in SailPoint"
		if notFound != "" {
			msg = notFound
		}
	case certs.ECONFLICT:
		msg = "SailPoint reported a conflict"
	case certs.ERATELIMITED:
		msg = "SailPoint's rate limit was reached"
		if e.RetryAfter > 0 {
			msg += fmt.Sprintf("; try again in %s", e.RetryAfter.Round(time.Second))
		}
	case certs.EUNAVAILABLE:
		msg = fmt.Sprintf("SailPoint could not answer (%d %s)", e.Status, http.StatusText(e.Status))
	default:
		msg = fmt.Sprintf("unexpected answer from SailPoint (%d)", e.Status)
	}
	if len(e.Messages) > 0 && code != certs.ENOTFOUND && code != certs.ERATELIMITED {
		msg += ": " + strings.Join(e.Messages, "; ")
	}
	return &certs.Error{
		Code:    code,
		Message: msg,
		Upstream: &certs.Upstream{
			Operation:  e.Operation,
			Status:     e.Status,
			DetailCode: e.DetailCode,
			TrackingID: e.TrackingID,
			Messages:   e.Messages,
		},
		Err: e,
	}
}

// AsAPIError returns the APIError in err's chain, or nil.
func AsAPIError(err error) *APIError {
	var e *APIError
	if errors.As(err, &e) {
		return e
	}
	return nil
}

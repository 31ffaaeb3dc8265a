package sandbox

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"sync"
	"time"
)

// This file holds the JSON encode/decode helpers and the error table: every
// failure the sandbox answers goes through apiError and writeError, so the
// bodies have exactly SailPoint's shapes.

// maxBodyBytes caps request bodies. ISC's largest body here is 500
// reassignment references or 250 decisions, well under 1 MiB.
const maxBodyBytes = 1 << 20

// apiError is a failure answered to the client.
type apiError struct {
	status     int
	detailCode string
	text       string
	// causes add detail under ErrorResponseDto.causes.
	causes []string
	// retryAfter is set for 429 (seconds).
	retryAfter int
}

func (e *apiError) Error() string { return fmt.Sprintf("%d %s: %s", e.status, e.detailCode, e.text) }

// The error table: SailPoint's detail codes and default texts, from the
// examples in the specs' components/responses.
const (
	detailBadRequest      = "400.1 Bad Request Content"
	detailRequiredMissing = "400.1.0 Required data missing or empty"
	detailForbidden       = "403 Forbidden"
	detailNotFound        = "404 Not found"
	detailInternal        = "500.0 Internal Fault"
	detailUnavailable     = "503 Service Unavailable"

	textForbidden   = "The server understood the request but refuses to authorize it."
	textNotFound    = "The server did not find a current representation for the target resource."
	textInternal    = "An internal fault occurred."
	textUnavailable = "The service is temporarily unavailable."
	// textRateLimited is ISC's 429 body text, spaces included.
	textRateLimited = " Rate Limit Exceeded "
)

func badRequest(format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, detailCode: detailBadRequest, text: fmt.Sprintf(format, args...)}
}

func missingField(field string) *apiError {
	return &apiError{status: http.StatusBadRequest, detailCode: detailRequiredMissing,
		text: fmt.Sprintf("Required data missing or empty: %s", field)}
}

func forbidden(cause string) *apiError {
	e := &apiError{status: http.StatusForbidden, detailCode: detailForbidden, text: textForbidden}
	if cause != "" {
		e.causes = []string{cause}
	}
	return e
}

func notFound(cause string) *apiError {
	e := &apiError{status: http.StatusNotFound, detailCode: detailNotFound, text: textNotFound}
	if cause != "" {
		e.causes = []string{cause}
	}
	return e
}

func internalFault() *apiError {
	return &apiError{status: http.StatusInternalServerError, detailCode: detailInternal, text: textInternal}
}

func unavailable() *apiError {
	return &apiError{status: http.StatusServiceUnavailable, detailCode: detailUnavailable, text: textUnavailable}
}

func rateLimited(retryAfter int) *apiError {
	return &apiError{status: http.StatusTooManyRequests, retryAfter: retryAfter}
}

// errorMessageDto is ISC's ErrorMessageDto.
type errorMessageDto struct {
	Locale       string `json:"locale"`
	LocaleOrigin string `json:"localeOrigin"`
	Text         string `json:"text"`
}

func message(text string) errorMessageDto {
	return errorMessageDto{Locale: "en-US", LocaleOrigin: "DEFAULT", Text: text}
}

// errorResponseDto is ISC's ErrorResponseDto.
type errorResponseDto struct {
	DetailCode string            `json:"detailCode"`
	TrackingID string            `json:"trackingId"`
	Messages   []errorMessageDto `json:"messages"`
	Causes     []errorMessageDto `json:"causes"`
}

// writeError answers e in SailPoint's shape: ErrorResponseDto with a fresh
// tracking id, or the bare 401/429 bodies.
func writeError(w http.ResponseWriter, e *apiError) {
	switch e.status {
	case http.StatusTooManyRequests:
		w.Header().Set("Retry-After", strconv.Itoa(e.retryAfter))
		writeJSON(w, e.status, map[string]string{"message": textRateLimited})
	case http.StatusUnauthorized:
		writeJSON(w, e.status, map[string]string{"error": e.text})
	default:
		body := errorResponseDto{
			DetailCode: e.detailCode,
			TrackingID: newTrackingID(),
			Messages:   []errorMessageDto{message(e.text)},
			Causes:     []errorMessageDto{},
		}
		for _, c := range e.causes {
			body.Causes = append(body.Causes, message(c))
		}
		writeJSON(w, e.status, body)
	}
}

// newTrackingID returns 32 random hex characters, like ISC's trackingId.
func newTrackingID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b[:])
}

// rawJSON is a body already encoded (from the sandbox's caches).
type rawJSON []byte

// marshal encodes v like writeJSON does (no HTML escaping, no newline).
func marshal(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// Only the sandbox's own types are encoded; they always encode.
		panic(fmt.Sprintf("sandbox: encoding %T: %v", v, err))
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// pageBuffers recycles the buffers pages are built in: a page of review
// items is about half a megabyte, and at the large size garbage collection
// over the tenant's state is what a page costs most.
var pageBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}

// pooledJSON is an encoded body in a pageBuffers buffer, returned to the
// pool once written.
type pooledJSON struct{ buf *[]byte }

// jsonArray builds a JSON array of n elements, each appended to the
// buffer by elem.
func jsonArray(n int, elem func(dst []byte, i int) []byte) pooledJSON {
	p := pageBuffers.Get().(*[]byte)
	out := append((*p)[:0], '[')
	for i := 0; i < n; i++ {
		if i > 0 {
			out = append(out, ',')
		}
		out = elem(out, i)
	}
	*p = append(out, ']')
	return pooledJSON{buf: p}
}

// writeJSON encodes v into a buffer first, so an encoding failure can still
// be answered as a 500 rather than a half-written body.
func writeJSON(w http.ResponseWriter, status int, v any) {
	if pj, ok := v.(pooledJSON); ok {
		writeJSON(w, status, rawJSON(*pj.buf))
		if cap(*pj.buf) <= 4<<20 { // keep no giant buffers
			*pj.buf = (*pj.buf)[:0]
			pageBuffers.Put(pj.buf)
		}
		return
	}
	if raw, ok := v.(rawJSON); ok {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(raw)))
		w.WriteHeader(status)
		_, _ = w.Write(raw)
		return
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		status = http.StatusInternalServerError
		buf.Reset()
		_ = json.NewEncoder(&buf).Encode(errorResponseDto{DetailCode: detailInternal, TrackingID: newTrackingID(),
			Messages: []errorMessageDto{message(textInternal)}, Causes: []errorMessageDto{}})
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// decodeJSON reads a request body into v, answering ISC's 400 for an
// empty, oversized or malformed body or a value of the wrong type.
func decodeJSON(r *http.Request, v any) *apiError {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
	if err != nil {
		return badRequest("The request body could not be read: %v", err)
	}
	if len(body) > maxBodyBytes {
		return badRequest("The request body is larger than %d bytes.", maxBodyBytes)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return missingField("request body")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return badRequest("Invalid value for %s: expected %s, got %s.", jsonPath(typeErr), jsonKind(typeErr.Type), typeErr.Value)
		}
		return badRequest("The request body is not valid JSON: %v", err)
	}
	if dec.More() {
		return badRequest("The request body has data after the JSON value.")
	}
	return nil
}

// jsonKind names a Go type as the JSON type a client must send.
func jsonKind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	default:
		return "a number"
	}
}

func jsonPath(e *json.UnmarshalTypeError) string {
	if e.Field != "" {
		return e.Field
	}
	return "the request body"
}

// isoTime formats a time as ISC does: UTC, milliseconds, Z.
type isoTime time.Time

func (t isoTime) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 26)
	b = append(b, '"')
	b = time.Time(t).UTC().AppendFormat(b, "2006-01-02T15:04:05.000Z07:00")
	return append(b, '"'), nil
}

// timePtr returns a JSON date-time or null.
func timePtr(t time.Time) *isoTime {
	if t.IsZero() {
		return nil
	}
	v := isoTime(t)
	return &v
}

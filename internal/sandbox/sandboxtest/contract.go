// Package sandboxtest holds what tests need to talk to the sandbox the way
// they would talk to SailPoint: Start runs a sandbox behind an HTTP server,
// and Contract checks every exchange against SailPoint's own OpenAPI specs
// (api/sailpoint), so the sandbox cannot drift from the real API unnoticed.
package sandboxtest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
)

// Paths served outside SailPoint's specs, passed through unchecked.
const (
	oauthPrefix   = "/oauth/"    // ISC's OAuth endpoints (documented in prose, not in the specs)
	controlPrefix = "/_sandbox/" // the sandbox's own test controls
)

// Contract wraps h so that every request the test sends and every response
// h gives is checked against the spec of its API version: /beta/... against
// beta.yaml, /v3/... against v3.yaml, and the per-service paths
// (/certifications/v1..., /certification-tasks/v1..., /public-identities/v1)
// against per-service-v1.yaml.
//
// A mismatch fails t (with t.Errorf, which is safe from the server's
// goroutines) and the response still reaches the client unchanged:
//   - Every response to a spec operation must have a declared status, and
//     its body and Content-Type must match the spec. Undeclared headers
//     (X-Total-Count, Retry-After) are fine.
//   - A request the spec rejects (bad JSON, limit=251, an unknown enum) does
//     not fail the test by itself, since tests send them on purpose; the
//     sandbox must refuse it with a 4xx (whose body the first rule checks).
//     Accepting it fails the test.
//   - /oauth/* (token, authorize, the login form, info) and /_sandbox/*
//     pass unchecked. Any other path no spec
//     has must be answered 404 (405 also for a spec path with another
//     method).
//
// Authentication is not checked here: that is the sandbox's job, tested on
// its own.
func Contract(t testing.TB, h http.Handler) http.Handler {
	t.Helper()
	return &contract{t: t, h: h, specs: specs(t)}
}

type contract struct {
	t     testing.TB
	h     http.Handler
	specs []*spec
}

// options are the validation settings for requests and responses.
var options = func() *openapi3filter.Options {
	o := &openapi3filter.Options{
		IncludeResponseStatus: true,
		MultiError:            true,
		AuthenticationFunc:    openapi3filter.NoopAuthenticationFunc,
		// Validation must not change the request the sandbox sees.
		SkipSettingDefaults: true,
	}
	// Name the failing place and reason; kin-openapi's default message also
	// dumps the whole schema, which buries the point in a test log.
	o.WithCustomSchemaErrorFunc(func(err *openapi3.SchemaError) string {
		reason := err.Reason
		if err.Origin != nil {
			reason = err.Origin.Error()
		}
		if reason == "" {
			reason = "does not match schema field " + err.SchemaField
		}
		return "at /" + strings.Join(err.JSONPointer(), "/") + ": " + reason
	})
	return o
}()

func (c *contract) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	if strings.HasPrefix(path, oauthPrefix) || strings.HasPrefix(path, controlPrefix) {
		c.h.ServeHTTP(w, r)
		return
	}

	route, params, err := c.findRoute(r)
	if err != nil {
		rec := c.serve(w, r)
		if rec == nil {
			return
		}
		if rec.status != http.StatusNotFound && !(errors.Is(err, routers.ErrMethodNotAllowed) && rec.status == http.StatusMethodNotAllowed) {
			c.t.Errorf("sandboxtest: route not in any spec: %s %s answered %d, want 404", r.Method, r.URL.RequestURI(), rec.status)
		}
		return
	}

	// Validate a copy of the request: the sandbox must see exactly what the
	// test sent.
	body, err := io.ReadAll(r.Body)
	if err != nil {
		c.t.Errorf("sandboxtest: %s %s: reading the request body: %v", r.Method, r.URL.RequestURI(), err)
		http.Error(w, "sandboxtest: cannot read the request body", http.StatusInternalServerError)
		return
	}
	_ = r.Body.Close()
	r.Body = io.NopCloser(bytes.NewReader(body))
	vr := r.Clone(context.WithoutCancel(r.Context()))
	vr.Body = io.NopCloser(bytes.NewReader(body))
	reqInput := &openapi3filter.RequestValidationInput{Request: vr, PathParams: params, Route: route, Options: options}
	reqErr := openapi3filter.ValidateRequest(vr.Context(), reqInput)

	rec := c.serve(w, r)
	if rec == nil {
		return
	}
	op := fmt.Sprintf("%s %s (%s)", r.Method, r.URL.RequestURI(), route.Operation.OperationID)
	if rec.status == http.StatusServiceUnavailable && rec.header.Get("X-Sandbox-Fault") != "" {
		// An injected 503 stands for SailPoint's gateway answering while a
		// service is down: real, but in none of the specs (they list 400-500).
		c.t.Logf("sandboxtest: %s answered an injected 503; not checked against the spec", op)
		return
	}
	if reqErr != nil && rec.status < 400 {
		c.t.Errorf("sandboxtest: sandbox accepted a request the spec rejects: %s answered %d; the spec says: %v", op, rec.status, reqErr)
	}
	respInput := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: reqInput,
		Status:                 rec.status,
		Header:                 rec.sentHeader(),
		Options:                options,
	}
	respInput.SetBodyBytes(rec.body.Bytes())
	if err := openapi3filter.ValidateResponse(vr.Context(), respInput); err != nil {
		c.t.Errorf("sandboxtest: response does not match the spec: %s answered %d: %v\nbody: %s", op, rec.status, err, excerpt(rec.body.Bytes()))
	}
}

func (c *contract) findRoute(r *http.Request) (*routers.Route, map[string]string, error) {
	notFound := routers.ErrPathNotFound
	for _, s := range c.specs {
		route, params, err := s.router.FindRoute(r)
		if err == nil {
			return route, params, nil
		}
		if errors.Is(err, routers.ErrMethodNotAllowed) {
			notFound = err
		}
	}
	return nil, nil, notFound
}

// serve runs the handler into a recorder, then sends what it recorded. It
// returns nil when there is nothing to check: the handler took over the
// connection (a "close without answering" fault) or the client went away
// first (a "hang" fault).
func (c *contract) serve(w http.ResponseWriter, r *http.Request) *recorder {
	rec := &recorder{w: w, header: http.Header{}, status: http.StatusOK}
	c.h.ServeHTTP(rec, r)
	if rec.hijacked {
		return nil
	}
	for k, v := range rec.sentHeader() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.status)
	_, _ = w.Write(rec.body.Bytes())
	if r.Context().Err() != nil && !rec.wrote {
		return nil
	}
	return rec
}

// recorder buffers a response so it can be checked after the handler
// returns. It hands Hijack through, for faults that drop the connection.
type recorder struct {
	w        http.ResponseWriter
	header   http.Header
	status   int
	body     bytes.Buffer
	wrote    bool // WriteHeader or Write was called
	hijacked bool
}

func (rec *recorder) Header() http.Header { return rec.header }

func (rec *recorder) WriteHeader(status int) {
	if rec.wrote || status < 200 { // informational responses are not the answer
		return
	}
	rec.status, rec.wrote = status, true
}

func (rec *recorder) Write(b []byte) (int, error) {
	rec.WriteHeader(http.StatusOK)
	return rec.body.Write(b)
}

// Flush is a no-op: the response is sent once the handler returns.
func (rec *recorder) Flush() {}

func (rec *recorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, rw, err := http.NewResponseController(rec.w).Hijack()
	if err == nil {
		rec.hijacked = true
	}
	return conn, rw, err
}

// sentHeader is the header as the client receives it: net/http sniffs a
// Content-Type the handler did not set.
func (rec *recorder) sentHeader() http.Header {
	h := rec.header.Clone()
	if h.Get("Content-Type") == "" && rec.body.Len() > 0 {
		h.Set("Content-Type", http.DetectContentType(rec.body.Bytes()))
	}
	return h
}

func excerpt(b []byte) string {
	const max = 600
	if len(b) > max {
		return string(b[:max]) + "…"
	}
	return string(b)
}

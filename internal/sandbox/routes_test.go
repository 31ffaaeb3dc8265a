package sandbox_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/sandbox"
	"github.com/certops/certops/internal/sandbox/sandboxtest"
)

// Every operation of the three specs has a route, and every route is an
// operation of a spec (apart from /oauth/token and /_sandbox/*).
func TestRoutesMatchSpecs(t *testing.T) {
	spec := map[string]sandboxtest.Operation{}
	for _, op := range sandboxtest.SpecOperations(t) {
		spec[op.Method+" "+op.Path] = op
	}
	require.Len(t, spec, 30, "6 beta + 12 v3 + 12 per-service v1 operations")
	routes := map[string]sandbox.Route{}
	for _, r := range sandbox.Routes() {
		routes[r.Method+" "+r.Path] = r
	}
	for key, op := range spec {
		r, ok := routes[key]
		if assert.True(t, ok, "spec operation %s has no route", op) {
			assert.Equal(t, op.OperationID, r.OperationID, key)
			assert.Equal(t, op.Spec, r.Spec, key)
		}
	}
	for key := range routes {
		_, ok := spec[key]
		assert.True(t, ok, "route %s is in no spec", key)
	}
}

// Every operation answers through the contract check (here: 401 without a
// token, whose body the spec defines), so no route is a dead entry.
func TestEveryRouteAnswers(t *testing.T) {
	tn := start(t, sandbox.Config{})
	for _, r := range sandbox.Routes() {
		res := tn.do("", r.Method, r.Path, nil)
		assert.Equal(t, http.StatusUnauthorized, res.Status, "%s %s", r.Method, r.Path)
	}
}

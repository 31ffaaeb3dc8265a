package sandbox_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/sandbox"
	"github.com/certops/certops/internal/sandbox/sandboxtest"
)

// Every operation of the three specs has a route, and every route is an
// operation of a spec (apart from /oauth/* and /_sandbox/*).
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

// Every operation of every version answers 200 to a good request, and the
// contract check finds the answer to be what the spec says.
func TestEveryOperationSucceeds(t *testing.T) {
	clk := newClock()
	tn := start(t, sandbox.Config{Now: clk.Now, Certifications: 40, RateLimit: -1})
	active := tn.certs("filters=" + q(`phase eq "ACTIVE"`))
	used := 0
	next := func() certDto { used++; return active[used-1] }

	for _, r := range sandbox.Routes() {
		t.Run(r.Method+" "+r.Path, func(t *testing.T) {
			cert := next()
			items := tn.items(cert.ID, "")
			var ent itemDto
			for _, it := range items {
				if it.AccessSummary.Access.Type == "ENTITLEMENT" {
					ent = it
				}
			}
			to := newReviewer(t, tn, cert, items)
			var task taskDto
			res := tn.admin("POST", "/v3/certifications/"+cert.ID+"/reassign-async", reassignBody{itemRefs(items[:1]), to.ID, "sweep"})
			require.Equal(t, http.StatusOK, res.Status, "body: %s", res.Body)
			res.decode(t, &task)

			path := strings.NewReplacer("{id}", cert.ID, "{certificationId}", cert.ID, "{itemId}", ent.ID, "{taskId}", task.ID).Replace(r.Path)
			if strings.HasPrefix(r.OperationID, "getCertificationTask") {
				path = strings.Replace(path, cert.ID, task.ID, 1)
			}
			var body any
			switch strings.TrimSuffix(r.OperationID, "V1") {
			case "makeIdentityDecision":
				var ds []map[string]any
				for _, it := range items[1:] {
					ds = append(ds, map[string]any{"id": it.ID, "decision": "APPROVE", "bulk": true, "comments": "ok"})
				}
				body = ds
			case "reassignIdentityCertifications", "submitReassignCertsAsync":
				body = reassignBody{itemRefs(items[1:2]), to.ID, "sweep"}
			case "signOffIdentityCertification":
				var ds []map[string]any
				for _, it := range items[1:] {
					ds = append(ds, map[string]any{"id": it.ID, "decision": "REVOKE", "bulk": true, "comments": "gone"})
				}
				require.Equal(t, http.StatusOK, tn.admin("POST", "/v3/certifications/"+cert.ID+"/decide", ds).Status)
				clk.Advance(time.Second) // let the reassignment task finish
			}
			res = tn.admin(r.Method, path, body)
			assert.Equal(t, http.StatusOK, res.Status, "%s: %s", path, res.Body)
		})
	}
}

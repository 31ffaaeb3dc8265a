package app_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"path/filepath"
	"regexp"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/app"
	"github.com/certops/certops/internal/certs"
	"github.com/certops/certops/internal/sailpoint"
	"github.com/certops/certops/internal/sandbox"
)

// sailpointCall is one HTTP attempt the ISC client logged ("sailpoint
// call"): the operation id, the path it requested and the status the
// tenant answered.
type sailpointCall struct {
	operation, path string
	status          int64
}

// callRecorder is a slog.Handler that keeps the ISC client's "sailpoint
// call" records.
type callRecorder struct {
	mu    *sync.Mutex
	calls *[]sailpointCall
}

func newCallRecorder() callRecorder {
	return callRecorder{mu: &sync.Mutex{}, calls: &[]sailpointCall{}}
}

func (h callRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (h callRecorder) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h callRecorder) WithGroup(string) slog.Handler            { return h }

func (h callRecorder) Handle(_ context.Context, r slog.Record) error {
	if r.Message != "sailpoint call" {
		return nil
	}
	var c sailpointCall
	r.Attrs(func(a slog.Attr) bool {
		switch a.Key {
		case "operation":
			c.operation = a.Value.String()
		case "path":
			c.path = a.Value.String()
		case "status":
			c.status = a.Value.Int64()
		}
		return true
	})
	h.mu.Lock()
	defer h.mu.Unlock()
	*h.calls = append(*h.calls, c)
	return nil
}

func (h callRecorder) Calls() []sailpointCall {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]sailpointCall(nil), *h.calls...)
}

// --sandbox honours SAIL_API_VERSION: with v1 every call the service makes
// goes to SailPoint's per-service paths, which the embedded sandbox serves.
func TestSandboxHonoursSAILAPIVersion(t *testing.T) {
	t.Run("v3 by default", func(t *testing.T) {
		t.Setenv("SAIL_API_VERSION", "")
		cfg, err := app.LoadConfig(true)
		require.NoError(t, err)
		assert.Equal(t, sailpoint.APIv3, cfg.Sail.APIVersion)
	})
	t.Run("a version SailPoint has not is refused, named", func(t *testing.T) {
		t.Setenv("SAIL_API_VERSION", "v2")
		_, err := app.LoadConfig(true)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "SAIL_API_VERSION")
	})
	t.Run("v1 calls the per-service paths", func(t *testing.T) {
		t.Setenv("SAIL_API_VERSION", "v1")
		t.Setenv("CERTOPS_SQLITE_PATH", filepath.Join(t.TempDir(), "certops.db"))
		cfg, err := app.LoadConfig(true)
		require.NoError(t, err)
		rec := newCallRecorder()
		ctx := context.Background()
		a, err := app.Open(ctx, cfg, app.Options{Sandbox: true, Logger: slog.New(rec)})
		require.NoError(t, err)
		t.Cleanup(func() { assert.NoError(t, a.Close()) })
		require.Equal(t, sailpoint.APIv1, a.Tenant.Config().APIVersion)

		// Reads and a reassignment.
		admin := certs.Actor{ID: "ops", Name: "Ops", Frontend: certs.FrontendMCP, Role: certs.RoleAdmin}
		open := false
		page, err := a.Tenant.ListCertifications(ctx, certs.CertificationFilter{Completed: &open, Page: certs.PageOptions{Limit: 20}})
		require.NoError(t, err)
		require.NotEmpty(t, page.Items)
		var cert certs.Certification
		var items certs.Page[certs.ReviewItem]
		for _, c := range page.Items {
			if items, err = a.Service.ListReviewItems(ctx, admin, c.ID, certs.ReviewItemFilter{Page: certs.PageOptions{Limit: 1}}); err == nil && len(items.Items) > 0 {
				cert = c
				break
			}
		}
		require.NotEmpty(t, items.Items, "no open certification with items")
		var target string
		for _, c := range a.Sandbox.Clients() {
			if c.Role == sandbox.RoleReviewer && c.IdentityID != cert.Reviewer.ID && c.IdentityID != items.Items[0].IdentitySummary.IdentityID {
				target = c.IdentityID
				break
			}
		}
		require.NotEmpty(t, target)
		plan, err := a.Service.PlanReassignment(ctx, admin, certs.PlanInput{CertificationID: cert.ID, ItemIDs: []string{items.Items[0].ID}, Target: target, Reason: "on leave"})
		require.NoError(t, err)
		_, err = a.Service.SubmitPlan(ctx, admin, plan.ID, plan.Digest)
		require.NoError(t, err)

		// The client asked for per-service paths only, and the sandbox
		// answered each of them.
		perService := regexp.MustCompile(`^/[a-z-]+/v1(/|$)`)
		var reassigned bool
		calls := rec.Calls()
		require.NotEmpty(t, calls)
		for _, c := range calls {
			assert.Regexp(t, perService, c.path, "%s", c.operation)
			assert.Regexp(t, `V1$`, c.operation, "%s", c.path)
			assert.Less(t, c.status, int64(300), "%s %s", c.operation, c.path)
			reassigned = reassigned || regexp.MustCompile(`^(submitReassignCertsAsync|reassignIdentityCertifications)V1$`).MatchString(c.operation)
		}
		assert.True(t, reassigned, "a reassignment call was made: %v", calls)

		// The sandbox counted them (its stats name operations without V1).
		resp, err := http.Get(a.SandboxURL + "/_sandbox/stats")
		require.NoError(t, err)
		defer resp.Body.Close()
		var stats sandbox.Stats
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&stats))
		for _, c := range calls {
			assert.Positive(t, stats.Calls(regexp.MustCompile(`V1$`).ReplaceAllString(c.operation, "")), c.operation)
		}
	})
}

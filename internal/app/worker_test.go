package app_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/app"
	"github.com/certops/certops/internal/certs"
	"github.com/certops/certops/internal/sailpoint"
	"github.com/certops/certops/internal/sandbox"
)

// gate holds the next SailPoint API call (once armed) until released.
type gate struct {
	next    http.Handler
	armed   atomic.Bool
	entered chan struct{}
	release chan struct{}
}

func (g *gate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(r.URL.Path, "/oauth/") && g.armed.CompareAndSwap(true, false) {
		g.entered <- struct{}{}
		<-g.release
	}
	g.next.ServeHTTP(w, r)
}

// A worker pass under way at shutdown is finished, not cut between calls.
func TestRunWorkerFinishesThePassUnderWayAtShutdown(t *testing.T) {
	// More items than one synchronous call takes, so that the plan is an
	// ISC task for the worker to follow.
	size := certs.MaxSyncReassign + 1
	sb := sandbox.New(sandbox.Config{RateLimit: -1, TaskQueuedFor: time.Millisecond, TaskRunningFor: time.Millisecond, ItemsPerCertification: 2 * size})
	g := &gate{next: sb, entered: make(chan struct{}, 1), release: make(chan struct{})}
	tenant := httptest.NewServer(g)
	t.Cleanup(tenant.Close)
	cfg, err := app.LoadConfig(true)
	require.NoError(t, err)
	cfg.Sail = sailpoint.Config{BaseURL: tenant.URL, ClientID: sandbox.AdminClientID, ClientSecret: sandbox.AdminClientSecret,
		APIVersion: sailpoint.APIv3, Timeout: 10 * time.Second, MaxRetries: 1, Concurrency: 2}
	cfg.SQLitePath = filepath.Join(t.TempDir(), "certops.db")
	cfg.WorkerInterval = time.Hour // one pass, then wait
	ctx := context.Background()
	a, err := app.Open(ctx, cfg, app.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(t, err)
	t.Cleanup(func() { _ = a.Close() })

	// A submitted request whose ISC task the worker will follow.
	admin := certs.Actor{ID: "ops", Name: "Ops", Frontend: certs.FrontendMCP, Role: certs.RoleAdmin}
	open := false
	page, err := a.Tenant.ListCertifications(ctx, certs.CertificationFilter{Completed: &open, Page: certs.PageOptions{Limit: 20}})
	require.NoError(t, err)
	var cert certs.Certification
	var items certs.Page[certs.ReviewItem]
	for _, c := range page.Items {
		if items, err = a.Service.ListReviewItems(ctx, admin, c.ID, certs.ReviewItemFilter{Completed: &open, Page: certs.PageOptions{Limit: 250}}); err == nil && len(items.Items) >= size {
			cert = c
			break
		}
	}
	require.GreaterOrEqual(t, len(items.Items), size, "no open certification with %d items (%d certifications, last error %v)", size, len(page.Items), err)
	var target string
	for _, c := range sb.Clients() {
		if c.Role == sandbox.RoleReviewer && c.IdentityID != cert.Reviewer.ID {
			target = c.IdentityID
			break
		}
	}
	require.NotEmpty(t, target)
	var ids []string // the target's own access is not theirs to review
	for _, it := range items.Items {
		if len(ids) < size && it.IdentitySummary.IdentityID != target {
			ids = append(ids, it.ID)
		}
	}
	require.Len(t, ids, size)
	plan, err := a.Service.PlanReassignment(ctx, admin, certs.PlanInput{CertificationID: cert.ID, ItemIDs: ids, Target: target, Reason: "on leave"})
	require.NoError(t, err)
	require.False(t, plan.Sync, "an asynchronous plan")
	req, err := a.Service.SubmitPlan(ctx, admin, plan.ID, plan.Digest)
	require.NoError(t, err)
	require.Equal(t, certs.StateSubmitted, req.State)

	g.armed.Store(true)
	wctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- a.RunWorker(wctx) }()
	select {
	case <-g.entered: // the pass is reading the task
	case <-time.After(30 * time.Second):
		t.Fatal("the worker never called SailPoint")
	}
	stop()
	close(g.release)
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(30 * time.Second):
		t.Fatal("RunWorker did not return")
	}
	got, err := a.Store.GetRequest(ctx, req.ID)
	require.NoError(t, err)
	assert.Equal(t, certs.StateCompleted, got.State, "the pass followed the task to its end")
}

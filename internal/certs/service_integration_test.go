package certs_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/certs"
	"github.com/certops/certops/internal/sailpoint"
	"github.com/certops/certops/internal/sandbox"
	"github.com/certops/certops/internal/sandbox/sandboxtest"
	"github.com/certops/certops/internal/store"
	"github.com/certops/certops/internal/store/storetest"
)

// Integration tests: the Service with the real parts — the sandbox tenant
// over HTTP (behind the OpenAPI contract check), the ISC client, and the
// SQLite and PostgreSQL stores.

// offsetClock is real time plus an offset the test moves forward, so the
// service and store can be sent past leases and expiries while the
// sandbox's tasks run on real time.
type offsetClock struct{ off atomic.Int64 }

func (c *offsetClock) Now() time.Time          { return time.Now().Add(time.Duration(c.off.Load())) }
func (c *offsetClock) Advance(d time.Duration) { c.off.Add(int64(d)) }

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// startTenant runs a sandbox with no latency and no rate limit, whose
// tasks finish quickly, and returns it with an ISC client for it.
func startTenant(t testing.TB, cfg sandbox.Config) (*sandbox.Sandbox, *sailpoint.Client) {
	t.Helper()
	if cfg.RateLimit == 0 {
		cfg.RateLimit = -1
	}
	if cfg.ItemsPerCertification == 0 {
		cfg.ItemsPerCertification = 80 // enough for plans of asyncItems
	}
	if cfg.TaskQueuedFor == 0 {
		cfg.TaskQueuedFor = 5 * time.Millisecond
	}
	if cfg.TaskRunningFor == 0 {
		cfg.TaskRunningFor = 5 * time.Millisecond
	}
	sb, base := sandboxtest.Start(t, cfg)
	return sb, newClient(t, base)
}

func newClient(t testing.TB, base string) *sailpoint.Client {
	t.Helper()
	c, err := sailpoint.New(sailpoint.Config{
		BaseURL: base, ClientID: sandbox.AdminClientID, ClientSecret: sandbox.AdminClientSecret,
		APIVersion: "v3", RateLimit: 0, Timeout: 10 * time.Second, MaxRetries: 3, Concurrency: 4, MaxBackoff: 10 * time.Millisecond,
	}, sailpoint.Options{Logger: quiet()})
	require.NoError(t, err)
	return c
}

func openSQLite(t testing.TB, now func() time.Time) certs.Store {
	t.Helper()
	s, err := store.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "certops.db"), store.Options{Now: now, Logger: quiet()})
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

func openPostgres(t testing.TB, dbURL string, now func() time.Time) certs.Store {
	t.Helper()
	s, err := store.OpenPostgres(context.Background(), dbURL, store.Options{Now: now, Logger: quiet()})
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

// stores lists both engines for tests that run on each.
var stores = []struct {
	name string
	open func(t testing.TB, now func() time.Time) certs.Store
}{
	{"sqlite", openSQLite},
	{"postgres", func(t testing.TB, now func() time.Time) certs.Store {
		return openPostgres(t, storetest.SchemaURL(t), now)
	}},
}

func newService(tenant certs.Tenant, st certs.Store, clk func() time.Time, owner string) *certs.Service {
	return certs.NewService(certs.Options{
		Tenant: tenant, Store: st, Logger: quiet(), Now: clk, Owner: owner,
		Policy:   certs.Policy{RequireApproval: true, Approvers: []string{"slack:U_ALICE"}},
		TaskPoll: 5 * time.Millisecond, TaskPollMax: 20 * time.Millisecond,
	})
}

// asyncItems is the smallest plan sent in asynchronous calls (a plan of at
// most certs.MaxSyncReassign items is one synchronous call).
const asyncItems = certs.MaxSyncReassign + 1

// work is a reassignment the sandbox accepts: open items of an ACTIVE
// certification and an active target who neither reviews it nor is the
// subject of any of them.
type work struct {
	cert   certs.Certification
	items  []string
	target certs.Identity
}

func findWork(t testing.TB, tn certs.Tenant, minItems int) work {
	t.Helper()
	ctx := context.Background()
	open := false
	page, err := tn.ListCertifications(ctx, certs.CertificationFilter{Completed: &open, Page: certs.PageOptions{Limit: 250}})
	require.NoError(t, err)
	for _, c := range page.Items {
		if c.Phase != certs.PhaseActive {
			continue
		}
		items, err := tn.ListReviewItems(ctx, c.ID, certs.ReviewItemFilter{Completed: &open})
		require.NoError(t, err)
		subjects := map[string]bool{}
		var ids []string
		for _, it := range items.Items {
			if it.Decision == "" {
				subjects[it.IdentitySummary.IdentityID] = true
				ids = append(ids, it.ID)
			}
		}
		if len(ids) < minItems {
			continue
		}
		for _, other := range page.Items {
			r := other.Reviewer
			if r.ID == c.Reviewer.ID || subjects[r.ID] || r.Type == certs.ReviewerGovernanceGroup {
				continue
			}
			target, err := tn.GetIdentity(ctx, r.ID)
			require.NoError(t, err)
			if target.Active() && target.Email != "" {
				return work{cert: c, items: ids, target: *target}
			}
		}
	}
	t.Fatal("the sandbox has no certification to reassign from")
	return work{}
}

var (
	mcpAdmin   = certs.Actor{ID: "tok-admin", Name: "Ada Admin", Frontend: certs.FrontendMCP, Role: certs.RoleAdmin, IdentityID: "id-ada"}
	slackAlice = certs.Actor{ID: "U_ALICE", Name: "Alice", Frontend: certs.FrontendSlack, Role: certs.RoleAdmin, IdentityID: "id-alice"}
)

// fileRequest plans w (by the target's email) and files it for approval.
func fileRequest(t testing.TB, svc *certs.Service, w work, approvers []string) *certs.Request {
	t.Helper()
	ctx := context.Background()
	p, err := svc.PlanReassignment(ctx, mcpAdmin, certs.PlanInput{CertificationID: w.cert.ID, ItemIDs: w.items, Target: w.target.Email, Reason: "reviewer on leave"})
	require.NoError(t, err)
	require.Equal(t, w.target.ID, p.To.ID)
	r, err := svc.RequestApproval(ctx, mcpAdmin, p.ID, p.Digest, approvers, nil)
	require.NoError(t, err)
	return r
}

func asyncSubmissions(sb *sandbox.Sandbox) int {
	return sb.Stats().Operations["submitReassignCertsAsync"].Calls
}

func TestIntegration_planApproveSubmitComplete(t *testing.T) {
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			ctx := context.Background()
			sb, tn := startTenant(t, sandbox.Config{})
			svc := newService(tn, st.open(t, time.Now), time.Now, "replica-1")
			w := findWork(t, tn, asyncItems)
			r := fileRequest(t, svc, w, nil)
			assert.Zero(t, asyncSubmissions(sb), "nothing sent before approval")

			got, err := svc.Approve(ctx, slackAlice, r.ID)
			require.NoError(t, err)
			assert.Equal(t, certs.StateSubmitted, got.State)
			require.Len(t, got.Tasks, 1)

			fctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			defer cancel()
			done, err := svc.FollowRequest(fctx, mcpAdmin, r.ID)
			require.NoError(t, err)
			assert.Equal(t, certs.StateCompleted, done.State, done.Error)
			assert.Equal(t, certs.TaskSuccess, done.Tasks[0].Status)

			// The items now sit in a certification the target reviews.
			left, err := tn.ListReviewItems(ctx, w.cert.ID, certs.ReviewItemFilter{IDs: w.items})
			require.NoError(t, err)
			assert.Empty(t, left.Items, "no longer in the source certification")
			theirs, err := tn.ListCertifications(ctx, certs.CertificationFilter{ReviewerIdentity: w.target.ID, CampaignIDs: []string{w.cert.Campaign.ID}})
			require.NoError(t, err)
			var moved int
			for _, c := range theirs.Items {
				its, err := tn.ListReviewItems(ctx, c.ID, certs.ReviewItemFilter{IDs: w.items})
				require.NoError(t, err)
				moved += len(its.Items)
			}
			assert.Equal(t, len(w.items), moved)
			stats := sb.Stats()
			assert.Equal(t, 1, stats.ReassignmentsApplied)
			assert.Equal(t, len(w.items), stats.ItemsMoved)
			assert.Equal(t, 1, asyncSubmissions(sb))

			evs, err := svc.ListAudit(ctx, mcpAdmin, certs.EventFilter{RequestID: r.ID})
			require.NoError(t, err)
			var acts []certs.Action
			for _, ev := range evs {
				acts = append(acts, ev.Action)
			}
			assert.Equal(t, []certs.Action{certs.ActionRequestCreated, certs.ActionRequestApproved, certs.ActionSubmitting,
				certs.ActionTaskSubmitted, certs.ActionSubmitted}, acts[:5])
			assert.Equal(t, certs.ActionCompleted, acts[len(acts)-1])

			d, err := svc.GetCertification(ctx, mcpAdmin, w.cert.ID)
			require.NoError(t, err)
			require.Len(t, d.Requests, 1, "the reassignment history of the certification")
			assert.Equal(t, certs.StateCompleted, d.Requests[0].State)
		})
	}
}

// approveRace has n approvers approve one request at once through the
// given services (round robin) and checks exactly one submission.
func approveRace(t *testing.T, sb *sandbox.Sandbox, svcs []*certs.Service, r *certs.Request, approvers []certs.Actor) {
	t.Helper()
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make([]error, len(approvers))
	for i, a := range approvers {
		wg.Go(func() {
			<-start
			_, errs[i] = svcs[i%len(svcs)].Approve(context.Background(), a, r.ID)
		})
	}
	close(start)
	wg.Wait()
	won := 0
	for _, err := range errs {
		if err == nil {
			won++
			continue
		}
		if assert.Equal(t, certs.ECONFLICT, certs.ErrorCode(err), "%v", err) {
			assert.Contains(t, certs.ErrorMessage(err), "already approved by Approver ")
		}
	}
	assert.Equal(t, 1, won, "exactly one approval wins")
	assert.Equal(t, 1, asyncSubmissions(sb), "exactly one submission reached SailPoint")
}

func raceApprovers(n int) ([]certs.Actor, []string) {
	actors := make([]certs.Actor, n)
	keys := make([]string, n)
	for i := range actors {
		actors[i] = certs.Actor{ID: fmt.Sprintf("U%02d", i), Name: fmt.Sprintf("Approver %02d", i), Frontend: certs.FrontendSlack, Role: certs.RoleReviewer, IdentityID: fmt.Sprintf("id-approver-%02d", i)}
		keys[i] = "slack:" + actors[i].ID
	}
	return actors, keys
}

func TestIntegration_concurrentApprovalsTwoReplicasPostgres(t *testing.T) {
	dbURL := storetest.SchemaURL(t)
	sb, base := sandboxtest.Start(t, sandbox.Config{RateLimit: -1, ItemsPerCertification: 80, TaskQueuedFor: 5 * time.Millisecond, TaskRunningFor: 5 * time.Millisecond})
	// Two replicas: each its own ISC client, store pool and Service.
	svcA := newService(newClient(t, base), openPostgres(t, dbURL, time.Now), time.Now, "replica-a")
	svcB := newService(newClient(t, base), openPostgres(t, dbURL, time.Now), time.Now, "replica-b")
	w := findWork(t, newClient(t, base), asyncItems)
	approvers, keys := raceApprovers(20)
	r := fileRequest(t, svcA, w, keys)

	approveRace(t, sb, []*certs.Service{svcA, svcB}, r, approvers)

	got, err := svcB.GetRequest(context.Background(), mcpAdmin, r.ID)
	require.NoError(t, err)
	assert.Equal(t, certs.StateSubmitted, got.State)
	evs, err := svcA.ListAudit(context.Background(), mcpAdmin, certs.EventFilter{RequestID: r.ID})
	require.NoError(t, err)
	approvals := 0
	for _, ev := range evs {
		if ev.Action == certs.ActionRequestApproved {
			approvals++
		}
	}
	assert.Equal(t, 1, approvals)
}

func TestIntegration_concurrentApprovalsSQLite(t *testing.T) {
	sb, tn := startTenant(t, sandbox.Config{})
	st := openSQLite(t, time.Now)
	svc := newService(tn, st, time.Now, "only")
	w := findWork(t, tn, asyncItems)
	approvers, keys := raceApprovers(20)
	r := fileRequest(t, svc, w, keys)
	approveRace(t, sb, []*certs.Service{svc}, r, approvers)
}

func TestIntegration_expiryAndDenial(t *testing.T) {
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			ctx := context.Background()
			clk := &offsetClock{}
			sb, tn := startTenant(t, sandbox.Config{})
			svc := newService(tn, st.open(t, clk.Now), clk.Now, "replica-1")
			w := findWork(t, tn, 2)

			// Expiry: the worker expires the request; approving is refused.
			r := fileRequest(t, svc, certsWork(w, w.items[:1]), nil)
			clk.Advance(certs.DefaultRequestTTL + time.Minute)
			require.NoError(t, svc.Tick(ctx))
			got, err := svc.GetRequest(ctx, mcpAdmin, r.ID)
			require.NoError(t, err)
			assert.Equal(t, certs.StateExpired, got.State)
			_, err = svc.Approve(ctx, slackAlice, r.ID)
			requireCode(t, certs.ECONFLICT, err)
			assert.Contains(t, certs.ErrorMessage(err), "expired at")

			// Denial: denied with its reason, nothing sent.
			r2 := fileRequest(t, svc, certsWork(w, w.items[1:2]), nil)
			got, err = svc.Deny(ctx, slackAlice, r2.ID, "not during the audit freeze")
			require.NoError(t, err)
			assert.Equal(t, certs.StateDenied, got.State)
			_, err = svc.Approve(ctx, slackAlice, r2.ID)
			requireCode(t, certs.ECONFLICT, err)
			assert.Contains(t, certs.ErrorMessage(err), "already denied by Alice")
			assert.Contains(t, certs.ErrorMessage(err), "not during the audit freeze")

			assert.Zero(t, asyncSubmissions(sb))
			assert.Zero(t, sb.Stats().ReassignmentsApplied)
		})
	}
}

func certsWork(w work, items []string) work {
	w.items = items
	return w
}

// lostResponse passes calls to a real tenant but, once armed, reports the
// next successful ReassignAsync as lost: SailPoint applied it, the caller
// never heard (then the "process" is gone).
type lostResponse struct {
	certs.Tenant
	armed atomic.Bool
}

func (l *lostResponse) ReassignAsync(ctx context.Context, r certs.Reassignment) (*certs.Task, error) {
	t, err := l.Tenant.ReassignAsync(ctx, r)
	if err == nil && l.armed.CompareAndSwap(true, false) {
		return nil, &certs.Error{Code: certs.EUNKNOWN, Message: "the connection closed after the request was sent"}
	}
	return t, err
}

// replicasLosingAnAnswer is two replicas sharing one store over the sandbox
// at base, replica A's tenant losing the answer to its next async
// reassignment, and a request for work of asyncItems items filed through A.
func replicasLosingAnAnswer(t *testing.T, base string, shared certs.Store, clk *offsetClock) (replicaA, replicaB *certs.Service, w work, r *certs.Request) {
	t.Helper()
	crashing := &lostResponse{Tenant: newClient(t, base)}
	crashing.armed.Store(true)
	replicaA = newService(crashing, shared, clk.Now, "replica-a")
	replicaB = newService(newClient(t, base), shared, clk.Now, "replica-b")
	w = findWork(t, newClient(t, base), asyncItems)
	return replicaA, replicaB, w, fileRequest(t, replicaA, w, nil)
}

func TestIntegration_crashWhileSubmittingIsReconciledWithoutDuplicate(t *testing.T) {
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			ctx := context.Background()
			clk := &offsetClock{}
			// Tasks stay queued for a while, so the reconciler finds the
			// call's task pending; the sandbox runs on real time.
			sb, base := sandboxtest.Start(t, sandbox.Config{RateLimit: -1, ItemsPerCertification: 80, TaskQueuedFor: time.Hour})
			shared := st.open(t, clk.Now)
			replicaA, replicaB, _, r := replicasLosingAnAnswer(t, base, shared, clk)

			got, err := replicaA.Approve(ctx, slackAlice, r.ID)
			requireCode(t, certs.EUNKNOWN, err)
			assert.Equal(t, certs.StateSubmitting, got.State)
			require.Len(t, got.Tasks, 1)
			assert.Equal(t, certs.CallUnknown, got.Tasks[0].State)
			assert.Empty(t, got.Tasks[0].TaskID, "the task id never reached certops")

			// The submitter let go of the call when it recorded the unknown
			// outcome, so the other replica settles it at once, by reading
			// the tenant.
			require.NoError(t, replicaB.Tick(ctx))
			cur, err := replicaB.GetRequest(ctx, mcpAdmin, r.ID)
			require.NoError(t, err)
			require.Equal(t, certs.StateSubmitted, cur.State, cur.Error)
			require.Len(t, cur.Tasks, 1)
			assert.NotEmpty(t, cur.Tasks[0].TaskID, "the pending task was found and recorded")
			assert.True(t, cur.Tasks[0].Found)
			assert.Equal(t, 1, asyncSubmissions(sb), "nothing resubmitted")

			evs, err := replicaB.ListAudit(ctx, mcpAdmin, certs.EventFilter{RequestID: r.ID})
			require.NoError(t, err)
			var acts []certs.Action
			for _, ev := range evs {
				acts = append(acts, ev.Action)
			}
			assert.Contains(t, acts, certs.ActionOutcomeUnknown)
			assert.Contains(t, acts, certs.ActionReconciled)
		})
	}
}

func TestIntegration_crashAfterTheTaskRanIsReconciledAsApplied(t *testing.T) {
	ctx := context.Background()
	clk := &offsetClock{}
	sb, base := sandboxtest.Start(t, sandbox.Config{RateLimit: -1, ItemsPerCertification: 80, TaskQueuedFor: time.Millisecond, TaskRunningFor: time.Millisecond})
	shared := openSQLite(t, clk.Now)
	replicaA, replicaB, w, r := replicasLosingAnAnswer(t, base, shared, clk)
	_, err := replicaA.Approve(ctx, slackAlice, r.ID)
	requireCode(t, certs.EUNKNOWN, err)

	// Let the sandbox run the task: its items leave the certification.
	require.Eventually(t, func() bool {
		left, err := replicaB.ListReviewItems(ctx, mcpAdmin, w.cert.ID, certs.ReviewItemFilter{IDs: w.items})
		return err == nil && len(left.Items) == 0
	}, 10*time.Second, 5*time.Millisecond)

	clk.Advance(6 * time.Minute)
	require.NoError(t, replicaB.Tick(ctx))
	cur, err := replicaB.GetRequest(ctx, mcpAdmin, r.ID)
	require.NoError(t, err)
	assert.Equal(t, certs.StateCompleted, cur.State, cur.Error)
	assert.Equal(t, 1, asyncSubmissions(sb))
	assert.Equal(t, 1, sb.Stats().ReassignmentsApplied)
}

func TestIntegration_syncSubmitWithoutApproval(t *testing.T) {
	ctx := context.Background()
	sb, tn := startTenant(t, sandbox.Config{})
	svc := certs.NewService(certs.Options{Tenant: tn, Store: openSQLite(t, time.Now), Logger: quiet(), Owner: "only"})
	w := findWork(t, tn, 1)
	w.items = w.items[:1]
	p, err := svc.PlanReassignment(ctx, mcpAdmin, certs.PlanInput{CertificationID: w.cert.ID, ItemIDs: w.items, Target: w.target.ID, Reason: "sync move"})
	require.NoError(t, err)
	r, err := svc.SubmitPlan(ctx, mcpAdmin, p.ID, strings.ToUpper(p.Digest))
	require.NoError(t, err)
	assert.Equal(t, certs.StateCompleted, r.State)
	assert.Equal(t, mcpAdmin.ID, r.DecidedBy.ID)
	stats := sb.Stats()
	assert.Equal(t, 1, stats.Operations["reassignIdentityCertifications"].Calls)
	assert.Equal(t, 1, stats.ReassignmentsApplied)
	assert.Equal(t, len(w.items), stats.ItemsMoved)

	_, err = svc.SubmitPlan(ctx, mcpAdmin, p.ID, p.Digest)
	requireCode(t, certs.ECONFLICT, err)
	assert.Equal(t, 1, sb.Stats().Operations["reassignIdentityCertifications"].Calls, "a second click sends nothing")
}

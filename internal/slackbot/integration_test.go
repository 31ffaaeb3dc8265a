package slackbot

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/certs"
	"github.com/certops/certops/internal/metrics"
	"github.com/certops/certops/internal/metrics/metricstest"
	"github.com/certops/certops/internal/sailpoint"
	"github.com/certops/certops/internal/sandbox"
	"github.com/certops/certops/internal/sandbox/sandboxtest"
	"github.com/certops/certops/internal/store"
	"github.com/certops/certops/internal/store/storetest"
)

// Integration tests: the bot with the real parts — certs.Service over the
// ISC client talking HTTP to the sandbox (behind its OpenAPI contract
// check), SQLite and PostgreSQL stores — and Slack faked by slacktest.

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// tenant is a sandbox tenant and an admin ISC client for it.
type tenant struct {
	sb     *sandbox.Sandbox
	client *sailpoint.Client
	url    string
}

func startTenant(t testing.TB, cfg sandbox.Config) tenant {
	t.Helper()
	if cfg.RateLimit == 0 {
		cfg.RateLimit = -1
	}
	if cfg.TaskQueuedFor == 0 {
		cfg.TaskQueuedFor = 5 * time.Millisecond
	}
	if cfg.TaskRunningFor == 0 {
		cfg.TaskRunningFor = 5 * time.Millisecond
	}
	sb, base := sandboxtest.Start(t, cfg)
	c, err := sailpoint.New(sailpoint.Config{
		BaseURL: base, ClientID: sandbox.AdminClientID, ClientSecret: sandbox.AdminClientSecret,
		APIVersion: "v3", Timeout: 30 * time.Second, MaxRetries: 3, Concurrency: 16, MaxBackoff: 10 * time.Millisecond,
	}, sailpoint.Options{Logger: quiet()})
	require.NoError(t, err)
	return tenant{sb: sb, client: c, url: base}
}

func openSQLite(t testing.TB) certs.Store {
	t.Helper()
	s, err := store.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "certops.db"), store.Options{Logger: quiet()})
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

func openPostgres(t testing.TB, dbURL string) certs.Store {
	t.Helper()
	s, err := store.OpenPostgres(context.Background(), dbURL, store.Options{Logger: quiet()})
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

func newService(tn tenant, st certs.Store, owner string) *certs.Service {
	return newMeteredService(tn, st, owner, nil)
}

// newMeteredService is newService reporting to met (nil: no metrics).
func newMeteredService(tn tenant, st certs.Store, owner string, met certs.Metrics) *certs.Service {
	return certs.NewService(certs.Options{
		Tenant: tn.client, Store: st, Logger: quiet(), Owner: owner,
		TaskPoll: 5 * time.Millisecond, TaskPollMax: 20 * time.Millisecond,
		Metrics: met,
	})
}

// cast is the sandbox's people the tests play: a reviewer with open items,
// a target who may take them, two approvers and a bystander, each with an
// email (so a Slack user maps to them) and a Slack user id.
type cast struct {
	cert                                  certs.Certification
	items                                 []string
	reviewer, target, dave, erin, mallory certs.Identity
}

func findCast(t testing.TB, tn certs.Tenant) cast {
	t.Helper()
	ctx := context.Background()
	open := false
	page, err := tn.ListCertifications(ctx, certs.CertificationFilter{Completed: &open, Page: certs.PageOptions{Limit: 250}})
	require.NoError(t, err)
	people := map[string]certs.Identity{}
	for _, c := range page.Items {
		if c.Reviewer.Type == certs.ReviewerGovernanceGroup {
			continue
		}
		if id, err := tn.GetIdentity(ctx, c.Reviewer.ID); err == nil && id.Active() && id.Email != "" {
			people[id.ID] = *id
		}
	}
	for _, c := range page.Items {
		reviewer, ok := people[c.Reviewer.ID]
		if c.Phase != certs.PhaseActive || !ok {
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
		if len(ids) < 2 {
			continue
		}
		var others []certs.Identity
		for id, p := range people {
			if id != reviewer.ID && !subjects[id] {
				others = append(others, p)
			}
		}
		if len(others) < 4 {
			continue
		}
		return cast{cert: c, items: ids[:2], reviewer: reviewer, target: others[0], dave: others[1], erin: others[2], mallory: others[3]}
	}
	t.Fatal("the sandbox has no certification to reassign from")
	return cast{}
}

// countingService counts Approve calls that returned, whatever the outcome.
type countingService struct {
	Service
	approves atomic.Int32
}

func (c *countingService) Approve(ctx context.Context, a certs.Actor, id string) (*certs.Request, error) {
	defer c.approves.Add(1)
	return c.Service.Approve(ctx, a, id)
}

// replica is one bot process: its Service, HTTP server and notifier.
type replica struct {
	svc      *countingService
	bot      *Bot
	server   *httptest.Server
	notifier *Notifier
}

func newReplica(t *testing.T, svc *certs.Service, st certs.Store, fs *fakeSlack, name string, met Metrics) *replica {
	t.Helper()
	r := &replica{svc: &countingService{Service: svc}}
	r.bot = New(Config{ApprovalsChannel: approvals, Approvers: []string{dave, erin}, Workers: 16, QueueSize: 64, Logger: quiet(), Metrics: met,
		AnyResponseURL: true}, r.svc, fs.api())
	r.bot.Start(context.Background())
	t.Cleanup(func() { _ = r.bot.Shutdown(context.Background()) })
	r.server = httptest.NewServer(r.bot.Handler(testSecret))
	t.Cleanup(r.server.Close)
	r.notifier = r.bot.NewNotifier(NotifierConfig{Owner: name, Lease: 5 * time.Second})
	return r
}

// world is the bot against the real parts.
type world struct {
	tn    tenant
	cast  cast
	store certs.Store
	svc   *certs.Service
	slack *fakeSlack
	hooks *hooks
	b     *bundle // request helpers, pointed at the first replica
	reps  []*replica
	// reg holds what the first replica and the service recorded.
	reg *prometheus.Registry
}

func newWorld(t *testing.T, st certs.Store, tn tenant) *world {
	t.Helper()
	w := &world{tn: tn, store: st, slack: newFakeSlack(t), hooks: newHooks(t)}
	w.cast = findCast(t, tn.client)
	for slackID, id := range map[string]certs.Identity{alice: w.cast.reviewer, carol: w.cast.target, dave: w.cast.dave, erin: w.cast.erin, mallory: w.cast.mallory} {
		w.slack.users[slackID] = id.Email
	}
	w.reg = metrics.NewRegistry()
	met := metrics.New(w.reg)
	w.svc = newMeteredService(tn, st, "replica-1", met)
	w.reps = append(w.reps, newReplica(t, w.svc, st, w.slack, "replica-1", met))
	w.b = &bundle{slack: w.slack, hooks: w.hooks, server: w.reps[0].server, bot: w.reps[0].bot}
	return w
}

// settle runs the Service's background work and every replica's notifier
// until cond holds.
func (w *world) settle(t *testing.T, what string, cond func() bool) {
	t.Helper()
	ctx := context.Background()
	waitFor(t, what, func() bool {
		_ = w.svc.Tick(ctx)
		for _, r := range w.reps {
			_, _ = r.notifier.Once(ctx)
		}
		return cond()
	})
}

func (w *world) request(t *testing.T, id string) *certs.Request {
	t.Helper()
	r, err := w.store.GetRequest(context.Background(), id)
	require.NoError(t, err)
	return r
}

// fileRequest: reassign → plan → Confirm, and the approval message posted.
func (w *world) fileRequest(t *testing.T) *certs.Request {
	t.Helper()
	b := w.b
	n := len(w.hooks.Posts())
	_, ack := b.command(t, alice, fmt.Sprintf("reassign %s %s to <@%s|carol> because %s is better placed", w.cast.cert.ID, strings.Join(w.cast.items, ","), carol, w.cast.target.Name))
	require.Contains(t, ack.Text, "Working on")
	plan := b.reply(t, n+1)
	require.Contains(t, plan.Raw, actionConfirm, "a plan, not an error: %s", plan.Raw)
	assert.Contains(t, plan.Raw, "2 review items")
	require.Equal(t, http.StatusOK, b.click(t, alice, here, actionConfirm, buttonValue(t, plan.Raw, actionConfirm)))
	filed := b.reply(t, n+2)
	require.Contains(t, filed.Raw, "waiting for approval", filed.Raw)

	reqs, err := w.store.ListRequests(context.Background(), certs.RequestFilter{CertificationID: w.cast.cert.ID})
	require.NoError(t, err)
	require.Len(t, reqs, 1)
	id := reqs[0].ID
	w.settle(t, "approval message posted", func() bool { return w.request(t, id).FrontendRefs[refTS] != "" })
	return w.request(t, id)
}

func reassignCalls(sb *sandbox.Sandbox) int {
	st := sb.Stats()
	return st.Calls("submitReassignCertsAsync") + st.Calls("reassignIdentityCertifications")
}

func TestIntegrationRequestConfirmApproveComplete(t *testing.T) {
	t.Parallel()
	for _, engine := range []string{"sqlite", "postgres"} {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			var st certs.Store
			if engine == "sqlite" {
				st = openSQLite(t)
			} else {
				st = openPostgres(t, storetest.SchemaURL(t))
			}
			w := newWorld(t, st, startTenant(t, sandbox.Config{}))
			b := w.b

			_, _ = b.command(t, alice, "list")
			list := b.reply(t, 1)
			assert.Contains(t, list.Raw, w.cast.cert.ID, "the reviewer's own certification is listed")

			req := w.fileRequest(t)
			assert.Equal(t, certs.StatePending, req.State)
			assert.Equal(t, certs.FrontendSlack, req.Requester.Frontend)
			assert.Equal(t, alice, req.Requester.ID)
			assert.Equal(t, w.cast.reviewer.ID, req.Requester.IdentityID)
			assert.ElementsMatch(t, []string{"slack:" + dave, "slack:" + erin}, req.Approvers)
			posts := w.slack.Calls("chat.postMessage")
			require.Len(t, posts, 1)
			assert.Equal(t, approvals, posts[0].Form.Get("channel"))
			assert.Contains(t, posts[0].Form.Get("blocks"), actionApprove)
			assert.Equal(t, 0, reassignCalls(w.tn.sb), "nothing submitted before approval")

			// Refusals: a bystander, and the requester.
			n := len(w.hooks.Posts())
			require.Equal(t, http.StatusOK, b.click(t, mallory, approvals, actionApprove, req.ID))
			assert.Contains(t, b.reply(t, n+1).Raw, "not")
			require.Equal(t, http.StatusOK, b.click(t, alice, approvals, actionApprove, req.ID))
			assert.Contains(t, b.reply(t, n+2).Raw, "not")
			assert.Equal(t, certs.StatePending, w.request(t, req.ID).State)
			assert.Equal(t, 0, reassignCalls(w.tn.sb))

			// Dave approves; the task runs to completion.
			require.Equal(t, http.StatusOK, b.click(t, dave, approvals, actionApprove, req.ID))
			w.settle(t, "request completed", func() bool { return w.request(t, req.ID).State == certs.StateCompleted })
			w.settle(t, "completion told", func() bool {
				dms := w.slack.Calls("chat.postMessage")
				return strings.Contains(dms[len(dms)-1].Form.Get("text"), "is done")
			})
			done := w.request(t, req.ID)
			require.NotNil(t, done.DecidedBy)
			assert.Equal(t, dave, done.DecidedBy.ID)

			// The sandbox moved exactly these items, once: two items are one
			// synchronous call, with no task to follow.
			stats := w.tn.sb.Stats()
			assert.Equal(t, 1, reassignCalls(w.tn.sb))
			assert.Equal(t, 1, stats.Calls("reassignIdentityCertifications"), "at most certs.MaxSyncReassign items: one synchronous call")
			assert.Zero(t, stats.Calls("submitReassignCertsAsync")+stats.Calls("getCertificationTask"), "no task to follow")
			assert.Equal(t, 2, stats.ItemsMoved)

			// Slack was told: the message updated in place (approved by
			// Dave, then done, no buttons) and the requester DMed.
			updates := w.slack.Calls("chat.update")
			require.NotEmpty(t, updates)
			for _, u := range updates {
				assert.Equal(t, approvals, u.Form.Get("channel"))
				assert.Equal(t, done.FrontendRefs[refTS], u.Form.Get("ts"))
			}
			last := updates[len(updates)-1].Form.Get("blocks")
			assert.Contains(t, last, "Approved by \\u003c@"+dave+"\\u003e")
			assert.Contains(t, last, ":white_check_mark: done")
			assert.NotContains(t, last, actionApprove)
			var dmTexts []string
			for _, c := range w.slack.Calls("chat.postMessage") {
				if c.Form.Get("channel") == alice {
					dmTexts = append(dmTexts, c.Form.Get("text"))
				}
			}
			require.Len(t, dmTexts, 2)
			assert.Contains(t, dmTexts[0], "was approved by <@"+dave+">")
			assert.Contains(t, dmTexts[1], "is done: 2 items moved")

			// status shows the same.
			k := len(w.hooks.Posts())
			_, _ = b.command(t, alice, "status "+req.ID)
			assert.Contains(t, b.reply(t, k+1).Raw, ":white_check_mark: done")

			// And /metrics counted it all.
			f := metricstest.ScrapeHandler(t, metrics.Handler(w.reg))
			cmds, decisions := "certops_slash_commands_total", "certops_approvals_total"
			waitFor(t, "the status command counted", func() bool {
				f = metricstest.ScrapeHandler(t, metrics.Handler(w.reg))
				return f.Value(cmds, map[string]string{"subcommand": "status"}) == 1
			})
			assert.Equal(t, 1.0, f.Value(cmds, map[string]string{"subcommand": "list", "outcome": "ok"}), f.Series(cmds))
			assert.Equal(t, 1.0, f.Value(cmds, map[string]string{"subcommand": "reassign", "outcome": "ok"}), f.Series(cmds))
			assert.Equal(t, 1.0, f.Value(cmds, map[string]string{"subcommand": "status", "outcome": "ok"}), f.Series(cmds))
			assert.Equal(t, 1.0, f.Value(decisions, map[string]string{"outcome": "approved"}), f.Series(decisions))
			assert.Equal(t, 2.0, f.Value(decisions, map[string]string{"outcome": "forbidden"}), "the bystander and the requester: %v", f.Series(decisions))
			ages := "certops_request_age_seconds"
			for _, state := range []string{"pending", "submitting", "completed"} {
				assert.Equal(t, 1.0, f.Value(ages, map[string]string{"state": state}), "%s: %v", state, f.Series(ages))
			}
			assert.Zero(t, f.Value(ages, map[string]string{"state": "submitted"}), "a synchronous call leaves no task running: %v", f.Series(ages))
		})
	}
}

func TestIntegrationDenyWithReason(t *testing.T) {
	t.Parallel()
	w := newWorld(t, openSQLite(t), startTenant(t, sandbox.Config{}))
	req := w.fileRequest(t)
	require.Equal(t, http.StatusOK, w.b.click(t, erin, approvals, actionDeny, req.ID))
	waitFor(t, "views.open", func() bool { return len(w.slack.Calls("views.open")) == 1 })
	meta := fmt.Sprintf(`{"request":%q,"channel":%q}`, req.ID, approvals)
	code, _ := w.b.post(t, "/slack/interactions", viewSubmission(t, erin, meta, "Carol is on leave"))
	require.Equal(t, http.StatusOK, code)
	w.settle(t, "denied and told", func() bool {
		return w.request(t, req.ID).State == certs.StateDenied && len(w.slack.Calls("chat.update")) > 0
	})
	got := w.request(t, req.ID)
	assert.Equal(t, "Carol is on leave", got.DecisionReason)
	assert.Equal(t, erin, got.DecidedBy.ID)
	w.settle(t, "requester told", func() bool {
		dms := w.slack.Calls("chat.postMessage")
		return strings.Contains(dms[len(dms)-1].Form.Get("text"), "Reason: “Carol is on leave”")
	})
	assert.Equal(t, 0, reassignCalls(w.tn.sb))
}

// Ten approve clicks at once — two approvers, double clicks — across two
// bot replicas sharing one PostgreSQL database: one submission.
func TestIntegrationConcurrentApprovalsSubmitOnce(t *testing.T) {
	t.Parallel()
	dbURL := storetest.SchemaURL(t)
	tn := startTenant(t, sandbox.Config{})
	st1 := openPostgres(t, dbURL)
	w := newWorld(t, st1, tn)
	st2 := openPostgres(t, dbURL)
	w.reps = append(w.reps, newReplica(t, newService(tn, st2, "replica-2"), st2, w.slack, "replica-2", nil))

	req := w.fileRequest(t)
	before := len(w.hooks.Posts())
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rb := &bundle{slack: w.slack, hooks: w.hooks, server: w.reps[i%2].server, bot: w.reps[i%2].bot}
			rb.trig.Store(int64(1000 * (i + 1)))
			user := dave
			if i%3 == 0 {
				user = erin
			}
			assert.Equal(t, http.StatusOK, rb.click(t, user, approvals, actionApprove, req.ID))
		}()
	}
	wg.Wait()
	waitFor(t, "every click handled", func() bool { return w.reps[0].svc.approves.Load()+w.reps[1].svc.approves.Load() == 10 })
	w.settle(t, "request completed", func() bool { return w.request(t, req.ID).State == certs.StateCompleted })

	assert.Equal(t, 1, reassignCalls(tn.sb), "one SailPoint submission")
	assert.Equal(t, 2, tn.sb.Stats().ItemsMoved)
	events, err := st1.ListEvents(context.Background(), certs.EventFilter{RequestID: req.ID})
	require.NoError(t, err)
	approvedEvents := 0
	for _, e := range events {
		if e.Action == certs.ActionRequestApproved {
			approvedEvents++
		}
	}
	assert.Equal(t, 1, approvedEvents)
	// The winner was told what their click did, and the nine losers who
	// approved, ephemerally.
	answers := w.hooks.Posts()[before:]
	assert.Len(t, answers, 10)
	already, won := 0, 0
	for _, r := range answers {
		assert.False(t, r.Body.ReplaceOriginal)
		switch {
		case strings.Contains(r.Body.Text, "already approved"):
			already++
		case strings.Contains(r.Body.Text, "You approved request `"+req.ID+"`"):
			won++
		}
	}
	assert.Equal(t, 9, already)
	assert.Equal(t, 1, won)
	// Both replicas' notifiers ran; the message was posted once and every
	// update went to it.
	var toChannel int
	for _, c := range w.slack.Calls("chat.postMessage") {
		if c.Form.Get("channel") == approvals {
			toChannel++
		}
	}
	assert.Equal(t, 1, toChannel)
}

func TestIntegrationExpiry(t *testing.T) {
	t.Parallel()
	tn := startTenant(t, sandbox.Config{})
	st := openSQLite(t)
	w := newWorld(t, st, tn)
	// A service whose clock is past the request's TTL expires it.
	req := w.fileRequest(t)
	later := certs.NewService(certs.Options{Tenant: tn.client, Store: st, Logger: quiet(), Owner: "later",
		Now: func() time.Time { return time.Now().Add(certs.DefaultRequestTTL + time.Hour) }})
	require.NoError(t, later.Tick(context.Background()))
	require.Equal(t, certs.StateExpired, w.request(t, req.ID).State)
	w.settle(t, "expiry told", func() bool {
		u := w.slack.Calls("chat.update")
		return len(u) > 0 && strings.Contains(u[len(u)-1].Form.Get("blocks"), ":alarm_clock: expired")
	})
	assert.NotContains(t, w.slack.Calls("chat.update")[len(w.slack.Calls("chat.update"))-1].Form.Get("blocks"), actionApprove)
	n := len(w.hooks.Posts())
	require.Equal(t, http.StatusOK, w.b.click(t, dave, approvals, actionApprove, req.ID))
	assert.Contains(t, w.b.reply(t, n+1).Raw, "expired")
	assert.Equal(t, 0, reassignCalls(tn.sb))
}

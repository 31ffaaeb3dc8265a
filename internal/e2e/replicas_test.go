// Package e2e holds certops's end-to-end proof: the built binaries, run as
// separate processes on one PostgreSQL database, behave as one product.
package e2e

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	mrand "math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/certs"
	"github.com/certops/certops/internal/sailpoint"
	"github.com/certops/certops/internal/sandbox"
	"github.com/certops/certops/internal/store"
	"github.com/certops/certops/internal/store/storetest"
)

// The deployment under test: settings every replica shares.
const (
	approvalsChannel = "CAPPROVALS"
	approver1        = "UAPPROVER1"
	approver2        = "UAPPROVER2"
	signingSecret    = "e2e-signing-secret-not-a-real-one"
	tokenName        = "e2e-operator"

	actionApprove = "certops.request.approve" // the bot's Approve button

	// taskTime is how long the sandbox's reassignment tasks run: long
	// enough to kill a replica while one runs.
	taskTime = 8 * time.Second
	// claimLease bounds how long a killed replica's lease on a request
	// holds the others back.
	claimLease = 3 * time.Second
	// grace is the shutdown grace period given to the replicas
	// (CERTOPS_SHUTDOWN_GRACE); a process must have exited by then, plus a
	// little for the exit itself.
	grace = 20 * time.Second
)

var (
	sandboxURLLine = regexp.MustCompile(`Base URL:\s+(http://\S+)`)
	mcpURLLine     = regexp.MustCompile(`certops MCP server listening on (http://\S+)`)
	botURLLine     = regexp.MustCompile(`slackbot listening on (http://\S+) `)
)

// person is an ISC identity a Slack user or the plan can stand for.
type person struct{ id, name, email string }

// TestReplicasActAsOneProduct is issue #8's proof. Two MCP servers and two
// Slack bots, built from cmd/ and run as separate processes on one
// PostgreSQL schema against one sandbox tenant:
//
//  1. an assistant (the go-sdk MCP client) on MCP replica 1 plans a
//     reassignment and confirms it; the approval policy files a request;
//  2. a bot replica's notifier posts it to the approvals channel;
//  3. two approvers click Approve at the same moment on different bot
//     replicas: one wins and submits to SailPoint once, the other is told;
//  4. while the SailPoint task runs, the replica holding the request's lease
//     is killed with SIGKILL;
//  5. the survivors finish following the task: the request completes, the
//     Slack message says so, SailPoint applied exactly one reassignment, and
//     the audit trail has every step;
//  6. every survivor exits 0 on SIGTERM within its grace period.
func TestReplicasActAsOneProduct(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: builds the binaries and runs five processes; skipped with -short")
	}
	begin := time.Now()
	dbURL := storetest.SchemaURL(t) // every process works in this schema
	bins := buildBinaries(t)
	t.Logf("binaries built in %s", time.Since(begin).Round(time.Millisecond))
	bin := func(name string) string { return filepath.Join(bins, name) }
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))

	// Slack, as the bots see it, and the response_url endpoints. The
	// approvers are Slack users from the start (the bots check
	// SLACK_APPROVERS at start-up); their emails come once the tenant's
	// people are known.
	fake := newFakeSlack(t)
	fake.setUser(approver1, "")
	fake.setUser(approver2, "")
	hooks := newResponseHooks(t)

	// The tenant.
	sb := startProcess(t, "sandbox", bin("sandbox"), []string{},
		"--addr", "127.0.0.1:0", "--task-time", taskTime.String(), "--rate-limit", "-1",
		// Enough open items for a plan sent in asynchronous calls, whose
		// task a replica follows (a plan of at most 50 is one synchronous
		// call).
		"--items-per-cert", "90")
	startCtx, cancelStart := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancelStart()
	var err error
	sb.base, err = sb.awaitStdout(startCtx, sandboxURLLine)
	require.NoError(t, err)
	require.NoError(t, sb.awaitHTTP(startCtx, "/_sandbox/healthz"))

	// One admin bearer token for the assistant, linked to the sandbox
	// admin's ISC identity (a request's filer needs one, so that no one
	// approves their own request); the file holds its hash.
	operator := sandboxAdminIdentity(t, sb.base)
	token := rand.Text()
	tokensFile := filepath.Join(t.TempDir(), "tokens.json")
	require.NoError(t, os.WriteFile(tokensFile,
		fmt.Appendf(nil, `[{"name":%q,"sha256":"%x","role":"admin","identityId":%q}]`, tokenName, sha256.Sum256([]byte(token)), operator), 0o600))

	shared := []string{
		"DATABASE_URL=" + dbURL,
		"SAIL_BASE_URL=" + sb.base,
		"SAIL_CLIENT_ID=sandbox-admin",
		"SAIL_CLIENT_SECRET=sandbox-admin-secret",
		"CERTOPS_REQUIRE_APPROVAL=true",
		"CERTOPS_APPROVERS=slack:" + approver1 + ",slack:" + approver2,
		// Short leases, so that a dead replica's work is taken over in
		// seconds rather than minutes.
		"CERTOPS_CLAIM_LEASE=" + claimLease.String(),
		"CERTOPS_SUBMIT_LEASE=10s",
		"CERTOPS_WORKER_INTERVAL=250ms",
		"CERTOPS_SHUTDOWN_GRACE=" + grace.String(),
	}
	mcpEnv := append(slices.Clone(shared), "CERTOPS_MCP_TOKENS_FILE="+tokensFile)
	botEnv := append(slices.Clone(shared),
		"SLACK_BOT_TOKEN=xoxb-e2e-not-a-real-token",
		"SLACK_SIGNING_SECRET="+signingSecret,
		"SLACK_APPROVALS_CHANNEL="+approvalsChannel,
		"SLACK_APPROVERS="+approver1+","+approver2,
		"SLACK_API_URL="+fake.GetAPIURL(),
		// A killed bot's claim on the Slack outbox passes on this fast.
		"SLACK_NOTIFIER_LEASE="+claimLease.String(),
	)
	mcp1 := startProcess(t, "mcp-server-1", bin("mcp-server"), mcpEnv, "--http", "127.0.0.1:0")
	mcp2 := startProcess(t, "mcp-server-2", bin("mcp-server"), mcpEnv, "--http", "127.0.0.1:0")
	bot1 := startProcess(t, "slackbot-1", bin("slackbot"), botEnv, "--addr", "127.0.0.1:0")
	bot2 := startProcess(t, "slackbot-2", bin("slackbot"), botEnv, "--addr", "127.0.0.1:0")
	replicas := []*process{mcp1, mcp2, bot1, bot2}
	endpoints := map[*process]string{}
	for _, p := range replicas {
		line := botURLLine
		if strings.HasPrefix(p.name, "mcp") {
			line = mcpURLLine
		}
		u, err := p.awaitStdout(startCtx, line)
		require.NoError(t, err)
		endpoints[p] = u
		p.base = strings.TrimSuffix(u, "/mcp")
	}
	for _, p := range replicas {
		require.NoError(t, p.awaitHTTP(startCtx, "/healthz"))
		require.NoError(t, p.awaitHTTP(startCtx, "/readyz"))
	}
	t.Logf("sandbox and 4 replicas ready %s after the start", time.Since(begin).Round(time.Millisecond))

	// The test's own views: the ISC tenant (to cast people and read the
	// task) and the database (the request's lease and the audit trail).
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	isc, err := sailpoint.New(sailpoint.Config{
		BaseURL: sb.base, ClientID: "sandbox-admin", ClientSecret: "sandbox-admin-secret",
		APIVersion: "v3", Timeout: 30 * time.Second, MaxRetries: 3, Concurrency: 4,
	}, sailpoint.Options{Logger: quiet})
	require.NoError(t, err)
	st, err := store.OpenPostgres(ctx, dbURL, store.Options{Logger: quiet})
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	pool, err := pgxpool.New(ctx, dbURL)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	people := reviewers(t, ctx, isc)

	// 1. The assistant, on MCP replica 1: find open work, plan, confirm.
	cs1 := connectMCP(t, endpoints[mcp1], token)
	work := findWork(t, cs1, people)
	t.Logf("moving %d items of certification %s from %s to %s; approvers %s (%s) and %s (%s)",
		len(work.items), work.certID, work.from.name, work.to.name, approver1, work.approvers[0].name, approver2, work.approvers[1].name)
	fake.setUser(approver1, work.approvers[0].email)
	fake.setUser(approver2, work.approvers[1].email)

	plan := callTool(t, cs1, "plan_reassignment", map[string]any{
		"certification_id": work.certID, "item_ids": work.items, "target": work.to.email,
		"reason": "End-to-end proof: the reviewer moved teams",
	})
	planID, digest := str(plan, "planId"), str(plan, "digest")
	require.NotEmpty(t, planID)
	require.NotEmpty(t, digest)
	require.Equal(t, work.to.id, str(plan, "to", "id"))
	filed := callTool(t, cs1, "reassign", map[string]any{"plan_id": planID, "confirm": digest})
	assert.Equal(t, "pending_approval", str(filed, "outcome"), "the approval policy files a request: %v", filed)
	assert.Equal(t, "pending", str(filed, "request", "state"))
	reqID := str(filed, "request", "id")
	require.NotEmpty(t, reqID)
	t.Logf("request %s filed for approval: %s", reqID, str(filed, "message"))

	// 2. A bot replica's notifier posts it to the approvals channel.
	waitCtx, cancelWait := context.WithTimeout(ctx, 60*time.Second)
	defer cancelWait()
	var posted slackCall
	eventually(t, waitCtx, "the approval message in "+approvalsChannel, 50*time.Millisecond, func() (bool, string) {
		for _, c := range fake.Calls("chat.postMessage") {
			if c.Form.Get("channel") == approvalsChannel && strings.Contains(c.Form.Get("text"), reqID) {
				posted = c
				return true, ""
			}
		}
		return false, fmt.Sprintf("%d chat.postMessage calls", len(fake.Calls("chat.postMessage")))
	})
	approveValue, ok := buttonValue(posted.Form.Get("blocks"), actionApprove)
	require.True(t, ok, "the approval message has an Approve button: %s", posted.Form.Get("blocks"))
	require.Equal(t, reqID, approveValue, "the Approve button names the request")

	// From here every SailPoint call takes 300 ms, so that a replica
	// following the task holds the request's lease long enough to be seen
	// holding it.
	setSandboxLatency(t, sb.base, "300ms")

	// 3. Two approvers click Approve at the same moment, on different
	// replicas.
	type clickResult struct {
		status int
		err    error
	}
	clicks := []struct {
		bot  *process
		user string
	}{{bot1, approver1}, {bot2, approver2}}
	results := make([]clickResult, len(clicks))
	reqs := make([]*http.Request, len(clicks))
	for i, c := range clicks {
		reqs[i] = interactionRequest(t, c.bot.base, signingSecret, click{
			user: c.user, channel: approvalsChannel, messageTS: posted.TS, actionID: actionApprove, value: approveValue,
			responseURL: hooks.URL + "/actions/" + c.user, triggerID: "trigger-" + c.user,
			actionTS: fmt.Sprintf("%d.%06d", time.Now().Unix(), i+1),
		})
	}
	release := make(chan struct{})
	var wg sync.WaitGroup
	// The goroutine readied last tends to run first: shuffle, so that
	// either approver may win from run to run.
	for _, i := range mrand.Perm(len(clicks)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-release
			resp, err := http.DefaultClient.Do(reqs[i])
			if err != nil {
				results[i].err = err
				return
			}
			resp.Body.Close()
			results[i].status = resp.StatusCode
		}()
	}
	close(release)
	wg.Wait()
	for i, r := range results {
		require.NoError(t, r.err, "click of %s", clicks[i].user)
		require.Equal(t, http.StatusOK, r.status, "click of %s is acknowledged", clicks[i].user)
	}

	// The winner submits: the request is submitted with its task recorded.
	var req *certs.Request
	eventually(t, waitCtx, "the request submitted by the winning approval", 20*time.Millisecond, func() (bool, string) {
		r, err := st.GetRequest(ctx, reqID)
		if err != nil {
			return false, err.Error()
		}
		req = r
		return r.State == certs.StateSubmitted || r.State.Final(), string(r.State)
	})
	submittedSeen := time.Now()
	require.Equal(t, certs.StateSubmitted, req.State, "the task must still be running: %+v", req)
	require.NotNil(t, req.DecidedBy)
	require.Len(t, req.Tasks, 1)
	taskID := req.Tasks[0].TaskID
	require.NotEmpty(t, taskID)
	winner, loser, winnerBot := approver1, approver2, bot1
	if req.DecidedBy.ID == approver2 {
		winner, loser, winnerBot = approver2, approver1, bot2
	}
	require.Contains(t, []string{approver1, approver2}, req.DecidedBy.ID)
	t.Logf("approval of %s (on %s) won; SailPoint task %s submitted", winner, winnerBot.name, taskID)

	// 4. Kill the replica holding the request's lease (a worker following
	// the task) while the task runs. The lease names its owner
	// hostname:pid. Look for up to half the task's run; if no replica is
	// caught holding it, kill the replica whose approval won (it
	// submitted, and its worker follows like any other).
	byOwner := map[string]*process{}
	for _, p := range replicas {
		byOwner[ownerName(p.pid())] = p
	}
	var victim *process
	var killedAt time.Time
	var heldUntil *time.Time
	lookUntil := time.Now().Add(taskTime / 2)
	for victim == nil && time.Now().Before(lookUntil) {
		var owner *string
		var until *time.Time
		err := pool.QueryRow(ctx, `SELECT lease_owner, lease_until FROM requests WHERE id = $1`, reqID).Scan(&owner, &until)
		require.NoError(t, err)
		if owner != nil && until != nil && until.After(time.Now()) {
			if p := byOwner[*owner]; p != nil {
				killedAt = p.signal(t, syscall.SIGKILL)
				victim, heldUntil = p, until
				break
			}
		}
		require.NoError(t, pause(ctx, 5*time.Millisecond))
	}
	how := "it held the request's lease, following the SailPoint task"
	if victim == nil {
		victim, how = winnerBot, "its approval won and it submitted; no replica was seen holding the lease"
		killedAt = victim.signal(t, syscall.SIGKILL)
	}
	require.NoError(t, victim.awaitExit(grace))
	code, sig := victim.exitCode()
	assert.Equal(t, -1, code)
	assert.Equal(t, "killed", sig, "%s died of SIGKILL", victim.name)
	var owner *string
	require.NoError(t, pool.QueryRow(ctx, `SELECT lease_owner FROM requests WHERE id = $1`, reqID).Scan(&owner))
	stillHeld := heldUntil != nil && owner != nil && *owner == ownerName(victim.pid())
	t.Logf("killed %s (pid %d) with SIGKILL %s after the task was submitted: %s; the dead process still holds the lease: %t",
		victim.name, victim.pid(), killedAt.Sub(submittedSeen).Round(time.Millisecond), how, stillHeld)

	// The task was still running when the replica died: whatever completes
	// the request now is a survivor.
	task, err := isc.GetTask(ctx, taskID)
	require.NoError(t, err)
	require.False(t, task.Status.Done(), "the SailPoint task was still running after the kill (status %s)", task.Status)
	t.Logf("SailPoint task %s is %s after the kill", taskID, task.Status)

	survivors := slices.DeleteFunc(slices.Clone(replicas), func(p *process) bool { return p == victim })

	// 5. A survivor finishes following: read it through a surviving MCP
	// replica (the second one when it lives), with a fresh client.
	statusMCP := mcp2
	if victim == mcp2 {
		statusMCP = mcp1
	}
	cs := connectMCP(t, endpoints[statusMCP], token)
	doneCtx, cancelDone := context.WithTimeout(ctx, 60*time.Second)
	defer cancelDone()
	var status map[string]any
	followers := map[string]bool{} // survivors seen holding the request's lease
	var firstTakeover time.Time    // when a survivor was first seen holding it
	eventually(t, doneCtx, "the request completed, read through "+statusMCP.name, 100*time.Millisecond, func() (bool, string) {
		var owner *string
		if err := pool.QueryRow(ctx, `SELECT lease_owner FROM requests WHERE id = $1`, reqID).Scan(&owner); err == nil && owner != nil {
			if p := byOwner[*owner]; p != nil && p != victim {
				followers[p.name] = true
				if firstTakeover.IsZero() {
					firstTakeover = time.Now()
				}
			}
		}
		status = callTool(t, cs, "get_reassignment_status", map[string]any{"request_id": reqID})
		return str(status, "request", "state") == "completed", str(status, "request", "state")
	})
	completedAt := time.Now()
	progress, _ := status["request"].(map[string]any)["progress"].(map[string]any)
	assert.EqualValues(t, 1, progress["done"], "the one call is done: %v", progress)
	assert.EqualValues(t, len(work.items), progress["itemsMoved"], "%v", progress)
	assert.EqualValues(t, 0, progress["failed"], "%v", progress)
	assert.Contains(t, str(status, "request", "decidedBy"), winner, "the assistant sees who approved")
	if tasks := list(status["request"].(map[string]any), "tasks"); assert.Len(t, tasks, 1) {
		assert.Equal(t, taskID, str(tasks[0], "taskId"))
		assert.Equal(t, "SUCCESS", str(tasks[0], "status"))
	}
	t.Logf("request completed %s after the kill (claim lease %s, task time %s); survivors seen holding its lease meanwhile: %v",
		completedAt.Sub(killedAt).Round(time.Millisecond), claimLease, taskTime, slices.Sorted(maps.Keys(followers)))

	// The items left the reviewer's certification.
	left := callTool(t, cs, "list_review_items", map[string]any{"certification_id": work.certID, "status": "all", "limit": 100})
	for _, it := range list(left, "items") {
		assert.NotContains(t, work.items, str(it, "id"), "a moved item is still in certification %s", work.certID)
	}

	// The approval message's last update says it is done.
	var lastUpdate slackCall
	eventually(t, doneCtx, "the approval message updated to done", 100*time.Millisecond, func() (bool, string) {
		var updates []slackCall
		for _, c := range fake.Calls("chat.update") {
			if c.Form.Get("channel") == approvalsChannel && c.Form.Get("ts") == posted.TS {
				updates = append(updates, c)
			}
		}
		if len(updates) == 0 {
			return false, "no chat.update of the approval message"
		}
		lastUpdate = updates[len(updates)-1]
		return strings.HasSuffix(lastUpdate.Form.Get("text"), "— done"), lastUpdate.Form.Get("text")
	})
	assert.True(t, lastUpdate.At.After(killedAt), "a survivor updated the message after the kill")
	assert.Contains(t, lastUpdate.Form.Get("blocks"), "done", "the message shows the request done")
	assert.Contains(t, lastUpdate.Form.Get("blocks"), "Approved by", "the message says who approved")
	assert.NotContains(t, lastUpdate.Form.Get("blocks"), actionApprove, "a decided request has no buttons")
	var approvalPosts int
	for _, c := range fake.Calls("chat.postMessage") {
		if c.Form.Get("channel") == approvalsChannel && strings.Contains(c.Form.Get("text"), reqID) {
			approvalPosts++
		}
	}
	assert.Equal(t, 1, approvalPosts, "exactly one replica posted the approval message")

	// The losing approver was told who approved (a mention), the winner
	// what their click did.
	eventually(t, doneCtx, "the losing approver told", 50*time.Millisecond, func() (bool, string) {
		posts := hooks.Posts("/actions/" + loser)
		return slices.ContainsFunc(posts, func(p string) bool { return strings.Contains(p, `already approved by \u003c@`+winner+`\u003e`) }), strings.Join(posts, " | ")
	})
	eventually(t, doneCtx, "the winning approver told", 50*time.Millisecond, func() (bool, string) {
		posts := hooks.Posts("/actions/" + winner)
		return slices.ContainsFunc(posts, func(p string) bool { return strings.Contains(p, "You approved request `"+reqID+"`") }), strings.Join(posts, " | ")
	})

	// SailPoint applied exactly one reassignment, from one call.
	stats := sandboxStats(t, sb.base)
	assert.Equal(t, 1, stats.ReassignmentsApplied, "reassignments applied: %+v", stats)
	assert.Equal(t, len(work.items), stats.ItemsMoved, "items moved")
	assert.Equal(t, 1, stats.Operations["submitReassignCertsAsync"].Calls, "one async reassignment call")
	assert.Zero(t, stats.Operations["reassignIdentityCertifications"].Calls, "no synchronous reassignment")

	// The audit trail has every step, in order, with who and which task.
	trail := checkAuditTrail(t, ctx, st, work, planID, reqID, taskID, winner)

	// Nobody touched the request while the dead replica's lease ran: no
	// survivor held it, and none recorded a step, before the lease ended.
	if stillHeld {
		// Same host, same clock; a little slack for rounding.
		leaseEnd := heldUntil.Add(-50 * time.Millisecond)
		t.Logf("the dead replica's lease ran to +%s after the kill; a survivor was first seen holding it at +%s",
			heldUntil.Sub(killedAt).Round(time.Millisecond), firstTakeover.Sub(killedAt).Round(time.Millisecond))
		assert.False(t, !firstTakeover.IsZero() && firstTakeover.Before(leaseEnd), "a survivor held the lease before the dead replica's ended")
		if i := slices.IndexFunc(trail, func(e certs.Event) bool { return e.Time.After(killedAt) }); assert.GreaterOrEqual(t, i, 0, "steps after the kill") {
			first := trail[i]
			t.Logf("first step after the kill: %s at +%s", first.Action, first.Time.Sub(killedAt).Round(time.Millisecond))
			assert.False(t, first.Time.Before(leaseEnd), "a survivor recorded %s at %s, before the dead replica's lease ended at %s", first.Action, first.Time, heldUntil)
		}
	}

	// Metrics, when the binaries serve them.
	for _, p := range survivors {
		logMetrics(t, p)
	}

	// 6. SIGTERM: every survivor exits 0 within its grace period.
	// The assistants' sessions stay open, as a connected client's would.
	shutdown := func(ps []*process) {
		sent := map[*process]time.Time{}
		for _, p := range ps {
			if p.running() {
				sent[p] = p.signal(t, syscall.SIGTERM)
			}
		}
		for _, p := range ps {
			at, ok := sent[p]
			if !ok {
				t.Errorf("%s exited before SIGTERM: %v", p.name, p.waitErr)
				continue
			}
			if err := p.awaitExit(grace + 2*time.Second); err != nil {
				t.Errorf("%v", err)
				continue
			}
			code, sig := p.exitCode()
			assert.Equal(t, 0, code, "%s exits 0 on SIGTERM (%s); stderr tail:\n%s", p.name, sig, tail(p.stderr.String(), 2000))
			t.Logf("shutdown: %s exited %d in %s after SIGTERM", p.name, code, p.exitedAt.Sub(at).Round(time.Millisecond))
		}
	}
	shutdown(survivors)
	shutdown([]*process{sb})
	t.Logf("total run time %s", time.Since(begin).Round(time.Millisecond))
}

// reviewers lists the people who review open certifications, with their
// emails: the cast of the test (reviewer, new reviewer, approvers).
func reviewers(t *testing.T, ctx context.Context, isc *sailpoint.Client) []person {
	t.Helper()
	open := false
	page, err := isc.ListCertifications(ctx, certs.CertificationFilter{Completed: &open, Page: certs.PageOptions{Limit: 250}})
	require.NoError(t, err)
	var out []person
	seen := map[string]bool{}
	for _, c := range page.Items {
		if c.Reviewer.Type == certs.ReviewerGovernanceGroup || seen[c.Reviewer.ID] {
			continue
		}
		seen[c.Reviewer.ID] = true
		id, err := isc.GetIdentity(ctx, c.Reviewer.ID)
		require.NoError(t, err)
		if id.Active() && id.Email != "" {
			out = append(out, person{id: id.ID, name: id.Name, email: id.Email})
		}
	}
	require.GreaterOrEqual(t, len(out), 4, "the sandbox has too few reviewers to cast")
	return out
}

// work is what the assistant moves, to whom, and who approves.
type work struct {
	certID    string
	items     []string
	from, to  person
	approvers [2]person
}

// findWork looks, through MCP, for an active certification with open items
// and casts a new reviewer who is none of those items' subjects, and two
// approvers who are neither reviewer.
func findWork(t *testing.T, cs *mcp.ClientSession, people []person) work {
	t.Helper()
	for _, from := range people {
		mine := callTool(t, cs, "list_certifications", map[string]any{"reviewer": from.email, "status": "open", "limit": 100})
		for _, c := range list(mine, "certifications") {
			if str(c, "phase") != "ACTIVE" {
				continue
			}
			certID := str(c, "id")
			open := callTool(t, cs, "list_review_items", map[string]any{"certification_id": certID, "status": "open", "limit": 100})
			subjects := map[string]bool{}
			var items []string
			for _, it := range list(open, "items") {
				subjects[str(it, "identity", "identityId")] = true
				items = append(items, str(it, "id"))
			}
			if len(items) < certs.MaxSyncReassign+1 {
				continue
			}
			var others []person
			for _, p := range people {
				if p.id != from.id {
					others = append(others, p)
				}
			}
			i := slices.IndexFunc(others, func(p person) bool { return !subjects[p.id] })
			if i < 0 || len(others) < 3 {
				continue
			}
			to := others[i]
			rest := slices.Delete(slices.Clone(others), i, i+1)
			return work{certID: certID, items: items[:certs.MaxSyncReassign+1], from: from, to: to, approvers: [2]person{rest[0], rest[1]}}
		}
	}
	t.Fatal("no active certification with open items to move")
	return work{}
}

// setSandboxLatency sets the latency of every SailPoint API answer.
func setSandboxLatency(t *testing.T, base, latency string) {
	t.Helper()
	resp, err := http.Post(base+"/_sandbox/latency", "application/json", strings.NewReader(fmt.Sprintf(`{"latency":%q}`, latency)))
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
}

type sandboxCounters struct {
	Operations map[string]struct {
		Calls int `json:"calls"`
	} `json:"operations"`
	ReassignmentsApplied int `json:"reassignmentsApplied"`
	ItemsMoved           int `json:"itemsMoved"`
	TasksFailed          int `json:"tasksFailed"`
}

func sandboxStats(t *testing.T, base string) sandboxCounters {
	t.Helper()
	resp, err := http.Get(base + "/_sandbox/stats")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var s sandboxCounters
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&s))
	return s
}

// checkAuditTrail reads the request's events from PostgreSQL and checks
// every step is there, in order, with its actor and task.
func checkAuditTrail(t *testing.T, ctx context.Context, st certs.Store, w work, planID, reqID, taskID, winner string) []certs.Event {
	t.Helper()
	all, err := st.ListEvents(ctx, certs.EventFilter{CertificationID: w.certID})
	require.NoError(t, err)
	var trail []certs.Event
	for _, e := range all {
		if e.RequestID == reqID || (e.Action == certs.ActionPlanCreated && strings.Contains(e.Detail, planID)) {
			trail = append(trail, e)
		}
	}
	var actions []string
	for _, e := range trail {
		actions = append(actions, string(e.Action))
	}
	t.Logf("audit trail of request %s: %s", reqID, strings.Join(actions, ", "))

	want := []certs.Action{
		certs.ActionPlanCreated, certs.ActionRequestCreated, certs.ActionRequestApproved, certs.ActionSubmitting,
		certs.ActionTaskSubmitted, certs.ActionSubmitted, certs.ActionTaskProgress, certs.ActionCompleted,
	}
	next := 0
	for _, e := range trail {
		if next < len(want) && e.Action == want[next] {
			next++
		}
	}
	assert.Equal(t, len(want), next, "the trail has every step in order; missing from %v", want[min(next, len(want)-1)])
	for _, bad := range []certs.Action{certs.ActionFailed, certs.ActionOutcomeUnknown, certs.ActionReconciled, certs.ActionRequestDenied} {
		assert.NotContains(t, actions, string(bad))
	}

	count := func(a certs.Action) (n int) {
		for _, e := range trail {
			if e.Action == a {
				n++
			}
		}
		return n
	}
	assert.Equal(t, 1, count(certs.ActionRequestApproved), "one approval won")
	assert.Equal(t, 1, count(certs.ActionTaskSubmitted), "one submission")
	assert.Equal(t, 1, count(certs.ActionCompleted))
	for _, e := range trail {
		switch e.Action {
		case certs.ActionPlanCreated, certs.ActionRequestCreated:
			assert.Equal(t, certs.FrontendMCP, e.Actor.Frontend, "%s through MCP", e.Action)
			assert.Equal(t, tokenName, e.Actor.ID, "%s by the token's holder", e.Action)
		case certs.ActionRequestApproved, certs.ActionSubmitting, certs.ActionTaskSubmitted, certs.ActionSubmitted:
			assert.Equal(t, certs.FrontendSlack, e.Actor.Frontend, "%s through Slack", e.Action)
			assert.Equal(t, winner, e.Actor.ID, "%s by the approver who won", e.Action)
			if e.Action == certs.ActionRequestApproved {
				approver := w.approvers[0]
				if winner == approver2 {
					approver = w.approvers[1]
				}
				assert.Equal(t, approver.id, e.Actor.IdentityID, "the approver's ISC identity is recorded")
				assert.Equal(t, approver.email, e.Actor.Email)
			}
			if e.Action == certs.ActionTaskSubmitted || e.Action == certs.ActionSubmitted {
				assert.Equal(t, []string{taskID}, e.TaskIDs, "%s names the task", e.Action)
			}
		case certs.ActionTaskProgress, certs.ActionCompleted:
			assert.Equal(t, []string{taskID}, e.TaskIDs, "%s names the task", e.Action)
			assert.Equal(t, certs.FrontendSystem, e.Actor.Frontend, "%s by a worker", e.Action)
		}
	}
	return trail
}

// logMetrics logs a process's certops_* metrics, when it serves /metrics.
func logMetrics(t *testing.T, p *process) {
	t.Helper()
	resp, err := http.Get(p.base + "/metrics")
	if err != nil {
		t.Logf("%s: /metrics: %v", p.name, err)
		return
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Logf("%s: GET /metrics answered %s (not served yet); skipped", p.name, resp.Status)
		return
	}
	var lines []string
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if line := sc.Text(); strings.HasPrefix(line, "certops_") && !strings.Contains(line, "_bucket{") {
			lines = append(lines, line)
		}
	}
	t.Logf("%s /metrics (certops_*, histogram buckets left out):\n%s", p.name, strings.Join(lines, "\n"))
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

// sandboxAdminIdentity reads the admin client's ISC identity from the
// sandbox process's control endpoint.
func sandboxAdminIdentity(t *testing.T, base string) string {
	t.Helper()
	res, err := http.Get(base + "/_sandbox/clients")
	require.NoError(t, err)
	defer res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
	var clients []struct {
		ClientID   string `json:"clientId"`
		IdentityID string `json:"identityId"`
	}
	require.NoError(t, json.NewDecoder(res.Body).Decode(&clients))
	for _, c := range clients {
		if c.ClientID == sandbox.AdminClientID {
			require.NotEmpty(t, c.IdentityID)
			return c.IdentityID
		}
	}
	t.Fatalf("the sandbox lists no client %s", sandbox.AdminClientID)
	return ""
}

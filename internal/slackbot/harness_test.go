package slackbot

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/certs"
	"github.com/certops/certops/internal/certs/certstest"
	"github.com/certops/certops/internal/slackbot/slackfake"
	"github.com/certops/certops/internal/store/storetest"
)

// slackCall is one Web API call the bot made to the fake Slack.
type slackCall = slackfake.Call

// fakeSlack is the shared fake Slack (package slackfake) with the tables
// these tests fill in directly: users (Slack user id → email, answered by
// users.info) and group (the members of any user group). Fill them before
// the bot runs.
type fakeSlack struct {
	*slackfake.Server
	users map[string]string
	group []string
}

// failure is an answer a method gives once instead of succeeding.
type failure struct {
	status  int
	body    string
	headers map[string]string
}

func newFakeSlack(t testing.TB) *fakeSlack {
	t.Helper()
	f := &fakeSlack{users: map[string]string{}}
	f.Server = slackfake.New(t,
		slackfake.UsersInfoFixture([]byte(testdata(t, "users.info.ok.json"))),
		slackfake.ViewsOpenAnswer([]byte(testdata(t, "views.open.ok.json"))),
		slackfake.LookupUsers(func(id string) (slackfake.User, bool) {
			email, ok := f.users[id]
			return slackfake.User{Email: email}, ok
		}),
		slackfake.LookupGroups(func(string) []string { return f.group }),
	)
	return f
}

func (f *fakeSlack) api() *slack.Client { return f.Client("xoxb-test") }

func (f *fakeSlack) fail(method string, fl failure) {
	f.Fail(method, slackfake.Failure{Status: fl.status, Body: fl.body, Header: fl.headers})
}

func testdata(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	require.NoError(t, err)
	return string(b)
}

// hooks is a response_url endpoint recording what the bot posts to it.
type hooks struct {
	*httptest.Server
	mu    sync.Mutex
	posts []hookPost
}

type hookPost struct {
	Path string
	Body slack.WebhookMessage
	Raw  string
}

func newHooks(t *testing.T) *hooks {
	h := &hooks{}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		var m slack.WebhookMessage
		_ = json.Unmarshal(raw, &m)
		h.mu.Lock()
		h.posts = append(h.posts, hookPost{Path: r.URL.Path, Body: m, Raw: unescapedJSON(raw)})
		h.mu.Unlock()
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(h.Close)
	return h
}

func (h *hooks) Posts() []hookPost {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]hookPost(nil), h.posts...)
}

// unescapedJSON re-encodes JSON without Go's \u003c escapes, so tests can
// look for Slack mentions in it.
func unescapedJSON(raw []byte) string {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return string(raw)
	}
	var sb strings.Builder
	enc := json.NewEncoder(&sb)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
	return sb.String()
}

// waitFor polls cond until it holds (work after an ack is asynchronous).
// It fails the test after 10 s; the timeout is a safety net, not a check.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// sign is Slack's v0 request signature of body at timestamp ts.
var sign = slackfake.Signature

const testSecret = "8f742231b10e8888abcd99yyyzzz85a5"

// signedRequest builds a POST as Slack sends it, signed now.
func signedRequest(t testing.TB, url, body string) *http.Request {
	t.Helper()
	req, err := slackfake.SignedRequest(context.Background(), url, testSecret, body, time.Now())
	require.NoError(t, err)
	return req
}

// commandBody is the slash-command form Slack posts, from the documented
// fixture with this user, text and response_url.
func commandBody(t testing.TB, user, text, responseURL, trigger string) string {
	t.Helper()
	v, err := url.ParseQuery(testdata(t, "slash-command.form"))
	require.NoError(t, err)
	v.Set("command", "/certs")
	v.Set("user_id", user)
	v.Set("text", text)
	v.Set("response_url", responseURL)
	v.Set("trigger_id", trigger)
	return v.Encode()
}

// Slack users of the unit tests.
const (
	alice   = "UALICE001" // a reviewer: files requests
	bob     = "UBOB00002" // someone whose items move
	carol   = "UCAROL003" // takes the items
	dave    = "UDAVE0004" // an approver (configured)
	erin    = "UERIN0005" // an approver (user group member)
	mallory = "UMALL0006" // in Slack and ISC, but no approver
	nobody  = "UNOBODY07" // in Slack, not in ISC
	admin   = "UADMIN008"

	approvals = "CAPPROVALS"
	here      = "CHERE0001"
)

// t0 is when the unit tests' clock starts; it moves only when a test moves
// it.
var t0 = time.Date(2026, 11, 23, 14, 0, 0, 0, time.UTC)

// people are the ISC identities of the Slack users (all but nobody), by
// Slack user id.
var people = map[string]certs.Identity{
	alice:   {ID: "id-alice", Name: "Alice", Email: "alice@example.com"},
	bob:     {ID: "id-bob", Name: "Bob Worker", Email: "bob@example.com"},
	carol:   {ID: "id-carol", Name: "Carol Owner", Email: "carol@example.com"},
	dave:    {ID: "id-dave", Name: "Dave", Email: "dave@example.com"},
	erin:    {ID: "id-erin", Name: "Erin", Email: "erin@example.com"},
	mallory: {ID: "id-mallory", Name: "Mallory", Email: "mallory@example.com"},
	admin:   {ID: "id-admin", Name: "Admin", Email: "admin@example.com"},
}

// bundle is the bot of the unit tests: the real certs.Service over the
// in-memory tenant and store (certstest), a fake Slack speaking the Web API,
// and an endpoint for response_url posts.
type bundle struct {
	clock  *storetest.Clock
	tenant *certstest.Tenant
	store  *certstest.Store
	svc    *certs.Service
	slack  *fakeSlack
	hooks  *hooks
	server *httptest.Server
	bot    *Bot
	trig   atomic.Int64

	faultMu sync.Mutex
	fault   error // what the store's writes fail with, while set (failWrites)
}

func setup(t *testing.T) *bundle { t.Helper(); return setupWith(t, nil) }

// setupWith is setup with the bot's Config changed by tweak (if not nil).
//
// The tenant holds, for Alice (reviewer of all three):
//   - cert-1 "Alice's Q4 review" (campaign camp-1, due in 3 days): 10 items,
//     item-1 (payroll_admin, granting payroll_db) and item-2 about Bob Worker,
//     item-3..item-10 about Dan Temp, of which 3 are decided; a finished
//     task "task-old" and a queued one "task-queued";
//   - cert-2 "Alice's payroll review" (camp-1): 60 open items about Bob, so
//     that moving them takes an asynchronous call with a task to follow;
//   - cert-0 "Alice's Q3 review" (camp-0), completed;
//
// and cert-b "Bob's Q4 review" (camp-1), reviewed by Bob.
func setupWith(t *testing.T, tweak func(*Config)) *bundle {
	t.Helper()
	b := &bundle{clock: storetest.NewClock(t0), tenant: certstest.NewTenant(), store: certstest.NewStore(), slack: newFakeSlack(t), hooks: newHooks(t)}
	b.tenant.Now, b.store.Now = b.clock.Now, b.clock.Now
	b.store.FailUpdate = func(*certs.Request) error {
		b.faultMu.Lock()
		defer b.faultMu.Unlock()
		return b.fault
	}
	for slackID, id := range people {
		b.tenant.AddIdentity(id.ID, id.Name, id.Email)
		b.slack.users[slackID] = id.Email
	}
	b.slack.users[nobody] = "nobody@example.com"
	b.slack.group = []string{erin}

	due := t0.Add(72 * time.Hour)
	reviewer := func(slackID string) certs.Reviewer {
		p := people[slackID]
		return certs.Reviewer{ID: p.ID, Name: p.Name, Email: p.Email, Type: certs.ReviewerIdentity}
	}
	q4 := certs.Campaign{ID: "camp-1", Name: "Q4 2026", CampaignType: certs.CampaignManager}
	b.tenant.AddCertification(certs.Certification{ID: "cert-1", Name: "Alice's Q4 review", Campaign: q4, Reviewer: reviewer(alice), Phase: certs.PhaseActive, Due: &due})
	b.tenant.AddCertification(certs.Certification{ID: "cert-2", Name: "Alice's payroll review", Campaign: q4, Reviewer: reviewer(alice), Phase: certs.PhaseActive, Due: &due})
	b.tenant.AddCertification(certs.Certification{ID: "cert-b", Name: "Bob's Q4 review", Campaign: q4, Reviewer: reviewer(bob), Phase: certs.PhaseActive, Due: &due})
	b.tenant.AddCertification(certs.Certification{ID: "cert-0", Name: "Alice's Q3 review", Reviewer: reviewer(alice), Phase: certs.PhaseSigned, Completed: true,
		Campaign: certs.Campaign{ID: "camp-0", Name: "Q3 2026", CampaignType: certs.CampaignManager}})
	bobItem := func(id, access string) certs.ReviewItem {
		return certs.ReviewItem{ID: id, Access: certs.Access{Type: certs.AccessEntitlement, ID: "acc-" + id, Name: access, SourceName: "Payroll"},
			IdentitySummary: certs.IdentitySummary{ID: "sum-bob", Name: "Bob Worker", IdentityID: "id-bob"}}
	}
	b.tenant.AddItems("cert-1", bobItem("item-1", "payroll_admin"), bobItem("item-2", "payroll_viewer"))
	for i := 3; i <= 10; i++ {
		it := certs.ReviewItem{ID: fmt.Sprintf("item-%d", i), Access: certs.Access{Type: certs.AccessEntitlement, ID: fmt.Sprintf("acc-%d", i), Name: fmt.Sprintf("app_%d", i), SourceName: "AD"},
			IdentitySummary: certs.IdentitySummary{ID: "sum-dan", Name: "Dan Temp", IdentityID: "id-dan"}}
		if i > 7 {
			it.Completed, it.Decision = true, certs.DecisionApprove
		}
		b.tenant.AddItems("cert-1", it)
	}
	for i := range 60 {
		b.tenant.AddItems("cert-2", bobItem(fmt.Sprintf("pay-%02d", i), fmt.Sprintf("payroll_%02d", i)))
	}
	b.tenant.AddItems("cert-b", certs.ReviewItem{ID: "item-b1", Access: certs.Access{Type: certs.AccessRole, ID: "role-1", Name: "Clerk"},
		IdentitySummary: certs.IdentitySummary{ID: "sum-erin", Name: "Erin", IdentityID: "id-erin"}})
	b.tenant.AddItems("cert-0", certs.ReviewItem{ID: "item-01", Completed: true, Decision: certs.DecisionApprove, Access: certs.Access{Type: certs.AccessRole, ID: "role-1", Name: "Clerk"},
		IdentitySummary: certs.IdentitySummary{ID: "sum-bob", Name: "Bob Worker", IdentityID: "id-bob"}})
	b.tenant.SetPermissions("item-1", certs.Permission{Target: "payroll_db", Rights: []string{"SELECT", "UPDATE"}})
	b.tenant.AddTask(certs.Task{ID: "task-old", Type: certs.TaskReassign, TargetType: "CERTIFICATION", TargetID: "cert-1", Status: certs.TaskSuccess, Created: t0.Add(-time.Hour)})
	b.tenant.AddTask(certs.Task{ID: "task-queued", Type: certs.TaskReassign, TargetType: "CERTIFICATION", TargetID: "cert-1", Status: certs.TaskQueued, Created: t0.Add(-time.Minute)})

	var plans atomic.Int64
	b.svc = certs.NewService(certs.Options{
		Tenant: b.tenant, Store: b.store, Logger: quiet(), Now: b.clock.Now, Owner: "test",
		NewID:    func() string { return fmt.Sprintf("plan-%d", plans.Add(1)) },
		TaskPoll: time.Second, TaskPollMax: time.Second,
	})

	// AnyResponseURL: the response_urls are the hooks server's, not Slack's.
	cfg := Config{ApprovalsChannel: approvals, Approvers: []string{dave}, ApproverGroup: "S0APPROVERS", Admins: []string{admin}, Workers: 4, Now: b.clock.Now, Logger: quiet(),
		AnyResponseURL: true}
	if tweak != nil {
		tweak(&cfg)
	}
	b.bot = New(cfg, b.svc, b.slack.api())
	b.bot.Start(context.Background())
	t.Cleanup(func() { _ = b.bot.Shutdown(context.Background()) })
	b.server = httptest.NewServer(b.bot.Handler(testSecret))
	t.Cleanup(b.server.Close)
	return b
}

// actor is the certs.Actor the bot acts as for a Slack user.
func (b *bundle) actor(slackID string) certs.Actor {
	p := people[slackID]
	return certs.Actor{ID: slackID, Name: p.Name, Frontend: certs.FrontendSlack, Role: certs.RoleReviewer, IdentityID: p.ID, Email: p.Email}
}

// work moves the clock on past the next task poll and runs one pass of the
// Service's background work (expiry, task tracking).
func (b *bundle) work(t *testing.T) {
	t.Helper()
	b.clock.Advance(time.Second)
	require.NoError(t, b.svc.Tick(context.Background()))
}

// request reads a request from the store.
func (b *bundle) request(t *testing.T, id string) *certs.Request {
	t.Helper()
	r, err := b.store.GetRequest(context.Background(), id)
	require.NoError(t, err)
	return r
}

// waitSubmitted waits until an approval's submission is over: the request
// is past pending and submitting (an approval answers nothing on success).
func (b *bundle) waitSubmitted(t *testing.T, id string) {
	t.Helper()
	waitFor(t, "request "+id+" submitted", func() bool {
		switch b.request(t, id).State {
		case certs.StatePending, certs.StateApproved, certs.StateSubmitting:
			return false
		}
		return true
	})
}

// failWrites makes the store's request writes fail with err while passes
// runs, as a database would.
func (b *bundle) failWrites(err error, passes func()) {
	b.faultMu.Lock()
	b.fault = err
	b.faultMu.Unlock()
	defer func() {
		b.faultMu.Lock()
		b.fault = nil
		b.faultMu.Unlock()
	}()
	passes()
}

// tenantMethods are the certs.Tenant methods the bot can reach.
var tenantMethods = []string{"ListCertifications", "GetCertification", "ListReviewers", "ListReviewItems", "ListItemPermissions",
	"Reassign", "ReassignAsync", "GetTask", "ListPendingTasks", "GetIdentity", "FindIdentityByEmail"}

// tenantCalls counts the calls the Service made to the tenant.
func (b *bundle) tenantCalls() map[string]int {
	out := map[string]int{}
	for _, m := range tenantMethods {
		if n := b.tenant.Calls(m); n > 0 {
			out[m] = n
		}
	}
	return out
}

// assertUntouched checks that nothing reached the Service: no tenant call,
// no audit event.
func (b *bundle) assertUntouched(t *testing.T) {
	t.Helper()
	assert.Empty(t, b.tenantCalls(), "tenant calls")
	assert.Empty(t, b.store.Events(), "audit events")
}

func (b *bundle) trigger() string { return fmt.Sprintf("trigger-%d", b.trig.Add(1)) }

// command posts a signed /certs command and returns the ack.
func (b *bundle) command(t *testing.T, user, text string) (int, ack) {
	t.Helper()
	body := commandBody(t, user, text, b.hooks.URL+"/commands/"+b.trigger(), b.trigger())
	return b.post(t, "/slack/commands", body)
}

// ack is an acknowledgement as the tests read it.
type ack struct {
	ResponseType string       `json:"response_type"`
	Text         string       `json:"text"`
	Blocks       slack.Blocks `json:"blocks"`
}

func (b *bundle) post(t *testing.T, path, body string) (int, ack) {
	t.Helper()
	resp, err := http.DefaultClient.Do(signedRequest(t, b.server.URL+path, body))
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var a ack
	if len(raw) > 0 && resp.StatusCode == http.StatusOK {
		require.NoError(t, json.Unmarshal(raw, &a), string(raw))
	}
	return resp.StatusCode, a
}

// click posts a signed block_actions payload (the documented example, with
// this user, action and value).
func (b *bundle) click(t *testing.T, user, channel, actionID, value string) int {
	t.Helper()
	var p map[string]any
	require.NoError(t, json.Unmarshal([]byte(testdata(t, "block-actions.json")), &p))
	p["user"].(map[string]any)["id"] = user
	p["channel"].(map[string]any)["id"] = channel
	p["response_url"] = b.hooks.URL + "/actions/" + b.trigger()
	p["trigger_id"] = b.trigger()
	act := p["actions"].([]any)[0].(map[string]any)
	act["action_id"], act["value"], act["action_ts"] = actionID, value, fmt.Sprintf("%d.%06d", t0.Unix(), b.trig.Add(1))
	raw, _ := json.Marshal(p)
	code, _ := b.post(t, "/slack/interactions", url.Values{"payload": {string(raw)}}.Encode())
	return code
}

// reply waits for the n-th post to a response_url and returns it.
func (b *bundle) reply(t *testing.T, n int) hookPost {
	t.Helper()
	waitFor(t, fmt.Sprintf("response_url post #%d", n), func() bool { return len(b.hooks.Posts()) >= n })
	return b.hooks.Posts()[n-1]
}

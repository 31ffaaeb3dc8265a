package slackbot

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/certs"
)

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

type bundle struct {
	svc    *fakeService
	slack  *fakeSlack
	hooks  *hooks
	server *httptest.Server
	bot    *Bot
	trig   atomic.Int64
}

func setup(t *testing.T) *bundle { t.Helper(); return setupWith(t, nil) }

// setupWith is setup with the bot's Config changed by tweak (if not nil).
func setupWith(t *testing.T, tweak func(*Config)) *bundle {
	t.Helper()
	now := time.Now
	b := &bundle{svc: newFakeService(now), slack: newFakeSlack(t), hooks: newHooks(t)}
	for id, email := range map[string]string{alice: "alice@example.com", bob: "bob@example.com", carol: "carol@example.com",
		dave: "dave@example.com", erin: "erin@example.com", mallory: "mallory@example.com", nobody: "nobody@example.com", admin: "admin@example.com"} {
		b.slack.users[id] = email
		if id != nobody {
			name := strings.Split(email, "@")[0]
			b.svc.identities[email] = certs.Identity{ID: "id-" + name, Name: strings.ToUpper(name[:1]) + name[1:], Email: email}
		}
	}
	b.slack.group = []string{erin}
	due := now().Add(72 * time.Hour)
	b.svc.certs = []certs.Certification{{ID: "cert-1", Name: "Alice's Q4 review", Campaign: certs.Campaign{ID: "camp-1", Name: "Q4 2026", CampaignType: certs.CampaignManager},
		Reviewer: certs.Reviewer{ID: "id-alice", Name: "Alice"}, Phase: certs.PhaseActive, Due: &due, DecisionsMade: 3, DecisionsTotal: 10, IdentitiesTotal: 2}}
	b.svc.items = []certs.ReviewItem{{ID: "item-1", Access: certs.Access{Type: certs.AccessEntitlement, Name: "payroll_admin", SourceName: "Payroll"},
		IdentitySummary: certs.IdentitySummary{ID: "sum-1", Name: "Bob", IdentityID: "id-bob"}}}
	cfg := Config{ApprovalsChannel: approvals, Approvers: []string{dave}, ApproverGroup: "S0APPROVERS", Admins: []string{admin}, Workers: 4}
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
	act["action_id"], act["value"], act["action_ts"] = actionID, value, fmt.Sprintf("%d.%06d", time.Now().Unix(), b.trig.Add(1))
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

func TestSignatureVerification(t *testing.T) {
	t.Parallel()
	b := setup(t)
	body := commandBody(t, alice, "help", b.hooks.URL+"/x", "t-1")
	now := fmt.Sprint(time.Now().Unix())
	stale := fmt.Sprint(time.Now().Add(-6 * time.Minute).Unix())

	for _, tc := range []struct {
		name       string
		body       string
		headers    map[string]string
		wantStatus int
	}{
		{"signature ok", body, map[string]string{"X-Slack-Request-Timestamp": now, "X-Slack-Signature": sign(testSecret, now, body)}, http.StatusOK},
		{"signature of another body", body, map[string]string{"X-Slack-Request-Timestamp": now, "X-Slack-Signature": sign(testSecret, now, body+"&text=list")}, http.StatusUnauthorized},
		{"signed with another secret", body, map[string]string{"X-Slack-Request-Timestamp": now, "X-Slack-Signature": sign("not-the-secret", now, body)}, http.StatusUnauthorized},
		{"stale timestamp, correctly signed", body, map[string]string{"X-Slack-Request-Timestamp": stale, "X-Slack-Signature": sign(testSecret, stale, body)}, http.StatusUnauthorized},
		{"signature missing", body, map[string]string{"X-Slack-Request-Timestamp": now}, http.StatusUnauthorized},
		{"timestamp missing", body, map[string]string{"X-Slack-Signature": sign(testSecret, now, body)}, http.StatusUnauthorized},
		{"signature not hex", body, map[string]string{"X-Slack-Request-Timestamp": now, "X-Slack-Signature": "v0=zz"}, http.StatusUnauthorized},
		{"body too big", body + "&pad=" + strings.Repeat("a", 70<<10), map[string]string{"X-Slack-Request-Timestamp": now}, http.StatusRequestEntityTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "body too big" {
				tc.headers["X-Slack-Signature"] = sign(testSecret, now, tc.body)
			}
			req, err := http.NewRequest(http.MethodPost, b.server.URL+"/slack/commands", strings.NewReader(tc.body))
			require.NoError(t, err)
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			for k, v := range tc.headers {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			raw, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			assert.Equal(t, tc.wantStatus, resp.StatusCode)
			if tc.wantStatus == http.StatusUnauthorized {
				assert.Equal(t, "Unauthorized\n", string(raw), "a rejection says nothing about why")
			}
		})
	}
	t.Run("interactions are verified too", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, b.server.URL+"/slack/interactions", strings.NewReader(testdata(t, "block-actions.form")))
		req.Header.Set("X-Slack-Request-Timestamp", now)
		req.Header.Set("X-Slack-Signature", sign("wrong", now, testdata(t, "block-actions.form")))
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	})
	// Only the "signature ok" help command got through, and help calls nothing.
	assert.Empty(t, b.svc.Calls())
	assert.Empty(t, b.slack.Calls())
}

// The documented signing example: our signer reproduces Slack's signature,
// and the server still refuses the captured request because its 2018
// timestamp is far outside the five-minute window (a replay).
func TestSignatureDocumentedExample(t *testing.T) {
	t.Parallel()
	var ex struct {
		Secret  string            `json:"signing_secret"`
		Headers map[string]string `json:"headers"`
		Body    string            `json:"body"`
	}
	require.NoError(t, json.Unmarshal([]byte(testdata(t, "signing-example.json")), &ex))
	require.Equal(t, ex.Body, testdata(t, "slash-command.signed.form"))
	assert.Equal(t, ex.Headers["X-Slack-Signature"], sign(ex.Secret, ex.Headers["X-Slack-Request-Timestamp"], ex.Body))

	bot := New(Config{}, newFakeService(time.Now), newFakeSlack(t).api())
	srv := httptest.NewServer(bot.Handler(ex.Secret))
	defer srv.Close()
	send := func(ts, sig string) int {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/slack/commands", strings.NewReader(ex.Body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Slack-Request-Timestamp", ts)
		req.Header.Set("X-Slack-Signature", sig)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	assert.Equal(t, http.StatusUnauthorized, send(ex.Headers["X-Slack-Request-Timestamp"], ex.Headers["X-Slack-Signature"]), "replayed 2018 request")
	now := fmt.Sprint(time.Now().Unix())
	assert.Equal(t, http.StatusOK, send(now, sign(ex.Secret, now, ex.Body)), "the same body signed now")
}

func TestSubcommands(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		user      string
		text      string
		wantCall  string // Service call made, "" for none
		wantReply string // text in the answer
	}{
		{"list mine", alice, "list", "ListCertifications(id-alice,reviewer=me,campaign=,completed=false)", "Alice's Q4 review"},
		{"list done", alice, "list mine done", "ListCertifications(id-alice,reviewer=me,campaign=,completed=true)", "completed"},
		{"list of a person", admin, "list <@" + bob + "|bob>", "ListCertifications(id-admin,reviewer=id-bob,campaign=,completed=false)", "reviewed by <@" + bob + ">"},
		{"list of a campaign", admin, "list campaign camp-1 open", "ListCertifications(id-admin,reviewer=,campaign=camp-1,completed=false)", "campaign camp-1"},
		{"show", alice, "show cert-1", "GetCertification(cert-1)", "3/10 decisions"},
		{"show unknown", alice, "show cert-9", "GetCertification(cert-9)", "certification cert-9 not found"},
		{"reviewers", alice, "reviewers cert-1", "ListReviewers(cert-1)", "alice@example.com"},
		{"items", alice, "items cert-1", "ListReviewItems(cert-1,name=)", "payroll_admin"},
		{"items of a person", alice, "items cert-1 <@" + bob + ">", "ListReviewItems(cert-1,name=Bob)", "payroll_admin"},
		{"items by name", alice, "items cert-1 Bob W", "ListReviewItems(cert-1,name=Bob W)", "payroll_admin"},
		{"permissions", alice, "permissions cert-1 item-1", "ListItemPermissions(cert-1,item-1)", "payroll_db"},
		{"status of a task", alice, "status task-1", "GetTask(task-1)", "success"},
		{"status of nothing", alice, "status zzz", "GetTask(zzz)", "no reassignment request or SailPoint task"},
		{"pending", alice, "pending cert-1", "ListPendingTasks(cert-1)", "task-1"},
		{"reassign items", alice, "reassign cert-1 item-1,item-2 to <@" + carol + "|carol> because Carol owns payroll", "PlanReassignment(cert-1,items=[item-1 item-2],identities=[],to=id-carol,reason=Carol owns payroll)", "Ask for approval"},
		{"reassign identity", alice, "reassign cert-1 identity id-bob to carol@example.com because moved teams", "PlanReassignment(cert-1,items=[],identities=[id-bob],to=carol@example.com,reason=moved teams)", "Ask for approval"},
		{"reassign all of a person", alice, "reassign cert-1 all-of <@" + bob + "> to <mailto:carol@example.com|carol@example.com> because moved teams", "PlanReassignment(cert-1,items=[],identities=[id-bob],to=carol@example.com,reason=moved teams)", "Ask for approval"},
		{"no identity for the user", nobody, "list", "", "no SailPoint identity has your email address nobody@example.com"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			code, ack := b.command(t, tc.user, tc.text)
			require.Equal(t, http.StatusOK, code)
			assert.Equal(t, "ephemeral", ack.ResponseType)
			assert.Contains(t, ack.Text, "Working on")
			reply := b.reply(t, 1)
			assert.Contains(t, reply.Raw, tc.wantReply)
			assert.Equal(t, "ephemeral", reply.Body.ResponseType)
			if tc.wantCall != "" {
				assert.Contains(t, b.svc.Calls(), tc.wantCall)
			} else {
				for _, c := range b.svc.Calls() {
					assert.True(t, strings.HasPrefix(c, "ResolveIdentity("), "only identity lookups for a user without identity, got %s", c)
				}
			}
			// The Slack user was mapped with users.info.
			assert.NotEmpty(t, b.slack.Calls("users.info"))
		})
	}
}

func TestMalformedCommands(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, tc := range []struct {
		name, text, want string
	}{
		{"unknown subcommand", "frobnicate", "`frobnicate` is not a /certs subcommand"},
		{"show without id", "show", "Usage: `/certs show <cert>`"},
		{"show with two ids", "show a b", "Usage: `/certs show <cert>`"},
		{"id with a slash", "show ../etc", "Usage: `/certs show <cert>`"},
		{"list nonsense", "list everything", "Usage: `/certs list [mine|@user|campaign <id>] [open|done]`"},
		{"list campaign without id", "list campaign", "`campaign` needs a campaign id"},
		{"items without cert", "items", "Usage: `/certs items"},
		{"permissions one id", "permissions cert-1", "Usage: `/certs permissions <cert> <item>`"},
		{"reassign without reason", "reassign cert-1 item-1 to <@" + carol + ">", "end with `because <reason>`"},
		{"reassign empty reason", "reassign cert-1 item-1 to <@" + carol + "> because   ", "end with `because <reason>`"},
		{"reassign without target", "reassign cert-1 item-1 because x", "`to @user`"},
		{"reassign bad target", "reassign cert-1 item-1 to carol because x", "neither a Slack user nor an email"},
		{"reassign all-of without user", "reassign cert-1 all-of bob to <@" + carol + "> because x", "`all-of` needs one Slack user"},
		{"reassign identity without id", "reassign cert-1 identity to <@" + carol + "> because x", "`identity` needs one identity id"},
		{"reassign too long reason", "reassign cert-1 item-1 to <@" + carol + "> because " + strings.Repeat("x", 1001), "at most 1000"},
		{"status without id", "status", "Usage: `/certs status <request|task>`"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, ack := b.command(t, alice, tc.text)
			require.Equal(t, http.StatusOK, code)
			assert.Equal(t, "ephemeral", ack.ResponseType)
			assert.Contains(t, html.UnescapeString(ack.Text), tc.want)
		})
	}
	assert.Empty(t, b.svc.Calls(), "malformed commands call nothing")
	assert.Empty(t, b.hooks.Posts(), "and are answered in the ack alone")
}

func TestHelpIsGeneratedFromTheTable(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, text := range []string{"help", ""} {
		code, ack := b.command(t, nobody, text)
		require.Equal(t, http.StatusOK, code)
		raw, _ := json.Marshal(ack.Blocks)
		for _, c := range b.bot.commands {
			assert.Contains(t, string(raw), jsonEscape(c.usageLine("/certs")), "help lists %s", c.Name)
			assert.Contains(t, string(raw), jsonEscape(esc(c.Summary)), "help explains %s", c.Name)
		}
	}
	assert.Empty(t, b.svc.Calls())
}

func jsonEscape(s string) string {
	b, _ := json.Marshal(s)
	return strings.Trim(string(b), `"`)
}

func TestDuplicateDeliveryDoesNothingTwice(t *testing.T) {
	t.Parallel()
	b := setup(t)
	body := commandBody(t, alice, "show cert-1", b.hooks.URL+"/once", "trigger-dup")
	code, ack := b.post(t, "/slack/commands", body)
	require.Equal(t, http.StatusOK, code)
	assert.Contains(t, ack.Text, "Working on")
	// Slack's retry of the same delivery.
	req := signedRequest(t, b.server.URL+"/slack/commands", body)
	req.Header.Set("X-Slack-Retry-Num", "1")
	req.Header.Set("X-Slack-Retry-Reason", "http_timeout")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Empty(t, string(raw))

	b.reply(t, 1)
	require.NoError(t, b.bot.Shutdown(context.Background())) // drain the pool
	assert.Len(t, b.hooks.Posts(), 1)
	n := 0
	for _, c := range b.svc.Calls() {
		if c == "GetCertification(cert-1)" {
			n++
		}
	}
	assert.Equal(t, 1, n)
}

func TestUpstreamFailureShowsSailPointTrackingID(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.svc.failWith["GetCertification"] = &certs.Error{Code: certs.EUNAVAILABLE, Message: "SailPoint did not answer",
		Upstream: &certs.Upstream{Operation: "getIdentityCertification", Status: 503, DetailCode: "503 Service Unavailable", TrackingID: "b3f0c0ffee"}}
	_, _ = b.command(t, alice, "show cert-1")
	reply := b.reply(t, 1)
	assert.Contains(t, reply.Body.Text, "tracking id b3f0c0ffee")
	assert.Contains(t, reply.Body.Text, "SailPoint 503")
}

func TestIdentityCacheBoundsLookups(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for range 3 {
		_, _ = b.command(t, alice, "show cert-1")
	}
	b.reply(t, 3)
	assert.Len(t, b.slack.Calls("users.info"), 1, "users.info once, then the cache")
}

package slackbot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/certs"
)

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
	b.assertUntouched(t)
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

	bot := New(Config{}, setup(t).svc, newFakeSlack(t).api())
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
		called    string   // the tenant method the Service reached, "" for none
		wantReply []string // what the answer says
		notReply  []string // and what it does not
	}{
		{"list mine", alice, "list", "ListCertifications", []string{"Your certifications", "(open)", "Alice's Q4 review", "Alice's payroll review"}, []string{"Q3", "Bob's"}},
		{"list done", alice, "list mine done", "ListCertifications", []string{"(completed)", "Alice's Q3 review"}, []string{"Q4"}},
		{"list of a person", admin, "list <@" + bob + "|bob>", "ListCertifications", []string{"reviewed by <@" + bob + ">", "Bob's Q4 review"}, []string{"Alice's"}},
		{"list of a campaign", admin, "list campaign camp-1 open", "ListCertifications", []string{"campaign camp-1", "Alice's Q4 review", "Bob's Q4 review"}, []string{"Q3"}},
		{"list of a person, by a reviewer", alice, "list <@" + bob + ">", "", []string{"Reviewers may list only their own certifications"}, nil},
		{"show", alice, "show cert-1", "GetCertification", []string{"Alice's Q4 review", "3/10 decisions", "task-queued"}, nil},
		{"show unknown", alice, "show cert-9", "GetCertification", []string{"Certification cert-9 not found"}, nil},
		{"show another's", alice, "show cert-b", "GetCertification", []string{"You do not review certification", "Bob's Q4 review"}, nil},
		{"reviewers", alice, "reviewers cert-1", "ListReviewers", []string{"alice@example.com"}, nil},
		{"items", alice, "items cert-1", "ListReviewItems", []string{"payroll_admin", "app_3"}, nil},
		{"items of a person", alice, "items cert-1 <@" + bob + ">", "ListReviewItems", []string{"payroll_admin", "payroll_viewer"}, []string{"app_3"}},
		{"items by name", alice, "items cert-1 Dan T", "ListReviewItems", []string{"app_3"}, []string{"payroll_admin"}},
		{"permissions", alice, "permissions cert-1 item-1", "ListItemPermissions", []string{"payroll_db", "SELECT"}, nil},
		{"status of a task", alice, "status task-old", "GetTask", []string{"task-old", "reassignment done"}, nil},
		{"status of nothing", alice, "status zzz", "GetTask", []string{"No reassignment request or SailPoint task has the id zzz"}, nil},
		{"pending", alice, "pending cert-1", "ListPendingTasks", []string{"task-queued"}, []string{"task-old"}},
		{"reassign items", alice, "reassign cert-1 item-1,item-2 to <@" + carol + "|carol> because Carol owns payroll", "GetCertification",
			[]string{"Ask for approval", "2 review items", "Carol Owner", "Carol owns payroll"}, nil},
		{"reassign identity", alice, "reassign cert-1 identity id-bob to carol@example.com because moved teams", "ListReviewItems",
			[]string{"Ask for approval", "2 review items", "Carol Owner", "moved teams"}, nil},
		{"reassign all of a person", alice, "reassign cert-2 all-of <@" + bob + "> to <mailto:carol@example.com|carol@example.com> because moved teams", "ListReviewItems",
			[]string{"Ask for approval", "60 review items", "Carol Owner"}, nil},
		{"reassign decided items", alice, "reassign cert-1 item-8 to <@" + carol + "> because x", "ListReviewItems", []string{"item-8"}, []string{"Ask for approval"}},
		{"no identity for the user", nobody, "list", "", []string{":no_entry: No SailPoint identity has your email address nobody@example.com"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			code, ack := b.command(t, tc.user, tc.text)
			require.Equal(t, http.StatusOK, code)
			assert.Equal(t, "ephemeral", ack.ResponseType)
			assert.Contains(t, ack.Text, "Working on")
			reply := b.reply(t, 1)
			assert.Equal(t, "ephemeral", reply.Body.ResponseType)
			text := html.UnescapeString(reply.Raw)
			for _, want := range tc.wantReply {
				assert.Contains(t, text, want)
			}
			for _, not := range tc.notReply {
				assert.NotContains(t, text, not)
			}
			if tc.called != "" {
				assert.Positive(t, b.tenant.Calls(tc.called), "the Service called %s: %v", tc.called, b.tenantCalls())
			} else {
				assert.Zero(t, b.tenant.Calls("ListCertifications"), "refused before SailPoint was asked: %v", b.tenantCalls())
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
	b.assertUntouched(t) // malformed commands call nothing
	assert.Empty(t, b.slack.Calls("users.info"))
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
	b.assertUntouched(t)
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

	assert.Contains(t, b.reply(t, 1).Raw, "3/10 decisions")
	require.NoError(t, b.bot.Shutdown(context.Background())) // drain the pool
	assert.Len(t, b.hooks.Posts(), 1)
	assert.Equal(t, 1, b.tenant.Calls("GetCertification"), "the certification was read once")
}

func TestUpstreamFailureShowsSailPointTrackingID(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.tenant.Fail["GetCertification"] = &certs.Error{Code: certs.EUNAVAILABLE, Message: "SailPoint did not answer",
		Upstream: &certs.Upstream{Operation: "getIdentityCertification", Status: 503, DetailCode: "503 Service Unavailable", TrackingID: "b3f0c0ffee"}}
	_, _ = b.command(t, alice, "show cert-1")
	reply := b.reply(t, 1)
	assert.Contains(t, reply.Body.Text, ":cloud: SailPoint did not answer (SailPoint 503 Service Unavailable, tracking id b3f0c0ffee) Try again in a moment.")
	assert.NotContains(t, reply.Body.Text, "Nothing was changed")
}

// A failure that is not a domain error says only what is known, never the
// cause (it stays in the logs) and never that nothing changed.
func TestInternalFailureSaysOnlyWhatIsKnown(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.tenant.Fail["GetCertification"] = errors.New("pq: connection refused to 10.0.0.7")
	_, _ = b.command(t, alice, "show cert-1")
	reply := b.reply(t, 1)
	assert.Equal(t, ":boom: Something went wrong inside certops; the details are in its logs.", reply.Body.Text)
	assert.NotContains(t, reply.Raw, "10.0.0.7")
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

package slackbot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/certs"
	"github.com/certops/certops/internal/testkit"
)

// buttonValue finds the value of the button with actionID in a Block Kit
// JSON document.
func buttonValue(t *testing.T, raw, actionID string) string {
	t.Helper()
	var doc struct {
		Blocks slack.Blocks `json:"blocks"`
	}
	require.NoError(t, json.Unmarshal([]byte(raw), &doc))
	for _, bl := range doc.Blocks.BlockSet {
		if ab, ok := bl.(*slack.ActionBlock); ok {
			for _, el := range ab.Elements.ElementSet {
				if btn, ok := el.(*slack.ButtonBlockElement); ok && btn.ActionID == actionID {
					return btn.Value
				}
			}
		}
	}
	t.Fatalf("no %s button in %s", actionID, raw)
	return ""
}

func (b *bundle) notifier() *Notifier {
	return b.bot.NewNotifier(NotifierConfig{Owner: "test", MaxAttempts: 2})
}

// tell runs one notifier pass that must succeed.
func (b *bundle) tell(t *testing.T, n *Notifier) int {
	t.Helper()
	count, err := n.Once(context.Background())
	require.NoError(t, err)
	return count
}

// approvalPosts are the messages posted to the approvals channel (that
// Slack accepted).
func (b *bundle) approvalPosts() []slackCall {
	var out []slackCall
	for _, c := range b.slack.Calls("chat.postMessage") {
		if c.Form.Get("channel") == approvals && c.TS != "" {
			out = append(out, c)
		}
	}
	return out
}

// dms are the texts of the messages posted to a Slack user.
func (b *bundle) dms(user string) []string {
	var out []string
	for _, c := range b.slack.Calls("chat.postMessage") {
		if c.Form.Get("channel") == user {
			out = append(out, c.Form.Get("text"))
		}
	}
	return out
}

// lastUpdate is the blocks of the last chat.update.
func (b *bundle) lastUpdate(t *testing.T) string {
	t.Helper()
	updates := b.slack.Calls("chat.update")
	require.NotEmpty(t, updates)
	return updates[len(updates)-1].Form.Get("blocks")
}

// fileRequest runs reassign → plan → Confirm → notifier for all 60 of Bob's
// items in cert-2 (one asynchronous call: a task to follow), and returns the
// request id and the approval message's ts.
func fileRequest(t *testing.T, b *bundle) (reqID, ts string) {
	t.Helper()
	_, _ = b.command(t, alice, "reassign cert-2 all-of <@"+bob+"> to <@"+carol+"|carol> because Carol owns payroll")
	plan := b.reply(t, 1)
	assert.Contains(t, plan.Raw, "Carol owns payroll")
	assert.Contains(t, plan.Raw, "60 review items")
	confirm := buttonValue(t, plan.Raw, actionConfirm)

	require.Equal(t, http.StatusOK, b.click(t, alice, here, actionConfirm, confirm))
	filed := b.reply(t, 2)
	assert.True(t, filed.Body.ReplaceOriginal, "the plan's buttons are replaced")
	assert.Contains(t, filed.Raw, "waiting for approval in <#"+approvals+">")
	require.Len(t, b.slack.Calls("usergroups.users.list"), 1)
	assert.Equal(t, "S0APPROVERS", b.slack.Calls("usergroups.users.list")[0].Form.Get("usergroup"))

	reqs, err := b.store.ListRequests(context.Background(), certs.RequestFilter{})
	require.NoError(t, err)
	require.Len(t, reqs, 1)
	r := reqs[0]
	assert.Contains(t, filed.Raw, "Request `"+r.ID+"`")
	assert.Equal(t, certs.StatePending, r.State)
	assert.Equal(t, []string{"slack:" + dave, "slack:" + erin}, r.Approvers, "the configured approver and the group's member")
	assert.True(t, r.FiledBy(b.actor(alice)))
	assert.Equal(t, here, r.FrontendRefs[refRequestedIn])

	b.tell(t, b.notifier())
	posts := b.approvalPosts()
	require.Len(t, posts, 1)
	blocks := posts[0].Form.Get("blocks")
	assert.Contains(t, blocks, actionApprove)
	assert.Contains(t, blocks, actionDeny)
	assert.Contains(t, blocks, "Carol owns payroll")
	r = b.request(t, r.ID)
	require.NotEmpty(t, r.FrontendRefs[refTS])
	assert.Equal(t, approvals, r.FrontendRefs[refChannel])
	return r.ID, r.FrontendRefs[refTS]
}

func TestApprovalFlow(t *testing.T) {
	t.Parallel()
	b := setup(t)
	reqID, ts := fileRequest(t, b)
	n := b.notifier()

	t.Run("a second Confirm files nothing", func(t *testing.T) {
		plan := b.hooks.Posts()[0]
		require.Equal(t, http.StatusOK, b.click(t, alice, here, actionConfirm, buttonValue(t, plan.Raw, actionConfirm)))
		again := b.reply(t, 3)
		assert.Contains(t, again.Raw, "This plan is already filed as request `"+reqID+"`.")
		assert.False(t, again.Body.ReplaceOriginal, "the answer to the first click stays")
		reqs, err := b.store.ListRequests(context.Background(), certs.RequestFilter{})
		require.NoError(t, err)
		assert.Len(t, reqs, 1)
		assert.Zero(t, b.tell(t, n), "no event")
		assert.Len(t, b.approvalPosts(), 1)
	})

	t.Run("a non-approver is refused", func(t *testing.T) {
		require.Equal(t, http.StatusOK, b.click(t, mallory, approvals, actionApprove, reqID))
		refusal := b.reply(t, 4)
		assert.Equal(t, "ephemeral", refusal.Body.ResponseType)
		assert.False(t, refusal.Body.ReplaceOriginal, "the shared message stays")
		assert.Equal(t, ":no_entry: You are not an approver of request "+reqID, refusal.Body.Text)
	})

	t.Run("the requester is refused", func(t *testing.T) {
		require.Equal(t, http.StatusOK, b.click(t, alice, approvals, actionApprove, reqID))
		refusal := b.reply(t, 5)
		assert.Equal(t, ":no_entry: You filed request "+reqID+"; another approver must decide it", refusal.Body.Text)
		assert.Equal(t, certs.StatePending, b.request(t, reqID).State)
		assert.Zero(t, b.tell(t, n), "refusals write no events")
		assert.Empty(t, b.slack.Calls("chat.update"))
	})

	t.Run("an approver approves; they, the message and the requester are told", func(t *testing.T) {
		require.Equal(t, http.StatusOK, b.click(t, dave, approvals, actionApprove, reqID))
		b.waitSubmitted(t, reqID)
		assert.Equal(t, 1, b.tenant.Calls("ReassignAsync"), "submitted to SailPoint")
		won := b.reply(t, 6)
		assert.Equal(t, "ephemeral", won.Body.ResponseType)
		assert.False(t, won.Body.ReplaceOriginal, "the shared message stays")
		assert.Equal(t, ":white_check_mark: You approved request `"+reqID+"`: 60 review items of Alice's payroll review to Carol Owner (carol@example.com). "+
			"SailPoint is moving the items. The approval message follows SailPoint's progress.", won.Body.Text)
		b.tell(t, n)
		updates := b.slack.Calls("chat.update")
		require.Len(t, updates, 1, "one update for the batch")
		assert.Equal(t, approvals, updates[0].Form.Get("channel"))
		assert.Equal(t, ts, updates[0].Form.Get("ts"))
		assert.Contains(t, updates[0].Form.Get("blocks"), "Approved by \\u003c@UDAVE0004\\u003e")
		assert.NotContains(t, updates[0].Form.Get("blocks"), actionApprove, "no buttons once decided")
		dms := b.slack.Calls("chat.postMessage")
		require.Len(t, dms, 2)
		assert.Equal(t, alice, dms[1].Form.Get("channel"))
		assert.Contains(t, dms[1].Form.Get("text"), "was approved by <@UDAVE0004>")
		assert.Contains(t, dms[1].Form.Get("blocks"), "https://example.slack.com/archives/"+approvals+"/p", "the DM links to the approval message")
	})

	t.Run("the task runs and completes", func(t *testing.T) {
		r := b.request(t, reqID)
		require.Len(t, r.Tasks, 1)
		task := r.Tasks[0].TaskID
		require.NotEmpty(t, task)
		b.tenant.SetTaskStatus(task, certs.TaskInProgress)
		b.work(t)
		b.tell(t, n)
		assert.Contains(t, b.lastUpdate(t), "1 running")
		b.tenant.SetTaskStatus(task, certs.TaskSuccess)
		b.work(t)
		b.tell(t, n)
		assert.Equal(t, certs.StateCompleted, b.request(t, reqID).State)
		assert.Len(t, b.slack.Calls("chat.update"), 3)
		assert.Contains(t, b.lastUpdate(t), ":white_check_mark: done")
		assert.Contains(t, b.lastUpdate(t), "60 items moved")
		dms := b.dms(alice)
		require.Len(t, dms, 2)
		assert.Contains(t, dms[1], "is done: 60 items moved")
	})

	t.Run("a late click is told who approved, when, and where it stands", func(t *testing.T) {
		require.Equal(t, http.StatusOK, b.click(t, erin, approvals, actionApprove, reqID))
		refusal := b.reply(t, 7)
		assert.Equal(t, fmt.Sprintf(":information_source: Request `%s` was already approved by <@%s> <!date^%d^{date_short_pretty} {time}|2026-11-23 14:00 UTC>. It is done: 60 items moved.",
			reqID, dave, t0.Unix()), refusal.Body.Text)
		assert.Equal(t, 1, b.tenant.Calls("ReassignAsync"), "submitted once")
	})

	t.Run("the approver clicking again is told it was their own click", func(t *testing.T) {
		require.Equal(t, http.StatusOK, b.click(t, dave, approvals, actionApprove, reqID))
		again := b.reply(t, 8)
		assert.Equal(t, fmt.Sprintf(":information_source: You already approved request `%s` <!date^%d^{date_short_pretty} {time}|2026-11-23 14:00 UTC>; this click changed nothing. It is done: 60 items moved.",
			reqID, t0.Unix()), again.Body.Text)
		assert.NotContains(t, again.Body.Text, "<@"+dave+">")
	})

	t.Run("Deny on a decided request opens no form", func(t *testing.T) {
		require.Equal(t, http.StatusOK, b.click(t, erin, approvals, actionDeny, reqID))
		refusal := b.reply(t, 9)
		assert.Contains(t, refusal.Body.Text, "was already approved by <@"+dave+">")
		assert.Empty(t, b.slack.Calls("views.open"))
	})
}

// At most certs.MaxSyncReassign items are one synchronous SailPoint call:
// the approval completes the request, with no task to follow.
func TestSmallPlanIsDoneWithOneSynchronousCall(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, _ = b.command(t, alice, "reassign cert-1 item-1 to <@"+carol+"> because Carol owns payroll")
	plan := b.reply(t, 1)
	require.Contains(t, plan.Raw, "1 review item")
	require.Equal(t, http.StatusOK, b.click(t, alice, here, actionConfirm, buttonValue(t, plan.Raw, actionConfirm)))
	require.Contains(t, b.reply(t, 2).Raw, "waiting for approval")
	n := b.notifier()
	b.tell(t, n)
	require.Len(t, b.approvalPosts(), 1)

	require.Equal(t, http.StatusOK, b.click(t, dave, approvals, actionApprove, "plan-1"))
	b.waitSubmitted(t, "plan-1")
	assert.Equal(t, certs.StateCompleted, b.request(t, "plan-1").State, "done when the call answers")
	assert.Equal(t, ":white_check_mark: You approved request `plan-1`: 1 review item of Alice's Q4 review to Carol Owner (carol@example.com). It is done: 1 item moved.",
		b.reply(t, 3).Body.Text)
	assert.Equal(t, 1, b.tenant.Calls("Reassign"))
	assert.Zero(t, b.tenant.Calls("ReassignAsync")+b.tenant.Calls("GetTask"), "no task to follow")

	b.tell(t, n)
	last := b.lastUpdate(t)
	assert.Contains(t, last, ":white_check_mark: done")
	assert.Contains(t, last, "SailPoint calls: ▰▰▰▰▰▰▰▰▰▰ 1/1 done · 1 item moved")
	dms := b.dms(alice)
	require.Len(t, dms, 2)
	assert.Contains(t, dms[0], "was approved by <@"+dave+">")
	assert.Contains(t, dms[1], "is done: 1 item moved")
}

func TestSameActionPayloadTwiceActsOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	reqID, _ := fileRequest(t, b)
	var p map[string]any
	require.NoError(t, json.Unmarshal([]byte(testdata(t, "block-actions.json")), &p))
	p["user"].(map[string]any)["id"] = dave
	p["response_url"] = b.hooks.URL + "/actions/dup"
	act := p["actions"].([]any)[0].(map[string]any)
	act["action_id"], act["value"] = actionApprove, reqID
	raw, _ := json.Marshal(p)
	body := url.Values{"payload": {string(raw)}}.Encode()
	for range 2 {
		code, _ := b.post(t, "/slack/interactions", body)
		require.Equal(t, http.StatusOK, code)
	}
	require.NoError(t, b.bot.Shutdown(context.Background())) // the pool has done all it was given
	assert.NotEqual(t, certs.StatePending, b.request(t, reqID).State, "approved")
	var answers []string
	for _, post := range b.hooks.Posts() {
		if post.Path == "/actions/dup" {
			answers = append(answers, post.Body.Text)
		}
	}
	require.Len(t, answers, 1, "the second delivery was not acted on (it would have been told the request is already approved)")
	assert.Contains(t, answers[0], "You approved request `"+reqID+"`")
	assert.Equal(t, 1, b.tenant.Calls("ReassignAsync"))
}

func TestFailedRequestIsShownWithItsReason(t *testing.T) {
	t.Parallel()
	b := setup(t)
	reqID, _ := fileRequest(t, b)
	require.Equal(t, http.StatusOK, b.click(t, erin, approvals, actionApprove, reqID)) // erin: via the user group
	b.waitSubmitted(t, reqID)
	r := b.request(t, reqID)
	require.Len(t, r.Tasks, 1)
	b.tenant.SetTaskStatus(r.Tasks[0].TaskID, certs.TaskError, "reviewer is inactive")
	b.work(t)
	require.Equal(t, certs.StateFailed, b.request(t, reqID).State)
	b.tell(t, b.notifier())
	last := b.lastUpdate(t)
	assert.Contains(t, last, "Approved by \\u003c@UERIN0005\\u003e")
	assert.Contains(t, last, ":x: failed")
	assert.Contains(t, last, "reviewer is inactive")
	dms := b.dms(alice)
	require.NotEmpty(t, dms)
	assert.Contains(t, dms[len(dms)-1], "failed: ")
	assert.Contains(t, dms[len(dms)-1], "reviewer is inactive")
}

// viewSubmission builds the deny modal's submission from the documented
// view_submission example.
func viewSubmission(t *testing.T, user, metadata, reason string) string {
	t.Helper()
	var p map[string]any
	require.NoError(t, json.Unmarshal([]byte(testdata(t, "view-submission.json")), &p))
	p["user"].(map[string]any)["id"] = user
	v := p["view"].(map[string]any)
	v["callback_id"], v["private_metadata"] = callbackDeny, metadata
	v["state"] = map[string]any{"values": map[string]any{denyBlock: map[string]any{denyAction: map[string]any{"type": "plain_text_input", "value": reason}}}}
	raw, _ := json.Marshal(p)
	return url.Values{"payload": {string(raw)}}.Encode()
}

func TestDenyWithReason(t *testing.T) {
	t.Parallel()
	b := setup(t)
	reqID, _ := fileRequest(t, b)

	require.Equal(t, http.StatusOK, b.click(t, dave, approvals, actionDeny, reqID))
	waitFor(t, "views.open", func() bool { return len(b.slack.Calls("views.open")) == 1 })
	opens := b.slack.Calls("views.open")
	var open struct {
		TriggerID string                 `json:"trigger_id"`
		View      slack.ModalViewRequest `json:"view"`
	}
	require.NoError(t, json.Unmarshal(opens[0].JSON, &open))
	assert.NotEmpty(t, open.TriggerID)
	assert.Equal(t, callbackDeny, open.View.CallbackID)

	code, a := b.post(t, "/slack/interactions", viewSubmission(t, dave, open.View.PrivateMetadata, "Carol is on leave until March"))
	require.Equal(t, http.StatusOK, code)
	assert.Empty(t, a.Text, "an empty 200 closes the modal")
	waitFor(t, "denied", func() bool { return b.request(t, reqID).State == certs.StateDenied })
	waitFor(t, "the approver told", func() bool { return len(b.slack.Calls("chat.postEphemeral")) == 1 })
	told := b.slack.Calls("chat.postEphemeral")[0]
	assert.Equal(t, dave, told.Form.Get("user"))
	assert.Equal(t, approvals, told.Form.Get("channel"))
	assert.Equal(t, ":no_entry_sign: You denied request `"+reqID+"`: 60 review items of Alice's payroll review to Carol Owner (carol@example.com). "+
		"Nothing changes in SailPoint. <@"+alice+"> is told in a DM, with your reason.", told.Form.Get("text"))
	denied := b.request(t, reqID)
	assert.Equal(t, "Carol is on leave until March", denied.DecisionReason)
	require.NotNil(t, denied.DecidedBy)
	assert.Equal(t, dave, denied.DecidedBy.ID)

	b.tell(t, b.notifier())
	updates := b.slack.Calls("chat.update")
	require.Len(t, updates, 1)
	assert.Contains(t, updates[0].Form.Get("blocks"), "Denied by \\u003c@UDAVE0004\\u003e: “Carol is on leave until March”")
	dms := b.slack.Calls("chat.postMessage")
	require.Len(t, dms, 2)
	assert.Equal(t, alice, dms[1].Form.Get("channel"))
	assert.Contains(t, dms[1].Form.Get("text"), "Reason: “Carol is on leave until March”")
}

func TestDenyFormThatCannotOpenIsReported(t *testing.T) {
	t.Parallel()
	b := setup(t)
	reqID, _ := fileRequest(t, b)
	b.slack.fail("views.open", failure{status: 200, body: `{"ok":false,"error":"trigger_expired"}`})
	require.Equal(t, http.StatusOK, b.click(t, dave, approvals, actionDeny, reqID))
	notice := b.reply(t, 3)
	assert.Contains(t, notice.Body.Text, ":warning: Slack could not open the deny form; please click Deny again.")
	assert.Equal(t, certs.StatePending, b.request(t, reqID).State)
}

func TestDenyByNonApproverIsRefusedEphemerally(t *testing.T) {
	t.Parallel()
	b := setup(t)
	reqID, _ := fileRequest(t, b)
	meta, _ := json.Marshal(denyMetadata{RequestID: reqID, Channel: approvals})
	code, _ := b.post(t, "/slack/interactions", viewSubmission(t, mallory, string(meta), "no"))
	require.Equal(t, http.StatusOK, code)
	waitFor(t, "refusal", func() bool { return len(b.slack.Calls("chat.postEphemeral")) == 1 })
	e := b.slack.Calls("chat.postEphemeral")[0]
	assert.Equal(t, approvals, e.Form.Get("channel"))
	assert.Equal(t, mallory, e.Form.Get("user"))
	assert.Equal(t, ":no_entry: You are not an approver of request "+reqID, e.Form.Get("text"))
	assert.Equal(t, certs.StatePending, b.request(t, reqID).State)
}

// Deny asks for a reason only someone who may deny: anyone else is told
// why not at once, and no form opens.
func TestDenyIsCheckedBeforeTheFormOpens(t *testing.T) {
	t.Parallel()
	b := setup(t)
	reqID, _ := fileRequest(t, b)
	for i, tc := range []struct {
		user, want string
	}{
		{mallory, ":no_entry: You are not an approver of request " + reqID},
		{alice, ":no_entry: You filed request " + reqID + "; another approver must decide it"},
		{nobody, ":no_entry: No SailPoint identity has your email address nobody@example.com, so certops cannot act for you; ask your identity admin to add it"},
	} {
		require.Equal(t, http.StatusOK, b.click(t, tc.user, approvals, actionDeny, reqID))
		refusal := b.reply(t, 3+i)
		assert.Equal(t, tc.want, refusal.Body.Text, tc.user)
		assert.Equal(t, "ephemeral", refusal.Body.ResponseType)
	}
	assert.Empty(t, b.slack.Calls("views.open"), "no form for those who may not deny")
	assert.Equal(t, certs.StatePending, b.request(t, reqID).State)

	require.Equal(t, http.StatusOK, b.click(t, dave, approvals, actionDeny, reqID))
	waitFor(t, "views.open", func() bool { return len(b.slack.Calls("views.open")) == 1 })
	assert.Len(t, b.hooks.Posts(), 5, "the approver gets the form, not a message")
}

// Every decision and refusal is logged at INFO with who (Slack and ISC
// ids) and the request; filing it for approvers too.
func TestDecisionsAndRefusalsAreLogged(t *testing.T) {
	t.Parallel()
	logs := &testkit.Buffer{}
	b := setupWith(t, func(c *Config) { c.Logger = slog.New(slog.NewTextHandler(logs, nil)) })
	reqID, _ := fileRequest(t, b)
	require.Equal(t, http.StatusOK, b.click(t, mallory, approvals, actionApprove, reqID))
	b.reply(t, 3)
	require.Equal(t, http.StatusOK, b.click(t, dave, approvals, actionApprove, reqID))
	b.waitSubmitted(t, reqID)
	b.reply(t, 4)
	require.NoError(t, b.bot.Shutdown(context.Background()))

	out := logs.String()
	for _, want := range []string{
		`level=INFO msg="slackbot: request filed for approval" slack_user=UALICE001 identity=id-alice request=` + reqID,
		`level=INFO msg="slackbot: request approve refused" slack_user=UMALL0006 identity=id-mallory request=` + reqID + ` code=forbidden why="you are not an approver of request ` + reqID + `"`,
		`level=INFO msg="slackbot: request approved" slack_user=UDAVE0004 identity=id-dave request=` + reqID + ` state=submitted`,
	} {
		assert.Contains(t, out, want)
	}
	assert.NotContains(t, out, testSecret)
}

func TestExpiredRequest(t *testing.T) {
	t.Parallel()
	b := setup(t)
	reqID, _ := fileRequest(t, b)
	b.clock.Advance(certs.DefaultRequestTTL)
	b.work(t)
	require.Equal(t, certs.StateExpired, b.request(t, reqID).State)
	b.tell(t, b.notifier())
	updates := b.slack.Calls("chat.update")
	require.Len(t, updates, 1)
	assert.Contains(t, updates[0].Form.Get("blocks"), ":alarm_clock: expired")
	assert.NotContains(t, updates[0].Form.Get("blocks"), actionApprove)
	dms := b.slack.Calls("chat.postMessage")
	assert.Contains(t, dms[len(dms)-1].Form.Get("text"), "expired before anyone decided")

	require.Equal(t, http.StatusOK, b.click(t, dave, approvals, actionApprove, reqID))
	refusal := b.reply(t, 3)
	assert.Equal(t, fmt.Sprintf(":alarm_clock: Request `%s` expired <!date^%d^{date_short_pretty} {time}|2026-11-26 14:00 UTC> before anyone decided it; nothing changed. Ask again if it is still needed.",
		reqID, t0.Add(certs.DefaultRequestTTL).Unix()), refusal.Body.Text)
	assert.Zero(t, b.tenant.Calls("ReassignAsync"))
}

func TestNotifierSurvivesSlackErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	// confirmed files a request for two of cert-1's items without running
	// the notifier, and returns its id.
	confirmed := func(t *testing.T, b *bundle) string {
		_, _ = b.command(t, alice, "reassign cert-1 item-1,item-2 to <@"+carol+"> because x")
		require.Equal(t, http.StatusOK, b.click(t, alice, here, actionConfirm, buttonValue(t, b.reply(t, 1).Raw, actionConfirm)))
		require.Contains(t, b.reply(t, 2).Raw, "waiting for approval")
		return "plan-1"
	}

	t.Run("channel_not_found, then fixed", func(t *testing.T) {
		b := setup(t)
		b.slack.fail("chat.postMessage", failure{status: 200, body: testdata(t, "error-channel_not_found.json")})
		reqID := confirmed(t, b)
		n := b.notifier()
		_, err := n.Once(ctx)
		var se slack.SlackErrorResponse
		require.ErrorAs(t, err, &se)
		assert.Equal(t, "channel_not_found", se.Err)
		r := b.request(t, reqID)
		assert.Equal(t, certs.StatePending, r.State, "the request stays intact")
		assert.Empty(t, r.FrontendRefs[refTS])

		b.tell(t, n)
		assert.NotEmpty(t, b.request(t, reqID).FrontendRefs[refTS], "posted on the retry")
		assert.Len(t, b.approvalPosts(), 1)
	})

	t.Run("ratelimited with Retry-After", func(t *testing.T) {
		b := setup(t)
		b.slack.fail("chat.postMessage", failure{status: http.StatusTooManyRequests, body: testdata(t, "error-ratelimited.json"), headers: map[string]string{"Retry-After": "30"}})
		reqID := confirmed(t, b)
		n := b.notifier()
		_, err := n.Once(ctx)
		var rl *slack.RateLimitedError
		require.ErrorAs(t, err, &rl)
		assert.Equal(t, 30*time.Second, rl.RetryAfter, "Run waits this long before the next try")
		assert.True(t, transient(err))
		for range 5 { // rate limits are retried without limit
			b.slack.fail("chat.postMessage", failure{status: http.StatusTooManyRequests, body: testdata(t, "error-ratelimited.json"), headers: map[string]string{"Retry-After": "1"}})
			_, err = n.Once(ctx)
			require.Error(t, err)
		}
		b.tell(t, n)
		r := b.request(t, reqID)
		assert.NotEmpty(t, r.FrontendRefs[refTS])
		assert.Equal(t, certs.StatePending, r.State)
		assert.Len(t, b.approvalPosts(), 1)
	})

	t.Run("a message Slack keeps refusing is skipped after MaxAttempts; later events still flow", func(t *testing.T) {
		b := setup(t)
		reqID, _ := fileRequest(t, b)
		for range 2 {
			b.slack.fail("chat.update", failure{status: 200, body: testdata(t, "error-cant_update_message.json")})
		}
		require.Equal(t, http.StatusOK, b.click(t, dave, approvals, actionApprove, reqID))
		b.waitSubmitted(t, reqID)
		n := b.notifier()
		_, err := n.Once(ctx)
		var se slack.SlackErrorResponse
		require.ErrorAs(t, err, &se)
		assert.Equal(t, "cant_update_message", se.Err)
		_, err = n.Once(ctx)
		require.NoError(t, err, "second refusal: skipped")
		r := b.request(t, reqID)
		require.Len(t, r.Tasks, 1)
		b.tenant.SetTaskStatus(r.Tasks[0].TaskID, certs.TaskSuccess)
		b.work(t)
		b.tell(t, n)
		assert.Contains(t, b.lastUpdate(t), ":white_check_mark: done")
	})
}

// A request submitted without approval (MCP, under a policy that requires
// none) is not posted for approvers, and its MCP requester gets no DM.
func TestNotifierSkipsSelfSubmittedRequests(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	noApproval := certs.NewService(certs.Options{Tenant: b.tenant, Store: b.store, Logger: quiet(), Now: b.clock.Now, Owner: "mcp",
		NewID: func() string { return "plan-mcp" }})
	ops := certs.Actor{ID: "tok-ops", Name: "Ops", Frontend: certs.FrontendMCP, Role: certs.RoleAdmin, IdentityID: people[admin].ID}
	p, err := noApproval.PlanReassignment(ctx, ops, certs.PlanInput{CertificationID: "cert-1", ItemIDs: []string{"item-1"}, Target: people[carol].ID, Reason: "Carol owns payroll"})
	require.NoError(t, err)
	r, err := noApproval.SubmitPlan(ctx, ops, p.ID, p.Digest)
	require.NoError(t, err)
	require.True(t, r.SelfSubmitted())

	count := b.tell(t, b.notifier())
	assert.Equal(t, len(b.store.Events()), count, "every event handled")
	assert.Empty(t, b.slack.Calls("chat.postMessage"))
	assert.Empty(t, b.slack.Calls("chat.update"))
	assert.Empty(t, b.request(t, r.ID).FrontendRefs[refTS])
}

func TestTransient(t *testing.T) {
	t.Parallel()
	assert.True(t, transient(&slack.RateLimitedError{RetryAfter: time.Second}))
	assert.True(t, transient(slack.StatusCodeError{Code: 502}))
	assert.False(t, transient(slack.StatusCodeError{Code: 404}))
	assert.False(t, transient(slack.SlackErrorResponse{Err: "channel_not_found"}))
	assert.True(t, transient(certs.Errorf(certs.EUNAVAILABLE, "db down")))
	assert.True(t, transient(context.DeadlineExceeded))
	assert.False(t, transient(errors.New("boom")))
}
